import {
  AutoScalingClient,
  CreateAutoScalingGroupCommand,
  UpdateAutoScalingGroupCommand,
} from '@aws-sdk/client-auto-scaling';
import {
  CreateLaunchTemplateCommand,
  CreateLaunchTemplateVersionCommand,
  DescribeLaunchTemplateVersionsCommand,
  DescribeSnapshotsCommand,
  EC2Client,
  ModifyLaunchTemplateCommand,
  RunInstancesCommand,
  StopInstancesCommand,
  TerminateInstancesCommand,
} from '@aws-sdk/client-ec2';
import { DeleteImageCommand, ImagebuilderClient } from '@aws-sdk/client-imagebuilder';
import { SSMClient } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import { applyRetention, type RetentionClients } from '../../../functions/ami-retention/retention';
import { deregisterWithSnapshots } from '../../support/deregister-with-snapshots';
import { type Moto, startMoto } from '../../support/moto';
import { type Built, buildImage, remainingImages, withVersionDeletes } from '../../support/moto-fleet';
import { STACK } from '../../support/stack-names';

let moto: Moto;
let ec2: EC2Client;
let autoscaling: AutoScalingClient;
let clients: RetentionClients;
let imagebuilder: ReturnType<typeof mockClient>;
beforeAll(async () => {
  moto = await startMoto();
  ec2 = new EC2Client({});
  autoscaling = new AutoScalingClient({});
  imagebuilder = mockClient(ImagebuilderClient);
  imagebuilder.on(DeleteImageCommand).resolves({});
  clients = {
    // moto lacks both DeleteLaunchTemplateVersions and DeregisterImage's DeleteAssociatedSnapshots.
    ec2: withVersionDeletes(deregisterWithSnapshots(ec2)).client,
    autoscaling,
    ssm: new SSMClient({}),
    imagebuilder: new ImagebuilderClient({}),
  };
});
afterAll(async () => {
  imagebuilder.restore();
  await moto.stop();
});

const runtime = { sleep: async () => undefined, now: () => 0 };

interface Fleet {
  stack: string;
  templateId: string;
  /** The AMI of version n is amis[n - 1]. */
  amis: Built[];
}

/**
 * What `rollouts` rollouts leave: version 1 made by CloudFormation with the first AMI, then per
 * rollout a version with the next AMI, the group moved to it and the version made the default.
 */
async function rolledOut(rollouts: number): Promise<Fleet> {
  // Each test's fleet is the stack's, alone in moto.
  await moto.reset();
  const stack = STACK.name;
  const amis: Built[] = [];
  for (let n = 0; n < rollouts; n += 1) {
    // moto dates AMIs to the second: the last three are built in a later second than the rest.
    if (n === rollouts - 3) await new Promise((resolve) => setTimeout(resolve, 1100));
    amis.push(await buildImage(ec2, stack, n));
  }
  const { LaunchTemplate } = await ec2.send(
    new CreateLaunchTemplateCommand({
      LaunchTemplateName: `${stack}-worker`,
      LaunchTemplateData: { ImageId: amis[0]?.id, InstanceType: 't3.micro' },
    }),
  );
  const templateId = LaunchTemplate?.LaunchTemplateId as string;
  await autoscaling.send(
    new CreateAutoScalingGroupCommand({
      AutoScalingGroupName: `${stack}-workers`,
      MinSize: 0,
      MaxSize: 2,
      DesiredCapacity: 0,
      AvailabilityZones: ['eu-west-1a'],
      LaunchTemplate: { LaunchTemplateId: templateId, Version: '1' },
    }),
  );
  for (const ami of amis.slice(1)) {
    const { LaunchTemplateVersion } = await ec2.send(
      new CreateLaunchTemplateVersionCommand({
        LaunchTemplateId: templateId,
        SourceVersion: '1',
        LaunchTemplateData: { ImageId: ami.id, InstanceType: 't3.micro' },
      }),
    );
    await rollTo(stack, templateId, String(LaunchTemplateVersion?.VersionNumber));
    await ec2.send(
      new ModifyLaunchTemplateCommand({
        LaunchTemplateId: templateId,
        DefaultVersion: String(LaunchTemplateVersion?.VersionNumber),
      }),
    );
  }
  return { stack, templateId, amis };
}

async function rollTo(stack: string, templateId: string, version: string): Promise<void> {
  await autoscaling.send(
    new UpdateAutoScalingGroupCommand({
      AutoScalingGroupName: `${stack}-workers`,
      LaunchTemplate: { LaunchTemplateId: templateId, Version: version },
    }),
  );
}

/** An instance of the stack launched from `version` (EC2 tags it with the template and version). */
async function launch(fleet: Fleet, version: string): Promise<string> {
  const { Instances = [] } = await ec2.send(
    new RunInstancesCommand({
      MinCount: 1,
      MaxCount: 1,
      LaunchTemplate: { LaunchTemplateId: fleet.templateId, Version: version },
      TagSpecifications: [
        { ResourceType: 'instance', Tags: [{ Key: 'external-worker:stack', Value: fleet.stack }] },
      ],
    }),
  );
  return Instances[0]?.InstanceId as string;
}

