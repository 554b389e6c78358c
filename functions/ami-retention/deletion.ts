import {
  CreateTagsCommand,
  DeleteSnapshotCommand,
  DeregisterImageCommand,
  type EC2Client,
} from '@aws-sdk/client-ec2';
import { DeleteImageCommand, type ImagebuilderClient } from '@aws-sdk/client-imagebuilder';
import { isAwsError } from '../lib/errors';
import { logger } from '../lib/observability';
import { STACK_TAG } from './listing';
import { AdaptivePacer, MUTATING_BUCKET, type Sleep, withBackoff } from './pacing';

/** An AMI to delete, with what goes with it. */
export interface Doomed {
  imageId: string;
  snapshots: string[];
  imageBuilderImage?: string;
}

export interface DeletionRuntime {
  sleep: Sleep;
  now: () => number;
  /** Share of each EC2 bucket's refill the run may use. */
  share: number;
}

/** One adaptive pacer per EC2 action: each action has a bucket of its own. */
export class Pacers {
  private readonly byAction = new Map<string, AdaptivePacer>();

  constructor(private readonly runtime: DeletionRuntime) {}

  for(action: string): AdaptivePacer {
    let pacer = this.byAction.get(action);
    if (!pacer) {
      pacer = new AdaptivePacer({ bucket: MUTATING_BUCKET, ...this.runtime });
      this.byAction.set(action, pacer);
    }
    return pacer;
  }

  /** Throttling answers seen by every pacer. */
  throttles(): number {
    return [...this.byAction.values()].reduce((sum, pacer) => sum + pacer.throttles, 0);
  }
}

/** Calls in flight at once: enough to keep each pacer's rate despite the round trips. */
const CONCURRENCY = 16;
/** Snapshots tagged by one CreateTags call (the API takes up to 1,000 resources). */
const TAG_BATCH = 500;

const code = (error: unknown) => (error as { Code?: string }).Code ?? (error as Error).name;

