import * as z from 'zod/mini';
import { ConfigurationError } from './errors';

/**
 * Reads and validates the function's environment once, at cold start. A missing or malformed
 * variable fails the init with its name, before any event is handled.
 */
export function readEnv<T extends z.core.$ZodLooseShape>(
  shape: T,
  source: NodeJS.ProcessEnv = process.env,
): z.output<z.ZodMiniObject<T>> {
  const result = z.object(shape).safeParse(source);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => {
    const name = issue.path.join('.');
    return source[name] === undefined ? `${name} is not set` : `${name} is malformed (${issue.message})`;
  });
  throw new ConfigurationError(`environment: ${problems.join('; ')}`);
}

/** Schemas for the kinds of variables the functions read. */
export const envVar = {
  text: () => z.string().check(z.minLength(1)),
  arn: () => z.string().check(z.regex(/^arn:aws[a-z-]*:[a-z0-9-]+:/, 'expected an ARN')),
  parameterName: () => z.string().check(z.regex(/^\/[A-Za-z0-9_.\-/]+$/, 'expected an SSM parameter name')),
  positiveInt: () =>
    z.pipe(z.string().check(z.regex(/^[1-9][0-9]*$/, 'expected a positive integer')), z.transform(Number)),
  bool: () =>
    z.pipe(
      z.enum(['true', 'false']),
      z.transform((v) => v === 'true'),
    ),
  launchTemplateId: () => z.string().check(z.regex(/^lt-[0-9a-f]+$/, 'expected a launch template id')),
  url: () => z.url(),
  optionalText: () => z.optional(z.string()),
  /** A share in (0, 1] written as a decimal (`0.8`), or unset. */
  optionalShare: () =>
    z.optional(
      z.pipe(
        z.string().check(z.regex(/^(0?\.[0-9]*[1-9][0-9]*|1(\.0*)?)$/, 'expected a share in (0, 1], as 0.8')),
        z.transform(Number),
      ),
    ),
  /** A JSON document matching `schema`. */
  json: <T extends z.ZodMiniType>(schema: T) =>
    z.pipe(
      z.pipe(
        z.string(),
        z.transform((text, ctx) => {
          try {
            return JSON.parse(text) as unknown;
          } catch {
            ctx.issues.push({ code: 'custom', message: 'expected JSON', input: text });
            return z.NEVER;
          }
        }),
      ),
      schema,
    ),
};
