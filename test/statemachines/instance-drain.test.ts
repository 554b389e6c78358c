import {
  CompleteLifecycleActionCommand,
  RecordLifecycleActionHeartbeatCommand,
} from '@aws-sdk/client-auto-scaling';
import {
  DescribeInstancesCommand,
  StopInstancesCommand,
  TerminateInstancesCommand,
} from '@aws-sdk/client-ec2';
import { PublishCommand, type PublishCommandInput } from '@aws-sdk/client-sns';
import {
  DescribeInstanceInformationCommand,
  GetCommandInvocationCommand,
  InvalidInstanceId,
  SendCommandCommand,
} from '@aws-sdk/client-ssm';
import { tasksNeverFaulted, withFaults } from '../support/asl-harness';
import { type FakeInstance, fakeInstance, throttled } from '../support/lifecycle-fakes';
import {
  failFirst,
  installAgent,
  type LifecycleEventName,
  type LifecycleWorld,
  lifecycleEvent,
  lifecycleWorld,
  runLifecycle,
  steppingClock,
} from '../support/lifecycle-run';
import { type Moto, startMoto } from '../support/moto';
import { createGroup } from '../support/moto-fleet';
import { resetSdkClients, throttleFirstCallOfEveryState } from '../support/sdk-adapter';
import { STACK, stackSubstitutions } from '../support/stack-names';

const EVENT_TIME = '2026-01-10T18:30:00.000Z';
const HOOK = stackSubstitutions('instance-drain').TerminateHookName as string;
const RETIRE = '/usr/local/sbin/external-worker-retire';

let moto: Moto;
let world: LifecycleWorld;
let groupCount = 0;

beforeAll(async () => {
  moto = await startMoto();
  resetSdkClients();
});
afterAll(async () => moto.stop());
afterEach(() => world?.restore());

/** A worker in moto with its open terminate action, an agent online, and the event of `kind`. */
async function draining(instance: FakeInstance, kind: LifecycleEventName = 'terminate') {
  groupCount += 1;
  const groupName = STACK.groupName;
  const {
    instanceIds: [id],
  } = await createGroup({ groupName, desired: 1, tags: STACK.tags });
  const instanceId = id as string;
  world = lifecycleWorld();
  const token = `token-${groupCount}`;
  world.actions.open({ groupName, hookName: HOOK, instanceId, token });
  world.ssm
    .on(DescribeInstanceInformationCommand as never)
    .resolves({ InstanceInformationList: [{ InstanceId: instanceId, PingStatus: 'Online' }] } as never);
  const agent = installAgent(world, instance);
  const event = lifecycleEvent(kind, { groupName, hookName: HOOK, instanceId, token, time: EVENT_TIME });
  const run = (substitutions: Record<string, string> = {}) =>
    runLifecycle('instance-drain', event, {
      substitutions: { DrainTimeoutSeconds: '1800', ...substitutions },
      clock: steppingClock(EVENT_TIME, 10),
    });
  return { groupName, instanceId, token, agent, run };
}

function published(): PublishCommandInput[] {
  const messages = world.sns
    .commandCalls(PublishCommand as never)
    .map((call: { args: [{ input: unknown }] }) => call.args[0].input as PublishCommandInput);
  // SNS refuses subjects over 100 characters
  for (const message of messages) expect(message.Subject?.length ?? 0).toBeLessThanOrEqual(100);
  return messages;
}

