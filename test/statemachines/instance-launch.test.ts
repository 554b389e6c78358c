import {
  AutoScalingClient,
  CompleteLifecycleActionCommand,
  DescribeAutoScalingGroupsCommand,
  DetachInstancesCommand,
  RecordLifecycleActionHeartbeatCommand,
} from '@aws-sdk/client-auto-scaling';
import {
  CreateTagsCommand,
  DescribeInstancesCommand,
  DescribeTagsCommand,
  EC2Client,
  TerminateInstancesCommand,
} from '@aws-sdk/client-ec2';
import { PublishCommand, type PublishCommandInput } from '@aws-sdk/client-sns';
import { GetCommandInvocationCommand, SendCommandCommand } from '@aws-sdk/client-ssm';
import { awsError, createMotoGroup, fakeInstance, forward, throttled } from '../support/lifecycle-fakes';
import {
  failFirst,
  installAgent,
  type LifecycleWorld,
  lifecycleEvent,
  lifecycleWorld,
  runLifecycle,
  steppingClock,
} from '../support/lifecycle-run';
import { type Moto, startMoto } from '../support/moto';
import { resetSdkClients } from '../support/sdk-adapter';

const EVENT_TIME = '2026-01-10T08:00:00.000Z';
const HOOK = 'test-launch';
const originalEc2Send = EC2Client.prototype.send as never;
const originalAutoScalingSend = AutoScalingClient.prototype.send as never;

let moto: Moto;
let world: LifecycleWorld;
let groupCount = 0;

beforeAll(async () => {
  moto = await startMoto();
  resetSdkClients();
});
afterAll(async () => moto.stop());
afterEach(() => world?.restore());

/** A new group in moto with one instance, its open launch action, and the event that announces it. */
async function launching(tags: Record<string, string> = {}) {
  groupCount += 1;
  const groupName = `launch-${groupCount}`;
  const [instanceId] = await createMotoGroup(groupName, 1, { 'external-worker:stack': 'test', ...tags });
  world = lifecycleWorld();
  const token = `token-${groupCount}`;
  world.actions.open({ groupName, hookName: HOOK, instanceId: instanceId as string, token });
  const event = lifecycleEvent('launch', {
    groupName,
    hookName: HOOK,
    instanceId: instanceId as string,
    token,
    time: EVENT_TIME,
  });
  const run = (substitutions: Record<string, string> = {}) =>
    runLifecycle('instance-launch', event, {
      substitutions: {
        GroupName: groupName,
        LaunchHookName: HOOK,
        BootTimeoutSeconds: '900',
        ...substitutions,
      },
      clock: steppingClock(EVENT_TIME, 10),
    });
  return { groupName, instanceId: instanceId as string, token, event, run };
}

function published(): PublishCommandInput[] {
  const messages = world.sns
    .commandCalls(PublishCommand as never)
    .map((call: { args: [{ input: unknown }] }) => call.args[0].input as PublishCommandInput);
  // SNS refuses subjects over 100 characters
  for (const message of messages) expect(message.Subject?.length ?? 0).toBeLessThanOrEqual(100);
  return messages;
}

async function instanceTags(instanceId: string): Promise<Record<string, string>> {
  const ec2 = new EC2Client({});
  const answer = await forward(
    originalEc2Send,
    ec2,
    DescribeTagsCommand,
  )({
    Filters: [{ Name: 'resource-id', Values: [instanceId] }],
  });
  const tags = (answer as { Tags?: Array<{ Key: string; Value: string }> }).Tags ?? [];
  return Object.fromEntries(tags.map((t) => [t.Key, t.Value]));
}

async function groupInstances(groupName: string): Promise<{ ids: string[]; desired?: number }> {
  const client = new AutoScalingClient({});
  const answer = (await forward(
    originalAutoScalingSend,
    client,
    DescribeAutoScalingGroupsCommand,
  )({
    AutoScalingGroupNames: [groupName],
  })) as {
    AutoScalingGroups?: Array<{ DesiredCapacity?: number; Instances?: Array<{ InstanceId?: string }> }>;
  };
  const group = answer.AutoScalingGroups?.[0];
  return {
    ids: (group?.Instances ?? []).map((i) => i.InstanceId as string),
    desired: group?.DesiredCapacity,
  };
}

