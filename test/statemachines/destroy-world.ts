import {
  CreateImageCommand,
  CreateTagsCommand,
  DescribeImagesCommand,
  DescribeInstancesCommand,
  DescribeSnapshotsCommand,
  EC2Client,
  RunInstancesCommand,
  type Tag,
} from '@aws-sdk/client-ec2';
import { DescribeRuleCommand, EventBridgeClient, PutRuleCommand } from '@aws-sdk/client-eventbridge';
import { CreateScheduleCommand, GetScheduleCommand, SchedulerClient } from '@aws-sdk/client-scheduler';
import { CreateTopicCommand, SNSClient } from '@aws-sdk/client-sns';
import { GetParametersByPathCommand, PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { aslStringList } from '../../infra/destroy';
import { createGroup } from '../support/moto-fleet';
import { stackRoleArn } from '../support/stack-names';

/**
 * A stack `ew-test` in moto as the destroy workflow finds it: a group of two workers, a kept
 * instance, two AMIs with their snapshots (one built by Image Builder), the runtime parameters, a
 * schedule and a rule; and beside it resources of another stack that must survive.
 */

export const STACK = 'ew-test';
export const OTHER = 'ew-other';
export const GROUP = `${STACK}-workers`;
export const SCHEDULE = `${STACK}-version-check`;
export const RULE = `${STACK}-image-state-change`;
export const RUNTIME_PARAMETERS = [`/ew/test/current-ami`, `/ew/test/version-state`];
export const WORKER_KEY = '/ew/test/worker-key';
export const IMAGE_BUILDER_ARN = `arn:aws:imagebuilder:eu-west-1:123456789012:image/${STACK}-worker/1.0.0/1`;

const region = { region: 'eu-west-1' };
export const ec2 = () => new EC2Client(region);
const stackTag = (stack: string): Tag => ({ Key: 'external-worker:stack', Value: stack });

export interface World {
  substitutions: Record<string, string>;
  groupInstanceIds: string[];
  keptInstanceId: string;
  otherInstanceId: string;
  imageIds: string[];
  imageSnapshotIds: string[];
  otherImageId: string;
}

async function baseImageId(): Promise<string> {
  const images = await ec2().send(new DescribeImagesCommand({ Owners: ['amazon'] }));
  const id = images.Images?.[0]?.ImageId;
  if (!id) throw new Error('moto has no public AMI to start instances from');
  return id;
}

async function runInstance(imageId: string, tags: Tag[]): Promise<string> {
  const run = await ec2().send(
    new RunInstancesCommand({
      ImageId: imageId,
      MinCount: 1,
      MaxCount: 1,
      InstanceType: 't3.micro',
      TagSpecifications: [{ ResourceType: 'instance', Tags: tags }],
    }),
  );
  return run.Instances?.[0]?.InstanceId as string;
}

async function image(instanceId: string, name: string, tags: Tag[]): Promise<string> {
  const created = await ec2().send(new CreateImageCommand({ InstanceId: instanceId, Name: name }));
  const imageId = created.ImageId as string;
  await ec2().send(new CreateTagsCommand({ Resources: [imageId], Tags: tags }));
  return imageId;
}

/** The stack's values for the ASL placeholders, as infra/destroy.ts computes them. */
export function substitutions(topicArn: string): Record<string, string> {
  return {
    StackName: STACK,
    GroupName: GROUP,
    ScheduleNames: aslStringList([SCHEDULE]),
    RuleNames: aslStringList([RULE]),
    RuntimeParameterNames: aslStringList(RUNTIME_PARAMETERS),
    MaxDrainPolls: '3',
    TopicArn: topicArn,
  };
}

export async function buildWorld(): Promise<World> {
  const base = await baseImageId();
  const topic = await new SNSClient(region).send(new CreateTopicCommand({ Name: `${STACK}-notifications` }));

  await new SchedulerClient(region).send(
    new CreateScheduleCommand({
      Name: SCHEDULE,
      ScheduleExpression: 'rate(5 minutes)',
      FlexibleTimeWindow: { Mode: 'OFF' },
      Target: {
        Arn: 'arn:aws:lambda:eu-west-1:123456789012:function:version-check',
        RoleArn: stackRoleArn('Invokes the version check of'),
      },
    }),
  );
  await new EventBridgeClient(region).send(
    new PutRuleCommand({
      Name: RULE,
      EventPattern: JSON.stringify({ source: ['aws.imagebuilder'] }),
      State: 'ENABLED',
    }),
  );

  const { instanceIds: groupInstanceIds } = await createGroup({
    groupName: GROUP,
    templateName: `${STACK}-worker`,
    imageId: base,
    desired: 2,
    min: 2,
    max: 4,
    tags: { 'external-worker:stack': STACK },
  });

  const keptInstanceId = await runInstance(base, [
    stackTag(STACK),
    { Key: 'external-worker:kept', Value: 'true' },
  ]);
  const otherInstanceId = await runInstance(base, [
    stackTag(OTHER),
    { Key: 'external-worker:kept', Value: 'true' },
  ]);

  const imageIds = [
    await image(keptInstanceId, `${STACK}-worker-1`, [
      stackTag(STACK),
      { Key: 'Ec2ImageBuilderArn', Value: IMAGE_BUILDER_ARN },
    ]),
    await image(keptInstanceId, `${STACK}-worker-2`, [
      stackTag(STACK),
      { Key: 'external-worker:bad', Value: 'true' },
    ]),
  ];
  const otherImageId = await image(otherInstanceId, `${OTHER}-worker-1`, [stackTag(OTHER)]);
  const described = await ec2().send(new DescribeImagesCommand({ ImageIds: imageIds }));
  const imageSnapshotIds = (described.Images ?? []).flatMap((i) =>
    (i.BlockDeviceMappings ?? []).map((m) => m.Ebs?.SnapshotId as string),
  );

  const ssm = new SSMClient(region);
  for (const name of RUNTIME_PARAMETERS) {
    await ssm.send(new PutParameterCommand({ Name: name, Value: 'x', Type: 'String' }));
  }
  await ssm.send(new PutParameterCommand({ Name: WORKER_KEY, Value: 'secret', Type: 'SecureString' }));

  return {
    substitutions: substitutions(topic.TopicArn as string),
    groupInstanceIds,
    keptInstanceId,
    otherInstanceId,
    imageIds,
    imageSnapshotIds,
    otherImageId,
  };
}

/** What is left of a stack: live instances, AMIs, snapshots, parameters. */
export async function leftOf(stack: string) {
  const filter = { Name: 'tag:external-worker:stack', Values: [stack] };
  const reservations = await ec2().send(
    new DescribeInstancesCommand({
      Filters: [
        filter,
        { Name: 'instance-state-name', Values: ['pending', 'running', 'stopping', 'stopped'] },
      ],
    }),
  );
  const images = await ec2().send(new DescribeImagesCommand({ Owners: ['self'], Filters: [filter] }));
  const snapshots = await ec2().send(new DescribeSnapshotsCommand({ OwnerIds: ['self'] }));
  const parameters = await new SSMClient(region).send(new GetParametersByPathCommand({ Path: '/ew/test' }));
  return {
    instances: (reservations.Reservations ?? []).flatMap((r) => (r.Instances ?? []).map((i) => i.InstanceId)),
    images: (images.Images ?? []).map((i) => i.ImageId),
    snapshots: (snapshots.Snapshots ?? []).map((s) => s.SnapshotId as string),
    parameters: (parameters.Parameters ?? []).map((p) => p.Name),
  };
}

export async function stopWorkState() {
  const schedule = await new SchedulerClient(region).send(new GetScheduleCommand({ Name: SCHEDULE }));
  const rule = await new EventBridgeClient(region).send(new DescribeRuleCommand({ Name: RULE }));
  return { schedule: schedule.State, scheduleTarget: schedule.Target?.Arn, rule: rule.State };
}
