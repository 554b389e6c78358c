import { PutParameterCommand, type SSMClient } from '@aws-sdk/client-ssm';
import * as z from 'zod/mini';
import { TerminalError } from '../lib/errors';
import { readParameter } from '../lib/parameters';

/**
 * The Spot fallback's episode, as JSON in one SSM parameter of the stack. An episode starts at the
 * first Spot launch failure (the group goes on-demand) and ends a cool-down after the configured
 * share was restored with no Spot failure since. In between it may go back and forth between
 * `fallback` (all on-demand) and `probing` (the configured share again, on trial): one episode,
 * one notice at its start and one at its end, however often Spot flaps.
 */
export const fallbackState = z.strictObject({
  phase: z.enum(['normal', 'fallback', 'probing']),
  /** When the episode started (the first raise). */
  since: z.optional(z.string()),
  /** The newest Spot launch failure of the episode (the event's time). */
  lastFailureAt: z.optional(z.string()),
  /** The id of the last failure event acted on: a second delivery of it does nothing. */
  lastEventId: z.optional(z.string()),
  /** Spot launch failures seen, and times the share was raised, in the episode. */
  failures: z.number(),
  raises: z.number(),
  /** Why Spot failed first, as EC2 said it. */
  reason: z.optional(z.string()),
  /** When the configured share was put back (phase probing). */
  restoredAt: z.optional(z.string()),
  /** When the last episode ended: failures older than this belong to it. */
  endedAt: z.optional(z.string()),
  /** A notice decided but not yet sent: sent before anything else, then cleared. */
  notice: z.optional(z.enum(['started', 'restored'])),
});
export type FallbackState = z.infer<typeof fallbackState>;

export const NO_EPISODE: FallbackState = { phase: 'normal', failures: 0, raises: 0 };

/** The recorded state cannot be read: nothing is changed until it can (or the parameter is deleted). */
export class FallbackStateError extends TerminalError {
  override readonly name = 'FallbackStateError';
}

/** The recorded episode; none recorded is no episode. Anything unreadable stops the run. */
export async function readState(ssm: Pick<SSMClient, 'send'>, name: string): Promise<FallbackState> {
  const raw = await readParameter(ssm as SSMClient, name);
  if (raw === undefined) return NO_EPISODE;
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    json = undefined;
  }
  const parsed = fallbackState.safeParse(json);
  if (!parsed.success) {
    throw new FallbackStateError(
      `${name} does not hold a Spot fallback state; nothing is changed until it does (delete it to start afresh)`,
    );
  }
  return parsed.data;
}

export async function writeState(
  ssm: Pick<SSMClient, 'send'>,
  name: string,
  state: FallbackState,
): Promise<void> {
  await ssm.send(
    new PutParameterCommand({ Name: name, Value: JSON.stringify(state), Type: 'String', Overwrite: true }),
  );
}
