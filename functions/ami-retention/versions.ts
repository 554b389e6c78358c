import {
  DeleteLaunchTemplateVersionsCommand,
  type EC2Client,
  type Instance,
  type LaunchTemplateVersion,
} from '@aws-sdk/client-ec2';
import { logger } from '../lib/observability';
import { type GroupUse, TEMPLATE_ID_TAG, TEMPLATE_VERSION_TAG } from './listing';

export type VersionKeepReason =
  | 'default'
  | 'latest'
  | 'group'
  | 'instance'
  | 'newest'
  | 'newer-than-rollout'
  | 'rollback'
  | 'current'
  | 'pinned'
  | 'group-unknown'
  | 'not-deleted';

export interface VersionRef {
  version: number;
  imageId?: string;
}

export interface VersionPlan {
  /** Newest first. */
  kept: Array<VersionRef & { reason: VersionKeepReason }>;
  /** Oldest first: the order they are deleted in. */
  doomed: VersionRef[];
}

export interface VersionRefs {
  launchTemplateId: string;
  /** Undefined: the group does not exist, so which version it needs cannot be known. */
  group?: GroupUse;
  instances: Instance[];
  /** How many versions to keep by number, whatever else holds (rollback targets and kept AMIs). */
  newest: number;
  newerThan?: Date;
  rollback: Set<string>;
  current?: string;
  pinned?: string;
}

const tag = (instance: Instance, key: string) => instance.Tags?.find((t) => t.Key === key)?.Value;

/** `$Latest` / `$Default` resolved to numbers; anything else unparsable is ignored. */
function versionNumber(value: string | undefined, latest: number, byDefault: number): number | undefined {
  if (value === '$Latest') return latest;
  if (value === '$Default') return byDefault;
  const number = Number(value);
  return Number.isInteger(number) && number > 0 ? number : undefined;
}

/** Which versions of the fleet's launch template must stay, and why; the others can go. */
export function planVersions(versions: LaunchTemplateVersion[], refs: VersionRefs): VersionPlan {
  const numbered = versions
    .filter((v) => typeof v.VersionNumber === 'number')
    .sort((a, b) => (b.VersionNumber ?? 0) - (a.VersionNumber ?? 0));
  const latest = numbered[0]?.VersionNumber ?? 0;
  const byDefault = numbered.find((v) => v.DefaultVersion)?.VersionNumber ?? 0;
  const resolve = (value: string | undefined) => versionNumber(value, latest, byDefault);
  const groupVersion = resolve(refs.group?.version);
  const instanceVersions = new Set(
    [
      ...(refs.group?.instanceVersions ?? []),
      ...refs.instances
        .filter((i) => tag(i, TEMPLATE_ID_TAG) === refs.launchTemplateId)
        .flatMap((i) => tag(i, TEMPLATE_VERSION_TAG) ?? []),
    ].flatMap((v) => resolve(v) ?? []),
  );
  const newest = new Set(numbered.slice(0, refs.newest).map((v) => v.VersionNumber));

  const reason = (v: LaunchTemplateVersion): VersionKeepReason | undefined => {
    const number = v.VersionNumber ?? 0;
    const imageId = v.LaunchTemplateData?.ImageId;
    if (v.DefaultVersion || number === byDefault) return 'default';
    if (number === latest) return 'latest';
    if (!refs.group) return 'group-unknown';
    if (number === groupVersion) return 'group';
    if (instanceVersions.has(number)) return 'instance';
    if (newest.has(number)) return 'newest';
    if (refs.newerThan && (v.CreateTime?.getTime() ?? 0) > refs.newerThan.getTime())
      return 'newer-than-rollout';
    if (imageId && refs.rollback.has(imageId)) return 'rollback';
    if (imageId && imageId === refs.current) return 'current';
    if (imageId && imageId === refs.pinned) return 'pinned';
    return undefined;
  };
  const plan: VersionPlan = { kept: [], doomed: [] };
  for (const v of numbered) {
    const ref = {
      version: v.VersionNumber ?? 0,
      ...(v.LaunchTemplateData?.ImageId ? { imageId: v.LaunchTemplateData.ImageId } : {}),
    };
    const why = reason(v);
    if (why) plan.kept.push({ ...ref, reason: why });
    else plan.doomed.unshift(ref);
  }
  return plan;
}

/** The API's limit of versions per DeleteLaunchTemplateVersions call. */
export const DELETE_BATCH = 200;

/**
 * Deletes the doomed versions, oldest first, `DELETE_BATCH` per call through `paced` (token bucket +
 * backoff). A version EC2 refuses is logged and kept: its AMI stays referenced.
 */
export async function deleteVersions(
  ec2: EC2Client,
  launchTemplateId: string,
  doomed: VersionRef[],
  paced: <T>(call: () => Promise<T>) => Promise<T>,
): Promise<{ deleted: VersionRef[]; failed: VersionRef[] }> {
  const oldestFirst = [...doomed].sort((a, b) => a.version - b.version);
  const deleted: VersionRef[] = [];
  const failed: VersionRef[] = [];
  for (let start = 0; start < oldestFirst.length; start += DELETE_BATCH) {
    const batch = oldestFirst.slice(start, start + DELETE_BATCH);
    const response = await paced(() =>
      ec2.send(
        new DeleteLaunchTemplateVersionsCommand({
          LaunchTemplateId: launchTemplateId,
          Versions: batch.map((v) => String(v.version)),
        }),
      ),
    );
    const refused = new Map(
      (response.UnsuccessfullyDeletedLaunchTemplateVersions ?? []).map((e) => [
        e.VersionNumber,
        e.ResponseError,
      ]),
    );
    for (const ref of batch) {
      const error = refused.get(ref.version);
      // Already gone (an earlier run, or by hand): the end state is the one wanted.
      if (error && error.Code !== 'launchTemplateVersionDoesNotExist') {
        logger.warn('launch template version not deleted', {
          launchTemplateId,
          version: ref.version,
          code: error.Code,
          detail: error.Message,
        });
        failed.push(ref);
      } else deleted.push(ref);
    }
  }
  return { deleted, failed };
}
