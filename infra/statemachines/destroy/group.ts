import { type State, sdkTask } from '../asl';
import { ifDryRun } from '../choices';
import { catchAll, catchFirst, retry } from '../retry';

/** The group as it is now, under `resultPath`. */
const describeGroup = (resultPath: string, next: string) =>
  sdkTask('autoscaling', 'describeAutoScalingGroups', {
    Parameters: { AutoScalingGroupNames: ['${GroupName}'] },
    ResultSelector: { 'groups.$': '$.AutoScalingGroups' },
    ResultPath: resultPath,
    Retry: retry('autoscaling'),
    Catch: catchAll('NotifyFailure'),
    Next: next,
    scope: 'anyResource',
  });

/**
 * Empties the group through its own terminate hook, so that each worker is drained and retired
 * first: no refresh, nothing launches, desired 0, then a bounded wait; what is left at the drain's
 * deadline is ended.
 */
export function emptyGroup(next: string): Record<string, State> {
  return {
    DescribeGroup: describeGroup('$.groupFound', 'GroupHasInstances?'),
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
      Next: next,
    },
    ListGroupInstances: {
      Type: 'Pass',
      InputPath: '$.groupFound.groups[0].Instances[*].InstanceId',
      ResultPath: '$.group.instanceIds',
      Next: 'GroupDryRun?',
    },
    'GroupDryRun?': ifDryRun(next, 'CancelInstanceRefresh'),
    CancelInstanceRefresh: sdkTask('autoscaling', 'cancelInstanceRefresh', {
      Parameters: { AutoScalingGroupName: '${GroupName}' },
      ResultSelector: { result: 'cancelled', 'instanceRefreshId.$': '$.InstanceRefreshId' },
      ResultPath: '$.instanceRefresh',
      Retry: retry('autoscaling'),
      Catch: catchFirst(
        ['AutoScaling.ActiveInstanceRefreshNotFoundException'],
        'NoRefreshInProgress',
        'NotifyFailure',
        null,
      ),
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
    CountInstances: describeGroup('$.remaining', 'InstancesGone?'),
    'InstancesGone?': {
      Type: 'Choice',
      Comment:
        'Bounded: past the drain timeout plus a margin, the drain has given up and its hook has expired anyway.',
      Choices: [
        {
          Not: { Variable: '$.remaining.groups[0].Instances[0]', IsPresent: true },
          Next: next,
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
      Next: next,
    },
  };
}
