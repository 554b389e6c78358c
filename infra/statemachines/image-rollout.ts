import { type Definition, type Json, lambdaTask, type States, sdkTask } from './asl';
import { BAD_AMI_TAG, markAmiBad, notify, pointGroupAt, ROLLBACK_VERSION_TAG } from './pieces';
import { catchAll, catchFunction, retry, retryFunction } from './retry';

/** A notification of the rollout; one that cannot be sent ends the execution as NotificationFailed. */
const tell = (subject: string, message: string, next: string) =>
  notify({
    subject: { Subject: `\${StackName}: ${subject}` },
    message: { 'Message.$': message },
    catch: catchAll('NotificationFailed', '$.notifyError'),
    next,
  });

/** The alarms a refresh watches: any in ALARM fails it, and AutoRollback puts the group back. */
const ROLLOUT_ALARMS = ['${LaunchesAbandonedAlarm}', '${FleetBelowDesiredAlarm}'];

/** Our alarms now in ALARM, under `resultPath` (`alarms`: CloudWatch's MetricAlarms). */
const alarmsInAlarm = (resultPath: string, next: string, onError: string) =>
  sdkTask('cloudwatch', 'describeAlarms', {
    Parameters: { AlarmNames: ROLLOUT_ALARMS, StateValue: 'ALARM' },
    ResultSelector: { 'alarms.$': '$.MetricAlarms' },
    ResultPath: resultPath,
    Retry: retry('cloudwatch'),
    Catch: catchAll(onError, `${resultPath}Error`),
    Next: next,
    scope: 'readRolloutAlarms',
  });

/** Image Builder lists one AMI per distribution region: the one of this region, among the first four. */
const REGIONS_LISTED = [0, 1, 2, 3];

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

/** StartInstanceRefresh to `$.target.version`, `desired` the group's configuration at that version. */
function startRefresh(desired: Json) {
  return sdkTask('autoscaling', 'startInstanceRefresh', {
    Parameters: {
      AutoScalingGroupName: '${GroupName}',
      Strategy: 'Rolling',
      DesiredConfiguration: desired,
      'Preferences.$': '$.plan.preferences',
    },
    ResultSelector: { 'id.$': '$.InstanceRefreshId' },
    ResultPath: '$.refresh',
    Retry: retry('autoscaling'),
    Catch: [
      {
        ErrorEquals: ['AutoScaling.InstanceRefreshInProgressException'],
        ResultPath: '$.error',
        Next: 'WaitForOtherRefresh',
      },
      { ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'NotifyError' },
    ],
    Next: 'WaitRefresh',
    scope: 'refreshThisGroup',
  });
}

const targetSpecification = { LaunchTemplateId: '${LaunchTemplateId}', 'Version.$': '$.target.version' };

/** Why a refresh failed, in words, under `$.failedCheck.summary`: an alarm, the canary, or the refresh. */
function failedCheck(next: string): States {
  const summary = (format: string) => ({
    Type: 'Pass',
    Parameters: { 'summary.$': format },
    ResultPath: '$.failedCheck',
    Next: next,
  });
  const completedBelowCanary = (path: string) => ({
    And: [
      { Variable: path, IsPresent: true },
      { Variable: path, NumericLessThanPath: '$.plan.canary' },
    ],
    Next: 'CanaryFailed',
  });
  return {
    ReadFailedAlarms: alarmsInAlarm('$.failedAlarms', 'AlarmFired?', 'CanaryPassed?'),
    'AlarmFired?': {
      Type: 'Choice',
      Choices: [{ Variable: '$.failedAlarms.alarms[0]', IsPresent: true, Next: 'AlarmFired' }],
      Default: 'CanaryPassed?',
    },
    AlarmFired: summary(
      "States.Format('the alarm {} went into ALARM: {}', $.failedAlarms.alarms[0].AlarmName, $.failedAlarms.alarms[0].StateReason)",
    ),
    'CanaryPassed?': {
      Type: 'Choice',
      Comment: 'Less of the group replaced than the canary share: the canary itself failed.',
      Choices: [
        completedBelowCanary('$.refreshState.detail.RollbackDetails.PercentageCompleteOnRollback'),
        completedBelowCanary('$.refreshState.detail.PercentageComplete'),
      ],
      Default: 'RefreshReason?',
    },
    CanaryFailed: summary(
      "States.Format('the canary ({} % of the group, at least one instance) did not pass the launch gate and its bake', $.plan.canary)",
    ),
    'RefreshReason?': {
      Type: 'Choice',
      Choices: [{ Variable: '$.refreshState.detail.StatusReason', IsPresent: true, Next: 'RefreshFailed' }],
      Default: 'RefreshGaveNoReason',
    },
    RefreshFailed: summary(
      "States.Format('the instance refresh itself ({}): {}', $.refreshState.status, $.refreshState.detail.StatusReason)",
    ),
    RefreshGaveNoReason: summary("States.Format('the instance refresh itself ({})', $.refreshState.status)"),
  };
}

