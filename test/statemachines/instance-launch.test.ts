import { CompleteLifecycleActionCommand, DetachInstancesCommand } from '@aws-sdk/client-auto-scaling';
import { TerminateInstancesCommand } from '@aws-sdk/client-ec2';
import { SendCommandCommand } from '@aws-sdk/client-ssm';
import {
  LAUNCH_EVENT_TIME,
  LAUNCH_HOOK,
  groupInstances as membersOf,
  openLaunchGate,
  publishedOn,
  instanceTags as tagsOf,
} from '../support/launch-gate';
import { fakeInstance } from '../support/lifecycle-fakes';
import { installAgent, type LifecycleWorld, runLifecycle } from '../support/lifecycle-run';
import { type Moto, startMoto } from '../support/moto';
import { resetSdkClients } from '../support/sdk-adapter';

const EVENT_TIME = LAUNCH_EVENT_TIME;
const HOOK = LAUNCH_HOOK;

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
const instanceTags = (instanceId: string) => tagsOf(world, instanceId);
const groupInstances = (groupName: string) => membersOf(world, groupName);

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
    await world.viaMoto(TerminateInstancesCommand)({ InstanceIds: [gate.instanceId] });
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
});
