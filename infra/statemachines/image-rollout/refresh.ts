import { type Json, type States, sdkTask } from '../asl';
import { anyOf, ended, present } from '../choices';
import { groupConfiguration } from '../pieces';
import { catchAll, catchFirst, retry } from '../retry';
import { alarmsInAlarm } from './alarms';
import { refreshPlan } from './preferences';

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
    Catch: catchFirst(
      ['AutoScaling.InstanceRefreshInProgressException'],
      'WaitForOtherRefresh',
      'NotifyError',
    ),
    Next: 'WaitRefresh',
    scope: 'refreshThisGroup',
  });
}

const LATEST = '$.latest.refreshes[0]';

/**
 * The instance refresh to `$.target.version`, started once: a refresh to it already is its
 * execution's, another one (or alarms in ALARM) is waited for by reading the group again
 * (`next.again`). Polled to its end: on to `next.succeeded` or `next.failed`.
 * https://docs.aws.amazon.com/autoscaling/ec2/APIReference/API_InstanceRefresh.html
 */
export function instanceRefresh(next: { again: string; succeeded: string; failed: string }): States {
  const desired = groupConfiguration('$.target.version', '$.asg.group');
  return {
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
          And: present(`${LATEST}.DesiredConfiguration.LaunchTemplate.Version`, {
            StringEqualsPath: '$.target.version',
          }),
          Next: 'AlreadyRefreshing',
        },
        {
          And: present(
            `${LATEST}.DesiredConfiguration.MixedInstancesPolicy.LaunchTemplate.LaunchTemplateSpecification.Version`,
            { StringEqualsPath: '$.target.version' },
          ),
          Next: 'AlreadyRefreshing',
        },
        {
          And: [
            { Variable: `${LATEST}.Status`, IsPresent: true },
            anyOf(`${LATEST}.Status`, 'StringEquals', [
              'Pending',
              'InProgress',
              'Cancelling',
              'RollbackInProgress',
              'Baking',
            ]),
          ],
          Next: 'WaitForOtherRefresh',
        },
      ],
      Default: 'Preferences?',
    },
    AlreadyRefreshing: ended(
      'skipped',
      'A refresh to this very version exists: the execution that started it sees it through.',
    ),
    WaitForOtherRefresh: {
      Type: 'Wait',
      Comment: "Another refresh (a rollout, or an operator's) is waited for, never cancelled.",
      Seconds: 120,
      Next: next.again,
    },
    ...refreshPlan('ReadAlarmsBeforeStart'),
    ReadAlarmsBeforeStart: alarmsInAlarm('$.alarmsBefore', 'FleetDegraded?', 'NotifyError'),
    'FleetDegraded?': {
      Type: 'Choice',
      Comment:
        'A refresh started while one of its alarms is in ALARM would fail at once and mark a good AMI bad: wait for the fleet first.',
      Choices: [{ Variable: '$.alarmsBefore.alarms[0]', IsPresent: true, Next: 'WaitForQuietAlarms' }],
      Default: 'Start?',
    },
    WaitForQuietAlarms: { Type: 'Wait', Seconds: 120, Next: next.again },
    'Start?': {
      Type: 'Choice',
      Choices: [{ Variable: '$.current.mixed', BooleanEquals: true, Next: 'StartRefreshMixed' }],
      Default: 'StartRefreshPlain',
    },
    StartRefreshPlain: startRefresh(desired.plain),
    StartRefreshMixed: startRefresh(desired.mixed),
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
        { Variable: '$.refreshState.status', StringEquals: 'Successful', Next: next.succeeded },
        {
          ...anyOf('$.refreshState.status', 'StringEquals', [
            'Failed',
            'Cancelled',
            'RollbackSuccessful',
            'RollbackFailed',
          ]),
          Next: next.failed,
        },
      ],
      Comment: 'Pending, InProgress (a checkpoint delay included), Baking, RollbackInProgress: not yet.',
      Default: 'WaitRefresh',
    },
  };
}
