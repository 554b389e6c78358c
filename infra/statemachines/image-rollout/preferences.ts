import type { Json, States } from '../asl';
import { ROLLOUT_ALARMS } from './alarms';

/**
 * The refresh's preferences: a canary share first (a checkpoint, then CheckpointDelay as its
 * bake), the rest, a bake at the end (BakeTime), the alarms watched throughout, AutoRollback.
 * https://docs.aws.amazon.com/autoscaling/ec2/userguide/asg-adding-checkpoints-instance-refresh.html
 * https://docs.aws.amazon.com/autoscaling/ec2/userguide/instance-refresh-rollback.html
 * https://docs.aws.amazon.com/autoscaling/ec2/APIReference/API_RefreshPreferences.html
 */
function plan(healthy: Record<string, Json>, canary: Json, checkpoints: boolean) {
  const bake = "States.StringToJson('${RolloutBakeSeconds}')";
  return {
    preferences: {
      ...healthy,
      InstanceWarmup: 120,
      SkipMatching: true,
      AutoRollback: true,
      ...(checkpoints
        ? {
            'CheckpointPercentages.$': "States.Array(States.StringToJson('${RolloutCanaryPercentage}'), 100)",
            'CheckpointDelay.$': bake,
          }
        : {}),
      'BakeTime.$': bake,
      AlarmSpecification: { Alarms: ROLLOUT_ALARMS },
    },
    ...(typeof canary === 'string' ? { 'canary.$': canary } : { canary }),
  } as Json;
}

/** The refresh's preferences and canary share under `$.plan`, by the group's size; then `next`. */
export function refreshPlan(next: string): States {
  return {
    'Preferences?': {
      Type: 'Choice',
      Choices: [{ Variable: '$.current.desired', NumericLessThanEquals: 1, Next: 'PreferencesSingle' }],
      Default: 'PreferencesConfigured',
    },
    PreferencesSingle: {
      Type: 'Pass',
      Comment:
        'A group of one launches the new instance before terminating the old one; that instance is the canary, baked by BakeTime.',
      Parameters: plan({ MinHealthyPercentage: 100, MaxHealthyPercentage: 200 }, 100, false),
      ResultPath: '$.plan',
      Next: next,
    },
    PreferencesConfigured: {
      Type: 'Pass',
      Parameters: plan(
        {
          'MinHealthyPercentage.$': "States.StringToJson('${MinHealthyPercentage}')",
          'MaxHealthyPercentage.$': "States.StringToJson('${MaxHealthyPercentage}')",
        },
        "States.StringToJson('${RolloutCanaryPercentage}')",
        true,
      ),
      ResultPath: '$.plan',
      Next: next,
    },
  };
}