const settings = (fleet: Fleet, keep: number, dryRun: boolean) => ({
  stackName: fleet.stack,
  launchTemplateId: fleet.templateId,
  groupName: `${fleet.stack}-workers`,
  keep,
  currentAmiParameter: STACK.parameters.currentAmi,
  dryRun,
  protectAmis: [],
});

async function versionsLeft(fleet: Fleet): Promise<number[]> {
  const { LaunchTemplateVersions = [] } = await clients.ec2.send(
    new DescribeLaunchTemplateVersionsCommand({ LaunchTemplateId: fleet.templateId }),
  );
  return LaunchTemplateVersions.map((v) => v.VersionNumber as number).sort((a, b) => a - b);
}

describe('launch template versions after ten rollouts', () => {
  test('old versions go with their AMIs and snapshots; the default, the newest and an instance’s stay', async () => {
    const fleet = await rolledOut(10);
    const ami = (version: number) => (fleet.amis[version - 1] as Built).id;
    // A worker launched before the third rollout still runs (version 2).
    await launch(fleet, '2');

    const dry = await applyRetention(clients, settings(fleet, 3, true), runtime);
    expect(await versionsLeft(fleet)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(await remainingImages(ec2, fleet.stack)).toHaveLength(10);
    expect(dry.prunedVersions).toEqual(
      [1, 3, 4, 5, 6].map((version) => ({ version, imageId: ami(version) })),
    );

    const result = await applyRetention(clients, settings(fleet, 3, false), runtime);
    expect(result.prunedVersions).toEqual(dry.prunedVersions);
    expect(result.deleted).toEqual(dry.deleted);
    expect(result.keptVersions).toEqual([
      { version: 10, imageId: ami(10), reason: 'default' },
      { version: 9, imageId: ami(9), reason: 'newest' },
      { version: 8, imageId: ami(8), reason: 'newest' },
      { version: 7, imageId: ami(7), reason: 'newest' },
      { version: 2, imageId: ami(2), reason: 'instance' },
    ]);
    expect(await versionsLeft(fleet)).toEqual([2, 7, 8, 9, 10]);

    const reasons = Object.fromEntries(result.kept.map((k) => [k.imageId, k.reason]));
    expect(reasons).toEqual({
      [ami(10)]: 'newest',
      [ami(9)]: 'newest',
      [ami(8)]: 'newest',
      [ami(7)]: 'launch-template',
      [ami(2)]: 'launch-template',
    });
    expect(await remainingImages(ec2, fleet.stack)).toEqual([2, 7, 8, 9, 10].map(ami).sort());
    const { Snapshots = [] } = await ec2.send(new DescribeSnapshotsCommand({ OwnerIds: ['self'] }));
    const left = new Set(Snapshots.map((s) => s.SnapshotId));
    for (const [index, built] of fleet.amis.entries()) {
      const gone = [1, 3, 4, 5, 6].includes(index + 1);
      for (const snapshot of built.snapshots) expect(left.has(snapshot)).toBe(!gone);
    }

    const again = await applyRetention(clients, settings(fleet, 3, false), runtime);
    expect(again.prunedVersions).toEqual([]);
    expect(again.deleted).toEqual([]);
  });

  test('the group’s, the default, a stopped instance’s version stay whatever their age; a terminated one’s goes', async () => {
    const fleet = await rolledOut(10);
    const ami = (version: number) => (fleet.amis[version - 1] as Built).id;
    // Version 10 is being rolled out: the group and the default are still on older versions.
    await rollTo(fleet.stack, fleet.templateId, '6');
    await ec2.send(
      new ModifyLaunchTemplateCommand({ LaunchTemplateId: fleet.templateId, DefaultVersion: '8' }),
    );
    const stopped = await launch(fleet, '3');
    await ec2.send(new StopInstancesCommand({ InstanceIds: [stopped] }));
    const terminated = await launch(fleet, '4');
    await ec2.send(new TerminateInstancesCommand({ InstanceIds: [terminated] }));

    const result = await applyRetention(clients, settings(fleet, 1, false), runtime);
    expect(result.keptVersions).toEqual([
      { version: 10, imageId: ami(10), reason: 'latest' },
      { version: 9, imageId: ami(9), reason: 'newest' },
      { version: 8, imageId: ami(8), reason: 'default' },
      { version: 6, imageId: ami(6), reason: 'group' },
      { version: 3, imageId: ami(3), reason: 'instance' },
    ]);
    expect(await versionsLeft(fleet)).toEqual([3, 6, 8, 9, 10]);
    expect(await remainingImages(ec2, fleet.stack)).toEqual([3, 6, 8, 9, 10].map(ami).sort());
  });
});
