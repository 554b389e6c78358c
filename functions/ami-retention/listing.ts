import { type AutoScalingClient, DescribeAutoScalingGroupsCommand } from '@aws-sdk/client-auto-scaling';
import {
  DescribeImagesCommand,
  DescribeInstancesCommand,
  DescribeLaunchTemplateVersionsCommand,
  DescribeSnapshotsCommand,
  type EC2Client,
  type Image,
  type Instance,
  type LaunchTemplateVersion,
  type Snapshot,
} from '@aws-sdk/client-ec2';
import { GetParameterCommand, type SSMClient } from '@aws-sdk/client-ssm';
import { isAwsError } from '../lib/errors';
import { type Sleep, withBackoff } from './pacing';

export const STACK_TAG = 'external-worker:stack';
/** Set by EC2 on every instance launched from a launch template. */
export const TEMPLATE_ID_TAG = 'aws:ec2launchtemplate:id';
export const TEMPLATE_VERSION_TAG = 'aws:ec2launchtemplate:version';

/**
 * The largest pages each listing allows: with 10,000 AMIs the whole read is 10 pages of images, one
 * of launch template versions, one of instances and one of the snapshots left to sweep.
 */
export const PAGE = { images: 1000, instances: 1000, versions: 200, snapshots: 1000 } as const;

/** Every page of a paginated listing, each page retried on throttling. */
async function allPages<P extends { NextToken?: string }, T>(
  fetch: (token: string | undefined) => Promise<P>,
  items: (page: P) => T[] | undefined,
  sleep: Sleep,
): Promise<T[]> {
  const found: T[] = [];
  let token: string | undefined;
  do {
    const current = token;
    const page = await withBackoff(() => fetch(current), { sleep });
    found.push(...(items(page) ?? []));
    token = page.NextToken;
  } while (token);
  return found;
}

export function stackImages(ec2: EC2Client, stackName: string, sleep: Sleep): Promise<Image[]> {
  return allPages(
    (NextToken) =>
      ec2.send(
        new DescribeImagesCommand({
          Owners: ['self'],
          Filters: [{ Name: `tag:${STACK_TAG}`, Values: [stackName] }],
          MaxResults: PAGE.images,
          NextToken,
        }),
      ),
    (page) => page.Images,
    sleep,
  );
}

/**
 * The snapshots this stack's retention has tagged (those of the AMIs it deregisters, tagged first):
 * among them, the ones no AMI maps any more are orphans to delete.
 */
export function stackSnapshots(ec2: EC2Client, stackName: string, sleep: Sleep): Promise<Snapshot[]> {
  return allPages(
    (NextToken) =>
      ec2.send(
        new DescribeSnapshotsCommand({
          OwnerIds: ['self'],
          Filters: [{ Name: `tag:${STACK_TAG}`, Values: [stackName] }],
          MaxResults: PAGE.snapshots,
          NextToken,
        }),
      ),
    (page) => page.Snapshots,
    sleep,
  );
}

/** Every version of the fleet's launch template; none when the template does not exist (yet). */
export async function templateVersions(
  ec2: EC2Client,
  launchTemplateId: string,
  sleep: Sleep,
): Promise<LaunchTemplateVersion[]> {
  try {
    return await allPages(
      (NextToken) =>
        ec2.send(
          new DescribeLaunchTemplateVersionsCommand({
            LaunchTemplateId: launchTemplateId,
            MaxResults: PAGE.versions,
            NextToken,
          }),
        ),
      (page) => page.LaunchTemplateVersions,
      sleep,
    );
  } catch (error) {
    if (isAwsError(error, 'InvalidLaunchTemplateId.NotFound')) return [];
    throw error;
  }
}

/** Instances of the stack (the group's, and any detached from it) in any state but terminated. */
export async function stackInstances(ec2: EC2Client, stackName: string, sleep: Sleep): Promise<Instance[]> {
  const reservations = await allPages(
    (NextToken) =>
      ec2.send(
        new DescribeInstancesCommand({
          Filters: [
            { Name: `tag:${STACK_TAG}`, Values: [stackName] },
            {
              Name: 'instance-state-name',
              Values: ['pending', 'running', 'shutting-down', 'stopping', 'stopped'],
            },
          ],
          MaxResults: PAGE.instances,
          NextToken,
        }),
      ),
    (page) => page.Reservations,
    sleep,
  );
  return reservations.flatMap((r) => r.Instances ?? []);
}

/** What the group uses of the launch template: its own version and those of its instances. */
export interface GroupUse {
  /** `1`, `$Latest`, `$Default`, or undefined when the group names another template. */
  version?: string;
  instanceVersions: string[];
}

/** The group's use of the template, or undefined when the group does not exist. */
export async function groupUse(
  autoscaling: AutoScalingClient,
  groupName: string,
  launchTemplateId: string,
  sleep: Sleep,
): Promise<GroupUse | undefined> {
  const { AutoScalingGroups = [] } = await withBackoff(
    () => autoscaling.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [groupName] })),
    { sleep },
  );
  const group = AutoScalingGroups.find((g) => g.AutoScalingGroupName === groupName);
  if (!group) return undefined;
  const spec =
    group.LaunchTemplate ?? group.MixedInstancesPolicy?.LaunchTemplate?.LaunchTemplateSpecification;
  return {
    version: spec?.LaunchTemplateId === launchTemplateId ? spec.Version : undefined,
    instanceVersions: (group.Instances ?? []).flatMap((i) =>
      i.LaunchTemplate?.LaunchTemplateId === launchTemplateId && i.LaunchTemplate.Version
        ? [i.LaunchTemplate.Version]
        : [],
    ),
  };
}

export async function currentAmi(ssm: SSMClient, name: string, sleep: Sleep): Promise<string | undefined> {
  try {
    const { Parameter } = await withBackoff(() => ssm.send(new GetParameterCommand({ Name: name })), {
      sleep,
    });
    return Parameter?.Value;
  } catch (error) {
    if (isAwsError(error, 'ParameterNotFound')) return undefined;
    throw error;
  }
}
