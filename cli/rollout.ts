import { DescribeInstanceRefreshesCommand, type InstanceRefresh } from '@aws-sdk/client-auto-scaling';
import type { Clients } from './clients';
import { OperationFailedError } from './errors';
import type { Io } from './io';
import type { WorkerStack } from './stack';
import { duration, when } from './text';

const POLL_MS = 15_000;
/** Statuses of a refresh that has not ended (Auto Scaling's InstanceRefreshStatus). */
const ACTIVE = new Set(['Pending', 'InProgress', 'Cancelling', 'RollbackInProgress', 'Baking']);

function describe(refresh: InstanceRefresh): string {
  const target =
    refresh.DesiredConfiguration?.LaunchTemplate?.Version ??
    refresh.DesiredConfiguration?.MixedInstancesPolicy?.LaunchTemplate?.LaunchTemplateSpecification?.Version;
  const parts = [
    `${refresh.Status}`,
    refresh.PercentageComplete !== undefined ? `${refresh.PercentageComplete}% done` : undefined,
    refresh.InstancesToUpdate !== undefined ? `${refresh.InstancesToUpdate} to replace` : undefined,
    target ? `to launch template version ${target}` : undefined,
  ].filter(Boolean);
  const reason = refresh.StatusReason ? ` — ${refresh.StatusReason}` : '';
  return `${parts.join(', ')}${reason}`;
}

/**
 * Progress of the group's latest instance refresh (a rollout or a deploy), until it ends. A refresh
 * that did not succeed is an error (exit code 5): the fleet stayed on, or went back to, its version.
 */
export async function rolloutStatus(
  clients: Pick<Clients, 'autoscaling'>,
  stack: WorkerStack,
  io: Io,
  options: { wait: boolean },
): Promise<void> {
  let last = '';
  let first = true;
  for (;;) {
    const { InstanceRefreshes = [] } = await clients.autoscaling.send(
      new DescribeInstanceRefreshesCommand({ AutoScalingGroupName: stack.groupName, MaxRecords: 1 }),
    );
    const refresh = InstanceRefreshes[0];
    if (!refresh) {
      io.out(`no instance refresh of ${stack.groupName} yet`);
      return;
    }
    if (first) {
      io.out(
        `instance refresh ${refresh.InstanceRefreshId} of ${stack.groupName}, started ${when(refresh.StartTime?.toISOString())}`,
      );
      first = false;
    }
    const line = describe(refresh);
    if (line !== last) {
      const since = refresh.StartTime
        ? duration((io.now().getTime() - refresh.StartTime.getTime()) / 1000)
        : '';
      (ACTIVE.has(refresh.Status ?? '') ? io.err : io.out)(`  ${since.padStart(6)}  ${line}`);
      last = line;
    }
    if (!ACTIVE.has(refresh.Status ?? '')) {
      if (refresh.Status === 'Successful') return;
      const rollback = refresh.RollbackDetails?.RollbackReason;
      throw new OperationFailedError(
        `the instance refresh ended ${refresh.Status}${rollback ? ` (rollback: ${rollback})` : ''}`,
      );
    }
    if (!options.wait) return;
    await io.sleep(POLL_MS);
  }
}
