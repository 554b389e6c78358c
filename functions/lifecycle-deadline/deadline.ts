import * as z from 'zod/mini';

/** Task input: when the lifecycle action began (the event's `time`) and how long it may take. */
export const deadlineInput = z.strictObject({
  from: z.iso.datetime({ offset: true }),
  seconds: z.number().check(z.int(), z.positive()),
});
export const DEADLINE_INPUT_FORM = '{"from": "<ISO 8601 date-time>", "seconds": <positive integer>}';
export type DeadlineInput = z.infer<typeof deadlineInput>;

/**
 * The moment a lifecycle action's own time is up. States Language (JSONPath) cannot add seconds
 * to a timestamp; the state machine compares this with `$$.State.EnteredTime` in a Choice.
 */
export function deadline(input: DeadlineInput): { at: string } {
  const from = Date.parse(input.from);
  return { at: new Date(from + input.seconds * 1000).toISOString() };
}
