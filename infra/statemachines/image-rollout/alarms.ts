import { type States, sdkTask } from '../asl';
import { present } from '../choices';
import { catchAll, retry } from '../retry';

/** The alarms a refresh watches: any in ALARM fails it, and AutoRollback puts the group back. */
export const ROLLOUT_ALARMS = ['${LaunchesAbandonedAlarm}', '${FleetBelowDesiredAlarm}'];

/** Our alarms now in ALARM, under `resultPath` (`alarms`: CloudWatch's MetricAlarms). */
export const alarmsInAlarm = (resultPath: string, next: string, onError: string) =>
  sdkTask('cloudwatch', 'describeAlarms', {
    Parameters: { AlarmNames: ROLLOUT_ALARMS, StateValue: 'ALARM' },
    ResultSelector: { 'alarms.$': '$.MetricAlarms' },
    ResultPath: resultPath,
    Retry: retry('cloudwatch'),
    Catch: catchAll(onError, `${resultPath}Error`),
    Next: next,
    scope: 'readRolloutAlarms',
  });

/** Why a refresh failed, in words, under `$.failedCheck.summary`: an alarm, the canary, or the refresh. */
export function failedCheck(next: string): States {
  const summary = (format: string) => ({
    Type: 'Pass',
    Parameters: { 'summary.$': format },
    ResultPath: '$.failedCheck',
    Next: next,
  });
  const completedBelowCanary = (path: string) => ({
    And: present(path, { NumericLessThanPath: '$.plan.canary' }),
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
