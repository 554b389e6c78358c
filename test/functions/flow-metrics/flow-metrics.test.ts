import type { Context } from 'aws-lambda';
import { flowMetricNames, measure } from '../../../functions/flow-metrics/outcomes';
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

describe('flow metrics', () => {
  const run = async (event: unknown) => {
    const { handler } = await import('../../../functions/flow-metrics/handler');
    await handler(event, context);
    return output.metrics();
  };

  test('a healthy launch counts LaunchHealthy and its duration', async () => {
    const metrics = await run(ended(LAUNCH, 'SUCCEEDED', { outcome: 'healthy', instanceId: 'i-1' }));
    expect(metrics.LaunchHealthy).toEqual([1]);
    expect(metrics.LaunchDuration).toEqual([90]);
  });

  test('a rollout that rolled back and one whose execution failed', async () => {
    expect((await run(ended(ROLLOUT, 'SUCCEEDED', { outcome: 'rolledBack' }))).RolloutRolledBack).toEqual([
      1,
    ]);
    expect((await run(ended(ROLLOUT, 'FAILED'))).RolloutExecutionFailed).toEqual([1]);
    expect((await run(ended(ROLLOUT, 'TIMED_OUT'))).RolloutExecutionTimedOut).toEqual([1]);
  });

  test('metrics carry the dimensions the dashboard and the alarms use', async () => {
    await run(ended(LAUNCH, 'SUCCEEDED', { outcome: 'kept' }));
    expect(output).toHaveEmittedEMFWith({
      LaunchKept: 1,
      service: 'external-worker',
      Stack: 'external-worker-prod',
      _aws: expect.objectContaining({
        CloudWatchMetrics: [
          expect.objectContaining({ Namespace: 'ExternalWorker', Dimensions: [['service', 'Stack']] }),
        ],
      }),
    });
  });

  test('running executions and other state machines record nothing', () => {
    expect(measure(ended(LAUNCH, 'RUNNING') as never, { [LAUNCH]: 'Launch' })).toBeUndefined();
    expect(
      measure(ended('arn:other', 'SUCCEEDED', { outcome: 'healthy' }) as never, { [LAUNCH]: 'Launch' }),
    ).toBeUndefined();
  });

  test('an output without a known outcome counts only the duration', () => {
    const measured = measure(ended(LAUNCH, 'SUCCEEDED', { outcome: 'sideways' }) as never, {
      [LAUNCH]: 'Launch',
    });
    expect(measured).toMatchObject({ counts: [], durationSeconds: 90 });
  });

  test('a malformed event is rejected with what is wrong', async () => {
    const { handler } = await import('../../../functions/flow-metrics/handler');
    await expect(handler({ 'detail-type': 'x' }, context)).rejects.toThrow(
      /invalid execution status change: detail-type/,
    );
  });

  test('metric names cover every outcome and end status', () => {
    expect(flowMetricNames('Launch')).toEqual([
      'LaunchHealthy',
      'LaunchAbandoned',
      'LaunchKept',
      'LaunchVanished',
      'LaunchAlreadyDecided',
      'LaunchIgnored',
      'LaunchExecutionFailed',
      'LaunchExecutionTimedOut',
      'LaunchExecutionAborted',
      'LaunchDuration',
    ]);
  });
});
