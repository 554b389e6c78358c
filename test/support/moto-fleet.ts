import {
  AutoScalingClient,
  CreateAutoScalingGroupCommand,
  DeleteAutoScalingGroupCommand,
  DescribeAutoScalingGroupsCommand,
} from '@aws-sdk/client-auto-scaling';
import {
  type _InstanceType,
  CreateLaunchTemplateCommand,
  CreateSnapshotCommand,
  CreateTagsCommand,
  CreateVolumeCommand,
  DeleteLaunchTemplateCommand,
  DeleteLaunchTemplateVersionsCommand,
  DescribeImagesCommand,
  DescribeLaunchTemplatesCommand,
  DescribeLaunchTemplateVersionsCommand,
  EC2Client,
  RegisterImageCommand,
} from '@aws-sdk/client-ec2';

import { emulated } from './iam/aws-sends';

/**
 * The fleet in moto that the integration tests and the benchmark start from: a launch template and
 * its Auto Scaling group, AMIs as Image Builder leaves them, and the EC2 calls moto lacks.
 */

export interface GroupSpec {
  groupName: string;
  /** Default `<groupName>-lt`. */
  templateName?: string;
  /** Default a public AMI moto knows. */
  imageId?: string;
  /** Default t3.micro; more than one makes a mixed instances group of Spot instances. */
  instanceTypes?: string[];
  desired?: number;
  min?: number;
  /** Default two more than `desired`. */
  max?: number;
  /** The launch template version the group launches; default `$Latest`. */
  version?: string;
  /** Tags of the group, propagated at launch. */
  tags?: Record<string, string>;
  templateTags?: Record<string, string>;
}

export interface Group {
  launchTemplateId: string;
  /** The instances the group launched, tagged with its tags. */
  instanceIds: string[];
}

const asTags = (tags: Record<string, string>) => Object.entries(tags).map(([Key, Value]) => ({ Key, Value }));

/**
 * A launch template and a group on it, with its instances running. A group or template of the same
 * name that an earlier test left goes first: every test's world is the stack's, under its names.
 */
export async function createGroup(spec: GroupSpec): Promise<Group> {
  const ec2 = new EC2Client({});
  const autoscaling = new AutoScalingClient({});
  const { groupName, desired = 0, tags = {}, templateTags = {} } = spec;
  const templateName = spec.templateName ?? `${groupName}-lt`;
  const [instanceType = 't3.micro', ...otherTypes] = spec.instanceTypes ?? [];
  const { AutoScalingGroups: existing = [] } = await autoscaling.send(
    new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [groupName] }),
  );
  if (existing.length) {
    await autoscaling.send(
      new DeleteAutoScalingGroupCommand({ AutoScalingGroupName: groupName, ForceDelete: true }),
    );
  }
  // moto deletes a launch template by id only.
  const { LaunchTemplates: templates = [] } = await ec2.send(
    new DescribeLaunchTemplatesCommand({
      Filters: [{ Name: 'launch-template-name', Values: [templateName] }],
    }),
  );
  for (const { LaunchTemplateId } of templates) {
    await ec2.send(new DeleteLaunchTemplateCommand({ LaunchTemplateId }));
  }
  const { LaunchTemplate } = await ec2.send(
    new CreateLaunchTemplateCommand({
      LaunchTemplateName: templateName,
      LaunchTemplateData: {
        ImageId: spec.imageId ?? 'ami-12c6146b',
        InstanceType: instanceType as _InstanceType,
      },
      ...(Object.keys(templateTags).length
        ? { TagSpecifications: [{ ResourceType: 'launch-template', Tags: asTags(templateTags) }] }
        : {}),
    }),
  );
  const launchTemplateId = LaunchTemplate?.LaunchTemplateId as string;
  const specification = { LaunchTemplateId: launchTemplateId, Version: spec.version ?? '$Latest' };
  await autoscaling.send(
    new CreateAutoScalingGroupCommand({
      AutoScalingGroupName: groupName,
      MinSize: spec.min ?? 0,
      MaxSize: spec.max ?? desired + 2,
      DesiredCapacity: desired,
      AvailabilityZones: ['eu-west-1a'],
      ...(otherTypes.length
        ? {
            MixedInstancesPolicy: {
              LaunchTemplate: {
                LaunchTemplateSpecification: specification,
                Overrides: [instanceType, ...otherTypes].map((InstanceType) => ({ InstanceType })),
              },
              InstancesDistribution: { OnDemandPercentageAboveBaseCapacity: 0 },
            },
          }
        : { LaunchTemplate: specification }),
      Tags: asTags(tags).map((tag) => ({ ...tag, PropagateAtLaunch: true })),
    }),
  );
  const groups = await autoscaling.send(
    new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [groupName] }),
  );
  const instanceIds = (groups.AutoScalingGroups?.[0]?.Instances ?? []).map((i) => i.InstanceId as string);
  // moto does not propagate group tags to instances: tag them as EC2 does at launch.
  if (instanceIds.length && Object.keys(tags).length) {
    await ec2.send(new CreateTagsCommand({ Resources: instanceIds, Tags: asTags(tags) }));
  }
  return { launchTemplateId, instanceIds };
}

export interface Built {
  id: string;
  /** Snapshots the AMI's block device mappings refer to. */
  snapshots: string[];
  arn: string;
  /** Snapshots of volumes given to RegisterImage (moto does not map them): never touched. */
  volumeSnapshots: string[];
}

