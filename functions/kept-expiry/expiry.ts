import {
  CreateTagsCommand,
  type EC2Client,
  type Instance,
  paginateDescribeInstances,
  TerminateInstancesCommand,
} from '@aws-sdk/client-ec2';
import { PublishCommand, type SNSClient } from '@aws-sdk/client-sns';
import { TAG } from '../lib/contract';
import { errorMessage, RetryableError } from '../lib/errors';
import { logger } from '../lib/observability';
import { planFor } from './plan';

export interface KeptExpiryClients {
  ec2: EC2Client;
  sns: SNSClient;
}

export interface KeptExpiryOptions {
  stackName: string;
  topicArn: string;
  /** keptInstanceTtl: how long an instance stays kept. */
  ttlSeconds: number;
  now: Date;
}

export interface InstanceOutcome {
  instanceId: string;
  action: 'waiting' | 'warned' | 'terminated' | 'unreadable' | 'failed';
  /** Its end (kept-until), when known. */
  until?: string;
  detail?: string;
}

export interface KeptExpiryResult {
  instances: InstanceOutcome[];
  /** Kept instances past their end still running after this run (what the alarm counts). */
  expired: number;
}

/** States in which an instance bills (or holds its volumes) and can still be terminated. */
const LIVE_STATES = ['pending', 'running', 'stopping', 'stopped'];

/** One failed instance (or more): the run failed, after doing what it could for the others. */
export class KeptExpiryError extends RetryableError {
  override readonly name = 'KeptExpiryError';
}

/**
 * Ends the instances kept for debugging once their time is up, announcing it an hour before
 * (see plan.ts). A failed lookup throws before anything is done: nothing is terminated on a
 * partial view. One instance that fails does not stop the others (see throwOnFailure).
 */
export async function expireKeptInstances(
  clients: KeptExpiryClients,
  options: KeptExpiryOptions,
): Promise<KeptExpiryResult> {
  const kept = await keptInstances(clients.ec2, options.stackName);
  const instances: InstanceOutcome[] = [];
  let expired = 0;
  for (const instance of kept) {
    const outcome = await expire(clients, options, instance);
    instances.push(outcome);
    const pastEnd = outcome.until !== undefined && Date.parse(outcome.until) <= options.now.getTime();
    if (outcome.action !== 'terminated' && pastEnd) expired += 1;
  }
  return { instances, expired };
}

/** Fails the run when one instance failed, once the others are done and counted: it is retried. */
export function throwOnFailure(result: KeptExpiryResult): void {
  const failed = result.instances.filter((i) => i.action === 'failed');
  if (failed.length === 0) return;
  throw new KeptExpiryError(
    `kept instance expiry failed for ${failed.map((i) => `${i.instanceId} (${i.detail})`).join(', ')}`,
  );
}

async function keptInstances(ec2: EC2Client, stackName: string): Promise<Instance[]> {
  const found: Instance[] = [];
  const pages = paginateDescribeInstances(
    { client: ec2 },
    {
      Filters: [
        { Name: `tag:${TAG.stack}`, Values: [stackName] },
        { Name: 'tag-key', Values: [TAG.kept] },
        { Name: 'instance-state-name', Values: LIVE_STATES },
      ],
    },
  );
  for await (const page of pages) {
    for (const reservation of page.Reservations ?? []) found.push(...(reservation.Instances ?? []));
  }
  return found;
}

async function expire(
  clients: KeptExpiryClients,
  options: KeptExpiryOptions,
  instance: Instance,
): Promise<InstanceOutcome> {
  const instanceId = instance.InstanceId ?? '';
  const tags = Object.fromEntries((instance.Tags ?? []).map((t) => [t.Key ?? '', t.Value ?? '']));
  const plan = planFor(tags, options.now, options.ttlSeconds * 1000);
  const write = (extra: Record<string, string>) =>
    Object.keys(extra).length === 0
      ? Promise.resolve()
      : clients.ec2.send(
          new CreateTagsCommand({
            Resources: [instanceId],
            Tags: Object.entries(extra).map(([Key, Value]) => ({ Key, Value })),
          }),
        );
  try {
    if (plan.action === 'unreadable') {
      logger.error('kept instance left alone: its end cannot be read', { instanceId, reason: plan.reason });
      await write(plan.tags);
      const end = plan.since ? new Date(plan.since.getTime() + options.ttlSeconds * 1000) : undefined;
      return {
        instanceId,
        action: 'unreadable',
        detail: plan.reason,
        ...(end ? { until: end.toISOString() } : {}),
      };
    }
    const until = plan.until.toISOString();
    if (plan.action === 'wait') {
      await write(plan.tags);
      return { instanceId, action: 'waiting', until };
    }
    if (plan.action === 'warn') {
      await notify(clients.sns, options, instance, tags, 'warn', until);
      // Recorded after the publish: a lost write repeats the warning rather than losing it.
      await write(plan.tags);
      logger.info('end of a kept instance announced', { instanceId, until });
      return { instanceId, action: 'warned', until };
    }
    await clients.ec2.send(new TerminateInstancesCommand({ InstanceIds: [instanceId] }));
    logger.info('kept instance terminated at its end', { instanceId, until });
    try {
      await notify(clients.sns, options, instance, tags, 'terminated', until);
    } catch (error) {
      // The instance is gone: the warning an hour ago was the notice that counted.
      logger.error('kept instance terminated, but its notification failed', { instanceId, error });
    }
    return { instanceId, action: 'terminated', until };
  } catch (error) {
    logger.error('kept instance expiry failed', { instanceId, error });
    const until = plan.action === 'unreadable' ? undefined : plan.until.toISOString();
    return { instanceId, action: 'failed', detail: errorMessage(error), ...(until ? { until } : {}) };
  }
}

async function notify(
  sns: SNSClient,
  options: KeptExpiryOptions,
  instance: Instance,
  tags: Record<string, string>,
  what: 'warn' | 'terminated',
  until: string,
): Promise<void> {
  const id = instance.InstanceId ?? '';
  const why = tags[TAG.kept] ? ` (kept because: ${tags[TAG.kept]})` : '';
  const since = tags[TAG.keptSince] ? ` since ${tags[TAG.keptSince]}` : '';
  const lines =
    what === 'warn'
      ? [
          `Worker instance ${id} of ${options.stackName}, kept for debugging${since}${why}, will be terminated at ${until} (keptInstanceTtl).`,
          `To end it now: external-worker release ${id} (or aws ec2 terminate-instances --instance-ids ${id}).`,
          `To keep it longer: set its tag ${TAG.keptUntil} to a later time (ISO-8601); the warning is sent again an hour before that.`,
        ]
      : [
          `Worker instance ${id} of ${options.stackName}, kept for debugging${since}${why}, was terminated: its time was up (${until}).`,
        ];
  await sns.send(
    new PublishCommand({
      TopicArn: options.topicArn,
      Subject:
        `${options.stackName}: kept worker ${id} ${what === 'warn' ? 'ends in an hour' : 'terminated'}`.slice(
          0,
          100,
        ),
      Message: lines.join('\n'),
    }),
  );
}
