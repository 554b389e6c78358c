import { DescribeAutoScalingGroupsCommand } from '@aws-sdk/client-auto-scaling';
import {
  CreateLaunchTemplateVersionCommand,
  CreateTagsCommand,
  DescribeTagsCommand,
} from '@aws-sdk/client-ec2';
import { publishedOn, stackAmi } from '../support/launch-gate';
import { fakeInstance, throttled } from '../support/lifecycle-fakes';
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
import { createGroup } from '../support/moto-fleet';
import { resetSdkClients } from '../support/sdk-adapter';
import { STACK, stackSubstitutions } from '../support/stack-names';

const TIME = '2026-01-10T08:00:00.000Z';
const HOOK = stackSubstitutions('instance-launch').LaunchHookName as string;
const FAILED = {
  status: 'failed',
  step: 'worker',
  message: 'worker did not register: key refused by the TSA',
};

let moto: Moto;
let world: LifecycleWorld;
beforeAll(async () => {
  moto = await startMoto();
  resetSdkClients();
});
afterAll(async () => moto.stop());
afterEach(() => world?.restore());

let groups = 0;

/**
 * A group of `count` instances of one AMI on launch template version 1, each in its launch action,
 * and version 2 with another AMI. `rollbackVersion`: the AMI came with a rollout from that version.
 */
async function fleetOf(
  count: number,
  options: { rollbackVersion?: string; healthy?: (n: number) => boolean } = {},
) {
  groups += 1;
  const groupName = STACK.groupName;
  const ami = await stackAmi(`storm-${groups}`, {
    ...(options.rollbackVersion ? { 'external-worker:rollback-version': options.rollbackVersion } : {}),
  });
  const good = await stackAmi(`good-${groups}`);
  const group = await createGroup({
    groupName,
    desired: count,
    imageId: ami,
    version: '1',
    tags: STACK.tags,
  });
  world = lifecycleWorld();
  await world.viaMoto(CreateLaunchTemplateVersionCommand)({
    LaunchTemplateId: group.launchTemplateId,
    LaunchTemplateData: { ImageId: good },
  });
  let checks = 0;
  const healthy = options.healthy ?? (() => false);
  // Each execution reads its instance's status once: the n-th check is the n-th launch.
  const bootStatus = () => {
    checks += 1;
    return healthy(checks) ? { status: 'ok' } : FAILED;
  };
  installAgent(world, fakeInstance({ bootStatus }));
  const opened = new Set<number>();
  // A launch's action is opened once: its event delivered again finds it decided.
  const launch = (index: number) => {
    const instanceId = group.instanceIds[index] as string;
    const token = `token-${groups}-${index}`;
    if (!opened.has(index)) world.actions.open({ groupName, hookName: HOOK, instanceId, token });
    opened.add(index);
    const event = lifecycleEvent('launch', { groupName, hookName: HOOK, instanceId, token, time: TIME });
    return runLifecycle('instance-launch', event, {
      substitutions: { LaunchTemplateId: group.launchTemplateId },
      clock: steppingClock(TIME, 10),
    });
  };
  return { groupName, ami, launch, instanceIds: group.instanceIds };
}

async function amiTags(ami: string): Promise<Record<string, string>> {
  const { Tags = [] } = (await world.viaMoto(DescribeTagsCommand)({
    Filters: [{ Name: 'resource-id', Values: [ami] }],
  })) as { Tags?: Array<{ Key: string; Value: string }> };
  return Object.fromEntries(Tags.map((t) => [t.Key, t.Value]));
}

const failuresOn = async (ami: string) =>
  Object.keys(await amiTags(ami)).filter((key) => key.startsWith('external-worker:boot-failure:'));

async function groupVersion(groupName: string): Promise<string | undefined> {
  const { AutoScalingGroups = [] } = (await world.viaMoto(DescribeAutoScalingGroupsCommand)({
    AutoScalingGroupNames: [groupName],
  })) as { AutoScalingGroups?: Array<{ LaunchTemplate?: { Version?: string } }> };
  return AutoScalingGroups[0]?.LaunchTemplate?.Version;
}

const subjects = () => publishedOn(world).map((m) => m.Subject);

