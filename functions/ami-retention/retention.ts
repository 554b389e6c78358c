import type { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import {
  DeleteSnapshotCommand,
  DeregisterImageCommand,
  type EC2Client,
  type Image,
} from '@aws-sdk/client-ec2';
import {
  DeleteImageCommand,
  type ImagebuilderClient,
  ResourceNotFoundException,
} from '@aws-sdk/client-imagebuilder';
import type { SSMClient } from '@aws-sdk/client-ssm';
import { logger } from '../lib/observability';
import { currentAmi, groupUse, STACK_TAG, stackImages, stackInstances, templateVersions } from './listing';
import { realSleep, type Sleep, TokenBucket, withBackoff } from './pacing';
import { deleteVersions, planVersions, type VersionKeepReason, type VersionRef } from './versions';

export { STACK_TAG } from './listing';
/** Set by Image Builder on the AMIs it distributes: the image build version ARN. */
export const IMAGE_BUILDER_TAG = 'Ec2ImageBuilderArn';

export interface RetentionClients {
  ec2: EC2Client;
  autoscaling: AutoScalingClient;
  ssm: SSMClient;
  imagebuilder: ImagebuilderClient;
}

export interface RetentionSettings {
  stackName: string;
  /** The fleet's launch template: its versions nothing needs are deleted first. */
  launchTemplateId: string;
  /** The fleet's Auto Scaling group: the version it and its instances use stay. */
  groupName: string;
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
  /** Launch template versions kept, and why (`not-deleted`: EC2 refused to delete it). */
  keptVersions: Array<VersionRef & { reason: VersionKeepReason }>;
  /** Launch template versions deleted (in a dry run: that would be deleted). */
  prunedVersions: VersionRef[];
}

export interface RetentionRuntime {
  sleep: Sleep;
  now: () => number;
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
 * First deletes the launch template versions nothing can need any more (versions.ts), so that the
 * AMIs only they named become free. Then keeps the newest `keep` AMIs of the stack and every AMI
 * something still refers to; deregisters the others, then deletes their snapshots, then their
 * Image Builder images. Oldest first, every deletion paced.
 */
export async function applyRetention(
  clients: RetentionClients,
  settings: RetentionSettings,
  runtime: RetentionRuntime = { sleep: realSleep, now: Date.now },
): Promise<RetentionResult> {
  const { sleep } = runtime;
  const [images, versions, group, instances, current] = await Promise.all([
    stackImages(clients.ec2, settings.stackName, sleep),
    templateVersions(clients.ec2, settings.launchTemplateId, sleep),
    groupUse(clients.autoscaling, settings.groupName, settings.launchTemplateId, sleep),
    stackInstances(clients.ec2, settings.stackName, sleep),
    currentAmi(clients.ssm, settings.currentAmiParameter, sleep),
  ]);
  const bucket = new TokenBucket({ burst: 10, perSecond: 2, sleep, now: runtime.now });
  const paced = async <T>(call: () => Promise<T>): Promise<T> => {
    await bucket.take();
    return withBackoff(call, { sleep });
  };

  const rollback = new Set(settings.protectAmis);
  const plan = planVersions(versions, {
    launchTemplateId: settings.launchTemplateId,
    group,
    instances,
    // One more than the AMIs kept: the version each kept AMI was rolled out with, and the one before.
    newest: settings.keep + 1,
    newerThan: settings.protectNewerThan,
    rollback,
    current,
    pinned: settings.pinnedAmiId,
  });
  if (!group)
    logger.warn('group not found: no launch template version is deleted', { group: settings.groupName });
  const pruned = settings.dryRun
    ? { deleted: plan.doomed, failed: [] }
    : await deleteVersions(clients.ec2, settings.launchTemplateId, plan.doomed, paced);
  const keptVersions = [
    ...plan.kept,
    ...pruned.failed.map((v) => ({ ...v, reason: 'not-deleted' as const })),
  ];
  const templates = new Set(keptVersions.flatMap((v) => v.imageId ?? []));

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
    rollback,
    templates,
    instances: new Set(instances.flatMap((i) => i.ImageId ?? [])),
    newerThan: settings.protectNewerThan,
  };

  const result: RetentionResult = {
    dryRun: settings.dryRun,
    kept: [],
    deleted: [],
    keptVersions,
    prunedVersions: pruned.deleted,
  };
  const doomed: Image[] = [];
  for (const image of byAge) {
    const reason = keepReason(image, newest, refs);
    if (reason) result.kept.push({ imageId: image.ImageId ?? '', reason });
    else doomed.push(image);
  }

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