/** Runs `work` over `items` in order, `concurrency` at a time; the first failure stops new work. */
async function pipelined<T>(
  items: T[],
  concurrency: number,
  work: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  let failure: { error: unknown } | undefined;
  const worker = async () => {
    while (!failure && next < items.length) {
      const item = items[next] as T;
      next += 1;
      try {
        await work(item);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
  if (failure) throw failure.error;
}

/** Consecutive groups of AMIs whose snapshots one CreateTags call can tag. */
function tagBatches(doomed: Doomed[]): Doomed[][] {
  const batches: Doomed[][] = [];
  let current: Doomed[] = [];
  let count = 0;
  for (const image of doomed) {
    if (current.length && count + image.snapshots.length > TAG_BATCH) {
      batches.push(current);
      current = [];
      count = 0;
    }
    current.push(image);
    count += image.snapshots.length;
  }
  if (current.length) batches.push(current);
  return batches;
}

/**
 * Deletes the doomed AMIs, oldest first, pipelined: while some AMIs are being deregistered, the
 * snapshots of the next ones are tagged and the Image Builder images of the previous ones deleted,
 * each EC2 action at the pace of its own bucket.
 *
 * Before an AMI is deregistered its snapshots are tagged with the stack, so that a snapshot the
 * deregistration leaves (a run stopped half-way, a snapshot EC2 could not delete) is found and
 * deleted by a later run's sweep: none stays orphaned. DeregisterImage deletes the snapshots itself
 * (`DeleteAssociatedSnapshots`, https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DeregisterImage.html):
 * one call instead of one per snapshot, and no window between the two in which a run can stop.
 */
export async function deleteImages(
  ec2: EC2Client,
  imagebuilder: ImagebuilderClient,
  stackName: string,
  doomed: Doomed[],
  pacers: Pacers,
  sleep: Sleep,
): Promise<void> {
  const batches = tagBatches(doomed);
  const batchOf = new Map<Doomed, number>();
  batches.forEach((batch, n) => {
    for (const image of batch) batchOf.set(image, n);
  });
  const tag = (snapshots: string[]) =>
    pacers
      .for('CreateTags')
      .call(() =>
        ec2.send(
          new CreateTagsCommand({ Resources: snapshots, Tags: [{ Key: STACK_TAG, Value: stackName }] }),
        ),
      );
  const tagging = new Map<number, Promise<void>>();
  const tagged = (n: number): Promise<void> => {
    let done = tagging.get(n);
    if (!done) {
      const batch = batches[n] ?? [];
      done = tagBatch(batch, tag);
      // Seen by the AMI that awaits it; a failure here is that AMI's failure.
      done.catch(() => undefined);
      tagging.set(n, done);
    }
    return done;
  };
  const support = { deleteAssociatedSnapshots: true };

  await pipelined(doomed, CONCURRENCY, async (image) => {
    const n = batchOf.get(image) ?? 0;
    // The next batch is tagged while this one is deregistered.
    if (n + 1 < batches.length) tagged(n + 1);
    await tagged(n);
    await deregister(ec2, image, pacers, support);
    if (image.imageBuilderImage) await deleteImageBuilderImage(imagebuilder, image.imageBuilderImage, sleep);
  });
}

/**
 * Tags the snapshots of a batch of AMIs in one call. One call fails as a whole when a snapshot is
 * gone (another run deleted its AMI meanwhile): then each AMI's snapshots are tagged alone, and an
 * AMI whose snapshots are gone is left to its deregistration, which finds it gone too.
 */
async function tagBatch(batch: Doomed[], tag: (snapshots: string[]) => Promise<unknown>): Promise<void> {
  const snapshots = batch.flatMap((image) => image.snapshots);
  if (!snapshots.length) return;
  try {
    await tag(snapshots);
  } catch (error) {
    if (code(error) !== 'InvalidSnapshot.NotFound') throw error;
    if (batch.length > 1) for (const image of batch) await tagBatch([image], tag);
  }
}

async function deregister(
  ec2: EC2Client,
  image: Doomed,
  pacers: Pacers,
  support: { deleteAssociatedSnapshots: boolean },
): Promise<void> {
  const send = (withSnapshots: boolean) =>
    pacers.for('DeregisterImage').call(() =>
      ec2.send(
        new DeregisterImageCommand({
          ImageId: image.imageId,
          ...(withSnapshots ? { DeleteAssociatedSnapshots: true } : {}),
        }),
      ),
    );
  try {
    const withSnapshots = support.deleteAssociatedSnapshots && image.snapshots.length > 0;
    let response: Awaited<ReturnType<typeof send>>;
    try {
      response = await send(withSnapshots);
    } catch (error) {
      // A region (or partition) without the parameter: deregister, then delete the (tagged)
      // snapshots one by one, for this AMI and the rest of the run.
      if (!withSnapshots || code(error) !== 'UnknownParameter') throw error;
      support.deleteAssociatedSnapshots = false;
      logger.warn(
        'DeregisterImage does not take DeleteAssociatedSnapshots here: snapshots deleted one by one',
      );
      response = await send(false);
    }
    if (!support.deleteAssociatedSnapshots) {
      await sweepSnapshots(ec2, image.snapshots, pacers);
      return;
    }
    const { DeleteSnapshotResults = [] } = response;
    // `skipped`: another AMI still uses the snapshot. Anything else is left, tagged, to the sweep.
    const left = DeleteSnapshotResults.filter(
      (r) => r.ReturnCode !== 'success' && r.ReturnCode !== 'skipped',
    );
    if (left.length) {
      logger.warn('snapshots not deleted with their AMI; a later sweep deletes them', {
        imageId: image.imageId,
        snapshots: left.map((r) => ({ snapshotId: r.SnapshotId, returnCode: r.ReturnCode })),
      });
    }
  } catch (error) {
    // Already deregistered (by hand, or by a run that stopped half-way): its tagged snapshots are
    // the sweep's.
    if (code(error) === 'InvalidAMIID.NotFound' || code(error) === 'InvalidAMIID.Unavailable') return;
    throw error;
  }
}

/**
 * Deletes snapshots this stack tagged whose AMI is gone. A snapshot another AMI uses (EC2 refuses)
 * or that is already gone is no error. Returns the snapshots deleted.
 */
export async function sweepSnapshots(ec2: EC2Client, orphans: string[], pacers: Pacers): Promise<string[]> {
  const swept: string[] = [];
  await pipelined(orphans, CONCURRENCY, async (snapshotId) => {
    try {
      await pacers
        .for('DeleteSnapshot')
        .call(() => ec2.send(new DeleteSnapshotCommand({ SnapshotId: snapshotId })));
      swept.push(snapshotId);
    } catch (error) {
      if (code(error) === 'InvalidSnapshot.NotFound') return;
      if (code(error) === 'InvalidSnapshot.InUse') {
        logger.info('tagged snapshot still in use: kept', { snapshotId });
        return;
      }
      throw error;
    }
  });
  return swept;
}

async function deleteImageBuilderImage(client: ImagebuilderClient, arn: string, sleep: Sleep): Promise<void> {
  try {
    await withBackoff(() => client.send(new DeleteImageCommand({ imageBuildVersionArn: arn })), { sleep });
  } catch (error) {
    // Already gone (deleted by hand, or by an earlier run that stopped half-way): nothing to do.
    if (isAwsError(error, 'ResourceNotFoundException')) return;
    throw error;
  }
}
