import type { States } from '../asl';
import { ended } from '../choices';

/**
 * After a deploy: does any running instance use another launch template version than the
 * group's? If so the target is the group's version (on to `next`), else nothing to do.
 */
export function configDrift(next: string): States {
  return {
    CompareInstances: {
      Type: 'Map',
      ItemsPath: '$.asg.group.Instances',
      ItemSelector: {
        'state.$': '$$.Map.Item.Value.LifecycleState',
        'version.$': '$$.Map.Item.Value.LaunchTemplate.Version',
        'groupVersion.$': '$.current.version',
      },
      ItemProcessor: {
        ProcessorConfig: { Mode: 'INLINE' },
        StartAt: 'InstanceDiffers?',
        States: {
          'InstanceDiffers?': {
            Type: 'Choice',
            Choices: [
              {
                And: [
                  { Variable: '$.state', StringEquals: 'InService' },
                  { Not: { Variable: '$.version', StringEqualsPath: '$.groupVersion' } },
                ],
                Next: 'Differs',
              },
            ],
            Default: 'Same',
          },
          Differs: { Type: 'Pass', Result: 'differs', End: true },
          Same: { Type: 'Pass', Result: 'same', End: true },
        },
      },
      ResultPath: '$.drift',
      Next: 'Drift?',
    },
    'Drift?': {
      Type: 'Pass',
      Parameters: { 'differs.$': "States.ArrayContains($.drift, 'differs')" },
      ResultPath: '$.driftCheck',
      Next: 'Drifted?',
    },
    'Drifted?': {
      Type: 'Choice',
      Choices: [{ Variable: '$.driftCheck.differs', BooleanEquals: true, Next: 'TargetGroupVersion' }],
      Default: 'InSync',
    },
    InSync: ended('skipped', "Every running instance already uses the group's launch template version."),
    TargetGroupVersion: {
      Type: 'Pass',
      Parameters: { 'version.$': '$.current.version' },
      ResultPath: '$.target',
      Next: next,
    },
  };
}
