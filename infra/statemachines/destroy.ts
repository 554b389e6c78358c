import { type Definition, sdkTask } from './asl';
import { notify } from './pieces';
import { catchAll, retry } from './retry';

/**
 * Deletes one snapshot (`$.snapshotId`), unless a dry run; one already gone counts as deleted.
 * `of` names its states apart (`Own…` inside the AMI's iteration): names are unique per machine.
 */
function deleteSnapshot(of: '' | 'Own' = '') {
  const name = (state: string) => state.replace('Snapshot', `${of}Snapshot`);
  return {
    ProcessorConfig: { Mode: 'INLINE' },
    StartAt: name('SnapshotDryRun?'),
    States: {
      [name('SnapshotDryRun?')]: {
        Type: 'Choice',
        Choices: [{ Variable: '$.dryRun', BooleanEquals: true, Next: name('SnapshotWouldBeDeleted') }],
        Default: name('DeleteSnapshot'),
      },
      [name('DeleteSnapshot')]: sdkTask('ec2', 'deleteSnapshot', {
        Parameters: { 'SnapshotId.$': '$.snapshotId' },
        ResultPath: null,
        Retry: retry('ec2'),
        Catch: catchAll(name('SnapshotAlreadyGone?')),
        Next: name('SnapshotDeleted'),
        scope: of ? 'deleteSnapshotsOfThisStacksAmis' : 'deleteTaggedSnapshots',
      }),
      [name('SnapshotAlreadyGone?')]: {
        Type: 'Choice',
        Choices: [
          {
            Or: [
              { Variable: '$.error.Cause', StringMatches: '*InvalidSnapshot.NotFound*' },
              { Variable: '$.error.Cause', StringMatches: 'The snapshot * does not exist*' },
            ],
            Next: name('SnapshotDeleted'),
          },
        ],
        Default: name('SnapshotNotDeleted'),
      },
      [name('SnapshotDeleted')]: {
        Type: 'Pass',
        Parameters: { 'snapshotId.$': '$.snapshotId', result: 'deleted' },
        End: true,
      },
      [name('SnapshotWouldBeDeleted')]: {
        Type: 'Pass',
        Parameters: { 'snapshotId.$': '$.snapshotId', result: 'would be deleted' },
        End: true,
      },
      [name('SnapshotNotDeleted')]: { Type: 'Fail', ErrorPath: '$.error.Error', CausePath: '$.error.Cause' },
    },
  };
}

