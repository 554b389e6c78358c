import { TAG } from '../../../functions/lib/contract';

/** Tags the rollout writes on the AMI it rolls out (with the rollback and bad marks of pieces.ts). */
export const AMI_TAG = {
  /** The Image Builder image the AMI came from. */
  image: TAG.image,
  /** The execution that rolled it out. */
  rollout: 'external-worker:rollout',
  /** The launch template version made for it: a repeated event reuses it. */
  version: 'external-worker:launch-template-version',
} as const;

/**
 * The stack's cost and ownership tags, written on the snapshots of a new AMI: Image Builder's
 * AmiTags reach the AMI, never its snapshots.
 */
export const SNAPSHOT_TAGS = [
  { Key: TAG.stack, Value: '${StackName}' },
  { Key: 'customer', Value: '${Customer}' },
  { Key: 'project', Value: '${Project}' },
  { Key: 'env', Value: '${Env}' },
];
