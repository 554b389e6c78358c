import {
  CompleteLifecycleActionCommand,
  DetachInstancesCommand,
  RecordLifecycleActionHeartbeatCommand,
  ResourceContentionFault,
} from '@aws-sdk/client-auto-scaling';
import { CreateTagsCommand, DescribeInstancesCommand, DescribeTagsCommand } from '@aws-sdk/client-ec2';
import { PublishCommand } from '@aws-sdk/client-sns';
import { GetCommandInvocationCommand, SendCommandCommand } from '@aws-sdk/client-ssm';
import { tasksNeverFaulted, withFaults } from '../support/asl-harness';
import { groupInstances as membersOf, openLaunchGate, publishedOn } from '../support/launch-gate';
import { awsError, fakeInstance, throttled } from '../support/lifecycle-fakes';
import { failFirst, installAgent, type LifecycleWorld } from '../support/lifecycle-run';
import { type Moto, startMoto } from '../support/moto';
import { resetSdkClients, throttleFirstCallOfEveryState } from '../support/sdk-adapter';

let moto: Moto;
let world: LifecycleWorld;

beforeAll(async () => {
  moto = await startMoto();
  resetSdkClients();
});
afterAll(async () => moto.stop());
afterEach(() => world?.restore());

async function launching(tags: Record<string, string> = {}) {
  const gate = await openLaunchGate(tags);
  world = gate.world;
  return gate;
}
const published = () => publishedOn(world);
const groupInstances = (groupName: string) => membersOf(world, groupName);

