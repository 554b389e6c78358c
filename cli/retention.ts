import { InvokeCommand } from '@aws-sdk/client-lambda';
import type { KeepReason, RetentionResult } from '../functions/ami-retention/retention';
import type { VersionKeepReason } from '../functions/ami-retention/versions';
import type { Clients } from './clients';
import { OperationFailedError } from './errors';
import type { Io } from './io';
import type { WorkerStack } from './stack';
import { plural, table } from './text';

/** Why an AMI stays, as docs/rollout.md explains it. */
const AMI_REASON: Record<KeepReason, string> = {
  newest: 'one of the newest AMIs the stack keeps (amiRetention)',
  'not-available': 'not available (still being created, or failed)',
  pinned: 'pinned by workerAmiId',
  current: 'the current AMI (recorded by the last rollout)',
  rollback: 'the rollback target of the last rollout',
  'launch-template': 'a kept launch template version launches it',
  instance: 'an instance of the stack runs it',
  'newer-than-rollout': 'newer than the AMI being rolled out',
};

const VERSION_REASON: Record<VersionKeepReason, string> = {
  default: 'the default version',
  latest: 'the latest version',
  group: 'the version the group launches from',
  instance: 'an instance was launched from it',
  newest: 'one of the newest versions kept (amiRetention + 1)',
  'newer-than-rollout': 'created by a rollout in progress',
  rollback: 'names the rollback AMI',
  current: 'names the current AMI',
  pinned: 'names the pinned AMI',
  'group-unknown': 'the group was not found: every version stays',
  'not-deleted': 'EC2 refused to delete it',
};

/**
 * Runs the stack's AMI retention function and shows what it deleted, or in a dry run what it would
 * delete, and why every other AMI and launch template version stays. The function refuses unknown
 * input keys: it gets `{"dryRun": true}` or `{}`, nothing else.
 */
export async function retention(
  clients: Pick<Clients, 'lambda'>,
  stack: WorkerStack,
  io: Io,
  options: { dryRun: boolean; json: boolean },
): Promise<RetentionResult> {
  io.err(
    options.dryRun
      ? `dry run of the AMI retention of ${stack.name} (nothing is deleted)…`
      : `running the AMI retention of ${stack.name}…`,
  );
  const answer = await clients.lambda.send(
    new InvokeCommand({
      FunctionName: stack.retentionFunctionName,
      Payload: new TextEncoder().encode(JSON.stringify(options.dryRun ? { dryRun: true } : {})),
    }),
  );
  const text = answer.Payload ? new TextDecoder().decode(answer.Payload) : '';
  if (answer.FunctionError) {
    let detail = text;
    try {
      const error = JSON.parse(text) as { errorType?: string; errorMessage?: string };
      detail = `${error.errorType ?? 'Error'}: ${error.errorMessage ?? ''}`;
    } catch {
      // not JSON: the raw text says it
    }
    throw new OperationFailedError(`the retention function failed: ${detail.split('\n')[0]}`);
  }
  const result = JSON.parse(text) as RetentionResult;
  if (options.json) {
    io.out(JSON.stringify(result, null, 2));
    return result;
  }
  const would = result.dryRun ? 'Would delete' : 'Deleted';
  io.out(`${would} ${plural(result.deleted.length, 'AMI')}${result.deleted.length ? ':' : ''}`);
  io.out(
    ...table(
      result.deleted.map((d) => [
        d.imageId,
        d.snapshots.length ? `snapshots ${d.snapshots.join(', ')}` : 'no snapshot',
        d.imageBuilderImage ? `image ${d.imageBuilderImage.replace(/^.*:image\//, '')}` : '',
      ]),
    ),
  );
  if (result.sweptSnapshots.length) {
    io.out(
      `${would} ${plural(result.sweptSnapshots.length, 'orphaned snapshot')} of AMIs already gone: ${result.sweptSnapshots.join(', ')}`,
    );
  }
  io.out(
    `${would} ${plural(result.prunedVersions.length, 'launch template version')}` +
      (result.prunedVersions.length ? `: ${result.prunedVersions.map((v) => v.version).join(', ')}` : ''),
  );
  io.out(`Keeps ${plural(result.kept.length, 'AMI')}${result.kept.length ? ':' : ''}`);
  io.out(...table(result.kept.map((k) => [k.imageId, k.reason, AMI_REASON[k.reason] ?? ''])));
  io.out(
    `Keeps ${plural(result.keptVersions.length, 'launch template version')}${result.keptVersions.length ? ':' : ''}`,
  );
  io.out(
    ...table(
      result.keptVersions.map((v) => [
        String(v.version),
        v.imageId ?? '-',
        v.reason,
        VERSION_REASON[v.reason] ?? '',
      ]),
    ),
  );
  return result;
}
