import type * as z from 'zod/mini';
import { InvalidInputError } from './errors';

/**
 * Parses `input` with `schema` (strict objects: an unknown key is an error, never ignored); on
 * failure one InvalidInputError lists every problem by path and, when given, the expected form.
 */
export function parseInput<T extends z.ZodMiniType>(
  schema: T,
  input: unknown,
  what: string,
  form?: string,
): z.output<T> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => {
    const where = issue.path.join('.') || '(root)';
    if (issue.code === 'unrecognized_keys') {
      return `${where}: unknown key${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => JSON.stringify(k)).join(', ')}`;
    }
    return `${where}: ${issue.message}`;
  });
  throw new InvalidInputError(`invalid ${what}: ${problems.join('; ')}${form ? `; expected ${form}` : ''}`);
}
