import {
  DeleteSnapshotCommand,
  DeregisterImageCommand,
  DescribeImagesCommand,
  DescribeInstancesCommand,
  DescribeLaunchTemplatesCommand,
  DescribeLaunchTemplateVersionsCommand,
  type EC2Client,
  type Image,
} from '@aws-sdk/client-ec2';
import {
  DeleteImageCommand,
  type ImagebuilderClient,
  ResourceNotFoundException,
} from '@aws-sdk/client-imagebuilder';
import { GetParameterCommand, ParameterNotFound, type SSMClient } from '@aws-sdk/client-ssm';
import { realSleep, type Sleep, TokenBucket, withBackoff } from './pacing';

export const STACK_TAG = 'external-worker:stack';
/** Set by Image Builder on the AMIs it distributes: the image build version ARN. */
export const IMAGE_BUILDER_TAG = 'Ec2ImageBuilderArn';

export interface RetentionClients {
  ec2: EC2Client;
  ssm: SSMClient;
  imagebuilder: ImagebuilderClient;
}

export interface RetentionSettings {
  stackName: string;
  /** How many of the newest AMIs of the stack to keep whatever else holds. */
  keep: number;
  currentAmiParameter: string;
  pinnedAmiId?: string;
  dryRun: boolean;
  /** AMIs created after this instant belong to a rollout in progress (or about to start). */
  protectNewerThan?: Date;
  /** AMIs a caller knows to be needed: the rollout passes the one it replaced (rollback target). */
  protectAmis: string[];
}

export type KeepReason =
  | 'newest'
  | 'not-available'
  | 'pinned'
  | 'current'
  | 'rollback'
  | 'launch-template'
  | 'instance'
  | 'newer-than-rollout';

export interface RetentionResult {
  dryRun: boolean;
  kept: Array<{ imageId: string; reason: KeepReason }>;
  deleted: Array<{ imageId: string; snapshots: string[]; imageBuilderImage?: string }>;
}

export interface RetentionRuntime {
  sleep: Sleep;
  now: () => number;
}

const PAGE = { describeImages: 1000, instances: 1000, templates: 200, versions: 200 } as const;

/** Every page of a paginated listing. */
async function allPages<P extends { NextToken?: string }, T>(
  fetch: (token: string | undefined) => Promise<P>,
  items: (page: P) => T[] | undefined,
): Promise<T[]> {
  const found: T[] = [];
  let token: string | undefined;
  do {
    const page = await fetch(token);
    found.push(...(items(page) ?? []));
    token = page.NextToken;
  } while (token);
  return found;
}

async function stackImages(ec2: EC2Client, stackName: string, sleep: Sleep): Promise<Image[]> {
  return allPages(
    (NextToken) =>
      withBackoff(
        () =>
          ec2.send(
            new DescribeImagesCommand({
              Owners: ['self'],
              Filters: [{ Name: `tag:${STACK_TAG}`, Values: [stackName] }],
              MaxResults: PAGE.describeImages,
              NextToken,
            }),
          ),
        { sleep },
      ),
    (page) => page.Images,
  );
}

/** AMIs that a launch template version of the stack refers to: a rollback may need any of them. */
async function launchTemplateAmis(ec2: EC2Client, stackName: string, sleep: Sleep): Promise<Set<string>> {
  const templates = await allPages(
    (NextToken) =>
      withBackoff(
        () =>
          ec2.send(
            new DescribeLaunchTemplatesCommand({
              Filters: [{ Name: `tag:${STACK_TAG}`, Values: [stackName] }],
              MaxResults: PAGE.templates,
              NextToken,
            }),
          ),
        { sleep },
      ),
    (page) => page.LaunchTemplates,
  );
  const amis = new Set<string>();
  for (const template of templates) {
    const versions = await allPages(
      (NextToken) =>
        withBackoff(
          () =>
            ec2.send(
              new DescribeLaunchTemplateVersionsCommand({
                LaunchTemplateId: template.LaunchTemplateId,
                MaxResults: PAGE.versions,
                NextToken,
              }),
            ),
          { sleep },
        ),
      (page) => page.LaunchTemplateVersions,
    );
    for (const version of versions) {
      const imageId = version.LaunchTemplateData?.ImageId;
      if (imageId) amis.add(imageId);
    }
  }
  return amis;
}

/** AMIs of every instance of the account and region that is not terminated, whoever launched it. */
async function instanceAmis(ec2: EC2Client, sleep: Sleep): Promise<Set<string>> {
  const reservations = await allPages(
    (NextToken) =>
      withBackoff(
        () =>
          ec2.send(
            new DescribeInstancesCommand({
              Filters: [
                {
                  Name: 'instance-state-name',
                  Values: ['pending', 'running', 'shutting-down', 'stopping', 'stopped'],
                },
              ],
              MaxResults: PAGE.instances,
              NextToken,
            }),
          ),
        { sleep },
      ),
    (page) => page.Reservations,
  );
  return new Set(
    reservations.flatMap((r) => r.Instances ?? []).flatMap((i) => (i.ImageId ? [i.ImageId] : [])),
  );
}

