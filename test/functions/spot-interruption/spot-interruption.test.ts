import {
  AutoScalingClient,
  CompleteLifecycleActionCommand,
  DescribeAutoScalingGroupsCommand,
  DescribeAutoScalingInstancesCommand,
  DetachInstancesCommand,
  SetInstanceHealthCommand,
} from '@aws-sdk/client-auto-scaling';
import { DescribeTagsCommand, EC2Client } from '@aws-sdk/client-ec2';
import { SendCommandCommand, SSMClient } from '@aws-sdk/client-ssm';
import { metrics } from '../../../functions/lib/observability';
import { parseInput } from '../../../functions/lib/parse';
import {
  handleSpotEvent,
  INTERRUPTED_TAG,
  RETIRE_COMMAND,
  type SpotEvent,
  spotEvent,
} from '../../../functions/spot-interruption/interruption';
import events from '../../fixtures/events/lifecycle.json';
import { throttled } from '../../support/lifecycle-fakes';
import { type LifecycleWorld, lifecycleWorld } from '../../support/lifecycle-run';
import { type Moto, startMoto } from '../../support/moto';
import { createGroup } from '../../support/moto-fleet';
import { output } from '../../support/output';
import { STACK, stackSubstitutions } from '../../support/stack-names';

const HOOK = stackSubstitutions('instance-launch').LaunchHookName as string;

let moto: Moto;
let world: LifecycleWorld;
let groupCount = 0;
let addMetric: jest.SpyInstance;

beforeAll(async () => {
  moto = await startMoto();
});
afterAll(async () => moto.stop());
beforeEach(() => {
  addMetric = jest.spyOn(metrics, 'addMetric').mockImplementation(() => metrics);
});
afterEach(() => {
  world?.restore();
  addMetric.mockRestore();
});

function event(name: 'spotInterruption' | 'rebalance', instanceId: string): SpotEvent {
  const raw = structuredClone(events[name]) as { detail: Record<string, string> };
  raw.detail['instance-id'] = instanceId;
  return parseInput(spotEvent, raw, 'EC2 event');
}

/** Two groups in moto (the stack's and another), one instance each; the mocks installed over them. */
async function fleet() {
  groupCount += 1;
  const groupName = STACK.groupName;
  const {
    instanceIds: [ours],
  } = await createGroup({ groupName, desired: 1, tags: STACK.tags });
  const {
    instanceIds: [theirs],
  } = await createGroup({ groupName: `other-${groupCount}`, desired: 1 });
  world = lifecycleWorld();
  world.ssm.on(SendCommandCommand as never).resolves({ Command: { CommandId: 'c-1' } } as never);
  const clients = { autoscaling: new AutoScalingClient({}), ec2: new EC2Client({}), ssm: new SSMClient({}) };
  const handle = (e: SpotEvent) => handleSpotEvent(clients, { groupName, launchHookName: HOOK }, e);
  return { groupName, ours: ours as string, theirs: theirs as string, handle };
}

/** Makes moto's answer about the instance's lifecycle state say `state`. */
function inState(state: string) {
  const describe = world.viaMoto(DescribeAutoScalingInstancesCommand);
  world.autoscaling.on(DescribeAutoScalingInstancesCommand as never).callsFake(async (input: unknown) => {
    const answer = (await describe(input)) as { AutoScalingInstances?: Array<{ LifecycleState?: string }> };
    for (const instance of answer.AutoScalingInstances ?? []) instance.LifecycleState = state;
    return answer;
  });
}

const metricNames = () => addMetric.mock.calls.map((call) => call[0]);
const calls = (stub: LifecycleWorld['ssm'], Command: unknown) => stub.commandCalls(Command as never).length;

async function group(groupName: string) {
  const answer = (await world.viaMoto(DescribeAutoScalingGroupsCommand)({
    AutoScalingGroupNames: [groupName],
  })) as {
    AutoScalingGroups: Array<{ DesiredCapacity: number; Instances?: Array<{ InstanceId: string }> }>;
  };
  const found = answer.AutoScalingGroups[0];
  return { desired: found?.DesiredCapacity, ids: (found?.Instances ?? []).map((i) => i.InstanceId) };
}

async function tagsOf(instanceId: string): Promise<Record<string, string>> {
  const answer = (await world.viaMoto(DescribeTagsCommand)({
    Filters: [{ Name: 'resource-id', Values: [instanceId] }],
  })) as { Tags?: Array<{ Key: string; Value: string }> };
  return Object.fromEntries((answer.Tags ?? []).map((t) => [t.Key, t.Value]));
}

