import {
  type AutoScalingClient,
  DescribeAutoScalingInstancesCommand,
  DetachInstancesCommand,
  SetInstanceHealthCommand,
} from '@aws-sdk/client-auto-scaling';
import { CreateTagsCommand, DescribeTagsCommand, type EC2Client } from '@aws-sdk/client-ec2';
import { SendCommandCommand, type SSMClient } from '@aws-sdk/client-ssm';
import * as z from 'zod/mini';
import { LOG_RECORD } from '../lib/contract';
import { errorMessage } from '../lib/errors';
import { eventBridgeEvent } from '../lib/eventbridge';
import { completeLifecycleAction } from '../lib/lifecycle';
import { logger } from '../lib/observability';

export const INTERRUPTION = 'EC2 Spot Instance Interruption Warning';
export const REBALANCE = 'EC2 Instance Rebalance Recommendation';
/** Marks an instance this function already acted on: a second delivery of the warning does nothing. */
export const INTERRUPTED_TAG = 'external-worker:interrupted';
export const RETIRE_COMMAND = '/usr/local/sbin/external-worker-retire';

/**
 * The two EC2 events, as far as this function reads them. The warning's resource ARN carries an
 * Availability Zone instead of a Region and no account: only the detail's instance id is used.
 */
export const spotEvent = eventBridgeEvent({
  detailType: z.enum([INTERRUPTION, REBALANCE]),
  source: z.literal('aws.ec2'),
  // https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/spot-instance-termination-notices.html
  // https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/rebalance-recommendations.html
  detail: z.strictObject({
    'instance-id': z.string().check(z.regex(/^i-[0-9a-f]{8,17}$/, 'expected an instance id')),
    'instance-action': z.optional(z.string()),
  }),
});
export const SPOT_EVENT_FORM =
  'an EventBridge event of source aws.ec2, detail-type "EC2 Spot Instance Interruption Warning" or "EC2 Instance Rebalance Recommendation", detail {"instance-id", "instance-action"?}';
export type SpotEvent = z.infer<typeof spotEvent>;

export interface SpotSettings {
  groupName: string;
  launchHookName: string;
}

export interface SpotClients {
  autoscaling: Pick<AutoScalingClient, 'send'>;
  ec2: Pick<EC2Client, 'send'>;
  ssm: Pick<SSMClient, 'send'>;
}

export type SpotOutcome =
  | 'ignored'
  | 'counted'
  | 'duplicate'
  | 'leaving'
  | 'launchAbandoned'
  | 'replaced'
  | 'markedUnhealthy'
  | 'inWarmPool';

export interface SpotResult {
  outcome: SpotOutcome;
  instanceId: string;
  lifecycleState?: string;
}

/**
 * Waiting in a launch hook, into the group or into its warm pool (Warmed:Pending:Wait): the launch
 * is abandoned. https://docs.aws.amazon.com/autoscaling/ec2/userguide/warm-pool-instance-lifecycle.html
 */
const IN_LAUNCH_GATE = /^(Warmed:)?Pending:Wait$/;
/**
 * In the warm pool: prepared, its worker never started, not part of the group's capacity. Auto
 * Scaling refuses a warm pool to a group launching Spot Instances (PutWarmPool), so no warning is
 * expected here; one would have nothing to retire, and the pool refills itself once it is gone.
 */
const IN_WARM_POOL = /^Warmed:/;

/** States in which the instance is already on its way out of the group: nothing to add. */
const LEAVING = /^(Terminating|Terminated|Detaching|Detached)/;

export async function handleSpotEvent(
  clients: SpotClients,
  settings: SpotSettings,
  event: SpotEvent,
): Promise<SpotResult> {
  const result = await handle(clients, settings, event);
  // A record, not a metric: only the dashboard reads these counts (no alarm), and a query over
  // the records costs cents where a metric each would cost $0.30 a month.
  if (result.outcome !== 'ignored')
    logger.info(LOG_RECORD.spotEventHandled, {
      event: event['detail-type'] === REBALANCE ? 'rebalance' : 'interruption',
      outcome: result.outcome,
    });
  return result;
}