async function currentAmi(ssm: SSMClient, name: string, sleep: Sleep): Promise<string | undefined> {
  try {
    const { Parameter } = await withBackoff(() => ssm.send(new GetParameterCommand({ Name: name })), {
      sleep,
    });
    return Parameter?.Value;
  } catch (error) {
    if (error instanceof ParameterNotFound || (error as Error).name === 'ParameterNotFound') return undefined;
    throw error;
  }
}

const created = (image: Image) => Date.parse(image.CreationDate ?? '') || 0;

/** Why `image` must stay, or undefined when nothing holds it. */
function keepReason(
  image: Image,
  newest: Set<string>,
  refs: {
    pinned?: string;
    current?: string;
    rollback: Set<string>;
    templates: Set<string>;
    instances: Set<string>;
    newerThan?: Date;
  },
): KeepReason | undefined {
  const id = image.ImageId ?? '';
  if (newest.has(id)) return 'newest';
  // Pending: still being created or copied; failed or unknown states are left to an operator.
  if (image.State !== 'available') return 'not-available';
  if (id === refs.pinned) return 'pinned';
  if (id === refs.current) return 'current';
  if (refs.rollback.has(id)) return 'rollback';
  if (refs.templates.has(id)) return 'launch-template';
  if (refs.instances.has(id)) return 'instance';
  if (refs.newerThan && created(image) > refs.newerThan.getTime()) return 'newer-than-rollout';
  return undefined;
}

/**
 * Keeps the newest `keep` AMIs of the stack and every AMI something still refers to; deregisters
 * the others, then deletes their snapshots, then their Image Builder images. Oldest first, paced.
 */
export async function applyRetention(
  clients: RetentionClients,
  settings: RetentionSettings,
  runtime: RetentionRuntime = { sleep: realSleep, now: Date.now },
): Promise<RetentionResult> {
  const { sleep } = runtime;
  const [images, templates, instances, current] = await Promise.all([
    stackImages(clients.ec2, settings.stackName, sleep),
    launchTemplateAmis(clients.ec2, settings.stackName, sleep),
    instanceAmis(clients.ec2, sleep),
    currentAmi(clients.ssm, settings.currentAmiParameter, sleep),
  ]);
  // A listing filtered by tag may still hold an AMI of another stack if the filter were ignored.
  const ours = images.filter((image) =>
    (image.Tags ?? []).some((tag) => tag.Key === STACK_TAG && tag.Value === settings.stackName),
  );
  const byAge = [...ours].sort(
    (a, b) => created(b) - created(a) || (b.ImageId ?? '').localeCompare(a.ImageId ?? ''),
  );
  const newest = new Set(byAge.slice(0, settings.keep).map((image) => image.ImageId ?? ''));
  const refs = {
    pinned: settings.pinnedAmiId,
    current,
    rollback: new Set(settings.protectAmis),
    templates,
    instances,
    newerThan: settings.protectNewerThan,
  };

  const result: RetentionResult = { dryRun: settings.dryRun, kept: [], deleted: [] };
  const doomed: Image[] = [];
  for (const image of byAge) {
    const reason = keepReason(image, newest, refs);
    if (reason) result.kept.push({ imageId: image.ImageId ?? '', reason });
    else doomed.push(image);
  }

  const bucket = new TokenBucket({ burst: 10, perSecond: 2, sleep, now: runtime.now });
  const paced = async <T>(call: () => Promise<T>): Promise<T> => {
    await bucket.take();
    return withBackoff(call, { sleep });
  };
  for (const image of doomed.reverse()) {
    const imageId = image.ImageId ?? '';
    const snapshots = (image.BlockDeviceMappings ?? []).flatMap((m) =>
      m.Ebs?.SnapshotId ? [m.Ebs.SnapshotId] : [],
    );
    const imageBuilderImage = image.Tags?.find((tag) => tag.Key === IMAGE_BUILDER_TAG)?.Value;
    result.deleted.push({ imageId, snapshots, ...(imageBuilderImage ? { imageBuilderImage } : {}) });
    if (settings.dryRun) continue;
    await paced(() => clients.ec2.send(new DeregisterImageCommand({ ImageId: imageId })));
    for (const snapshot of snapshots) {
      await paced(() => clients.ec2.send(new DeleteSnapshotCommand({ SnapshotId: snapshot })));
    }
    if (imageBuilderImage) await deleteImageBuilderImage(clients.imagebuilder, imageBuilderImage, sleep);
  }
  return result;
}

async function deleteImageBuilderImage(client: ImagebuilderClient, arn: string, sleep: Sleep): Promise<void> {
  try {
    await withBackoff(() => client.send(new DeleteImageCommand({ imageBuildVersionArn: arn })), { sleep });
  } catch (error) {
    // Already gone (deleted by hand, or by an earlier run that stopped half-way): nothing to do.
    if (error instanceof ResourceNotFoundException || (error as Error).name === 'ResourceNotFoundException')
      return;
    throw error;
  }
}