describe('instance-launch: no relaunch storm', () => {
  test('3 failed boots of a rolled-out AMI: marked bad, the group back on its version, one notification', async () => {
    const fleet = await fleetOf(4, { rollbackVersion: '2' });
    for (const index of [0, 1]) {
      const run = await fleet.launch(index);
      expect(run.output).toMatchObject({ outcome: 'abandoned' });
    }
    expect(await failuresOn(fleet.ami)).toHaveLength(2);
    expect(await groupVersion(fleet.groupName)).toBe('1');
    expect(subjects().filter((s) => s?.includes('marked bad'))).toEqual([]);

    const third = await fleet.launch(2);
    expect(third.output).toMatchObject({ outcome: 'abandoned' });
    expect(await amiTags(fleet.ami)).toMatchObject({ 'external-worker:bad': 'true' });
    expect(await groupVersion(fleet.groupName)).toBe('2');
    const storm = publishedOn(world).filter((m) => m.Subject?.includes('marked bad'));
    expect(storm.map((m) => m.Subject)).toEqual([
      `${STACK.name}: AMI ${fleet.ami} marked bad after 3 failed boots`,
    ]);
    expect(storm[0]?.Message).toContain('the group is back on launch template version 2');
    expect(storm[0]?.Message).toContain('key refused by the TSA');

    // A worker still booting from the bad AMI fails too: abandoned, nothing returned or said again.
    const straggler = await fleet.launch(3);
    expect(straggler.output).toMatchObject({ outcome: 'abandoned' });
    expect(straggler.statesEntered).toContain('AlreadyBad?');
    expect(straggler.statesEntered).not.toContain('ReturnGroup?');
    expect(subjects().filter((s) => s?.includes('marked bad'))).toHaveLength(1);
  });

  test('the same event twice counts once', async () => {
    const fleet = await fleetOf(2, { rollbackVersion: '2' });
    await fleet.launch(0);
    const again = await fleet.launch(0);
    expect(again.output).toMatchObject({ outcome: 'alreadyDecided' });
    expect(await failuresOn(fleet.ami)).toEqual([`external-worker:boot-failure:${fleet.instanceIds[0]}`]);
  });

  test('a healthy boot ends the streak and proves the AMI', async () => {
    const fleet = await fleetOf(4, { rollbackVersion: '2', healthy: (n) => n === 3 });
    await fleet.launch(0);
    await fleet.launch(1);
    expect(await failuresOn(fleet.ami)).toHaveLength(2);
    const healthy = await fleet.launch(2);
    expect(healthy.output).toMatchObject({ outcome: 'healthy' });
    const tags = await amiTags(fleet.ami);
    expect(Object.keys(tags).filter((k) => k.startsWith('external-worker:boot-failure:'))).toEqual([]);
    expect(tags['external-worker:rollback-version']).toBeUndefined();
    await fleet.launch(3);
    expect(await failuresOn(fleet.ami)).toHaveLength(1);
    expect(await amiTags(fleet.ami)).not.toHaveProperty('external-worker:bad');
  });

  test('the last good AMI failing: one notification, no bad mark, the group stays', async () => {
    const fleet = await fleetOf(4);
    for (const index of [0, 1, 2, 3]) await fleet.launch(index);
    expect(await amiTags(fleet.ami)).not.toHaveProperty('external-worker:bad');
    expect(await groupVersion(fleet.groupName)).toBe('1');
    const lastGood = publishedOn(world).filter((m) => m.Subject?.includes('last good AMI'));
    expect(lastGood.map((m) => m.Subject)).toEqual([
      `${STACK.name}: last good AMI ${fleet.ami} fails to boot`,
    ]);
    expect(lastGood[0]?.Message).toContain('no earlier version to return to');
  });

  test('fails closed: a guard that cannot count still abandons, and says the count is unknown', async () => {
    const fleet = await fleetOf(1, { rollbackVersion: '2' });
    failFirst(
      world.ec2,
      CreateTagsCommand,
      Object.assign(new Error('You are not authorized to perform this operation.'), {
        name: 'UnauthorizedOperation',
        Code: 'UnauthorizedOperation',
      }),
      world.viaMoto(CreateTagsCommand),
      // Unmodeled errors are EC2's base exception, retried 6 times like its throttling.
      7,
    );
    const run = await fleet.launch(0);
    expect(run.output).toMatchObject({ outcome: 'abandoned' });
    expect(publishedOn(world)[0]?.Message).toContain('Failed boots of its AMI in a row: unknown');
  });

  test('throttled guard calls are retried: the failure still counts', async () => {
    const fleet = await fleetOf(1, { rollbackVersion: '2' });
    failFirst(
      world.ec2,
      CreateTagsCommand,
      throttled('RequestLimitExceeded'),
      world.viaMoto(CreateTagsCommand),
    );
    const run = await fleet.launch(0);
    expect(run.output).toMatchObject({ outcome: 'abandoned' });
    expect(await failuresOn(fleet.ami)).toHaveLength(1);
    expect(publishedOn(world)[0]?.Message).toContain('Failed boots of its AMI in a row: 1.');
  });
});
