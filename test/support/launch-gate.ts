import { DescribeAutoScalingGroupsCommand } from '@aws-sdk/client-auto-scaling';
import { CreateTagsCommand, DescribeTagsCommand, EC2Client, RegisterImageCommand } from '@aws-sdk/client-ec2';
import { PublishCommand, type PublishCommandInput } from '@aws-sdk/client-sns';
import {
  type LifecycleWorld,
  lifecycleEvent,
  lifecycleWorld,
  runLifecycle,
  steppingClock,
} from './lifecycle-run';
import { createGroup } from './moto-fleet';
import { STACK, stackSubstitutions } from './stack-names';

export const LAUNCH_EVENT_TIME = '2026-01-10T08:00:00.000Z';
export const LAUNCH_HOOK = stackSubstitutions('instance-launch').LaunchHookName as string;
let groupCount = 0;

/** An AMI tagged with the stack, as the image pipeline leaves it. */
export async function stackAmi(name: string, tags: Record<string, string> = {}): Promise<string> {
  const ec2 = new EC2Client({});
  const { ImageId } = await ec2.send(new RegisterImageCommand({ Name: name, RootDeviceName: '/dev/xvda' }));
  await ec2.send(
    new CreateTagsCommand({
      Resources: [ImageId as string],
      Tags: Object.entries({ ...STACK.tags, ...tags }).map(([Key, Value]) => ({
        Key,
        Value,
      })),
    }),
  );
  return ImageId as string;
}

/** Where a launch comes from and goes to, as the event's detail says (warm pool transitions). */
export const INTO_WARM_POOL = { Origin: 'EC2', Destination: 'WarmPool' };
export const OUT_OF_WARM_POOL = { Origin: 'WarmPool', Destination: 'AutoScalingGroup' };

/** The stack's group in moto with one instance, its open launch action, and the event that announces it. */
export async function openLaunchGate(
  tags: Record<string, string> = {},
  route?: { Origin: string; Destination: string },
) {
  groupCount += 1;
  const groupName = STACK.groupName;
  // An AMI of its own, as a rollout leaves it: the storm guard counts failed boots on it.
  const imageId = await stackAmi(`launch-${groupCount}`);
  const group = await createGroup({
    groupName,
    desired: 1,
    imageId,
    version: '1',
    tags: { ...STACK.tags, ...tags },
  });
  const instanceId = group.instanceIds[0] as string;
  const world = lifecycleWorld();
  const token = `token-${groupCount}`;
  world.actions.open({ groupName, hookName: LAUNCH_HOOK, instanceId, token });
  const event = lifecycleEvent('launch', {
    groupName,
    hookName: LAUNCH_HOOK,
    instanceId,
    token,
    time: LAUNCH_EVENT_TIME,
  });
  if (route) Object.assign(event.detail, route);
  const run = (substitutions: Record<string, string> = {}) =>
    runLifecycle('instance-launch', event, {
      substitutions: { LaunchTemplateId: group.launchTemplateId, ...substitutions },
      clock: steppingClock(LAUNCH_EVENT_TIME, 10),
    });
  return {
    world,
    groupName,
    instanceId,
    imageId,
    launchTemplateId: group.launchTemplateId,
    token,
    event,
    run,
  };
}

/** The notifications sent, each checked against SNS's limit on subjects. */
export function publishedOn(world: LifecycleWorld): PublishCommandInput[] {
  const messages = world.sns
    .commandCalls(PublishCommand as never)
    .map((call: { args: [{ input: unknown }] }) => call.args[0].input as PublishCommandInput);
  for (const message of messages) expect(message.Subject?.length ?? 0).toBeLessThanOrEqual(100);
  return messages;
}

export async function instanceTags(
  world: LifecycleWorld,
  instanceId: string,
): Promise<Record<string, string>> {
  const answer = (await world.viaMoto(DescribeTagsCommand)({
    Filters: [{ Name: 'resource-id', Values: [instanceId] }],
  })) as { Tags?: Array<{ Key: string; Value: string }> };
  return Object.fromEntries((answer.Tags ?? []).map((t) => [t.Key, t.Value]));
}

export async function groupInstances(
  world: LifecycleWorld,
  groupName: string,
): Promise<{ ids: string[]; desired?: number }> {
  const answer = (await world.viaMoto(DescribeAutoScalingGroupsCommand)({
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