describe('instance-launch: throttling and failures', () => {
  test('throttling on every call of the healthy path is retried', async () => {
    const gate = await launching();
    const agent = installAgent(world, fakeInstance({ registered: (attempt) => attempt > 1 }));
    failFirst(world.ssm, SendCommandCommand, throttled('ThrottlingException'), agent.send);
    failFirst(world.ssm, GetCommandInvocationCommand, throttled('ThrottlingException'), agent.get);
    failFirst(
      world.ec2,
      DescribeInstancesCommand,
      throttled('RequestLimitExceeded'),
      world.viaMoto(DescribeInstancesCommand),
    );
    failFirst(
      world.autoscaling,
      CompleteLifecycleActionCommand,
      throttled(),
      world.actions.complete as never,
      2,
    );
    const run = await gate.run();
    expect(run.status).toBe('SUCCEEDED');
    expect(run.output).toMatchObject({ outcome: 'healthy' });
    expect(world.actions.resultOf(gate.token)).toBe('CONTINUE');
    expect(world.autoscaling.commandCalls(CompleteLifecycleActionCommand as never)).toHaveLength(3);
  });

  test('ResourceContention on CompleteLifecycleAction is retried: the healthy worker is CONTINUEd', async () => {
    const gate = await launching();
    installAgent(world, fakeInstance());
    failFirst(
      world.autoscaling,
      CompleteLifecycleActionCommand,
      new ResourceContentionFault({
        message: 'You already have a pending update to an Auto Scaling resource.',
        $metadata: {},
      }),
      world.actions.complete as never,
    );
    const run = await gate.run();
    expect([run.status, run.error]).toEqual(['SUCCEEDED', undefined]);
    expect(run.output).toMatchObject({ outcome: 'healthy' });
    expect(world.actions.resultOf(gate.token)).toBe('CONTINUE');
    expect(world.autoscaling.commandCalls(CompleteLifecycleActionCommand as never)).toHaveLength(2);
  });

  test.each([
    ['healthy', {}, 'healthy', 'CONTINUE'],
    ['kept', { keeprunning: 'true' }, 'kept', 'CONTINUE'],
  ])(
    'throttling at the first call of every Task (%s path): the same decision',
    async (_, tags, outcome, result) => {
      const gate = await launching(tags);
      installAgent(
        world,
        fakeInstance(
          outcome === 'kept'
            ? { bootStatus: () => ({ status: 'failed', step: 'worker', message: 'x' }) }
            : {},
        ),
      );
      const throttle = throttleFirstCallOfEveryState();
      const run = await withFaults(throttle, () => gate.run());
      expect([run.status, run.error]).toEqual(['SUCCEEDED', undefined]);
      expect(run.output).toMatchObject({ outcome });
      expect(world.actions.resultOf(gate.token)).toBe(result);
      expect(tasksNeverFaulted('instance-launch', run, throttle.throttled)).toEqual([]);
    },
  );

  test('throttling on every call of the keep path is retried', async () => {
    const gate = await launching({ keeprunning: 'true' });
    const agent = installAgent(
      world,
      fakeInstance({
        bootStatus: (check) => (check < 12 ? { status: 'running' } : { status: 'failed', step: 'x' }),
      }),
    );
    failFirst(world.ssm, SendCommandCommand, throttled('ThrottlingException'), agent.send);
    failFirst(world.autoscaling, RecordLifecycleActionHeartbeatCommand, throttled(), world.actions.heartbeat);
    failFirst(
      world.ec2,
      DescribeTagsCommand,
      throttled('RequestLimitExceeded'),
      world.viaMoto(DescribeTagsCommand),
    );
    failFirst(
      world.ec2,
      CreateTagsCommand,
      throttled('RequestLimitExceeded'),
      world.viaMoto(CreateTagsCommand),
    );
    failFirst(world.autoscaling, DetachInstancesCommand, throttled(), world.viaMoto(DetachInstancesCommand));
    failFirst(world.sns, PublishCommand, throttled('Throttling'), async () => ({ MessageId: '2' }));
    const run = await gate.run();
    expect(run.status).toBe('SUCCEEDED');
    expect(run.output).toMatchObject({ outcome: 'kept' });
    expect(world.actions.heartbeatsOf(gate.token)).toBeGreaterThanOrEqual(1);
    expect((await groupInstances(gate.groupName)).ids).not.toContain(gate.instanceId);
    // the throttled attempt, then the one that went through
    expect(published()).toHaveLength(2);
  });

  test('a kept instance that cannot be detached is reported, still CONTINUEd', async () => {
    const gate = await launching({ keeprunning: 'true' });
    installAgent(world, fakeInstance({ bootStatus: () => ({ status: 'failed', step: 'x' }) }));
    world.autoscaling
      .on(DetachInstancesCommand as never)
      .rejects(awsError('ValidationError', 'The instance is not in InService'));
    const run = await gate.run();
    expect(run.status).toBe('SUCCEEDED');
    expect(run.output).toMatchObject({
      outcome: 'kept',
      summary: expect.stringContaining('detach it by hand'),
    });
    expect(world.actions.resultOf(gate.token)).toBe('CONTINUE');
    // retried first: right after CONTINUE the instance may not be InService yet
    expect(world.autoscaling.commandCalls(DetachInstancesCommand as never)).toHaveLength(7);
    expect(published()[0]?.Message).toContain('detach it by hand');
  });

  test('an action that cannot be completed is left to its default result, with a notification and a failed execution', async () => {
    const gate = await launching();
    installAgent(world, fakeInstance());
    world.autoscaling
      .on(CompleteLifecycleActionCommand as never)
      .rejects(awsError('AccessDenied', 'not authorized to perform autoscaling:CompleteLifecycleAction'));
    const run = await gate.run();
    expect(run.status).toBe('FAILED');
    expect(run.error).toBe('LifecycleActionLeftToDefault');
    expect(published()[0]?.Message).toContain('not authorized');
  });

  test('persistent throttling of the completion gives up after a bounded number of attempts', async () => {
    const gate = await launching();
    installAgent(world, fakeInstance());
    world.autoscaling.on(CompleteLifecycleActionCommand as never).rejects(throttled());
    const run = await gate.run();
    expect(run.status).toBe('FAILED');
    expect(world.autoscaling.commandCalls(CompleteLifecycleActionCommand as never)).toHaveLength(7);
  });
});