async function handle(clients: SpotClients, settings: SpotSettings, event: SpotEvent): Promise<SpotResult> {
  const instanceId = event.detail['instance-id'];
  const membership = await clients.autoscaling.send(
    new DescribeAutoScalingInstancesCommand({ InstanceIds: [instanceId] }),
  );
  const member = membership.AutoScalingInstances?.find((i) => i.InstanceId === instanceId);
  if (member?.AutoScalingGroupName !== settings.groupName) {
    logger.debug('not an instance of this group: ignored', {
      instanceId,
      detailType: event['detail-type'],
      group: member?.AutoScalingGroupName,
    });
    return { outcome: 'ignored', instanceId };
  }
  const lifecycleState = member.LifecycleState ?? 'unknown';
  logger.appendKeys({ instanceId, groupName: settings.groupName, lifecycleState });

  if (event['detail-type'] === REBALANCE) {
    // Capacity Rebalancing launches the replacement and then terminates this instance through the
    // drain hook; acting here as well would replace it twice.
    logger.info('rebalance recommendation: Capacity Rebalancing replaces the instance');
    return { outcome: 'counted', instanceId, lifecycleState };
  }

  if (LEAVING.test(lifecycleState) || (await alreadyInterrupted(clients, instanceId))) {
    logger.info('interruption warning for an instance already handled or leaving: nothing to do');
    return { outcome: LEAVING.test(lifecycleState) ? 'leaving' : 'duplicate', instanceId, lifecycleState };
  }

  let outcome: SpotOutcome;
  if (IN_WARM_POOL.test(lifecycleState) && !IN_LAUNCH_GATE.test(lifecycleState)) {
    logger.info('interruption warning for a warm pool instance: no worker, nothing to replace');
    return { outcome: 'inWarmPool', instanceId, lifecycleState };
  }

  if (IN_LAUNCH_GATE.test(lifecycleState)) {
    // Still in the launch gate: no worker to retire. The event carries no token; the instance id
    // identifies the action.
    const completed = await completeLifecycleAction(
      clients.autoscaling,
      { groupName: settings.groupName, hookName: settings.launchHookName, instanceId },
      'ABANDON',
    );
    logger.info('interrupted in the launch gate: launch abandoned', { completed });
    outcome = 'launchAbandoned';
  } else {
    await retire(clients, instanceId);
    // A stopped or hibernated instance would outlive its detachment: only a terminating one is detached.
    const terminating = (event.detail['instance-action'] ?? 'terminate') === 'terminate';
    outcome = await replace(clients, settings, instanceId, terminating && lifecycleState === 'InService');
  }
  await markInterrupted(clients, instanceId, event.time);
  return { outcome, instanceId, lifecycleState };
}

async function alreadyInterrupted(clients: SpotClients, instanceId: string): Promise<boolean> {
  const tags = await clients.ec2.send(
    new DescribeTagsCommand({
      Filters: [
        { Name: 'resource-id', Values: [instanceId] },
        { Name: 'key', Values: [INTERRUPTED_TAG] },
      ],
    }),
  );
  return (tags.Tags ?? []).length > 0;
}

/**
 * Tells the worker to retire: it takes no more builds, and Concourse hands back the builds it cannot
 * finish before the instance goes. Best effort: the replacement matters more than the retire.
 */
async function retire(clients: SpotClients, instanceId: string): Promise<void> {
  try {
    await clients.ssm.send(
      new SendCommandCommand({
        InstanceIds: [instanceId],
        DocumentName: 'AWS-RunShellScript',
        Comment: 'external-worker spot interruption',
        TimeoutSeconds: 30,
        Parameters: { commands: [RETIRE_COMMAND], executionTimeout: ['30'] },
      }),
    );
    logger.info('retire command sent');
  } catch (error) {
    logger.warn('could not send the retire command; the worker goes with its instance', {
      error: errorMessage(error),
    });
  }
}

/**
 * Has the group start a replacement now rather than after the instance is gone: detaching without
 * lowering the desired capacity launches one at once. An instance not InService cannot be
 * detached, and one that EC2 stops rather than terminates must stay in the group: marking it
 * unhealthy has it replaced through the normal path.
 */
async function replace(
  clients: SpotClients,
  settings: SpotSettings,
  instanceId: string,
  detachable: boolean,
): Promise<SpotOutcome> {
  if (detachable) {
    await clients.autoscaling.send(
      new DetachInstancesCommand({
        AutoScalingGroupName: settings.groupName,
        InstanceIds: [instanceId],
        ShouldDecrementDesiredCapacity: false,
      }),
    );
    logger.info('detached without lowering the desired capacity: a replacement is launching');
    return 'replaced';
  }
  await clients.autoscaling.send(
    new SetInstanceHealthCommand({
      InstanceId: instanceId,
      HealthStatus: 'Unhealthy',
      ShouldRespectGracePeriod: false,
    }),
  );
  logger.info('marked unhealthy: the group replaces it');
  return 'markedUnhealthy';
}

async function markInterrupted(clients: SpotClients, instanceId: string, time: string): Promise<void> {
  try {
    await clients.ec2.send(
      new CreateTagsCommand({ Resources: [instanceId], Tags: [{ Key: INTERRUPTED_TAG, Value: time }] }),
    );
  } catch (error) {
    // The action is done; without the tag a second delivery still finds the instance leaving.
    logger.warn('could not tag the interrupted instance', { error: errorMessage(error) });
  }
}