describe('instance-drain', () => {
  test('normal drain: retire, wait until the worker exited, CONTINUE', async () => {
    const drain = await draining(fakeInstance({ workerRunning: (check) => check < 4 }));
    const run = await drain.run();
    expect(run.status).toBe('SUCCEEDED');
    expect(run.output).toMatchObject({ outcome: 'retired', kind: 'termination' });
    expect(world.actions.resultOf(drain.token)).toBe('CONTINUE');
    const scripts = drain.agent.scripts();
    expect(scripts[0]).toBe(RETIRE);
    expect(scripts.filter((s) => s.includes('systemctl is-active --quiet concourse-worker'))).toHaveLength(4);
    expect(published()).toEqual([]);
  });

  test('drain timeout: CONTINUE at the deadline, heartbeats on the way, a notification', async () => {
    const drain = await draining(fakeInstance({ workerRunning: () => true }));
    const run = await drain.run();
    expect(run.status).toBe('SUCCEEDED');
    expect(run.output).toMatchObject({ outcome: 'timedOut' });
    expect(world.actions.resultOf(drain.token)).toBe('CONTINUE');
    // 1800 s at ~10 s per poll: heartbeats every 8 polls kept the action alive
    expect(world.actions.heartbeatsOf(drain.token)).toBeGreaterThan(10);
    expect(published()[0]?.Subject).toContain('drain timeout');
  });

  test.each([
    ['terminated', TerminateInstancesCommand],
    ['stopped', StopInstancesCommand],
  ])('instance already %s: CONTINUE at once, nothing sent to it', async (_state, Command) => {
    const drain = await draining(fakeInstance());
    await world.viaMoto(Command)({ InstanceIds: [drain.instanceId] });
    const run = await drain.run();
    expect(run.output).toMatchObject({ outcome: 'gone', summary: 'instance already gone or stopped' });
    expect(world.actions.resultOf(drain.token)).toBe('CONTINUE');
    expect(world.ssm.commandCalls(SendCommandCommand as never)).toHaveLength(0);
  });

  test('agent not online: CONTINUE at once', async () => {
    const drain = await draining(fakeInstance());
    world.ssm
      .on(DescribeInstanceInformationCommand as never)
      .resolves({ InstanceInformationList: [] } as never);
    const run = await drain.run();
    expect(run.output).toMatchObject({ outcome: 'gone', summary: expect.stringContaining('no SSM agent') });
    expect(world.actions.resultOf(drain.token)).toBe('CONTINUE');
    expect(world.ssm.commandCalls(SendCommandCommand as never)).toHaveLength(0);
  });

  test('agent gone mid-drain (InvalidInstanceId): CONTINUE at once', async () => {
    const drain = await draining(
      fakeInstance({ registered: (attempt) => attempt < 3, workerRunning: () => true }),
    );
    const run = await drain.run();
    expect(run.output).toMatchObject({ outcome: 'gone' });
    expect(world.actions.resultOf(drain.token)).toBe('CONTINUE');
  });

  test.each([
    ['terminateWarmPool', 'warm-pool'],
    ['terminateRootVolume', 'root-volume-replacement'],
  ] as const)('%s: the worker retires as for a termination, the kind is reported', async (event, kind) => {
    const drain = await draining(fakeInstance({ workerRunning: (check) => check < 2 }), event);
    const run = await drain.run();
    expect(run.status).toBe('SUCCEEDED');
    expect(run.output).toMatchObject({ outcome: 'retired', kind });
    expect(drain.agent.scripts()[0]).toBe(RETIRE);
    expect(world.actions.resultOf(drain.token)).toBe('CONTINUE');
  });

  test('terminated out of the warm pool: nothing to retire, CONTINUE at once', async () => {
    const drain = await draining(fakeInstance({ workerRunning: () => true }), 'terminateFromWarmPool');
    const run = await drain.run();
    expect(run.status).toBe('SUCCEEDED');
    expect(run.output).toMatchObject({ outcome: 'nothingToRetire', kind: 'from-warm-pool' });
    expect(world.actions.resultOf(drain.token)).toBe('CONTINUE');
    expect(world.ssm.commandCalls(SendCommandCommand as never)).toHaveLength(0);
    expect(run.lambdaCalls).toEqual([]);
    // a repeated event finds the action decided
    const again = await drain.run();
    expect(again.output).toMatchObject({ outcome: 'alreadyDecided' });
  });

  test('duplicate event: the second execution finds no active action and stops', async () => {
    const drain = await draining(fakeInstance({ workerRunning: (check) => check === 1 }));
    const first = await drain.run();
    expect(first.output).toMatchObject({ outcome: 'retired' });
    const second = await drain.run();
    expect(second.status).toBe('SUCCEEDED');
    expect(second.output).toMatchObject({ outcome: 'alreadyDecided' });
    expect(world.autoscaling.commandCalls(CompleteLifecycleActionCommand as never)).toHaveLength(2);
    expect(world.actions.resultOf(drain.token)).toBe('CONTINUE');
  });

  test('an event of another group never acts', async () => {
    const drain = await draining(fakeInstance());
    const run = await drain.run({ GroupName: 'someone-else' });
    expect(run.output).toEqual({ outcome: 'ignored' });
    expect(run.sdkCalls).toEqual([]);
    expect(world.actions.resultOf(drain.token)).toBeUndefined();
  });

  test('throttling on every call is retried', async () => {
    const drain = await draining(fakeInstance({ workerRunning: (check) => check < 10 }));
    const { agent } = drain;
    failFirst(
      world.ec2,
      DescribeInstancesCommand,
      throttled('RequestLimitExceeded'),
      world.viaMoto(DescribeInstancesCommand),
    );
    failFirst(world.ssm, DescribeInstanceInformationCommand, throttled('ThrottlingException'), async () => ({
      InstanceInformationList: [{ InstanceId: drain.instanceId, PingStatus: 'Online' }],
    }));
    failFirst(world.ssm, SendCommandCommand, throttled('ThrottlingException'), agent.send);
    failFirst(world.ssm, GetCommandInvocationCommand, throttled('ThrottlingException'), agent.get);
    failFirst(world.autoscaling, RecordLifecycleActionHeartbeatCommand, throttled(), world.actions.heartbeat);
    failFirst(world.autoscaling, CompleteLifecycleActionCommand, throttled(), world.actions.complete, 3);
    const run = await drain.run();
    expect(run.status).toBe('SUCCEEDED');
    expect(run.output).toMatchObject({ outcome: 'retired' });
    expect(world.actions.resultOf(drain.token)).toBe('CONTINUE');
    expect(world.actions.heartbeatsOf(drain.token)).toBeGreaterThanOrEqual(1);
  });

  test.each([
    ['retired', (check: number) => check < 10],
    ['timedOut', () => true],
  ])('throttling at the first call of every Task (%s): the same drain', async (outcome, workerRunning) => {
    const drain = await draining(fakeInstance({ workerRunning }));
    const throttle = throttleFirstCallOfEveryState();
    const run = await withFaults(throttle, () => drain.run());
    expect([run.status, run.error]).toEqual(['SUCCEEDED', undefined]);
    expect(run.output).toMatchObject({ outcome });
    expect(world.actions.resultOf(drain.token)).toBe('CONTINUE');
    expect(tasksNeverFaulted('instance-drain', run, throttle.throttled)).toEqual([]);
    // The retire itself went out: SSM's own throttling error is retried, never taken for "unreachable".
    expect(drain.agent.scripts()[0]).toBe(RETIRE);
  });

  test('a retire that cannot be sent completes at once instead of waiting for nothing', async () => {
    const drain = await draining(fakeInstance());
    world.ssm
      .on(SendCommandCommand as never)
      .rejects(new InvalidInstanceId({ message: 'not registered', $metadata: {} }));
    const run = await drain.run();
    expect(run.output).toMatchObject({ outcome: 'gone' });
    expect(world.actions.resultOf(drain.token)).toBe('CONTINUE');
  });
});
