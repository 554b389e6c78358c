import type { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import type { EC2Client, Image } from '@aws-sdk/client-ec2';
import type { ImagebuilderClient } from '@aws-sdk/client-imagebuilder';
import type { SSMClient } from '@aws-sdk/client-ssm';
import { logger } from '../lib/observability';
import { type Doomed, deleteImages, Pacers, sweepSnapshots } from './deletion';
import {
  currentAmi,
  groupUse,
  STACK_TAG,
  stackImages,
  stackInstances,
  stackSnapshots,
  templateVersions,
} from './listing';
import { DEFAULT_REQUEST_SHARE, realSleep, type Sleep } from './pacing';
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
  /** Share (0-1] of each EC2 request bucket's refill the run may use; the rest is the account's. */
  requestShare?: number;
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
  /** Snapshots the stack tagged whose AMI is gone, deleted (in a dry run: that would be deleted). */
  sweptSnapshots: string[];
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
 * something still refers to; deregisters the others with their snapshots, then deletes their Image
 * Builder images (deletion.ts), oldest first, each EC2 action paced to its bucket. Meanwhile, the
 * snapshots an earlier run tagged and left behind are swept.
 */
export async function applyRetention(
  clients: RetentionClients,
  settings: RetentionSettings,
  runtime: RetentionRuntime = { sleep: realSleep, now: Date.now },
): Promise<RetentionResult> {
  const { sleep } = runtime;
  const [images, versions, group, instances, current, tagged] = await Promise.all([
    stackImages(clients.ec2, settings.stackName, sleep),
    templateVersions(clients.ec2, settings.launchTemplateId, sleep),
    groupUse(clients.autoscaling, settings.groupName, settings.launchTemplateId, sleep),
    stackInstances(clients.ec2, settings.stackName, sleep),
    currentAmi(clients.ssm, settings.currentAmiParameter, sleep),
    stackSnapshots(clients.ec2, settings.stackName, sleep),
  ]);
  const pacers = new Pacers({ ...runtime, share: settings.requestShare ?? DEFAULT_REQUEST_SHARE });
  const paced = <T>(call: () => Promise<T>): Promise<T> =>
    pacers.for('DeleteLaunchTemplateVersions').call(call);

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

  // Snapshots mapped by any AMI of the stack, whatever its state, are not orphans.
  const mapped = new Set(images.flatMap(snapshotsOf));
  const orphans = tagged.flatMap((s) => (s.SnapshotId && !mapped.has(s.SnapshotId) ? [s.SnapshotId] : []));

  const result: RetentionResult = {
    dryRun: settings.dryRun,
    kept: [],
    deleted: [],
    keptVersions,
    prunedVersions: pruned.deleted,
    sweptSnapshots: settings.dryRun ? orphans : [],
  };
  const doomed: Image[] = [];
  for (const image of byAge) {
    const reason = keepReason(image, newest, refs);
    if (reason) result.kept.push({ imageId: image.ImageId ?? '', reason });
    else doomed.push(image);
  }
  result.deleted = doomed.reverse().map((image): Doomed => {
    const imageBuilderImage = image.Tags?.find((tag) => tag.Key === IMAGE_BUILDER_TAG)?.Value;
    return {
      imageId: image.ImageId ?? '',
      snapshots: snapshotsOf(image),
      ...(imageBuilderImage ? { imageBuilderImage } : {}),
    };
  });
  if (settings.dryRun) return result;

  // Both run to their end (or first failure) before the run reports: nothing goes on unseen.
  const [swept, deletion] = await Promise.allSettled([
    sweepSnapshots(clients.ec2, orphans, pacers),
    deleteImages(clients.ec2, clients.imagebuilder, settings.stackName, result.deleted, pacers, sleep),
  ]);
  if (swept.status === 'rejected') throw swept.reason;
  if (deletion.status === 'rejected') throw deletion.reason;
  result.sweptSnapshots = swept.value;
  return result;
}

const snapshotsOf = (image: Image): string[] =>
  (image.BlockDeviceMappings ?? []).flatMap((m) => (m.Ebs?.SnapshotId ? [m.Ebs.SnapshotId] : []));
