import { instanceRefreshProblems } from './instance-refresh-rules';

const GROUP = 'ew-test-workers';

describe('StartInstanceRefresh rules, as Auto Scaling documents them', () => {
  const valid = {
    AutoScalingGroupName: GROUP,
    Strategy: 'Rolling' as const,
    DesiredConfiguration: { LaunchTemplate: { LaunchTemplateId: 'lt-0123456789abcdef0', Version: '7' } },
    Preferences: {
      MinHealthyPercentage: 90,
      MaxHealthyPercentage: 190,
      CheckpointPercentages: [10, 100],
      CheckpointDelay: 600,
      BakeTime: 600,
      AutoRollback: true,
      AlarmSpecification: { Alarms: ['a'] },
    },
  };
  // null removes a preference.
  const withPreferences = (preferences: Record<string, unknown>) => ({
    ...valid,
    Preferences: Object.fromEntries(
      Object.entries({ ...valid.Preferences, ...preferences }).filter(([, value]) => value !== null),
    ),
  });

  test('the rollout request is valid', () => {
    expect(instanceRefreshProblems(valid)).toEqual([]);
  });

  test.each([
    [{ CheckpointPercentages: [10, 50] }, 'CheckpointPercentages must end at 100'],
    [{ CheckpointPercentages: [50, 10, 100] }, 'CheckpointPercentages must be unique and in ascending order'],
    [{ CheckpointPercentages: null }, 'CheckpointDelay needs CheckpointPercentages'],
    [{ CheckpointDelay: 172801 }, 'CheckpointDelay must be an integer from 0 to 172800, given 172801'],
    [{ BakeTime: -1 }, 'BakeTime must be an integer from 0 to 172800, given -1'],
    [
      { MinHealthyPercentage: 50, MaxHealthyPercentage: 200 },
      'MaxHealthyPercentage - MinHealthyPercentage may not exceed 100',
    ],
    [
      { AlarmSpecification: { Alarms: Array.from({ length: 11 }, (_, i) => `a${i}`) } },
      'AlarmSpecification takes 1 to 10 alarms',
    ],
  ])('%j is refused', (preferences, problem) => {
    expect(instanceRefreshProblems(withPreferences(preferences))).toEqual([problem]);
  });

  test('AutoRollback needs a desired configuration with an explicit version', () => {
    expect(instanceRefreshProblems({ ...valid, DesiredConfiguration: undefined })).toEqual([
      'AutoRollback needs a DesiredConfiguration with a launch template',
    ]);
    expect(
      instanceRefreshProblems({
        ...valid,
        DesiredConfiguration: {
          LaunchTemplate: { LaunchTemplateId: 'lt-0123456789abcdef0', Version: '$Latest' },
        },
      }),
    ).toEqual(['AutoRollback needs an explicit launch template version, given $Latest']);
  });
});
