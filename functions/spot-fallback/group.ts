import {
  type AutoScalingClient,
  DescribeAutoScalingGroupsCommand,
  UpdateAutoScalingGroupCommand,
} from '@aws-sdk/client-auto-scaling';
import { errorMessage, TerminalError } from '../lib/errors';
import { logger } from '../lib/observability';

/** The group has no mixed instances policy: it has no on-demand share to change. */
export class NotASpotGroupError extends TerminalError {
  override readonly name = 'NotASpotGroupError';
}

export type ShareChange = 'unchanged' | 'changed' | 'deferred';

/**
 * Puts the group's on-demand share above its base at `percentage`, leaving the rest of its mixed
 * instances policy as it is: the policy is sent whole, as described (launch template version and
 * overrides included), as the state machines do when they point the group at a version. New
 * launches follow at once; Auto Scaling replaces running instances gradually to match, launching
 * before it terminates.
 * https://docs.aws.amazon.com/autoscaling/ec2/APIReference/API_UpdateAutoScalingGroup.html
 *
 * While an instance refresh with a desired configuration runs (a rollout), Auto Scaling refuses
 * changes to what that configuration holds: the change is left to the next check, which puts the
 * share the phase wants (the refresh may also end by writing back the share it started with).
 */
export async function setOnDemandShare(
  autoscaling: Pick<AutoScalingClient, 'send'>,
  groupName: string,
  percentage: number,
): Promise<ShareChange> {
  const { AutoScalingGroups = [] } = await autoscaling.send(
    new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [groupName] }),
  );
  const policy = AutoScalingGroups[0]?.MixedInstancesPolicy;
  if (!policy?.LaunchTemplate) {
    throw new NotASpotGroupError(`${groupName} has no mixed instances policy: no on-demand share to set`);
  }
  const distribution = policy.InstancesDistribution ?? {};
  if (distribution.OnDemandPercentageAboveBaseCapacity === percentage) return 'unchanged';
  // Described, the specification carries the template's id and name; a request takes one of them.
  const { LaunchTemplateId, LaunchTemplateName, Version } =
    policy.LaunchTemplate.LaunchTemplateSpecification ?? {};
  const specification = LaunchTemplateId ? { LaunchTemplateId, Version } : { LaunchTemplateName, Version };
  try {
    await autoscaling.send(
      new UpdateAutoScalingGroupCommand({
        AutoScalingGroupName: groupName,
        MixedInstancesPolicy: {
          LaunchTemplate: { ...policy.LaunchTemplate, LaunchTemplateSpecification: specification },
          InstancesDistribution: { ...distribution, OnDemandPercentageAboveBaseCapacity: percentage },
        },
      }),
    );
  } catch (error) {
    if (isRefreshLock(error)) {
      logger.warn('an instance refresh holds the group: the next check sets the share', {
        groupName,
        percentage,
        error: errorMessage(error),
      });
      return 'deferred';
    }
    throw error;
  }
  return 'changed';
}

/** "An active instance refresh with a desired configuration exists…" (a ValidationError). */
function isRefreshLock(error: unknown): boolean {
  return (
    error instanceof Error &&
    error.name === 'ValidationError' &&
    /instance refresh/i.test(error.message) &&
    /desired configuration/i.test(error.message)
  );
}
