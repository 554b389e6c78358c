import type * as AutoScaling from '@aws-sdk/client-auto-scaling';
import type * as Ssm from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import { launchFailure, minutes } from './world';

const context = {
  functionName: 'spot-fallback',
  awsRequestId: 'r-1',
  invokedFunctionArn: 'arn:aws:lambda:eu-west-1:123456789012:function:spot-fallback',
  getRemainingTimeInMillis: () => 1000,
} as never;

type Handler = (event: unknown, context: never) => Promise<unknown>;

const ENV = {
  STACK_NAME: 'external-worker-prod',
  GROUP_NAME: 'external-worker-prod-workers',
  TOPIC_ARN: 'arn:aws:sns:eu-west-1:123456789012:external-worker-prod-notifications',
  STATE_PARAMETER: '/external-worker/prod/spot-fallback',
  ON_DEMAND_PERCENTAGE: '0',
  COOLDOWN_SECONDS: '1800',
  AWS_REGION: 'eu-west-1',
};

const savedEnv = { ...process.env };
afterEach(() => {
  process.env = { ...savedEnv };
});

function coldStart(env: Record<string, string | undefined>) {
  for (const [key, value] of Object.entries(env)) {
    if (value === undefined) delete process.env[key];
    else process.env[key] = value;
  }
  let loaded: { handler: Handler; asg: typeof AutoScaling; ssm: typeof Ssm } | undefined;
  jest.isolateModules(() => {
    const asg = require('@aws-sdk/client-auto-scaling') as typeof AutoScaling;
    const ssm = require('@aws-sdk/client-ssm') as typeof Ssm;
    const { handler } = require('../../../functions/spot-fallback/handler') as { handler: Handler };
    loaded = { handler, asg, ssm };
  });
  return loaded as NonNullable<typeof loaded>;
}

describe('spot-fallback handler', () => {
  test('does not start without its settings, nor with a share that is not a percentage', () => {
    expect(() => coldStart({ ...ENV, GROUP_NAME: undefined })).toThrow('GROUP_NAME is not set');
    expect(() => coldStart({ ...ENV, ON_DEMAND_PERCENTAGE: '150' })).toThrow(
      'ON_DEMAND_PERCENTAGE is malformed',
    );
  });

  test('takes the group failed launches and the schedule check; refuses anything else before any call', async () => {
    const { handler, asg, ssm } = coldStart(ENV);
    const parameters = mockClient(ssm.SSMClient);
    const groups = mockClient(asg.AutoScalingClient);
    parameters
      .on(ssm.GetParameterCommand)
      .rejects(new ssm.ParameterNotFound({ message: 'none', $metadata: {} }));
    try {
      expect(await handler({ source: 'schedule' }, context)).toMatchObject({ outcome: 'idle' });
      const other = launchFailure('e1', minutes(0), 'The image id [ami-0123456789abcdef0] does not exist.');
      expect(await handler(other, context)).toMatchObject({ outcome: 'ignored' });
      const reads = parameters.commandCalls(ssm.GetParameterCommand).length;
      for (const bad of [
        { source: 'aws.autoscaling' },
        { ...other, extra: 1 },
        { source: 'schedule', now: 1 },
      ]) {
        await expect(handler(bad, context)).rejects.toMatchObject({ name: 'InvalidInputError' });
      }
      expect(parameters.commandCalls(ssm.GetParameterCommand)).toHaveLength(reads);
      expect(groups.calls()).toHaveLength(0);
    } finally {
      parameters.restore();
      groups.restore();
    }
  });
});
