import type * as AutoScaling from '@aws-sdk/client-auto-scaling';
import { mockClient } from 'aws-sdk-client-mock';
import events from '../../fixtures/events/lifecycle.json';

const context = {
  functionName: 'spot-interruption',
  awsRequestId: 'r-1',
  invokedFunctionArn: 'arn:aws:lambda:eu-west-1:123456789012:function:spot-interruption',
  getRemainingTimeInMillis: () => 1000,
} as never;

type Handler = (event: unknown, context: never) => Promise<unknown>;

const savedEnv = { ...process.env };
afterEach(() => {
  process.env = { ...savedEnv };
});

/** A cold start with `env`: the handler module and the SDK module it uses, from a fresh registry. */
function coldStart(env: Record<string, string | undefined>) {
  for (const [key, value] of Object.entries(env)) {
    if (value === undefined) delete process.env[key];
    else process.env[key] = value;
  }
  let loaded: { handler: Handler; sdk: typeof AutoScaling } | undefined;
  jest.isolateModules(() => {
    const sdk = require('@aws-sdk/client-auto-scaling') as typeof AutoScaling;
    const { handler } = require('../../../functions/spot-interruption/handler') as { handler: Handler };
    loaded = { handler, sdk };
  });
  return loaded as { handler: Handler; sdk: typeof AutoScaling };
}

describe('spot-interruption handler', () => {
  test('without its group in the environment it does not start', () => {
    expect(() => coldStart({ GROUP_NAME: undefined, LAUNCH_HOOK_NAME: 'h' })).toThrow(
      'GROUP_NAME is not set',
    );
  });

  test('parses the EventBridge event and answers for the detail instance', async () => {
    const { handler, sdk } = coldStart({
      GROUP_NAME: 'g-workers',
      LAUNCH_HOOK_NAME: 'g-launch',
      AWS_REGION: 'eu-west-1',
    });
    const autoscaling = mockClient(sdk.AutoScalingClient);
    autoscaling.on(sdk.DescribeAutoScalingInstancesCommand).resolves({ AutoScalingInstances: [] });
    try {
      const instanceId = events.spotInterruption.detail['instance-id'];
      expect(await handler(events.spotInterruption, context)).toEqual({ outcome: 'ignored', instanceId });
      expect(autoscaling.commandCalls(sdk.DescribeAutoScalingInstancesCommand)[0]?.args[0].input).toEqual({
        InstanceIds: [instanceId],
      });
      await expect(handler({ source: 'aws.ec2' }, context)).rejects.toMatchObject({
        name: 'InvalidInputError',
      });
      const calls = autoscaling.commandCalls(sdk.DescribeAutoScalingInstancesCommand).length;
      for (const event of [
        { ...events.spotInterruption, extra: true },
        { ...events.spotInterruption, detail: { ...events.spotInterruption.detail, 'instance-ids': [] } },
      ]) {
        await expect(handler(event, context)).rejects.toThrow(
          /invalid EC2 event: .*unknown key.*; expected an EventBridge event of source aws.ec2/,
        );
      }
      expect(autoscaling.commandCalls(sdk.DescribeAutoScalingInstancesCommand)).toHaveLength(calls);
    } finally {
      autoscaling.restore();
    }
  });
});