/**
 * The image is one of this stack's pipeline: the rule matches only those, but an execution
 * started by hand or by a misrouted event must not roll out, or report on, anyone else's image.
 */
const OF_THIS_PIPELINE = [
  { Variable: '$.resources[0]', IsPresent: true },
  { Variable: '$.resources[0]', IsString: true },
  { Variable: '$.resources[0]', StringMatches: '${ImageArnPrefix}*' },
];

export function imageRollout(): Definition {
  return {
    Comment:
      "Moves the worker fleet to a new AMI (Image Builder image AVAILABLE) or to the group's launch template version after a deploy, through an instance refresh with automatic rollback.",
    StartAt: 'Route',
    States: {
      Route: {
        Type: 'Choice',
        Choices: [
          {
            And: [
              { Variable: '$.source', IsPresent: true },
              { Variable: '$.source', StringEquals: 'deploy' },
            ],
            Next: 'StartConfig',
          },
          {
            And: [
              { Variable: '$.detail.state.status', IsPresent: true },
              { Variable: '$.detail.state.status', StringEquals: 'AVAILABLE' },
              ...OF_THIS_PIPELINE,
            ],
            Next: 'StartImage',
          },
          {
            And: [
              { Variable: '$.detail.state.status', IsPresent: true },
              { Variable: '$.detail.state.status', StringEquals: 'FAILED' },
              ...OF_THIS_PIPELINE,
            ],
            Next: 'NotifyImageFailed',
          },
        ],
        Default: 'NotForThisStateMachine',
      },
      NotForThisStateMachine: {
        Type: 'Pass',
        Comment:
          "Only AVAILABLE and FAILED events of this stack's images, and deploy events, start a rollout.",
        Result: 'skipped',
        ResultPath: '$.outcome',
        End: true,
      },
      NotifyImageFailed: tell(
        'image build failed',
        "States.Format('The image build {} failed: {}. The fleet stays on its current AMI.', $.resources[0], States.JsonToString($.detail.state))",
        'ImageBuildFailed',
      ),
      ImageBuildFailed: {
        Type: 'Fail',
        Error: 'ImageBuildFailed',
        Cause: 'The image build failed; the notification carries the reason.',
      },
      StartConfig: {
        Type: 'Pass',
        Parameters: { mode: 'config', 'rollout.$': '$$.Execution.Name' },
        Next: 'DescribeGroup',
      },
      StartImage: {
        Type: 'Pass',
        Parameters: {
          mode: 'image',
          'imageArn.$': '$.resources[0]',
          'rollout.$': '$$.Execution.Name',
          pinned: '${PinnedAmiId}',
        },
        Next: 'Pinned?',
      },
      'Pinned?': {
        Type: 'Choice',
        Choices: [{ Variable: '$.pinned', StringEquals: 'none', Next: 'GetImage' }],
        Default: 'NotifyPinned',
      },
      NotifyPinned: tell(
        'new AMI not rolled out (pinned)',
        "States.Format('The image {} is available, but workerAmiId pins the fleet to {}: pinned, not rolled out.', $.imageArn, $.pinned)",
        'PinnedNotRolledOut',
      ),
      PinnedNotRolledOut: { Type: 'Pass', Result: 'skipped', ResultPath: '$.outcome', End: true },
      GetImage: sdkTask('imagebuilder', 'getImage', {
        Parameters: { 'ImageBuildVersionArn.$': '$.imageArn' },
        ResultSelector: { 'amis.$': '$.Image.OutputResources.Amis' },
        ResultPath: '$.image',
        Retry: retry('imagebuilder'),
        Catch: catchAll('NotifyError'),
        Next: 'RegionalAmi?',
        scope: 'readThisStacksImages',
      }),
      'RegionalAmi?': {
        Type: 'Choice',
        Choices: REGIONS_LISTED.map((index) => ({
          And: [
            { Variable: `$.image.amis[${index}].Region`, IsPresent: true },
            { Variable: `$.image.amis[${index}].Region`, StringEquals: '${Region}' },
          ],
          Next: `UseAmi${index}`,
        })),
        Default: 'NotifyNoAmi',
      },
      ...Object.fromEntries(
        REGIONS_LISTED.map((index) => [
          `UseAmi${index}`,
          {
            Type: 'Pass',
            InputPath: `$.image.amis[${index}].Image`,
            ResultPath: '$.ami',
            Next: 'DescribeAmi',
          },
        ]),
      ),
      NotifyNoAmi: tell(
        'image has no AMI here',
        "States.Format('The image {} has no AMI in ${Region}; nothing rolled out.', $.imageArn)",
        'NoAmi',
      ),
      NoAmi: { Type: 'Fail', Error: 'NoAmiInRegion', Cause: 'The image distributed no AMI to this region.' },
      DescribeAmi: sdkTask('ec2', 'describeImages', {
        Parameters: { 'ImageIds.$': 'States.Array($.ami)' },
        ResultSelector: {
          'creationDate.$': '$.Images[0].CreationDate',
          // Read by TagAmiSnapshots: Image Builder's AmiTags reach the AMI, never its snapshots.
          'blockDeviceMappings.$': '$.Images[0].BlockDeviceMappings',
        },
        ResultPath: '$.amiInfo',
        Retry: retry('ec2'),
        Catch: catchAll('NotifyError'),
        Next: 'ReadBadMark',
        scope: 'anyResource',
      }),
      ReadBadMark: sdkTask('ec2', 'describeTags', {
        Parameters: {
          Filters: [
            { Name: 'resource-id', 'Values.$': 'States.Array($.ami)' },
            { Name: 'key', Values: [BAD_AMI_TAG] },
            { Name: 'value', Values: ['true'] },
          ],
        },
        ResultSelector: { 'tags.$': '$.Tags' },
        ResultPath: '$.badMark',
        Retry: retry('ec2'),
        Catch: catchAll('NotifyError'),
        Next: 'Bad?',
        scope: 'anyResource',
      }),
      'Bad?': {
        Type: 'Choice',
        Choices: [{ Variable: '$.badMark.tags[0]', IsPresent: true, Next: 'NotifyBadAmi' }],
        Default: 'ReadVersionMark',
      },
      NotifyBadAmi: tell(
        'AMI refused (marked bad)',
        "States.Format('The AMI {} of image {} is tagged external-worker:bad=true by an earlier failed rollout: refused. Remove the tag to allow it again.', $.ami, $.imageArn)",
        'AmiMarkedBad',
      ),
      AmiMarkedBad: {
        Type: 'Fail',
        Error: 'AmiMarkedBad',
        Cause: 'The AMI is tagged external-worker:bad=true.',
      },
      ReadVersionMark: sdkTask('ec2', 'describeTags', {
        Parameters: {
          Filters: [
            { Name: 'resource-id', 'Values.$': 'States.Array($.ami)' },
            { Name: 'key', Values: ['external-worker:launch-template-version'] },
          ],
        },
        ResultSelector: { 'tags.$': '$.Tags' },
        ResultPath: '$.versionMark',
        Retry: retry('ec2'),
        Catch: catchAll('NotifyError'),
        Next: 'DescribeGroup',
        scope: 'anyResource',
      }),
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
      CurrentPlain: {
        Type: 'Pass',
        Parameters: {
          'version.$': '$.asg.group.LaunchTemplate.Version',
          'desired.$': '$.asg.group.DesiredCapacity',
          mixed: false,
        },
        ResultPath: '$.current',
        Next: 'ByMode',
      },
      CurrentMixed: {
        Type: 'Pass',
        Parameters: {
          'version.$': '$.asg.group.MixedInstancesPolicy.LaunchTemplate.LaunchTemplateSpecification.Version',
          'desired.$': '$.asg.group.DesiredCapacity',
          mixed: true,
        },
        ResultPath: '$.current',
        Next: 'ByMode',
      },
      ByMode: {
        Type: 'Choice',
        Choices: [{ Variable: '$.mode', StringEquals: 'config', Next: 'CompareInstances' }],
        Default: 'DescribeCurrentVersion',
      },
      DescribeCurrentVersion: sdkTask('ec2', 'describeLaunchTemplateVersions', {
        Parameters: {
          LaunchTemplateId: '${LaunchTemplateId}',
          'Versions.$': 'States.Array($.current.version)',
        },
        ResultSelector: { 'imageId.$': '$.LaunchTemplateVersions[0].LaunchTemplateData.ImageId' },
        ResultPath: '$.currentImage',
        Retry: retry('ec2'),
        Catch: catchAll('NotifyError'),
        Next: 'AlreadyCurrent?',
        scope: 'anyResource',
      }),
      'AlreadyCurrent?': {
        Type: 'Choice',
        Choices: [
          { Variable: '$.currentImage.imageId', StringEqualsPath: '$.ami', Next: 'AlreadyRolledOut' },
        ],
        Default: 'DescribeCurrentImage',
      },
      AlreadyRolledOut: {
        Type: 'Pass',
        Comment: 'The group already runs this AMI: a repeated event acts once.',
        Result: 'skipped',
        ResultPath: '$.outcome',
        End: true,
      },
      DescribeCurrentImage: sdkTask('ec2', 'describeImages', {
        Parameters: { 'ImageIds.$': 'States.Array($.currentImage.imageId)' },
        ResultSelector: { 'images.$': '$.Images' },
        ResultPath: '$.currentImageInfo',
        Retry: retry('ec2'),
        Catch: catchAll('TargetKnown?', '$.currentImageError'),
        Next: 'Older?',
        scope: 'anyResource',
      }),
      'Older?': {
        Type: 'Choice',
        Choices: [
          {
            And: [
              { Variable: '$.currentImageInfo.images[0].CreationDate', IsPresent: true },
              {
                Variable: '$.amiInfo.creationDate',
                TimestampLessThanPath: '$.currentImageInfo.images[0].CreationDate',
              },
            ],
            Next: 'NotifyOlder',
          },
        ],
        Default: 'TargetKnown?',
      },
      NotifyOlder: tell(
        'older AMI not rolled out',
        "States.Format('The AMI {} of image {} is older than the AMI {} the fleet runs: not rolled out.', $.ami, $.imageArn, $.currentImage.imageId)",
        'OlderThanFleet',
      ),
      OlderThanFleet: { Type: 'Pass', Result: 'skipped', ResultPath: '$.outcome', End: true },
      'TargetKnown?': {
        Type: 'Choice',
        Choices: [
          { Variable: '$.target', IsPresent: true, Next: 'Empty?' },
          { Variable: '$.versionMark.tags[0].Value', IsPresent: true, Next: 'ReuseVersion' },
        ],
        Default: 'TagAmi',
      },
      ReuseVersion: {
        Type: 'Pass',
        Comment: 'An earlier delivery of this event made the version already.',
        Parameters: { 'version.$': '$.versionMark.tags[0].Value' },
        ResultPath: '$.target',
        Next: 'Empty?',
      },
      TagAmi: sdkTask('ec2', 'createTags', {
        Parameters: {
          'Resources.$': 'States.Array($.ami)',
          Tags: [
            { Key: 'external-worker:image', 'Value.$': '$.imageArn' },
            { Key: 'external-worker:rollout', 'Value.$': '$.rollout' },
          ],
        },
        ResultPath: null,
        Retry: retry('ec2'),
        Catch: catchAll('NotifyError'),
        Next: 'AmiSnapshots?',
        scope: 'tagThisStacksAmis',
      }),
      'AmiSnapshots?': {
        Type: 'Choice',
        Choices: [
          {
            Variable: '$.amiInfo.blockDeviceMappings[0].Ebs.SnapshotId',
            IsPresent: true,
            Next: 'TagAmiSnapshots',
          },
        ],
        Default: 'CreateVersion',
      },
      // The stack's cost and ownership tags on what the AMI is made of. CreateTags is idempotent:
      // a replayed event tags them again, to the same values.
      TagAmiSnapshots: sdkTask('ec2', 'createTags', {
        Parameters: {
          'Resources.$': '$.amiInfo.blockDeviceMappings[*].Ebs.SnapshotId',
          Tags: [
            { Key: 'external-worker:stack', Value: '${StackName}' },
            { Key: 'customer', Value: '${Customer}' },
            { Key: 'project', Value: '${Project}' },
            { Key: 'env', Value: '${Env}' },
          ],
        },
        ResultPath: null,
        Retry: retry('ec2'),
        Catch: catchAll('NotifyError'),
        Next: 'CreateVersion',
        scope: 'tagThisStacksAmiSnapshots',
      }),
      CreateVersion: sdkTask('ec2', 'createLaunchTemplateVersion', {
        Parameters: {
          LaunchTemplateId: '${LaunchTemplateId}',
          'SourceVersion.$': '$.current.version',
          'ClientToken.$': "States.Format('rollout-{}', $.ami)",
          'VersionDescription.$': "States.Format('{} from {}', $.ami, $.imageArn)",
          LaunchTemplateData: { 'ImageId.$': '$.ami' },
        },
        ResultSelector: { 'version.$': "States.Format('{}', $.LaunchTemplateVersion.VersionNumber)" },
        ResultPath: '$.target',
        Retry: retry('ec2'),
        Catch: catchAll('NotifyError'),
        Next: 'MarkVersion',
        scope: 'versionThisLaunchTemplate',
      }),
      MarkVersion: sdkTask('ec2', 'createTags', {
        Parameters: {
          'Resources.$': 'States.Array($.ami)',
          Tags: [
            { Key: 'external-worker:launch-template-version', 'Value.$': '$.target.version' },
            // Where the launch gate's storm guard returns the group if this AMI never boots.
            { Key: ROLLBACK_VERSION_TAG, 'Value.$': '$.current.version' },
          ],
        },
        ResultPath: null,
        Retry: retry('ec2'),
        Catch: catchAll('NotifyError'),
        Next: 'Empty?',
        scope: 'tagThisStacksAmis',
      }),
      'Empty?': {
        Type: 'Choice',
        Choices: [{ Variable: '$.current.desired', NumericEquals: 0, Next: 'MoveEmptyGroup?' }],
        Default: 'CheckRefreshes',
      },
      ...pointGroupAt({
        name: 'MoveEmptyGroup',
        version: '$.target.version',
        group: '$.asg.group',
        next: 'SetDefaultVersion',
        catch: catchAll('NotifyError'),
        scope: 'refreshThisGroup',
      }),
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
      InSync: {
        Type: 'Pass',
        Comment: "Every running instance already uses the group's launch template version.",
        Result: 'skipped',
        ResultPath: '$.outcome',
        End: true,
      },
      TargetGroupVersion: {
        Type: 'Pass',
        Parameters: { 'version.$': '$.current.version' },
        ResultPath: '$.target',
        Next: 'CheckRefreshes',
      },
      CheckRefreshes: sdkTask('autoscaling', 'describeInstanceRefreshes', {
        Parameters: { AutoScalingGroupName: '${GroupName}', MaxRecords: 1 },
        ResultSelector: { 'refreshes.$': '$.InstanceRefreshes' },
        ResultPath: '$.latest',
        Retry: retry('autoscaling'),
        Catch: catchAll('NotifyError'),
        Next: 'Duplicate?',
        scope: 'anyResource',
      }),
      'Duplicate?': {
        Type: 'Choice',
        Choices: [
          {
            And: [
              {
                Variable: '$.latest.refreshes[0].DesiredConfiguration.LaunchTemplate.Version',
                IsPresent: true,
              },
              {
                Variable: '$.latest.refreshes[0].DesiredConfiguration.LaunchTemplate.Version',
                StringEqualsPath: '$.target.version',
              },
            ],
            Next: 'AlreadyRefreshing',
          },
          {
            And: [
              {
                Variable:
                  '$.latest.refreshes[0].DesiredConfiguration.MixedInstancesPolicy.LaunchTemplate.LaunchTemplateSpecification.Version',
                IsPresent: true,
              },
              {
                Variable:
                  '$.latest.refreshes[0].DesiredConfiguration.MixedInstancesPolicy.LaunchTemplate.LaunchTemplateSpecification.Version',
                StringEqualsPath: '$.target.version',
              },
            ],
            Next: 'AlreadyRefreshing',
          },
          {
            And: [
              { Variable: '$.latest.refreshes[0].Status', IsPresent: true },
              {
                Or: [
                  { Variable: '$.latest.refreshes[0].Status', StringEquals: 'Pending' },
                  { Variable: '$.latest.refreshes[0].Status', StringEquals: 'InProgress' },
                  { Variable: '$.latest.refreshes[0].Status', StringEquals: 'Cancelling' },
                  { Variable: '$.latest.refreshes[0].Status', StringEquals: 'RollbackInProgress' },
                  { Variable: '$.latest.refreshes[0].Status', StringEquals: 'Baking' },
                ],
              },
            ],
            Next: 'WaitForOtherRefresh',
          },
        ],
        Default: 'Preferences?',
      },
      AlreadyRefreshing: {
        Type: 'Pass',
        Comment: 'A refresh to this very version exists: the execution that started it sees it through.',
        Result: 'skipped',
        ResultPath: '$.outcome',
        End: true,
      },
      WaitForOtherRefresh: {
        Type: 'Wait',
        Comment: "Another refresh (a rollout, or an operator's) is waited for, never cancelled.",
        Seconds: 120,
        Next: 'DescribeGroup',
      },
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
        Next: 'ReadAlarmsBeforeStart',
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
        Next: 'ReadAlarmsBeforeStart',
      },
      ReadAlarmsBeforeStart: alarmsInAlarm('$.alarmsBefore', 'FleetDegraded?', 'NotifyError'),
      'FleetDegraded?': {
        Type: 'Choice',
        Comment:
          'A refresh started while one of its alarms is in ALARM would fail at once and mark a good AMI bad: wait for the fleet first.',
        Choices: [{ Variable: '$.alarmsBefore.alarms[0]', IsPresent: true, Next: 'WaitForQuietAlarms' }],
        Default: 'Start?',
      },
      WaitForQuietAlarms: { Type: 'Wait', Seconds: 120, Next: 'DescribeGroup' },
      'Start?': {
        Type: 'Choice',
        Choices: [{ Variable: '$.current.mixed', BooleanEquals: true, Next: 'StartRefreshMixed' }],
        Default: 'StartRefreshPlain',
      },
      StartRefreshPlain: startRefresh({ LaunchTemplate: targetSpecification }),
      StartRefreshMixed: startRefresh({
        MixedInstancesPolicy: {
          LaunchTemplate: {
            LaunchTemplateSpecification: targetSpecification,
            'Overrides.$': '$.asg.group.MixedInstancesPolicy.LaunchTemplate.Overrides',
          },
          'InstancesDistribution.$': '$.asg.group.MixedInstancesPolicy.InstancesDistribution',
        },
      }),
      WaitRefresh: { Type: 'Wait', Seconds: 60, Next: 'DescribeRefresh' },
      DescribeRefresh: sdkTask('autoscaling', 'describeInstanceRefreshes', {
        Parameters: {
          AutoScalingGroupName: '${GroupName}',
          'InstanceRefreshIds.$': 'States.Array($.refresh.id)',
        },
        ResultSelector: { 'status.$': '$.InstanceRefreshes[0].Status', 'detail.$': '$.InstanceRefreshes[0]' },
        ResultPath: '$.refreshState',
        Retry: retry('autoscaling'),
        Catch: catchAll('NotifyError'),
        Next: 'RefreshEnded?',
        scope: 'anyResource',
      }),
      'RefreshEnded?': {
        Type: 'Choice',
        Choices: [
          { Variable: '$.refreshState.status', StringEquals: 'Successful', Next: 'SucceededByMode' },
          {
            Or: [
              { Variable: '$.refreshState.status', StringEquals: 'Failed' },
              { Variable: '$.refreshState.status', StringEquals: 'Cancelled' },
              { Variable: '$.refreshState.status', StringEquals: 'RollbackSuccessful' },
              { Variable: '$.refreshState.status', StringEquals: 'RollbackFailed' },
            ],
            Next: 'ReadFailedAlarms',
          },
        ],
        Comment: 'Pending, InProgress (a checkpoint delay included), Baking, RollbackInProgress: not yet.',
        Default: 'WaitRefresh',
      },
      SucceededByMode: {
        Type: 'Choice',
        Choices: [{ Variable: '$.mode', StringEquals: 'config', Next: 'NotifyConfigApplied' }],
        Default: 'SetDefaultVersion',
      },
      SetDefaultVersion: sdkTask('ec2', 'modifyLaunchTemplate', {
        Parameters: { LaunchTemplateId: '${LaunchTemplateId}', 'DefaultVersion.$': '$.target.version' },
        ResultPath: null,
        Retry: retry('ec2'),
        Catch: catchAll('NotifyError'),
        Next: 'RecordCurrentAmi',
        scope: 'versionThisLaunchTemplate',
      }),
      RecordCurrentAmi: sdkTask('ssm', 'putParameter', {
        Parameters: { Name: '${CurrentAmiParameter}', 'Value.$': '$.ami', Type: 'String', Overwrite: true },
        ResultPath: null,
        Retry: retry('ssm'),
        Catch: catchAll('NotifyError'),
        Next: 'RunRetention',
        scope: 'recordCurrentAmi',
      }),
      RunRetention: lambdaTask({
        Parameters: {
          FunctionName: '${RetentionFunctionArn}',
          Payload: {
            'protectNewerThan.$': '$.amiInfo.creationDate',
            'protectAmis.$': 'States.Array($.currentImage.imageId)',
          },
        },
        ResultSelector: { 'deleted.$': '$.Payload.deleted' },
        ResultPath: '$.retention',
        Retry: retryFunction(),
        Catch: catchFunction('NotifyRolledOutRetentionFailed', '$.retentionError'),
        Next: 'NotifyRolledOut',
        scope: 'retentionFunction',
      }),
      NotifyRolledOut: tell(
        'new AMI rolled out',
        "States.Format('The fleet ${GroupName} now runs {} (image {}, launch template version {}). Old AMIs cleaned up: {}', $.ami, $.imageArn, $.target.version, States.JsonToString($.retention.deleted))",
        'RolledOut',
      ),
      NotifyRolledOutRetentionFailed: tell(
        'new AMI rolled out, retention failed',
        "States.Format('The fleet ${GroupName} now runs {} (image {}, launch template version {}). The AMI retention failed and runs again daily: {}', $.ami, $.imageArn, $.target.version, States.JsonToString($.retentionError))",
        'RolledOut',
      ),
      RolledOut: { Type: 'Pass', Result: 'succeeded', ResultPath: '$.outcome', End: true },
      ...failedCheck('FailedByMode'),
      FailedByMode: {
        Type: 'Choice',
        Choices: [{ Variable: '$.mode', StringEquals: 'config', Next: 'NotifyConfigFailed' }],
        Default: 'MarkAmiBad',
      },
      MarkAmiBad: markAmiBad({
        ami: '$.ami',
        next: 'NotifyRolloutFailed',
        catch: catchAll('NotifyRolloutFailed', '$.markError'),
      }),
      NotifyRolloutFailed: tell(
        'rollout failed, fleet rolled back',
        "States.Format('The rollout of {} (image {}) ended {}. Failed check: {}. The AMI is marked external-worker:bad=true and is never rolled out again automatically. Instance refresh: {}', $.ami, $.imageArn, $.refreshState.status, $.failedCheck.summary, States.JsonToString($.refreshState.detail))",
        'RolloutFailed',
      ),
      RolloutFailed: {
        Type: 'Fail',
        Error: 'RolloutFailed',
        Cause: 'The instance refresh did not succeed; the notification carries its reason.',
      },
      NotifyConfigApplied: tell(
        'configuration rolled out',
        "States.Format('Every instance of ${GroupName} now runs launch template version {}.', $.target.version)",
        'ConfigApplied',
      ),
      ConfigApplied: { Type: 'Pass', Result: 'succeeded', ResultPath: '$.outcome', End: true },
      NotifyConfigFailed: tell(
        'configuration rollout failed',
        "States.Format('The refresh of ${GroupName} to launch template version {} ended {}. Failed check: {}. Instance refresh: {}', $.target.version, $.refreshState.status, $.failedCheck.summary, States.JsonToString($.refreshState.detail))",
        'ConfigRolloutFailed',
      ),
      ConfigRolloutFailed: {
        Type: 'Fail',
        Error: 'ConfigRolloutFailed',
        Cause: 'The instance refresh did not succeed; the notification carries its reason.',
      },
      NotifyError: tell(
        'rollout stopped on an error',
        "States.Format('The rollout {} stopped on an error, the fleet is left as it was: {}', $$.Execution.Name, States.JsonToString($.error))",
        'RolloutError',
      ),
      RolloutError: {
        Type: 'Fail',
        Error: 'RolloutError',
        Cause: 'An AWS call failed; the notification carries the error.',
      },
      NotificationFailed: {
        Type: 'Fail',
        Error: 'NotificationFailed',
        Cause: 'The notification could not be published.',
      },
    },
  };
}
