import * as z from 'zod/mini';
import { eventBridgeEvent } from '../lib/eventbridge';

/**
 * Each state machine ends its successful executions with an output naming its outcome:
 * `{"outcome": "healthy", ...}`. This module turns an ended execution into metrics: one count named
 * after the flow and the outcome (`LaunchHealthy`), or the flow and the end status for executions
 * that did not succeed (`LaunchFailed`, `LaunchTimedOut`), and the flow's duration.
 */

export const FLOW_OUTCOMES = {
  Rollout: ['succeeded', 'rolledBack', 'failed', 'skipped'],
  Launch: ['healthy', 'abandoned', 'kept', 'vanished', 'alreadyDecided', 'ignored'],
  Drain: ['retired', 'timedOut', 'gone', 'alreadyDecided', 'ignored'],
  Destroy: ['destroyed', 'dryRun'],
} as const;
export type Flow = keyof typeof FLOW_OUTCOMES;

/**
 * Executions that end in a Fail state on purpose, after having done their job (the rollout that
 * rolled the fleet back and notified): their error names the outcome.
 */
const FAILURE_OUTCOMES: Partial<Record<Flow, Record<string, string>>> = {
  Rollout: { RolloutFailed: 'rolledBack', ConfigRolloutFailed: 'rolledBack', ImageBuildFailed: 'failed' },
};

const pascal = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);

/** Every metric name this module may emit, for dashboards and alarms. */
export function flowMetricNames(flow: Flow): string[] {
  const outcomes = FLOW_OUTCOMES[flow].map((outcome) => `${flow}${pascal(outcome)}`);
  return [
    ...outcomes,
    `${flow}ExecutionFailed`,
    `${flow}ExecutionTimedOut`,
    `${flow}ExecutionAborted`,
    `${flow}Duration`,
  ];
}

export const executionStatusChange = eventBridgeEvent({
  detailType: z.literal('Step Functions Execution Status Change'),
  source: z.literal('aws.states'),
  // The fields read here; Step Functions adds others over time (redrive, versions): theirs to extend.
  detail: z.object({
    executionArn: z.string(),
    stateMachineArn: z.string(),
    name: z.string(),
    status: z.enum(['RUNNING', 'SUCCEEDED', 'FAILED', 'TIMED_OUT', 'ABORTED', 'PENDING_REDRIVE']),
    startDate: z.number(),
    stopDate: z.nullable(z.optional(z.number())),
    output: z.nullable(z.optional(z.string())),
    error: z.nullable(z.optional(z.string())),
  }),
});
export type ExecutionStatusChange = z.infer<typeof executionStatusChange>;

const outputWithOutcome = z.object({ outcome: z.string() });

export interface FlowMeasurement {
  flow: Flow;
  /** Count metrics to add, by name. */
  counts: string[];
  durationSeconds?: number;
  execution: string;
}

/** What to record for an execution status change, or undefined when there is nothing to record. */
export function measure(
  event: ExecutionStatusChange,
  flows: Record<string, Flow>,
): FlowMeasurement | undefined {
  const { detail } = event;
  const flow = flows[detail.stateMachineArn];
  if (!flow || detail.status === 'RUNNING' || detail.status === 'PENDING_REDRIVE') return undefined;
  const durationSeconds =
    detail.stopDate === undefined || detail.stopDate === null
      ? undefined
      : Math.max(0, (detail.stopDate - detail.startDate) / 1000);
  const base = { flow, durationSeconds, execution: detail.name };
  if (detail.status !== 'SUCCEEDED') {
    const status = { FAILED: 'Failed', TIMED_OUT: 'TimedOut', ABORTED: 'Aborted' }[detail.status];
    const outcome = detail.error ? FAILURE_OUTCOMES[flow]?.[detail.error] : undefined;
    return {
      ...base,
      counts: [`${flow}Execution${status}`, ...(outcome ? [`${flow}${pascal(outcome)}`] : [])],
    };
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(detail.output ?? 'null');
  } catch {
    parsed = null;
  }
  const result = outputWithOutcome.safeParse(parsed);
  const known = result.success && (FLOW_OUTCOMES[flow] as readonly string[]).includes(result.data.outcome);
  return { ...base, counts: known && result.success ? [`${flow}${pascal(result.data.outcome)}`] : [] };
}