export function destroy(): Definition {
  return {
    Comment:
      'Destroys the stack ${StackName} on purpose: started by hand with {"confirm": "${StackName}"} (add "dryRun": true to only list). Each step finds what is left before acting, so running it again after a failure finishes the job.',
    StartAt: 'CheckConfirmation',
    States: {
      CheckConfirmation: {
        Type: 'Choice',
        Comment:
          'Rules run in order, so each one may assume the previous ones passed. No AWS call happens before the input is accepted.',
        Choices: [
          { Not: { Variable: '$.confirm', IsPresent: true }, Next: 'ConfirmationMissing' },
          { Not: { Variable: '$.confirm', IsString: true }, Next: 'ConfirmationNotAString' },
          { Not: { Variable: '$.confirm', StringEquals: '${StackName}' }, Next: 'ConfirmationNotThisStack' },
          { Not: { Variable: '$.dryRun', IsPresent: true }, Next: 'RebuildInput' },
          { Not: { Variable: '$.dryRun', IsBoolean: true }, Next: 'DryRunNotABoolean' },
        ],
        Default: 'RebuildInputWithDryRun',
      },
      RebuildInput: {
        Type: 'Pass',
        Comment:
          "JSONPath cannot list an object's keys: the input is rebuilt from the keys it may have, and compared serialized.",
        Parameters: {
          'request.$': '$',
          rebuilt: { 'confirm.$': '$.confirm' },
          rebuiltReversed: { 'confirm.$': '$.confirm' },
        },
        Next: 'SerializeInput',
      },
      RebuildInputWithDryRun: {
        Type: 'Pass',
        Comment: 'Both key orders: the serialized input keeps the order it was given in.',
        Parameters: {
          'request.$': '$',
          rebuilt: { 'confirm.$': '$.confirm', 'dryRun.$': '$.dryRun' },
          rebuiltReversed: { 'dryRun.$': '$.dryRun', 'confirm.$': '$.confirm' },
        },
        Next: 'SerializeInput',
      },
      SerializeInput: {
        Type: 'Pass',
        Parameters: {
          'request.$': '$.request',
          'given.$': 'States.JsonToString($.request)',
          'rebuilt.$': 'States.JsonToString($.rebuilt)',
          'rebuiltReversed.$': 'States.JsonToString($.rebuiltReversed)',
        },
        Next: 'CheckInputKeys',
      },
      CheckInputKeys: {
        Type: 'Choice',
        Choices: [
          {
            Or: [
              { Variable: '$.given', StringEqualsPath: '$.rebuilt' },
              { Variable: '$.given', StringEqualsPath: '$.rebuiltReversed' },
            ],
            Next: 'Plan',
          },
        ],
        Default: 'UnexpectedInputKeys',
      },
      ConfirmationMissing: {
        Type: 'Fail',
        Error: 'InvalidConfirmation',
        Cause:
          'The input has no "confirm" key. To destroy this stack, start the execution with the input {"confirm": "${StackName}"} (add "dryRun": true to only list what would be removed). Nothing was changed.',
      },
      ConfirmationNotAString: {
        Type: 'Fail',
        Error: 'InvalidConfirmation',
        Cause:
          '"confirm" must be the stack name, as a string. To destroy this stack, start the execution with the input {"confirm": "${StackName}"} (add "dryRun": true to only list what would be removed). Nothing was changed.',
      },
      ConfirmationNotThisStack: {
        Type: 'Fail',
        Error: 'InvalidConfirmation',
        Cause:
          '"confirm" is not the name of this stack. To destroy this stack, start the execution with the input {"confirm": "${StackName}"} (add "dryRun": true to only list what would be removed). Nothing was changed.',
      },
      DryRunNotABoolean: {
        Type: 'Fail',
        Error: 'InvalidConfirmation',
        Cause:
          '"dryRun" must be true or false. To destroy this stack, start the execution with the input {"confirm": "${StackName}"} (add "dryRun": true to only list what would be removed). Nothing was changed.',
      },
      UnexpectedInputKeys: {
        Type: 'Fail',
        Error: 'InvalidConfirmation',
        Cause:
          'The input may hold only "confirm" and "dryRun". To destroy this stack, start the execution with the input {"confirm": "${StackName}"} (add "dryRun": true to only list what would be removed). Nothing was changed.',
      },
      Plan: {
        Type: 'Pass',
        Comment:
          'Every step overwrites its own entry, so the summary holds what was done, or for a dry run what would be.',
        Parameters: {
          'request.$': '$.request',
          stackName: '${StackName}',
          dryRun: false,
          'scheduleNames.$': "States.StringToJson('${ScheduleNames}')",
          'ruleNames.$': "States.StringToJson('${RuleNames}')",
          'parameterNames.$': "States.StringToJson('${RuntimeParameterNames}')",
          'maxDrainPolls.$': "States.StringToJson('${MaxDrainPolls}')",
          schedules: [],
          rules: [],
          instanceRefresh: { result: 'would be cancelled, if one is in progress' },
          group: { name: '${GroupName}', instanceIds: [], endedAtDeadline: [] },
          keptInstances: { instanceIds: [] },
          images: [],
          snapshots: [],
          parameters: { names: [] },
          stack: { name: '${StackName}', result: 'would be deleted' },
        },
        Next: 'DryRunRequested?',
      },
      'DryRunRequested?': {
        Type: 'Choice',
        Choices: [
          { Not: { Variable: '$.request.dryRun', IsPresent: true }, Next: 'DescribeStack' },
          { Variable: '$.request.dryRun', BooleanEquals: true, Next: 'MarkDryRun' },
        ],
        Default: 'DescribeStack',
      },
      MarkDryRun: { Type: 'Pass', Result: true, ResultPath: '$.dryRun', Next: 'DescribeStack' },
      DescribeStack: sdkTask('cloudformation', 'describeStacks', {
        Comment:
          "Read first: the stack's service role decides whether CloudFormation can delete it for this workflow at the end.",
        Parameters: { StackName: '${StackName}' },
        ResultSelector: { 'description.$': '$.Stacks[0]' },
        ResultPath: '$.stackFound',
        Retry: retry('cloudformation'),
        Catch: catchAll('NotifyFailure'),
        Next: 'DisableSchedules',
        scope: 'readAndDeleteThisStack',
      }),
      DisableSchedules: {
        Type: 'Map',
        Comment:
          'Stop new work: the schedules that start builds. Any error but a missing schedule fails the Map, whose Catch reports it.',
        ItemsPath: '$.scheduleNames',
        ItemSelector: { 'name.$': '$$.Map.Item.Value', 'dryRun.$': '$.dryRun' },
        MaxConcurrency: 1,
        ItemProcessor: {
          ProcessorConfig: { Mode: 'INLINE' },
          StartAt: 'GetSchedule',
          States: {
            GetSchedule: sdkTask('scheduler', 'getSchedule', {
              Parameters: { 'Name.$': '$.name' },
              ResultPath: '$.schedule',
              Retry: retry('scheduler'),
              Catch: [
                {
                  ErrorEquals: ['Scheduler.ResourceNotFoundException'],
                  ResultPath: null,
                  Next: 'ScheduleAbsent',
                },
              ],
              Next: 'ScheduleEnabled?',
              scope: 'disableSchedules',
            }),
            'ScheduleEnabled?': {
              Type: 'Choice',
              Choices: [
                { Variable: '$.schedule.State', StringEquals: 'DISABLED', Next: 'ScheduleAlreadyDisabled' },
                { Variable: '$.dryRun', BooleanEquals: true, Next: 'ScheduleWouldBeDisabled' },
              ],
              Default: 'DisableSchedule',
            },
            DisableSchedule: sdkTask('scheduler', 'updateSchedule', {
              Comment:
                'UpdateSchedule replaces the whole definition: the fields every schedule has are given back as they were.',
              Parameters: {
                'Name.$': '$.schedule.Name',
                'GroupName.$': '$.schedule.GroupName',
                'ScheduleExpression.$': '$.schedule.ScheduleExpression',
                'FlexibleTimeWindow.$': '$.schedule.FlexibleTimeWindow',
                'Target.$': '$.schedule.Target',
                State: 'DISABLED',
              },
              ResultPath: null,
              Retry: retry('scheduler'),
              Catch: [
                {
                  ErrorEquals: ['Scheduler.ResourceNotFoundException'],
                  ResultPath: null,
                  Next: 'ScheduleAbsent',
                },
              ],
              Next: 'ScheduleDisabled',
              scope: 'disableSchedules',
            }),
            ScheduleDisabled: {
              Type: 'Pass',
              Parameters: { 'name.$': '$.name', result: 'disabled' },
              End: true,
            },
            ScheduleAlreadyDisabled: {
              Type: 'Pass',
              Parameters: { 'name.$': '$.name', result: 'already disabled' },
              End: true,
            },
            ScheduleWouldBeDisabled: {
              Type: 'Pass',
              Parameters: { 'name.$': '$.name', result: 'would be disabled' },
              End: true,
            },
            ScheduleAbsent: { Type: 'Pass', Parameters: { 'name.$': '$.name', result: 'absent' }, End: true },
          },
        },
        ResultPath: '$.schedules',
        Catch: catchAll('NotifyFailure'),
        Next: 'DisableRules',
      },
      DisableRules: {
        Type: 'Map',
        Comment: 'Stop new work: the EventBridge rules that start builds and rollouts.',
        ItemsPath: '$.ruleNames',
        ItemSelector: { 'name.$': '$$.Map.Item.Value', 'dryRun.$': '$.dryRun' },
        MaxConcurrency: 1,
        ItemProcessor: {
          ProcessorConfig: { Mode: 'INLINE' },
          StartAt: 'DescribeRule',
          States: {
            DescribeRule: sdkTask('eventbridge', 'describeRule', {
              Parameters: { 'Name.$': '$.name' },
              ResultPath: '$.rule',
              Retry: retry('eventbridge'),
              Catch: [
                {
                  ErrorEquals: ['EventBridge.ResourceNotFoundException'],
                  ResultPath: null,
                  Next: 'RuleAbsent',
                },
              ],
              Next: 'RuleEnabled?',
              scope: 'disableRules',
            }),
            'RuleEnabled?': {
              Type: 'Choice',
              Choices: [
                { Variable: '$.rule.State', StringEquals: 'DISABLED', Next: 'RuleAlreadyDisabled' },
                { Variable: '$.dryRun', BooleanEquals: true, Next: 'RuleWouldBeDisabled' },
              ],
              Default: 'DisableRule',
            },
            DisableRule: sdkTask('eventbridge', 'disableRule', {
              Parameters: { 'Name.$': '$.name' },
              ResultPath: null,
              Retry: retry('eventbridge'),
              Catch: [
                {
                  ErrorEquals: ['EventBridge.ResourceNotFoundException'],
                  ResultPath: null,
                  Next: 'RuleAbsent',
                },
              ],
              Next: 'RuleDisabled',
              scope: 'disableRules',
            }),
            RuleDisabled: { Type: 'Pass', Parameters: { 'name.$': '$.name', result: 'disabled' }, End: true },
            RuleAlreadyDisabled: {
              Type: 'Pass',
              Parameters: { 'name.$': '$.name', result: 'already disabled' },
              End: true,
            },
            RuleWouldBeDisabled: {
              Type: 'Pass',
              Parameters: { 'name.$': '$.name', result: 'would be disabled' },
              End: true,
            },
            RuleAbsent: { Type: 'Pass', Parameters: { 'name.$': '$.name', result: 'absent' }, End: true },
          },
        },
        ResultPath: '$.rules',
        Catch: catchAll('NotifyFailure'),
        Next: 'DescribeGroup',
      },
      DescribeGroup: sdkTask('autoscaling', 'describeAutoScalingGroups', {
        Parameters: { AutoScalingGroupNames: ['${GroupName}'] },
        ResultSelector: { 'groups.$': '$.AutoScalingGroups' },
        ResultPath: '$.groupFound',
        Retry: retry('autoscaling'),
        Catch: catchAll('NotifyFailure'),
        Next: 'GroupHasInstances?',
        scope: 'anyResource',
      }),
      'GroupHasInstances?': {
        Type: 'Choice',
        Choices: [
          { Variable: '$.groupFound.groups[0].Instances[0]', IsPresent: true, Next: 'ListGroupInstances' },
          { Variable: '$.groupFound.groups[0]', IsPresent: true, Next: 'GroupDryRun?' },
        ],
        Default: 'NoGroup',
      },
      NoGroup: {
        Type: 'Pass',
        Comment: 'Already deleted: only what lives outside the group is left.',
        Result: { result: 'no group' },
        ResultPath: '$.instanceRefresh',
        Next: 'FindKeptInstances',
      },
      ListGroupInstances: {
        Type: 'Pass',
        InputPath: '$.groupFound.groups[0].Instances[*].InstanceId',
        ResultPath: '$.group.instanceIds',
        Next: 'GroupDryRun?',
      },
      'GroupDryRun?': {
        Type: 'Choice',
        Choices: [{ Variable: '$.dryRun', BooleanEquals: true, Next: 'FindKeptInstances' }],
        Default: 'CancelInstanceRefresh',
      },
      CancelInstanceRefresh: sdkTask('autoscaling', 'cancelInstanceRefresh', {
        Parameters: { AutoScalingGroupName: '${GroupName}' },
        ResultSelector: { result: 'cancelled', 'instanceRefreshId.$': '$.InstanceRefreshId' },
        ResultPath: '$.instanceRefresh',
        Retry: retry('autoscaling'),
        Catch: [
          {
            ErrorEquals: ['AutoScaling.ActiveInstanceRefreshNotFoundException'],
            ResultPath: null,
            Next: 'NoRefreshInProgress',
          },
          { ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'NotifyFailure' },
        ],
        Next: 'SuspendLaunches',
        scope: 'emptyThisGroup',
      }),
      NoRefreshInProgress: {
        Type: 'Pass',
        Result: { result: 'none in progress' },
        ResultPath: '$.instanceRefresh',
        Next: 'SuspendLaunches',
      },
      SuspendLaunches: sdkTask('autoscaling', 'suspendProcesses', {
        Comment:
          "Nothing may launch a worker any more: not the group's schedules, alarms, rebalancing or health replacement.",
        Parameters: {
          AutoScalingGroupName: '${GroupName}',
          ScalingProcesses: [
            'Launch',
            'ScheduledActions',
            'AlarmNotification',
            'AZRebalance',
            'ReplaceUnhealthy',
          ],
        },
        ResultPath: null,
        Retry: retry('autoscaling'),
        Catch: catchAll('NotifyFailure'),
        Next: 'ScaleToZero',
        scope: 'emptyThisGroup',
      }),
      ScaleToZero: sdkTask('autoscaling', 'updateAutoScalingGroup', {
        Comment: 'Each instance goes through the terminate hook, whose drain retires its worker first.',
        Parameters: { AutoScalingGroupName: '${GroupName}', MinSize: 0, DesiredCapacity: 0 },
        ResultSelector: { polls: 0 },
        ResultPath: '$.drain',
        Retry: retry('autoscaling'),
        Catch: catchAll('NotifyFailure'),
        Next: 'WaitForInstancesToGo',
        scope: 'emptyThisGroup',
      }),
      WaitForInstancesToGo: { Type: 'Wait', Seconds: 30, Next: 'CountInstances' },
      CountInstances: sdkTask('autoscaling', 'describeAutoScalingGroups', {
        Parameters: { AutoScalingGroupNames: ['${GroupName}'] },
        ResultSelector: { 'groups.$': '$.AutoScalingGroups' },
        ResultPath: '$.remaining',
        Retry: retry('autoscaling'),
        Catch: catchAll('NotifyFailure'),
        Next: 'InstancesGone?',
        scope: 'anyResource',
      }),
      'InstancesGone?': {
        Type: 'Choice',
        Comment:
          'Bounded: past the drain timeout plus a margin, the drain has given up and its hook has expired anyway.',
        Choices: [
          {
            Not: { Variable: '$.remaining.groups[0].Instances[0]', IsPresent: true },
            Next: 'FindKeptInstances',
          },
          {
            Variable: '$.drain.polls',
            NumericGreaterThanEqualsPath: '$.maxDrainPolls',
            Next: 'EndInstancesPastDeadline',
          },
        ],
        Default: 'CountPoll',
      },
      CountPoll: {
        Type: 'Pass',
        Parameters: { 'polls.$': 'States.MathAdd($.drain.polls, 1)' },
        ResultPath: '$.drain',
        Next: 'WaitForInstancesToGo',
      },
      EndInstancesPastDeadline: sdkTask('ec2', 'terminateInstances', {
        Parameters: { 'InstanceIds.$': '$.remaining.groups[0].Instances[*].InstanceId' },
        ResultSelector: { 'ids.$': '$.TerminatingInstances[*].InstanceId' },
        ResultPath: '$.forced',
        Retry: retry('ec2'),
        Catch: catchAll('NotifyFailure'),
        Next: 'RecordInstancesEndedAtDeadline',
        scope: 'endTaggedInstances',
      }),
      RecordInstancesEndedAtDeadline: {
        Type: 'Pass',
        InputPath: '$.forced.ids',
        ResultPath: '$.group.endedAtDeadline',
        Next: 'FindKeptInstances',
      },
      FindKeptInstances: sdkTask('ec2', 'describeInstances', {
        Comment:
          'Instances kept for debugging after a failed boot are out of the group: found by their tags.',
        Parameters: {
          Filters: [
            { Name: 'tag:external-worker:stack', Values: ['${StackName}'] },
            { Name: 'tag-key', Values: ['external-worker:kept'] },
            { Name: 'instance-state-name', Values: ['pending', 'running', 'stopping', 'stopped'] },
          ],
        },
        ResultSelector: { 'reservations.$': '$.Reservations' },
        ResultPath: '$.keptFound',
        Retry: retry('ec2'),
        Catch: catchAll('NotifyFailure'),
        Next: 'AnyKeptInstances?',
        scope: 'anyResource',
      }),
      'AnyKeptInstances?': {
        Type: 'Choice',
        Choices: [{ Variable: '$.keptFound.reservations[0]', IsPresent: true, Next: 'ListKeptInstances' }],
        Default: 'FindSnapshots',
      },
      ListKeptInstances: {
        Type: 'Pass',
        InputPath: '$.keptFound.reservations[*].Instances[*].InstanceId',
        ResultPath: '$.keptInstances.instanceIds',
        Next: 'KeptDryRun?',
      },
      'KeptDryRun?': {
        Type: 'Choice',
        Choices: [{ Variable: '$.dryRun', BooleanEquals: true, Next: 'FindSnapshots' }],
        Default: 'EndKeptInstances',
      },
      EndKeptInstances: sdkTask('ec2', 'terminateInstances', {
        Parameters: { 'InstanceIds.$': '$.keptInstances.instanceIds' },
        ResultPath: null,
        Retry: retry('ec2'),
        Catch: catchAll('NotifyFailure'),
        Next: 'FindSnapshots',
        scope: 'endTaggedInstances',
      }),
      FindSnapshots: sdkTask('ec2', 'describeSnapshots', {
        Comment:
          "Snapshots tagged with the stack before any AMI is touched: those of AMIs an earlier run deregistered before it failed. Only these, and the snapshots of this stack's AMIs, are deleted.",
        Parameters: {
          OwnerIds: ['self'],
          Filters: [{ Name: 'tag:external-worker:stack', Values: ['${StackName}'] }],
        },
        ResultSelector: { 'snapshots.$': '$.Snapshots' },
        ResultPath: '$.snapshotsFound',
        Retry: retry('ec2'),
        Catch: catchAll('NotifyFailure'),
        Next: 'FindImages',
        scope: 'anyResource',
      }),
      FindImages: sdkTask('ec2', 'describeImages', {
        Comment:
          'Deprecated and disabled AMIs too: a lifecycle policy may have disabled old ones, they are still billed.',
        Parameters: {
          Owners: ['self'],
          IncludeDeprecated: true,
          IncludeDisabled: true,
          Filters: [{ Name: 'tag:external-worker:stack', Values: ['${StackName}'] }],
        },
        ResultSelector: { 'images.$': '$.Images' },
        ResultPath: '$.imagesFound',
        Retry: retry('ec2'),
        Catch: catchAll('NotifyFailure'),
        Next: 'DeleteImages',
        scope: 'anyResource',
      }),
      DeleteImages: {
        Type: 'Map',
        Comment:
          'Per AMI: its Image Builder image first (deleting it leaves the AMI), then its snapshots are tagged with the stack so that a later run finds them if this one fails half way, then the AMI is deregistered and its snapshots deleted.',
        ItemsPath: '$.imagesFound.images',
        ItemSelector: {
          'imageId.$': '$$.Map.Item.Value.ImageId',
          'name.$': '$$.Map.Item.Value.Name',
          'mappings.$': '$$.Map.Item.Value.BlockDeviceMappings',
          'dryRun.$': '$.dryRun',
          snapshotIds: [],
          imageBuilderImage: 'none',
        },
        MaxConcurrency: 4,
        ItemProcessor: {
          ProcessorConfig: { Mode: 'INLINE' },
          StartAt: 'ImageHasSnapshots?',
          States: {
            'ImageHasSnapshots?': {
              Type: 'Choice',
              Choices: [
                { Variable: '$.mappings[0].Ebs.SnapshotId', IsPresent: true, Next: 'ListImageSnapshots' },
              ],
              Default: 'FindImageBuilderImage',
            },
            ListImageSnapshots: {
              Type: 'Pass',
              InputPath: '$.mappings[*].Ebs.SnapshotId',
              ResultPath: '$.snapshotIds',
              Next: 'FindImageBuilderImage',
            },
            FindImageBuilderImage: sdkTask('ec2', 'describeTags', {
              Comment: 'Image Builder tags the AMIs it creates with the ARN of its image.',
              Parameters: {
                Filters: [
                  { Name: 'resource-id', 'Values.$': 'States.Array($.imageId)' },
                  { Name: 'key', Values: ['Ec2ImageBuilderArn'] },
                ],
              },
              ResultSelector: { 'tags.$': '$.Tags' },
              ResultPath: '$.imageBuilderTag',
              Retry: retry('ec2'),
              Catch: catchAll('ImageNotDeleted'),
              Next: 'BuiltByImageBuilder?',
              scope: 'anyResource',
            }),
            'BuiltByImageBuilder?': {
              Type: 'Choice',
              Choices: [
                {
                  Variable: '$.imageBuilderTag.tags[0].Value',
                  IsPresent: true,
                  Next: 'RecordImageBuilderImage',
                },
              ],
              Default: 'ImageDryRun?',
            },
            RecordImageBuilderImage: {
              Type: 'Pass',
              InputPath: '$.imageBuilderTag.tags[0].Value',
              ResultPath: '$.imageBuilderImage',
              Next: 'ImageDryRun?',
            },
            'ImageDryRun?': {
              Type: 'Choice',
              Choices: [
                { Variable: '$.dryRun', BooleanEquals: true, Next: 'ImageWouldBeDeleted' },
                { Variable: '$.imageBuilderImage', StringEquals: 'none', Next: 'ImageSnapshotsToTag?' },
              ],
              Default: 'DeleteImageBuilderImage',
            },
            DeleteImageBuilderImage: sdkTask('imagebuilder', 'deleteImage', {
              Parameters: { 'ImageBuildVersionArn.$': '$.imageBuilderImage' },
              ResultPath: null,
              Retry: retry('imagebuilder'),
              Catch: [
                {
                  ErrorEquals: ['Imagebuilder.ResourceNotFoundException'],
                  ResultPath: null,
                  Next: 'ImageSnapshotsToTag?',
                },
                { ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'ImageNotDeleted' },
              ],
              Next: 'ImageSnapshotsToTag?',
              scope: 'deleteImageBuilderImages',
            }),
            'ImageSnapshotsToTag?': {
              Type: 'Choice',
              Choices: [{ Variable: '$.snapshotIds[0]', IsPresent: true, Next: 'TagImageSnapshots' }],
              Default: 'DeregisterImage',
            },
            TagImageSnapshots: sdkTask('ec2', 'createTags', {
              Parameters: {
                'Resources.$': '$.snapshotIds',
                Tags: [{ Key: 'external-worker:stack', Value: '${StackName}' }],
              },
              ResultPath: null,
              Retry: retry('ec2'),
              Catch: catchAll('ImageNotDeleted'),
              Next: 'DeregisterImage',
              scope: 'tagImageSnapshotsWithStack',
            }),
            DeregisterImage: sdkTask('ec2', 'deregisterImage', {
              Parameters: { 'ImageId.$': '$.imageId' },
              ResultPath: null,
              Retry: retry('ec2'),
              Catch: catchAll('ImageAlreadyGone?'),
              Next: 'DeleteImageSnapshots',
              scope: 'deregisterTaggedImages',
            }),
            'ImageAlreadyGone?': {
              Type: 'Choice',
              Choices: [
                {
                  Or: [
                    { Variable: '$.error.Cause', StringMatches: '*InvalidAMIID.NotFound*' },
                    { Variable: '$.error.Cause', StringMatches: '*InvalidAMIID.Unavailable*' },
                    { Variable: '$.error.Cause', StringMatches: 'The image id * does not exist*' },
                    { Variable: '$.error.Cause', StringMatches: 'The image ID * is no longer available*' },
                  ],
                  Next: 'DeleteImageSnapshots',
                },
              ],
              Default: 'ImageNotDeleted',
            },
            DeleteImageSnapshots: {
              Type: 'Map',
              Comment:
                'Exactly the snapshots the AMI was made of, as its own block device mappings list them.',
              ItemsPath: '$.snapshotIds',
              ItemSelector: { 'snapshotId.$': '$$.Map.Item.Value', dryRun: false },
              MaxConcurrency: 4,
              ItemProcessor: deleteSnapshot('Own'),
              ResultPath: '$.snapshots',
              Catch: catchAll('ImageNotDeleted'),
              Next: 'ImageDeleted',
            },
            ImageDeleted: {
              Type: 'Pass',
              Parameters: {
                'imageId.$': '$.imageId',
                'name.$': '$.name',
                'snapshotIds.$': '$.snapshotIds',
                'snapshots.$': '$.snapshots',
                'imageBuilderImage.$': '$.imageBuilderImage',
                result: 'deregistered',
              },
              End: true,
            },
            ImageWouldBeDeleted: {
              Type: 'Pass',
              Parameters: {
                'imageId.$': '$.imageId',
                'name.$': '$.name',
                'snapshotIds.$': '$.snapshotIds',
                'imageBuilderImage.$': '$.imageBuilderImage',
                result: 'would be deregistered',
              },
              End: true,
            },
            ImageNotDeleted: { Type: 'Fail', ErrorPath: '$.error.Error', CausePath: '$.error.Cause' },
          },
        },
        ResultPath: '$.images',
        Catch: catchAll('NotifyFailure'),
        Next: 'DeleteSnapshots',
      },
      DeleteSnapshots: {
        Type: 'Map',
        ItemsPath: '$.snapshotsFound.snapshots',
        ItemSelector: { 'snapshotId.$': '$$.Map.Item.Value.SnapshotId', 'dryRun.$': '$.dryRun' },
        MaxConcurrency: 4,
        ItemProcessor: deleteSnapshot(),
        ResultPath: '$.snapshots',
        Catch: catchAll('NotifyFailure'),
        Next: 'FindRuntimeParameters',
      },
      FindRuntimeParameters: sdkTask('ssm', 'getParameters', {
        Comment:
          'Only the parameters the control plane writes at run time; the worker key parameter belongs to the operator.',
        Parameters: { 'Names.$': '$.parameterNames' },
        ResultSelector: { 'parameters.$': '$.Parameters' },
        ResultPath: '$.parametersFound',
        Retry: retry('ssm'),
        Catch: catchAll('NotifyFailure'),
        Next: 'AnyRuntimeParameters?',
        scope: 'deleteRuntimeParameters',
      }),
      'AnyRuntimeParameters?': {
        Type: 'Choice',
        Choices: [
          { Variable: '$.parametersFound.parameters[0]', IsPresent: true, Next: 'ListRuntimeParameters' },
        ],
        Default: 'StackDryRun?',
      },
      ListRuntimeParameters: {
        Type: 'Pass',
        InputPath: '$.parametersFound.parameters[*].Name',
        ResultPath: '$.parameters.names',
        Next: 'ParametersDryRun?',
      },
      'ParametersDryRun?': {
        Type: 'Choice',
        Choices: [{ Variable: '$.dryRun', BooleanEquals: true, Next: 'StackDryRun?' }],
        Default: 'DeleteRuntimeParameters',
      },
      DeleteRuntimeParameters: sdkTask('ssm', 'deleteParameters', {
        Parameters: { 'Names.$': '$.parameters.names' },
        ResultPath: null,
        Retry: retry('ssm'),
        Catch: catchAll('NotifyFailure'),
        Next: 'StackDryRun?',
        scope: 'deleteRuntimeParameters',
      }),
      'StackDryRun?': {
        Type: 'Choice',
        Choices: [
          {
            And: [
              { Variable: '$.dryRun', BooleanEquals: true },
              { Not: { Variable: '$.stackFound.description.RoleARN', IsPresent: true } },
            ],
            Next: 'StackWouldBeLeft',
          },
          { Variable: '$.dryRun', BooleanEquals: true, Next: 'Outcome?' },
          { Variable: '$.stackFound.description.RoleARN', IsPresent: true, Next: 'Outcome?' },
        ],
        Default: 'StackHasNoServiceRole',
      },
      StackWouldBeLeft: {
        Type: 'Pass',
        Result:
          'would be left: the stack has no CloudFormation service role, delete it with aws cloudformation delete-stack --stack-name ${StackName}',
        ResultPath: '$.stack.result',
        Next: 'Outcome?',
      },
      StackHasNoServiceRole: {
        Type: 'Pass',
        Comment:
          "Without a service role CloudFormation would delete with this workflow's own narrow rights and fail half way.",
        Result: {
          Error: 'StackHasNoServiceRole',
          Cause:
            'Everything but the CloudFormation stack ${StackName} was removed. The stack has no service role, so its deletion must be started by someone allowed to delete its resources: aws cloudformation delete-stack --stack-name ${StackName}',
        },
        ResultPath: '$.error',
        Next: 'NotifyFailure',
      },
      'Outcome?': {
        Type: 'Choice',
        Choices: [{ Variable: '$.dryRun', BooleanEquals: true, Next: 'OutcomeDryRun' }],
        Default: 'OutcomeDestroyed',
      },
      OutcomeDryRun: { Type: 'Pass', Result: 'dryRun', ResultPath: '$.outcome', Next: 'Summarize' },
      OutcomeDestroyed: { Type: 'Pass', Result: 'destroyed', ResultPath: '$.outcome', Next: 'Summarize' },
      Summarize: {
        Type: 'Pass',
        Parameters: {
          'outcome.$': '$.outcome',
          'stackName.$': '$.stackName',
          'dryRun.$': '$.dryRun',
          'schedules.$': '$.schedules',
          'rules.$': '$.rules',
          'instanceRefresh.$': '$.instanceRefresh',
          'group.$': '$.group',
          'keptInstances.$': '$.keptInstances',
          'images.$': '$.images',
          'snapshots.$': '$.snapshots',
          'parameters.$': '$.parameters',
          'stack.$': '$.stack',
        },
        ResultPath: '$.summary',
        Next: 'DeleteStackNow?',
      },
      'DeleteStackNow?': {
        Type: 'Choice',
        Choices: [{ Variable: '$.dryRun', BooleanEquals: true, Next: 'Done' }],
        Default: 'NotifyStackDeletion',
      },
      NotifyStackDeletion: notify({
        comment: 'Sent before the stack deletion starts, while the topic still exists.',
        subject: { Subject: '${StackName}: destroy removed workers and images, deleting the stack' },
        message: {
          'Message.$':
            "States.Format('The destroy workflow removed what ${StackName} had outside CloudFormation and now deletes the stack. Execution {}. Summary: {}', $$.Execution.Id, States.JsonToString($.summary))",
        },
        catch: catchAll('DeleteStack', '$.notificationError'),
        next: 'DeleteStack',
      }),
      DeleteStack: sdkTask('cloudformation', 'deleteStack', {
        Comment:
          "Asynchronous: CloudFormation deletes the stack, this state machine included, with the stack's service role, after this execution has ended.",
        Parameters: { StackName: '${StackName}' },
        ResultSelector: { name: '${StackName}', result: 'deletion started' },
        ResultPath: '$.summary.stack',
        Retry: retry('cloudformation'),
        Catch: catchAll('NotifyFailure'),
        Next: 'Done',
        scope: 'readAndDeleteThisStack',
      }),
      Done: { Type: 'Pass', OutputPath: '$.summary', End: true },
      NotifyFailure: notify({
        subject: { Subject: '${StackName}: destroy stopped at an error' },
        message: {
          'Message.$':
            "States.Format('The destroy workflow of ${StackName} stopped: {}: {}. Each step finds what is left before acting: after fixing the cause, start it again with the same input to finish. Execution {}', $.error.Error, $.error.Cause, $$.Execution.Id)",
        },
        catch: catchAll('DestroyFailed', '$.notificationError'),
        next: 'DestroyFailed',
      }),
      DestroyFailed: { Type: 'Fail', ErrorPath: '$.error.Error', CausePath: '$.error.Cause' },
    },
  };
}