describe('instance-launch', () => {
  test('healthy at once: CONTINUE, nothing else', async () => {
    const gate = await launching();
    installAgent(world, fakeInstance());
    const run = await gate.run();
    expect(run.status).toBe('SUCCEEDED');
    expect(run.output).toMatchObject({ outcome: 'healthy', boot: { status: 'ok' } });
    expect(world.actions.resultOf(gate.token)).toBe('CONTINUE');
    expect(published()).toEqual([]);
    expect(world.autoscaling.commandCalls(DetachInstancesCommand as never)).toHaveLength(0);
  });

  test('pending then healthy: agent not registered, command in progress, no status file, running, then ok', async () => {
    const gate = await launching();
    const agent = installAgent(
      world,
      fakeInstance({
        registered: (attempt) => attempt > 1,
        inProgress: (command) => command === 1,
        bootStatus: (check) =>
          check === 1 ? undefined : check < 12 ? { status: 'running', step: 'worker' } : { status: 'ok' },
      }),
    );
    const run = await gate.run();
    expect(run.status).toBe('SUCCEEDED');
    expect(run.output).toMatchObject({ outcome: 'healthy' });
    expect(world.actions.resultOf(gate.token)).toBe('CONTINUE');
    expect(agent.commands.length).toBe(13);
    // ten polls of ~15 s: the action was kept alive on the way
    expect(world.actions.heartbeatsOf(gate.token)).toBeGreaterThanOrEqual(1);
    expect(run.statesEntered).toContain('InstanceRunning');
  });

  test('failed: ABANDON, with the failing step and message in the notification', async () => {
    const gate = await launching();
    installAgent(
      world,
      fakeInstance({
        bootStatus: () => ({ status: 'failed', step: 'worker-key', message: 'parameter not found' }),
      }),
    );
    const run = await gate.run();
    expect(run.status).toBe('SUCCEEDED');
    expect(run.output).toMatchObject({ outcome: 'abandoned' });
    expect(world.actions.resultOf(gate.token)).toBe('ABANDON');
    const [notification] = published();
    expect(notification?.Subject).toContain(gate.instanceId);
    expect(notification?.Message).toContain('the boot failed');
    expect(notification?.Message).toContain('worker-key');
    expect(notification?.Message).toContain('parameter not found');
    expect(world.autoscaling.commandCalls(DetachInstancesCommand as never)).toHaveLength(0);
  });

  test.each([
    ['the keeprunning tag (propagated from the group)', { keeprunning: 'true' }, false],
    ['the keeprunning file', {}, true],
  ])('failed with %s: kept for debugging, out of the group, replaced', async (_what, tags, file) => {
    const gate = await launching(tags);
    installAgent(
      world,
      fakeInstance({
        keeprunningFile: file,
        bootStatus: () => ({ status: 'failed', step: 'storage', message: 'no device' }),
      }),
    );
    const run = await gate.run();
    expect(run.status).toBe('SUCCEEDED');
    expect(run.output).toMatchObject({ outcome: 'kept' });
    expect(world.actions.resultOf(gate.token)).toBe('CONTINUE');
    const tagsNow = await instanceTags(gate.instanceId);
    expect(tagsNow['external-worker:kept']).toBe('the boot failed');
    expect(Date.parse(tagsNow['external-worker:kept-since'] ?? '')).toBeGreaterThan(Date.parse(EVENT_TIME));
    const group = await groupInstances(gate.groupName);
    expect(group.ids).not.toContain(gate.instanceId);
    expect(group.desired).toBe(1);
    expect(world.autoscaling.commandCalls(DetachInstancesCommand as never)[0]?.args[0].input).toMatchObject({
      ShouldDecrementDesiredCapacity: false,
    });
    const [notification] = published();
    expect(notification?.Subject).toBe(`external-worker: worker ${gate.instanceId} kept`);
    expect(notification?.Message).toContain('aws ssm start-session --target <instance id>');
  });

  test('agent never registers: the deadline passes, ABANDON, the action kept alive until then', async () => {
    const gate = await launching();
    const agent = installAgent(world, fakeInstance({ registered: () => false }));
    const run = await gate.run();
    expect(run.status).toBe('SUCCEEDED');
    expect(run.output).toMatchObject({ outcome: 'abandoned' });
    expect(world.actions.resultOf(gate.token)).toBe('ABANDON');
    expect(agent.commands).toHaveLength(0);
    expect(world.ssm.commandCalls(SendCommandCommand as never).length).toBeGreaterThan(20);
    expect(world.actions.heartbeatsOf(gate.token)).toBeGreaterThan(1);
    expect(published()[0]?.Message).toContain('did not finish before the deadline');
  });

  test('instance vanishes mid-way: ends cleanly, the action left to its default result', async () => {
    const gate = await launching();
    installAgent(
      world,
      fakeInstance({
        registered: (attempt) => attempt < 3,
        bootStatus: () => ({ status: 'running', step: 'packages' }),
      }),
    );
    await forward(
      originalEc2Send,
      new EC2Client({}),
      TerminateInstancesCommand,
    )({ InstanceIds: [gate.instanceId] });
    const run = await gate.run();
    expect(run.status).toBe('SUCCEEDED');
    expect(run.output).toMatchObject({ outcome: 'vanished' });
    expect(world.actions.resultOf(gate.token)).toBeUndefined();
    expect(world.autoscaling.commandCalls(CompleteLifecycleActionCommand as never)).toHaveLength(0);
  });

  test('an action that disappears while polling (heartbeat finds none) ends the gate', async () => {
    const gate = await launching();
    installAgent(world, fakeInstance({ bootStatus: () => ({ status: 'running' }) }));
    const action = world.actions.actions[0];
    if (action) action.result = 'ABANDON';
    const run = await gate.run();
    expect(run.status).toBe('SUCCEEDED');
    expect(run.output).toMatchObject({
      outcome: 'alreadyDecided',
      summary: expect.stringContaining('no active lifecycle action'),
    });
    expect(world.autoscaling.commandCalls(CompleteLifecycleActionCommand as never)).toHaveLength(0);
  });

  test('duplicate event: acts once, and never ABANDONs an instance already CONTINUEd', async () => {
    const gate = await launching();
    let failedLater = false;
    installAgent(
      world,
      fakeInstance({
        bootStatus: () => (failedLater ? { status: 'failed', step: 'late' } : { status: 'ok' }),
      }),
    );
    const first = await gate.run();
    expect(first.output).toMatchObject({ outcome: 'healthy' });
    const second = await gate.run();
    expect(second.status).toBe('SUCCEEDED');
    expect(second.output).toMatchObject({ outcome: 'alreadyDecided', wanted: 'healthy' });
    // even when the second delivery sees a failure, its ABANDON finds no active action
    failedLater = true;
    const third = await gate.run();
    expect(third.output).toMatchObject({ outcome: 'alreadyDecided', wanted: 'abandoned' });
    expect(world.actions.resultOf(gate.token)).toBe('CONTINUE');
    expect(world.autoscaling.commandCalls(DetachInstancesCommand as never)).toHaveLength(0);
  });

  test('events of another group or hook never act', async () => {
    const gate = await launching();
    installAgent(world, fakeInstance());
    const otherGroup = await runLifecycle('instance-launch', gate.event, {
      substitutions: { GroupName: 'someone-else', LaunchHookName: HOOK, BootTimeoutSeconds: '900' },
    });
    const otherHook = await runLifecycle('instance-launch', gate.event, {
      substitutions: { GroupName: gate.groupName, LaunchHookName: 'other-hook', BootTimeoutSeconds: '900' },
    });
    for (const run of [otherGroup, otherHook]) {
      expect(run.status).toBe('SUCCEEDED');
      expect(run.sdkCalls).toEqual([]);
      expect(run.lambdaCalls).toEqual([]);
    }
    expect(world.actions.resultOf(gate.token)).toBeUndefined();
  });

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
