import {
  type AutoScalingClient,
  type AutoScalingGroup,
  DescribeAutoScalingGroupsCommand,
} from '@aws-sdk/client-auto-scaling';
import { DescribeInstancesCommand, type EC2Client, type Image, type Instance } from '@aws-sdk/client-ec2';
import type { SSMClient } from '@aws-sdk/client-ssm';
import { TAG } from '../functions/lib/contract';
import { describeImage, tagValue } from '../functions/lib/images';
import { readParameter } from '../functions/lib/parameters';
import { type VersionState, versionState } from '../functions/version-check/state';
import { StackNotFoundError } from './errors';
import type { WorkerStack } from './stack';

/** States an instance can be in while it exists (kept instances are out of the group, in any of these). */
export const LIVE_STATES = ['pending', 'running', 'stopping', 'stopped'];

export const tag = (instance: Instance | undefined, key: string): string | undefined =>
  instance?.Tags?.find((t) => t.Key === key)?.Value;

/** The group, or an error naming it: the stack says it exists. */
export async function describeGroup(autoscaling: AutoScalingClient, name: string): Promise<AutoScalingGroup> {
  const { AutoScalingGroups = [] } = await autoscaling.send(
    new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [name] }),
  );
  const group = AutoScalingGroups[0];
  if (!group) throw new StackNotFoundError(`the group ${name} of the stack does not exist (any more)`);
  return group;
}

/** The launch template version the group launches from. */
export function groupVersion(group: AutoScalingGroup): string | undefined {
  return (
    group.LaunchTemplate?.Version ??
    group.MixedInstancesPolicy?.LaunchTemplate?.LaunchTemplateSpecification?.Version
  );
}

export async function describeInstances(
  ec2: EC2Client,
  input: { InstanceIds?: string[]; Filters?: Array<{ Name: string; Values: string[] }> },
): Promise<Instance[]> {
  if (input.InstanceIds && input.InstanceIds.length === 0) return [];
  const found: Instance[] = [];
  let NextToken: string | undefined;
  do {
    const page = await ec2.send(new DescribeInstancesCommand({ ...input, NextToken }));
    for (const reservation of page.Reservations ?? []) found.push(...(reservation.Instances ?? []));
    NextToken = page.NextToken;
  } while (NextToken);
  return found;
}

/** Instances of the stack kept for debugging after a failed boot, out of the group. */
export function keptInstances(ec2: EC2Client, stack: WorkerStack): Promise<Instance[]> {
  return describeInstances(ec2, {
    Filters: [
      { Name: `tag:${TAG.stack}`, Values: [stack.name] },
      { Name: 'tag-key', Values: [stack.keptInstanceTag] },
      { Name: 'instance-state-name', Values: LIVE_STATES },
    ],
  });
}

/** The version check's state; undefined when absent or not readable. */
export async function readVersionState(ssm: SSMClient, name: string): Promise<VersionState | undefined> {
  const raw = await readParameter(ssm, name);
  if (raw === undefined) return undefined;
  try {
    const parsed = versionState.safeParse(JSON.parse(raw));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

/** What an AMI is, in the words of the fleet: a Concourse version when known, else its image build. */
export interface AmiVersion {
  imageId: string;
  /** Concourse version, known when the AMI is the version check's last build. */
  version?: string;
  /** `<recipe version>/<build>` of the Image Builder image, when the AMI is one. */
  build?: string;
  /** Not an AMI of this stack (the stock Debian AMI of a first deploy, or a pinned one). */
  foreign: boolean;
  /** Deregistered already. */
  gone: boolean;
}

export function amiVersion(
  imageId: string,
  image: Image | undefined,
  stackName: string,
  state: VersionState | undefined,
): AmiVersion {
  if (!image) return { imageId, foreign: false, gone: true };
  const arn = tagValue(image, TAG.image) ?? tagValue(image, TAG.imageBuilder);
  const build = arn?.match(/:image\/[^/]+\/([^/]+\/[^/]+)$/)?.[1];
  return {
    imageId,
    foreign: tagValue(image, TAG.stack) !== stackName,
    gone: false,
    ...(build ? { build } : {}),
    ...(state && arn && arn === state.imageBuildVersionArn ? { version: state.version } : {}),
  };
}

/** Each AMI once, described (undefined when gone). */
export async function describeAmis(
  ec2: EC2Client,
  ids: Iterable<string>,
): Promise<Map<string, Image | undefined>> {
  const unique = [...new Set(ids)].filter((id) => id.startsWith('ami-'));
  const images = await Promise.all(unique.map((id) => describeImage(ec2, id)));
  return new Map(unique.map((id, i) => [id, images[i]]));
}

/** How a version reads in the CLI's text: `7.11.2`, `build 1.0.0/4`, `stock AMI`, `AMI gone`. */
export function versionText(v: AmiVersion | undefined): string {
  if (!v) return '-';
  if (v.gone) return 'AMI gone';
  if (v.version) return v.version;
  if (v.build) return `build ${v.build}`;
  return v.foreign ? 'not built here' : 'unknown';
}
