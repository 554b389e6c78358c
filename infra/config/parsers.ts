import { z } from 'zod';
import { isValidCron } from '../cron';
import { parseDuration } from '../duration';

/**
 * The value parsers of the configuration's schema: `-c` values arrive as strings, so every
 * numeric, boolean, list and map key also accepts its string form.
 */

export const fromString = <T extends z.ZodType>(parse: (raw: string) => unknown, schema: T) =>
  z.preprocess((value) => (typeof value === 'string' ? parse(value) : value), schema);

export const asNumber = (raw: string) => (raw.trim() === '' ? raw : Number(raw));
export const asBoolean = (raw: string) => (raw === 'true' ? true : raw === 'false' ? false : raw);
export const asList = (raw: string) =>
  raw.trim().startsWith('[') ? safeJson(raw) : raw.split(',').map((s) => s.trim());
export const asJson = (raw: string) => safeJson(raw);

export function safeJson(raw: string): unknown {
  try {
    return JSON.parse(raw);
  } catch {
    return raw;
  }
}

export const positiveInt = (what: string) =>
  fromString(
    asNumber,
    z
      .number({ error: `a positive integer (${what})` })
      .int()
      .positive(),
  );
export const nonNegativeInt = (what: string) =>
  fromString(
    asNumber,
    z
      .number({ error: `a non-negative integer (${what})` })
      .int()
      .nonnegative(),
  );
export const bool = fromString(asBoolean, z.boolean({ error: 'true or false' }));
export const pattern = (re: RegExp, form: string) => z.string({ error: form }).regex(re, { error: form });
export const duration = (form: string, min: number, max: number) =>
  z.union([z.string(), z.number()], { error: form }).transform((value, ctx) => {
    const seconds = parseDuration(value);
    if (seconds === undefined || seconds < min || seconds > max) {
      ctx.addIssue({ code: 'custom', message: form });
      return z.NEVER;
    }
    return seconds;
  });
export const cron = z
  .string({ error: 'a cron expression of 5 fields (minute hour day-of-month month day-of-week), UTC' })
  .refine(isValidCron, {
    error: 'a cron expression of 5 fields (minute hour day-of-month month day-of-week), UTC',
  });
