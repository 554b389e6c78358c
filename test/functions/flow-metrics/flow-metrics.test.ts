import type { Context } from 'aws-lambda';
import { EXECUTION_ENDED, measure } from '../../../functions/flow-metrics/outcomes';
import { output } from '../../support/output';

const LAUNCH = 'arn:aws:states:eu-west-1:123456789012:stateMachine:launch';
const ROLLOUT = 'arn:aws:states:eu-west-1:123456789012:stateMachine:rollout';
process.env.FLOWS = JSON.stringify({ [LAUNCH]: 'Launch', [ROLLOUT]: 'Rollout' });
process.env.POWERTOOLS_METRICS_NAMESPACE = 'ExternalWorker';
process.env.STACK_NAME = 'external-worker-prod';

const context = { awsRequestId: 'r', functionName: 'flow-metrics' } as Context;

function ended(stateMachineArn: string, status: string, output?: unknown, error?: string) {
  return {
    version: '0',
    id: 'e',
    'detail-type': 'Step Functions Execution Status Change',
    source: 'aws.states',
    account: '123456789012',
    time: '2026-01-01T00:00:00Z',
    region: 'eu-west-1',
    resources: [],
    detail: {
      executionArn: `${stateMachineArn}:exec`,
      stateMachineArn,
      name: 'exec',
      status,
      startDate: 1_700_000_000_000,
      stopDate: status === 'RUNNING' ? null : 1_700_000_090_000,
      input: '{}',
      output: output === undefined ? null : JSON.stringify(output),
      ...(error ? { error, cause: 'see the notification' } : {}),
    },
  };
}

describe('flow outcomes', () => {
  const run = async (event: unknown) => {
    const { handler } = await import('../../../functions/flow-metrics/handler');
    const before = output.logs().length;
    await handler(event, context);
    return output
      .logs()
      .slice(before)
      .filter((record) => record.message === EXECUTION_ENDED);
  };

  test('a healthy launch logs its flow, status, outcome and duration', async () => {
    expect(await run(ended(LAUNCH, 'SUCCEEDED', { outcome: 'healthy', instanceId: 'i-1' }))).toEqual([
      expect.objectContaining({
        flow: 'Launch',
        status: 'succeeded',
        outcome: 'healthy',
        durationSeconds: 90,
        execution: 'exec',
      }),
    ]);
  });

  test('a rollout that rolled back, one that failed on purpose and one whose execution timed out', async () => {
    expect(await run(ended(ROLLOUT, 'SUCCEEDED', { outcome: 'rolledBack' }))).toEqual([
      expect.objectContaining({ flow: 'Rollout', status: 'succeeded', outcome: 'rolledBack' }),
    ]);
    expect(await run(ended(ROLLOUT, 'FAILED', undefined, 'RolloutFailed'))).toEqual([
      expect.objectContaining({ flow: 'Rollout', status: 'failed', outcome: 'rolledBack' }),
    ]);
    const [timedOut] = await run(ended(ROLLOUT, 'TIMED_OUT'));
    expect(timedOut).toMatchObject({ flow: 'Rollout', status: 'timedOut' });
    expect(timedOut).not.toHaveProperty('outcome');
  });

  test('no custom metric: the counts and durations per status are AWS/States metrics', async () => {
    await run(ended(LAUNCH, 'SUCCEEDED', { outcome: 'kept' }));
    expect(await run(ended(LAUNCH, 'ABORTED'))).toEqual([expect.objectContaining({ status: 'aborted' })]);
    expect(output.emf()).toEqual([]);
  });

  test('running executions and other state machines record nothing', async () => {
    expect(measure(ended(LAUNCH, 'RUNNING') as never, { [LAUNCH]: 'Launch' })).toBeUndefined();
    expect(
      measure(ended('arn:other', 'SUCCEEDED', { outcome: 'healthy' }) as never, { [LAUNCH]: 'Launch' }),
    ).toBeUndefined();
    expect(await run(ended(LAUNCH, 'RUNNING'))).toEqual([]);
  });

  test('an output without a known outcome records the status and duration only', () => {
    const measured = measure(ended(LAUNCH, 'SUCCEEDED', { outcome: 'sideways' }) as never, {
      [LAUNCH]: 'Launch',
    });
    expect(measured).toEqual({ flow: 'Launch', status: 'succeeded', durationSeconds: 90, execution: 'exec' });
  });

  test('a malformed event is rejected with what is wrong', async () => {
    const { handler } = await import('../../../functions/flow-metrics/handler');
    await expect(handler({ 'detail-type': 'x' }, context)).rejects.toThrow(
      /invalid execution status change: detail-type/,
    );
  });

  test('an envelope key EventBridge does not send is refused', async () => {
    const { handler } = await import('../../../functions/flow-metrics/handler');
    const event = { ...ended(LAUNCH, 'SUCCEEDED', { outcome: 'ok' }), extra: 1 };
    await expect(handler(event, context)).rejects.toThrow(
      /invalid execution status change: \(root\): unknown key "extra"/,
    );
  });
});
