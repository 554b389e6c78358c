import { type AutoScalingClient, CompleteLifecycleActionCommand } from '@aws-sdk/client-auto-scaling';

export type LifecycleActionResult = 'CONTINUE' | 'ABANDON';

/** Auto Scaling's answer when the action was already completed, expired, or its instance is gone. */
const NO_ACTIVE_ACTION = /No active Lifecycle Action found/i;

export function isNoActiveLifecycleAction(error: unknown): boolean {
  return error instanceof Error && NO_ACTIVE_ACTION.test(error.message);
}

export interface LifecycleActionTarget {
  groupName: string;
  hookName: string;
  /** The action's token when known; otherwise the instance identifies the action. */
  token?: string;
  instanceId?: string;
}

/**
 * Completes a lifecycle action. An action that is no longer active was decided already (by an
 * earlier delivery of the same event, by its timeout, or because the instance is gone): that is
 * the end this call wanted, so it returns `false` instead of failing, and nothing retries it.
 */
export async function completeLifecycleAction(
  autoscaling: Pick<AutoScalingClient, 'send'>,
  target: LifecycleActionTarget,
  result: LifecycleActionResult,
): Promise<boolean> {
  if (!target.token && !target.instanceId)
    throw new Error('a lifecycle action needs a token or an instance id');
  try {
    await autoscaling.send(
      new CompleteLifecycleActionCommand({
        AutoScalingGroupName: target.groupName,
        LifecycleHookName: target.hookName,
        LifecycleActionResult: result,
        ...(target.token ? { LifecycleActionToken: target.token } : { InstanceId: target.instanceId }),
      }),
    );
    return true;
  } catch (error) {
    if (isNoActiveLifecycleAction(error)) return false;
    throw error;
  }
}
