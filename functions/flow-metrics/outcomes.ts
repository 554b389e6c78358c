import * as z from 'zod/mini';
import { eventBridgeEvent } from '../lib/eventbridge';

/**
 * Each state machine ends its successful executions with an output naming its outcome:
 * `{"outcome": "healthy", ...}`. This module turns an ended execution into one log record: the
 * flow, its end status and its outcome, which the dashboard counts with a Logs Insights query.
 * No custom metric: the counts and durations per status are AWS/States' own (ExecutionsFailed,
 * ExecutionsTimedOut, ExecutionsAborted, ExecutionTime), and a metric per outcome would be one more
 * billed metric each for what a query over these records shows.
 */

export const FLOW_OUTCOMES = {
  Rollout: ['succeeded', 'rolledBack', 'failed', 'skipped'],
  Launch: ['healthy', 'abandoned', 'kept', 'vanished', 'alreadyDecided', 'ignored'],
  Drain: ['retired', 'timedOut', 'gone', 'alreadyDecided', 'ignored'],
  Destroy: ['destroyed', 'dryRun'],
} as const;
export type Flow = keyof typeof FLOW_OUTCOMES;

/** The message of the record, which the dashboard's query filters on. */
export const EXECUTION_ENDED = 'execution ended';

/**
 * Executions that end in a Fail state on purpose, after having done their job (the rollout that
 * rolled the fleet back and notified): their error names the outcome.
 */
const FAILURE_OUTCOMES: Partial<Record<Flow, Record<string, string>>> = {
  Rollout: { RolloutFailed: 'rolledBack', ConfigRolloutFailed: 'rolledBack', ImageBuildFailed: 'failed' },
};

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

export type EndStatus = 'succeeded' | 'failed' | 'timedOut' | 'aborted';

export interface FlowMeasurement {
  flow: Flow;
  status: EndStatus;
  /** One of FLOW_OUTCOMES[flow]; absent when the execution named none (or an unknown one). */
  outcome?: string;
  durationSeconds?: number;
  execution: string;
}

const END_STATUS = {
  SUCCEEDED: 'succeeded',
  FAILED: 'failed',
  TIMED_OUT: 'timedOut',
  ABORTED: 'aborted',
} as const;

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
  const status = END_STATUS[detail.status];
  const base = {
    flow,
    status,
    execution: detail.name,
    ...(durationSeconds === undefined ? {} : { durationSeconds }),
  };
  if (detail.status !== 'SUCCEEDED') {
    const outcome = detail.error ? FAILURE_OUTCOMES[flow]?.[detail.error] : undefined;
    return outcome ? { ...base, outcome } : base;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(detail.output ?? 'null');
  } catch {
    parsed = null;
  }
  const result = outputWithOutcome.safeParse(parsed);
  if (!result.success || !(FLOW_OUTCOMES[flow] as readonly string[]).includes(result.data.outcome))
    return base;
  return { ...base, outcome: result.data.outcome };
}