/** An AMI of `stack` as Image Builder leaves it: tagged, with one or two snapshots. */
export async function buildImage(ec2: EC2Client, stack: string, n: number): Promise<Built> {
  const snapshots: string[] = [];
  for (let disk = 0; disk < 1 + (n % 2); disk += 1) {
    const volume = await ec2.send(new CreateVolumeCommand({ AvailabilityZone: 'eu-west-1a', Size: 8 }));
    const snapshot = await ec2.send(new CreateSnapshotCommand({ VolumeId: volume.VolumeId }));
    snapshots.push(snapshot.SnapshotId as string);
  }
  const arn = `arn:aws:imagebuilder:eu-west-1:123456789012:image/${stack}-worker/1.0.${n}/1`;
  const { ImageId } = await ec2.send(
    new RegisterImageCommand({
      Name: `${stack}-${n}`,
      RootDeviceName: '/dev/xvda',
      BlockDeviceMappings: snapshots.map((SnapshotId, i) => ({
        DeviceName: i === 0 ? '/dev/xvda' : `/dev/xvd${'fgh'[i - 1]}`,
        Ebs: { SnapshotId },
      })),
    }),
  );
  // moto ignores TagSpecifications on RegisterImage; Image Builder tags right after registering too.
  await ec2.send(
    new CreateTagsCommand({
      Resources: [ImageId as string],
      Tags: [
        { Key: 'external-worker:stack', Value: stack },
        { Key: 'Ec2ImageBuilderArn', Value: arn },
      ],
    }),
  );
  // moto keeps a snapshot of its own for a registered AMI: what DescribeImages reports is the truth.
  const { Images = [] } = await ec2.send(new DescribeImagesCommand({ ImageIds: [ImageId as string] }));
  const mapped = (Images[0]?.BlockDeviceMappings ?? []).flatMap((m) =>
    m.Ebs?.SnapshotId ? [m.Ebs.SnapshotId] : [],
  );
  return { id: ImageId as string, snapshots: mapped, arn, volumeSnapshots: snapshots };
}

export async function remainingImages(ec2: EC2Client, stack: string): Promise<string[]> {
  const { Images = [] } = await ec2.send(
    new DescribeImagesCommand({
      Owners: ['self'],
      Filters: [{ Name: 'tag:external-worker:stack', Values: [stack] }],
    }),
  );
  return Images.map((i) => i.ImageId as string).sort();
}

/**
 * moto 5.2.1 has no DeleteLaunchTemplateVersions: this client answers it as EC2 does (the default
 * version is refused, an unknown one reported missing) and hides the deleted versions from
 * DescribeLaunchTemplateVersions; every other call goes to moto.
 */
export function withVersionDeletes(ec2: EC2Client): { client: EC2Client; deleted: Set<string> } {
  const deleted = new Set<string>();
  const key = (templateId: string | undefined, version: number | string | undefined) =>
    `${templateId}:${version}`;
  const send = async (command: unknown): Promise<unknown> => {
    if (command instanceof DeleteLaunchTemplateVersionsCommand) {
      // The caller's call, proven as if it had reached EC2; the lookups that answer it are not its.
      await emulated.sendsInstead(new EC2Client({}), command);
      const templateId = command.input.LaunchTemplateId;
      const [{ LaunchTemplates = [] }, { LaunchTemplateVersions = [] }] = await Promise.all([
        ec2.send(
          emulated.lookup(new DescribeLaunchTemplatesCommand({ LaunchTemplateIds: [templateId as string] })),
        ),
        ec2.send(
          emulated.lookup(new DescribeLaunchTemplateVersionsCommand({ LaunchTemplateId: templateId })),
        ),
      ]);
      const existing = new Set(LaunchTemplateVersions.map((v) => String(v.VersionNumber)));
      const byDefault = String(LaunchTemplates[0]?.DefaultVersionNumber);
      const ok: Array<{ LaunchTemplateId?: string; VersionNumber: number }> = [];
      const refused: Array<{ VersionNumber: number; ResponseError: { Code: string; Message: string } }> = [];
      for (const version of command.input.Versions ?? []) {
        const missing = !existing.has(version) || deleted.has(key(templateId, version));
        if (missing || version === byDefault) {
          const Code = missing ? 'launchTemplateVersionDoesNotExist' : 'unexpectedError';
          refused.push({ VersionNumber: Number(version), ResponseError: { Code, Message: Code } });
        } else {
          deleted.add(key(templateId, version));
          ok.push({ LaunchTemplateId: templateId, VersionNumber: Number(version) });
        }
      }
      return {
        SuccessfullyDeletedLaunchTemplateVersions: ok,
        UnsuccessfullyDeletedLaunchTemplateVersions: refused,
      };
    }
    const answer = await ec2.send(command as DescribeImagesCommand);
    if (command instanceof DescribeLaunchTemplateVersionsCommand) {
      const versions = (
        answer as { LaunchTemplateVersions?: Array<{ LaunchTemplateId?: string; VersionNumber?: number }> }
      ).LaunchTemplateVersions;
      return {
        ...answer,
        LaunchTemplateVersions: versions?.filter(
          (v) => !deleted.has(key(v.LaunchTemplateId, v.VersionNumber)),
        ),
      };
    }
    return answer;
  };
  return { client: { send } as unknown as EC2Client, deleted };
}