describe('spot interruption', () => {
  test('ours: retire now, out of the group with a replacement launching, tagged, counted', async () => {
    const f = await fleet();
    const result = await f.handle(event('spotInterruption', f.ours));
    expect(result).toMatchObject({ outcome: 'replaced', lifecycleState: 'InService' });
    const sent = world.ssm.commandCalls(SendCommandCommand as never)[0]?.args[0].input as {
      InstanceIds: string[];
      Parameters: { commands: string[] };
    };
    expect(sent).toMatchObject({ InstanceIds: [f.ours], Parameters: { commands: [RETIRE_COMMAND] } });
    const after = await group(f.groupName);
    expect(after.desired).toBe(1);
    expect(after.ids).not.toContain(f.ours);
    expect(after.ids).toHaveLength(1);
    expect((await tagsOf(f.ours))[INTERRUPTED_TAG]).toBe(events.spotInterruption.time);
    // No alarm reads these counts: a record the dashboard counts, no billed metric.
    expect(metricNames()).toEqual([]);
    expect(output).toHaveLogged({
      message: 'spot event handled',
      event: 'interruption',
      outcome: 'replaced',
    });
  });

  test("another group's instance, or none's: ignored, nothing done", async () => {
    const f = await fleet();
    for (const instanceId of [f.theirs, 'i-0000000000000000f']) {
      expect(await f.handle(event('spotInterruption', instanceId))).toEqual({
        outcome: 'ignored',
        instanceId,
      });
    }
    expect(calls(world.ssm, SendCommandCommand)).toBe(0);
    expect(calls(world.autoscaling, DetachInstancesCommand)).toBe(0);
    expect((await group(`other-${groupCount}`)).ids).toEqual([f.theirs]);
    // Not counted: events of other groups tell nothing about ours.
    expect(metricNames()).toEqual([]);
    expect(output.logs().filter((r) => r.message === 'spot event handled')).toEqual([]);
  });

  test('duplicate warning: acts once', async () => {
    const f = await fleet();
    await f.handle(event('spotInterruption', f.ours));
    // the second delivery no longer finds it in the group
    expect(await f.handle(event('spotInterruption', f.ours))).toMatchObject({ outcome: 'ignored' });
    expect(calls(world.ssm, SendCommandCommand)).toBe(1);
    expect(calls(world.autoscaling, DetachInstancesCommand)).toBe(1);
  });

  test('duplicate warning while the instance is still listed in the group: the tag stops it', async () => {
    const f = await fleet();
    const first = await f.handle(event('spotInterruption', f.ours));
    expect(first.outcome).toBe('replaced');
    world.autoscaling.on(DescribeAutoScalingInstancesCommand as never).resolves({
      AutoScalingInstances: [
        { InstanceId: f.ours, AutoScalingGroupName: f.groupName, LifecycleState: 'InService' },
      ],
    } as never);
    expect(await f.handle(event('spotInterruption', f.ours))).toMatchObject({ outcome: 'duplicate' });
    expect(calls(world.ssm, SendCommandCommand)).toBe(1);
    expect(calls(world.autoscaling, DetachInstancesCommand)).toBe(1);
  });

  test.each(['Terminating:Wait', 'Terminating', 'Terminated', 'Detaching'])(
    'instance already leaving (%s): nothing',
    async (state) => {
      const f = await fleet();
      inState(state);
      expect(await f.handle(event('spotInterruption', f.ours))).toMatchObject({ outcome: 'leaving' });
      expect(calls(world.ssm, SendCommandCommand)).toBe(0);
      expect(calls(world.autoscaling, DetachInstancesCommand)).toBe(0);
      expect(calls(world.autoscaling, SetInstanceHealthCommand)).toBe(0);
    },
  );

  test('instance in the launch gate: its launch is abandoned by instance id', async () => {
    const f = await fleet();
    inState('Pending:Wait');
    world.actions.open({ groupName: f.groupName, hookName: HOOK, instanceId: f.ours, token: 'launch-token' });
    expect(await f.handle(event('spotInterruption', f.ours))).toMatchObject({ outcome: 'launchAbandoned' });
    expect(world.actions.resultOf('launch-token')).toBe('ABANDON');
    const input = world.autoscaling.commandCalls(CompleteLifecycleActionCommand as never)[0]?.args[0].input;
    expect(input).toEqual({
      AutoScalingGroupName: f.groupName,
      LifecycleHookName: HOOK,
      LifecycleActionResult: 'ABANDON',
      InstanceId: f.ours,
    });
    expect(calls(world.autoscaling, DetachInstancesCommand)).toBe(0);
    // already decided by the gate meanwhile: still done, no error
    expect(await f.handle(event('spotInterruption', f.ours))).toMatchObject({ outcome: 'duplicate' });
  });

  test('preparing for the warm pool (Warmed:Pending:Wait): its launch is abandoned too', async () => {
    const f = await fleet();
    inState('Warmed:Pending:Wait');
    world.actions.open({ groupName: f.groupName, hookName: HOOK, instanceId: f.ours, token: 'warm-token' });
    expect(await f.handle(event('spotInterruption', f.ours))).toMatchObject({ outcome: 'launchAbandoned' });
    expect(world.actions.resultOf('warm-token')).toBe('ABANDON');
    expect(calls(world.autoscaling, SetInstanceHealthCommand)).toBe(0);
  });

  test.each(['Warmed:Running', 'Warmed:Stopped', 'Warmed:Hibernated', 'Warmed:Pending:Proceed'])(
    'in the warm pool (%s): no worker to retire, nothing of the group to replace',
    async (state) => {
      const f = await fleet();
      inState(state);
      expect(await f.handle(event('spotInterruption', f.ours))).toMatchObject({
        outcome: 'inWarmPool',
        lifecycleState: state,
      });
      expect(calls(world.ssm, SendCommandCommand)).toBe(0);
      expect(calls(world.autoscaling, DetachInstancesCommand)).toBe(0);
      expect(calls(world.autoscaling, SetInstanceHealthCommand)).toBe(0);
      expect(calls(world.autoscaling, CompleteLifecycleActionCommand)).toBe(0);
    },
  );

  test('launch gate already decided: "No active Lifecycle Action" is done, not an error', async () => {
    const f = await fleet();
    inState('Pending:Wait');
    expect(await f.handle(event('spotInterruption', f.ours))).toMatchObject({ outcome: 'launchAbandoned' });
  });

  test('instance not InService yet (Pending:Proceed): retired and marked unhealthy for replacement', async () => {
    const f = await fleet();
    inState('Pending:Proceed');
    expect(await f.handle(event('spotInterruption', f.ours))).toMatchObject({ outcome: 'markedUnhealthy' });
    expect(calls(world.ssm, SendCommandCommand)).toBe(1);
    expect(world.autoscaling.commandCalls(SetInstanceHealthCommand as never)[0]?.args[0].input).toMatchObject(
      {
        InstanceId: f.ours,
        HealthStatus: 'Unhealthy',
      },
    );
  });

  test('an interruption that stops instead of terminating: marked unhealthy, never detached', async () => {
    const f = await fleet();
    const stopping = event('spotInterruption', f.ours);
    stopping.detail['instance-action'] = 'stop';
    expect(await f.handle(stopping)).toMatchObject({ outcome: 'markedUnhealthy' });
    expect(calls(world.autoscaling, DetachInstancesCommand)).toBe(0);
    expect(calls(world.ssm, SendCommandCommand)).toBe(1);
  });

  test('rebalance recommendation: counted, nothing that could make the group thrash', async () => {
    const f = await fleet();
    expect(await f.handle(event('rebalance', f.ours))).toMatchObject({ outcome: 'counted' });
    expect(calls(world.ssm, SendCommandCommand)).toBe(0);
    expect(calls(world.autoscaling, DetachInstancesCommand)).toBe(0);
    expect(calls(world.autoscaling, SetInstanceHealthCommand)).toBe(0);
    expect((await group(f.groupName)).ids).toEqual([f.ours]);
    expect(metricNames()).toEqual([]);
    expect(output).toHaveLogged({ message: 'spot event handled', event: 'rebalance', outcome: 'counted' });
  });

  test('a retire that cannot be sent does not hold back the replacement', async () => {
    const f = await fleet();
    world.ssm.on(SendCommandCommand as never).rejects(throttled('ThrottlingException'));
    expect(await f.handle(event('spotInterruption', f.ours))).toMatchObject({ outcome: 'replaced' });
    expect((await group(f.groupName)).ids).not.toContain(f.ours);
  });

  test('a replacement that fails throws, so the asynchronous invocation is retried', async () => {
    const f = await fleet();
    world.autoscaling.on(DetachInstancesCommand as never).rejects(throttled());
    await expect(f.handle(event('spotInterruption', f.ours))).rejects.toThrow('Rate exceeded');
    expect((await tagsOf(f.ours))[INTERRUPTED_TAG]).toBeUndefined();
  });

  test('malformed events are rejected before anything is done', () => {
    expect(() =>
      parseInput(spotEvent, { 'detail-type': 'EC2 Spot Instance Interruption Warning' }, 'EC2 event'),
    ).toThrow('invalid EC2 event');
  });
});
