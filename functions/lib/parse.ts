import type * as z from 'zod/mini';
import { InvalidInputError } from './errors';

/** Parses `input` with `schema`; on failure one InvalidInputError lists every problem by path. */
export function parseInput<T extends z.ZodMiniType>(schema: T, input: unknown, what: string): z.output<T> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const problems = result.error.issues.map(
    (issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`,
  );
  throw new InvalidInputError(`invalid ${what}: ${problems.join('; ')}`);
}
