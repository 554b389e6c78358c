import { AutoScalingClient, CompleteLifecycleActionCommand } from '@aws-sdk/client-auto-scaling';
import { mockClient } from 'aws-sdk-client-mock';
import { completeLifecycleAction } from '../../../functions/lib/lifecycle';
import { awsError } from '../../support/lifecycle-fakes';

describe('completeLifecycleAction', () => {
  const autoscaling = mockClient(AutoScalingClient);
  afterEach(() => autoscaling.reset());
  afterAll(() => autoscaling.restore());
  const target = { groupName: 'g', hookName: 'h', instanceId: 'i-0123456789abcdef0' };

  test('completes by token when known, by instance id otherwise', async () => {
    autoscaling.on(CompleteLifecycleActionCommand).resolves({});
    expect(
      await completeLifecycleAction(new AutoScalingClient({}), { ...target, token: 't' }, 'CONTINUE'),
    ).toBe(true);
    expect(await completeLifecycleAction(new AutoScalingClient({}), target, 'ABANDON')).toBe(true);
    const inputs = autoscaling.commandCalls(CompleteLifecycleActionCommand).map((c) => c.args[0].input);
    expect(inputs[0]).toMatchObject({ LifecycleActionToken: 't', LifecycleActionResult: 'CONTINUE' });
    expect(inputs[0]).not.toHaveProperty('InstanceId');
    expect(inputs[1]).toMatchObject({ InstanceId: target.instanceId, LifecycleActionResult: 'ABANDON' });
  });

  test('"No active Lifecycle Action found" is done (false), anything else is thrown', async () => {
    autoscaling
      .on(CompleteLifecycleActionCommand)
      .rejectsOnce(
        awsError('ValidationError', 'No active Lifecycle Action found with instance ID i-0123456789abcdef0'),
      )
      .rejectsOnce(awsError('ValidationError', 'Group g not found'));
    expect(await completeLifecycleAction(new AutoScalingClient({}), target, 'ABANDON')).toBe(false);
    await expect(completeLifecycleAction(new AutoScalingClient({}), target, 'ABANDON')).rejects.toThrow(
      'not found',
    );
  });
});
