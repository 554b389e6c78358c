import { type State, type States, sdkTask } from '../asl';
import { catchAll, retry } from '../retry';

/** The group's current launch template version and size, under `$.current`. */
const current = (version: string, mixed: boolean): State => ({
  Type: 'Pass',
  Parameters: { 'version.$': version, 'desired.$': '$.asg.group.DesiredCapacity', mixed },
  ResultPath: '$.current',
  Next: 'ByMode',
});

/**
 * The group as it is now (under `$.asg`, its version, size and kind under `$.current`); then a
 * config rollout goes on to `next.config`, an image rollout to `next.image`. Every wait for
 * another refresh or for the alarms comes back here: the group may have changed meanwhile.
 */
export function currentGroup(next: { config: string; image: string }): States {
  return {
    DescribeGroup: sdkTask('autoscaling', 'describeAutoScalingGroups', {
      Parameters: { AutoScalingGroupNames: ['${GroupName}'] },
      ResultSelector: { 'group.$': '$.AutoScalingGroups[0]' },
      ResultPath: '$.asg',
      Retry: retry('autoscaling'),
      Catch: catchAll('NotifyError'),
      Next: 'Mixed?',
      scope: 'anyResource',
    }),
    'Mixed?': {
      Type: 'Choice',
      Choices: [{ Variable: '$.asg.group.MixedInstancesPolicy', IsPresent: true, Next: 'CurrentMixed' }],
      Default: 'CurrentPlain',
    },
    CurrentPlain: current('$.asg.group.LaunchTemplate.Version', false),
    CurrentMixed: current(
      '$.asg.group.MixedInstancesPolicy.LaunchTemplate.LaunchTemplateSpecification.Version',
      true,
    ),
    ByMode: {
      Type: 'Choice',
      Choices: [{ Variable: '$.mode', StringEquals: 'config', Next: next.config }],
      Default: next.image,
    },
  };
}
