import { type Definition, lambdaTask, sdkTask } from './asl';
import { notify } from './pieces';
import { catchAll, catchFunction, retry, retryFunction } from './retry';

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
      NotifyImageFailed: notify({
        subject: { Subject: '${StackName}: image build failed' },
        message: {
          'Message.$':
            "States.Format('The image build {} failed: {}. The fleet stays on its current AMI.', $.resources[0], States.JsonToString($.detail.state))",
        },
        catch: catchAll('NotificationFailed', '$.notifyError'),
        next: 'ImageBuildFailed',
      }),
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
      NotifyPinned: notify({
        subject: { Subject: '${StackName}: new AMI not rolled out (pinned)' },
        message: {
          'Message.$':
            "States.Format('The image {} is available, but workerAmiId pins the fleet to {}: pinned, not rolled out.', $.imageArn, $.pinned)",
        },
        catch: catchAll('NotificationFailed', '$.notifyError'),
        next: 'PinnedNotRolledOut',
      }),
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
        Choices: [
          {
            And: [
              { Variable: '$.image.amis[0].Region', IsPresent: true },
              { Variable: '$.image.amis[0].Region', StringEquals: '${Region}' },
            ],
            Next: 'UseAmi0',
          },
          {
            And: [
              { Variable: '$.image.amis[1].Region', IsPresent: true },
              { Variable: '$.image.amis[1].Region', StringEquals: '${Region}' },
            ],
            Next: 'UseAmi1',
          },
          {
            And: [
              { Variable: '$.image.amis[2].Region', IsPresent: true },
              { Variable: '$.image.amis[2].Region', StringEquals: '${Region}' },
            ],
            Next: 'UseAmi2',
          },
          {
            And: [
              { Variable: '$.image.amis[3].Region', IsPresent: true },
              { Variable: '$.image.amis[3].Region', StringEquals: '${Region}' },
            ],
            Next: 'UseAmi3',
          },
        ],
        Default: 'NotifyNoAmi',
      },
      UseAmi0: { Type: 'Pass', InputPath: '$.image.amis[0].Image', ResultPath: '$.ami', Next: 'DescribeAmi' },
      UseAmi1: { Type: 'Pass', InputPath: '$.image.amis[1].Image', ResultPath: '$.ami', Next: 'DescribeAmi' },
      UseAmi2: { Type: 'Pass', InputPath: '$.image.amis[2].Image', ResultPath: '$.ami', Next: 'DescribeAmi' },
      UseAmi3: { Type: 'Pass', InputPath: '$.image.amis[3].Image', ResultPath: '$.ami', Next: 'DescribeAmi' },
      NotifyNoAmi: notify({
        subject: { Subject: '${StackName}: image has no AMI here' },
        message: {
          'Message.$':
            "States.Format('The image {} has no AMI in ${Region}; nothing rolled out.', $.imageArn)",
        },
        catch: catchAll('NotificationFailed', '$.notifyError'),
        next: 'NoAmi',
      }),
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
            { Name: 'key', Values: ['external-worker:bad'] },
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
      NotifyBadAmi: notify({
        subject: { Subject: '${StackName}: AMI refused (marked bad)' },
        message: {
          'Message.$':
            "States.Format('The AMI {} of image {} is tagged external-worker:bad=true by an earlier failed rollout: refused. Remove the tag to allow it again.', $.ami, $.imageArn)",
        },
        catch: catchAll('NotificationFailed', '$.notifyError'),
        next: 'AmiMarkedBad',
      }),
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
      NotifyOlder: notify({
        subject: { Subject: '${StackName}: older AMI not rolled out' },
        message: {
          'Message.$':
            "States.Format('The AMI {} of image {} is older than the AMI {} the fleet runs: not rolled out.', $.ami, $.imageArn, $.currentImage.imageId)",
        },
        catch: catchAll('NotificationFailed', '$.notifyError'),
        next: 'OlderThanFleet',
      }),
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
          Tags: [{ Key: 'external-worker:launch-template-version', 'Value.$': '$.target.version' }],
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
      'MoveEmptyGroup?': {
        Type: 'Choice',
        Choices: [{ Variable: '$.current.mixed', BooleanEquals: true, Next: 'MoveEmptyGroupMixed' }],
        Default: 'MoveEmptyGroupPlain',
      },
      MoveEmptyGroupPlain: sdkTask('autoscaling', 'updateAutoScalingGroup', {
        Parameters: {
          AutoScalingGroupName: '${GroupName}',
          LaunchTemplate: { LaunchTemplateId: '${LaunchTemplateId}', 'Version.$': '$.target.version' },
        },
        ResultPath: null,
        Retry: retry('autoscaling'),
        Catch: catchAll('NotifyError'),
        Next: 'SetDefaultVersion',
        scope: 'refreshThisGroup',
      }),
      MoveEmptyGroupMixed: sdkTask('autoscaling', 'updateAutoScalingGroup', {
        Parameters: {
          AutoScalingGroupName: '${GroupName}',
          MixedInstancesPolicy: {
            LaunchTemplate: {
              LaunchTemplateSpecification: {
                LaunchTemplateId: '${LaunchTemplateId}',
                'Version.$': '$.target.version',
              },
              'Overrides.$': '$.asg.group.MixedInstancesPolicy.LaunchTemplate.Overrides',
            },
            'InstancesDistribution.$': '$.asg.group.MixedInstancesPolicy.InstancesDistribution',
          },
        },
        ResultPath: null,
        Retry: retry('autoscaling'),
        Catch: catchAll('NotifyError'),
        Next: 'SetDefaultVersion',
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
        Comment: 'A group of one launches the new instance before terminating the old one.',
        Result: { min: 100, max: 200 },
        ResultPath: '$.preferences',
        Next: 'Start?',
      },
      PreferencesConfigured: {
        Type: 'Pass',
        Parameters: {
          'min.$': "States.StringToJson('${MinHealthyPercentage}')",
          'max.$': "States.StringToJson('${MaxHealthyPercentage}')",
        },
        ResultPath: '$.preferences',
        Next: 'Start?',
      },
      'Start?': {
        Type: 'Choice',
        Choices: [{ Variable: '$.current.mixed', BooleanEquals: true, Next: 'StartRefreshMixed' }],
        Default: 'StartRefreshPlain',
      },
      StartRefreshPlain: sdkTask('autoscaling', 'startInstanceRefresh', {
        Parameters: {
          AutoScalingGroupName: '${GroupName}',
          Strategy: 'Rolling',
          DesiredConfiguration: {
            LaunchTemplate: { LaunchTemplateId: '${LaunchTemplateId}', 'Version.$': '$.target.version' },
          },
          Preferences: {
            'MinHealthyPercentage.$': '$.preferences.min',
            'MaxHealthyPercentage.$': '$.preferences.max',
            InstanceWarmup: 120,
            SkipMatching: true,
            AutoRollback: true,
          },
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
      }),
      StartRefreshMixed: sdkTask('autoscaling', 'startInstanceRefresh', {
        Parameters: {
          AutoScalingGroupName: '${GroupName}',
          Strategy: 'Rolling',
          DesiredConfiguration: {
            MixedInstancesPolicy: {
              LaunchTemplate: {
                LaunchTemplateSpecification: {
                  LaunchTemplateId: '${LaunchTemplateId}',
                  'Version.$': '$.target.version',
                },
                'Overrides.$': '$.asg.group.MixedInstancesPolicy.LaunchTemplate.Overrides',
              },
              'InstancesDistribution.$': '$.asg.group.MixedInstancesPolicy.InstancesDistribution',
            },
          },
          Preferences: {
            'MinHealthyPercentage.$': '$.preferences.min',
            'MaxHealthyPercentage.$': '$.preferences.max',
            InstanceWarmup: 120,
            SkipMatching: true,
            AutoRollback: true,
          },
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
            Next: 'FailedByMode',
          },
        ],
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
      NotifyRolledOut: notify({
        subject: { Subject: '${StackName}: new AMI rolled out' },
        message: {
          'Message.$':
            "States.Format('The fleet ${GroupName} now runs {} (image {}, launch template version {}). Old AMIs cleaned up: {}', $.ami, $.imageArn, $.target.version, States.JsonToString($.retention.deleted))",
        },
        catch: catchAll('NotificationFailed', '$.notifyError'),
        next: 'RolledOut',
      }),
      NotifyRolledOutRetentionFailed: notify({
        subject: { Subject: '${StackName}: new AMI rolled out, retention failed' },
        message: {
          'Message.$':
            "States.Format('The fleet ${GroupName} now runs {} (image {}, launch template version {}). The AMI retention failed and runs again daily: {}', $.ami, $.imageArn, $.target.version, States.JsonToString($.retentionError))",
        },
        catch: catchAll('NotificationFailed', '$.notifyError'),
        next: 'RolledOut',
      }),
      RolledOut: { Type: 'Pass', Result: 'succeeded', ResultPath: '$.outcome', End: true },
      FailedByMode: {
        Type: 'Choice',
        Choices: [{ Variable: '$.mode', StringEquals: 'config', Next: 'NotifyConfigFailed' }],
        Default: 'MarkAmiBad',
      },
      MarkAmiBad: sdkTask('ec2', 'createTags', {
        Parameters: {
          'Resources.$': 'States.Array($.ami)',
          Tags: [{ Key: 'external-worker:bad', Value: 'true' }],
        },
        ResultPath: null,
        Retry: retry('ec2'),
        Catch: catchAll('NotifyRolloutFailed', '$.markError'),
        Next: 'NotifyRolloutFailed',
        scope: 'tagThisStacksAmis',
      }),
      NotifyRolloutFailed: notify({
        subject: { Subject: '${StackName}: rollout failed, fleet rolled back' },
        message: {
          'Message.$':
            "States.Format('The rollout of {} (image {}) ended {}; the AMI is marked external-worker:bad=true and is never rolled out again automatically. Instance refresh: {}', $.ami, $.imageArn, $.refreshState.status, States.JsonToString($.refreshState.detail))",
        },
        catch: catchAll('NotificationFailed', '$.notifyError'),
        next: 'RolloutFailed',
      }),
      RolloutFailed: {
        Type: 'Fail',
        Error: 'RolloutFailed',
        Cause: 'The instance refresh did not succeed; the notification carries its reason.',
      },
      NotifyConfigApplied: notify({
        subject: { Subject: '${StackName}: configuration rolled out' },
        message: {
          'Message.$':
            "States.Format('Every instance of ${GroupName} now runs launch template version {}.', $.target.version)",
        },
        catch: catchAll('NotificationFailed', '$.notifyError'),
        next: 'ConfigApplied',
      }),
      ConfigApplied: { Type: 'Pass', Result: 'succeeded', ResultPath: '$.outcome', End: true },
      NotifyConfigFailed: notify({
        subject: { Subject: '${StackName}: configuration rollout failed' },
        message: {
          'Message.$':
            "States.Format('The refresh of ${GroupName} to launch template version {} ended {}: {}', $.target.version, $.refreshState.status, States.JsonToString($.refreshState.detail))",
        },
        catch: catchAll('NotificationFailed', '$.notifyError'),
        next: 'ConfigRolloutFailed',
      }),
      ConfigRolloutFailed: {
        Type: 'Fail',
        Error: 'ConfigRolloutFailed',
        Cause: 'The instance refresh did not succeed; the notification carries its reason.',
      },
      NotifyError: notify({
        subject: { Subject: '${StackName}: rollout stopped on an error' },
        message: {
          'Message.$':
            "States.Format('The rollout {} stopped on an error, the fleet is left as it was: {}', $$.Execution.Name, States.JsonToString($.error))",
        },
        catch: catchAll('NotificationFailed', '$.notifyError'),
        next: 'RolloutError',
      }),
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
