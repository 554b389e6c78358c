import type { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import type { SNSClient } from '@aws-sdk/client-sns';
import type { SSMClient } from '@aws-sdk/client-ssm';
import { LOG_RECORD } from '../lib/contract';
import { InvalidInputError } from '../lib/errors';
import { logger } from '../lib/observability';
import { type LaunchUnsuccessfulEvent, spotFailure } from './events';
import { type ShareChange, setOnDemandShare } from './group';
import { publishNotice } from './notify';
import { type FallbackState, readState, writeState } from './state';

/** The share the fallback puts while Spot fails: every instance above the base on-demand. */
export const FALLBACK_PERCENTAGE = 100;

export interface FallbackSettings {
  stackName: string;
  groupName: string;
  topicArn: string;
  /** The SSM parameter holding the episode (state.ts). */
  parameterName: string;
  /** The on-demand share above the base the configuration asks for (restored after an episode). */
  configuredPercentage: number;
  /** Quiet time after the last Spot failure before Spot is tried again, and before an episode ends. */
  cooldownSeconds: number;
}

export interface FallbackClients {
  autoscaling: Pick<AutoScalingClient, 'send'>;
  ssm: Pick<SSMClient, 'send'>;
  sns: Pick<SNSClient, 'send'>;
}

export type FallbackOutcome =
  /** Not a Spot capacity failure, another group's, or a group with no Spot to fall back from. */
  | 'ignored'
  /** The same event again, or a failure from before the share was last restored or the episode ended. */
  | 'duplicate'
  | 'stale'
  /** An episode started: share raised, one notice. */
  | 'raised'
  /** Spot failed again during the episode: share (still, or again) raised, no notice. */
  | 'extended'
  | 'raisedAgain'
  /** The check: waiting out the cool-down, the configured share put back on trial, the episode over. */
  | 'idle'
  | 'waiting'
  | 'restored'
  | 'probing'
  | 'ended';

export interface FallbackResult {
  outcome: FallbackOutcome;
  phase: FallbackState['phase'];
  share?: ShareChange;
  reason?: string;
}

// Times compared as instants: EventBridge writes `2026-03-01T10:00:00Z`, toISOString adds milliseconds.
const ms = (iso: string) => Date.parse(iso);
const later = (a: string | undefined, b: string) => (a !== undefined && ms(a) > ms(b) ? a : b);
const notAfter = (a: string, b: string | undefined) => b !== undefined && ms(a) <= ms(b);
const secondsSince = (iso: string | undefined, now: Date) =>
  iso === undefined ? Number.POSITIVE_INFINITY : (now.getTime() - Date.parse(iso)) / 1000;

/**
 * A failed launch of the group. A Spot capacity failure starts an episode (the state is recorded
 * first, then the share raised, then the notice sent: each step is redone by a retry or the next
 * check until done) or extends the running one without a second notice.
 */
export async function handleLaunchFailure(
  clients: FallbackClients,
  settings: FallbackSettings,
  event: LaunchUnsuccessfulEvent,
  now: Date,
): Promise<FallbackResult> {
  const failure = spotFailure(event);
  if (
    event.detail.AutoScalingGroupName !== settings.groupName ||
    !failure ||
    settings.configuredPercentage >= FALLBACK_PERCENTAGE
  ) {
    return record({ outcome: 'ignored', phase: 'normal' }, event);
  }
  if (Number.isNaN(ms(event.time))) {
    throw new InvalidInputError(`invalid event: time ${JSON.stringify(event.time)} is not a date and time`);
  }
  let state = await readState(clients.ssm, settings.parameterName);
  if (event.id !== undefined && state.lastEventId === event.id) {
    await settleNotice(clients, settings, state);
    return record({ outcome: 'duplicate', phase: state.phase }, event);
  }
  const at = event.time;
  const seen = { lastEventId: event.id, lastFailureAt: later(state.lastFailureAt, at) };
  let outcome: FallbackOutcome;
  if (state.phase === 'normal') {
    if (notAfter(at, state.endedAt)) {
      return record({ outcome: 'stale', phase: state.phase }, event);
    }
    outcome = 'raised';
    state = {
      phase: 'fallback',
      since: now.toISOString(),
      ...seen,
      lastFailureAt: at,
      failures: 1,
      raises: 1,
      reason: `${failure.reason}: ${failure.message}`.slice(0, 500),
      notice: 'started',
    };
  } else if (state.phase === 'probing') {
    if (notAfter(at, state.restoredAt)) {
      return record({ outcome: 'stale', phase: state.phase }, event);
    }
    outcome = 'raisedAgain';
    state = {
      ...state,
      ...seen,
      phase: 'fallback',
      restoredAt: undefined,
      failures: state.failures + 1,
      raises: state.raises + 1,
    };
  } else {
    outcome = 'extended';
    state = { ...state, ...seen, failures: state.failures + 1 };
  }
  await writeState(clients.ssm, settings.parameterName, state);
  const share = await setOnDemandShare(clients.autoscaling, settings.groupName, FALLBACK_PERCENTAGE);
  await settleNotice(clients, settings, state);
  return record({ outcome, phase: state.phase, share, reason: failure.reason }, event);
}

/**
 * The schedule's check: while the group is on-demand, the configured share is put back once no
 * Spot launch has failed for the cool-down; once that share has held for another cool-down, the
 * episode ends with its one notice. Every check also puts the share the phase wants, should a
 * change have been deferred or undone (a rollout's refresh writes back the policy it started with).
 */
export async function handleCheck(
  clients: FallbackClients,
  settings: FallbackSettings,
  now: Date,
): Promise<FallbackResult> {
  let state = await readState(clients.ssm, settings.parameterName);
  state = await settleNotice(clients, settings, state);
  if (state.phase === 'normal') return record({ outcome: 'idle', phase: state.phase });
  const quiet = secondsSince(state.lastFailureAt, now) >= settings.cooldownSeconds;
  if (state.phase === 'fallback') {
    if (!quiet) {
      const share = await setOnDemandShare(clients.autoscaling, settings.groupName, FALLBACK_PERCENTAGE);
      return record({ outcome: 'waiting', phase: state.phase, share });
    }
    state = { ...state, phase: 'probing', restoredAt: now.toISOString() };
    await writeState(clients.ssm, settings.parameterName, state);
    const share = await setOnDemandShare(
      clients.autoscaling,
      settings.groupName,
      settings.configuredPercentage,
    );
    return record({ outcome: 'restored', phase: state.phase, share });
  }
  const share = await setOnDemandShare(
    clients.autoscaling,
    settings.groupName,
    settings.configuredPercentage,
  );
  if (secondsSince(state.restoredAt, now) < settings.cooldownSeconds) {
    return record({ outcome: 'probing', phase: state.phase, share });
  }
  state = {
    ...state,
    phase: 'normal',
    restoredAt: undefined,
    endedAt: now.toISOString(),
    notice: 'restored',
  };
  await writeState(clients.ssm, settings.parameterName, state);
  await settleNotice(clients, settings, state);
  return record({ outcome: 'ended', phase: state.phase, share });
}

/** Sends the notice the state owes, then records it sent. */
async function settleNotice(
  clients: FallbackClients,
  settings: FallbackSettings,
  state: FallbackState,
): Promise<FallbackState> {
  if (!state.notice) return state;
  await publishNotice(clients.sns, settings, state, state.notice);
  const settled = { ...state, notice: undefined };
  await writeState(clients.ssm, settings.parameterName, settled);
  return settled;
}

function record(result: FallbackResult, event?: LaunchUnsuccessfulEvent): FallbackResult {
  logger.info(LOG_RECORD.spotFallback, {
    ...result,
    // 1 while the group is (or is about to be) all on-demand: what the dashboard plots.
    fallback: result.phase === 'fallback' ? 1 : 0,
    ...(event ? { eventId: event.id, statusMessage: event.detail.StatusMessage } : {}),
  });
  return result;
}
