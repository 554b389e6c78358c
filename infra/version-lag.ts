/**
 * How often the version check runs and how the "fleet behind the scheduler" alarm counts its
 * answers: one alarm period per check, and as many periods as the tolerance needs.
 */

/** The schedule runs in whole minutes (EventBridge Scheduler `rate(n minutes)`). */
export function checkIntervalMinutes(versionCheckInterval: number): number {
  return Math.max(1, Math.round(versionCheckInterval / 60));
}

export interface LagAlarmWindow {
  /** One check per period: a multiple of 60 s, as CloudWatch requires of standard-resolution periods. */
  periodSeconds: number;
  /** Periods that must all breach: the tolerance, rounded up to whole periods. */
  evaluationPeriods: number;
}

export function lagAlarmWindow(versionCheckInterval: number, versionLagTolerance: number): LagAlarmWindow {
  const periodSeconds = checkIntervalMinutes(versionCheckInterval) * 60;
  return { periodSeconds, evaluationPeriods: Math.max(1, Math.ceil(versionLagTolerance / periodSeconds)) };
}

/**
 * PutMetricAlarm: "Period multiplied by EvaluationPeriods can't be more than 604,800 seconds. For
 * alarms with a period of less than one hour (3,600 seconds), the total evaluation period can't be
 * longer than one day (86,400 seconds)."
 * (https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricAlarm.html)
 */
export function longestEvaluation(periodSeconds: number): number {
  return periodSeconds < 3600 ? 86_400 : 604_800;
}

const human = (seconds: number) =>
  seconds % 3600 === 0 ? `${seconds / 3600}h` : seconds % 60 === 0 ? `${seconds / 60}m` : `${seconds}s`;

/** What CloudWatch cannot express for these two keys, as configuration problems. */
export function lagAlarmProblems(versionCheckInterval: number, versionLagTolerance: number): string[] {
  const { periodSeconds, evaluationPeriods } = lagAlarmWindow(versionCheckInterval, versionLagTolerance);
  const given = human(versionLagTolerance);
  if (versionLagTolerance < periodSeconds) {
    return [
      `versionLagTolerance: expected at least versionCheckInterval (${human(periodSeconds)}): the lag is seen once per check, given ${given}`,
    ];
  }
  const limit = longestEvaluation(periodSeconds);
  if (periodSeconds * evaluationPeriods > limit) {
    return [
      `versionLagTolerance: expected at most ${human(Math.floor(limit / periodSeconds) * periodSeconds)} with a versionCheckInterval of ${human(periodSeconds)} (a CloudWatch alarm evaluates at most ${limit === 86_400 ? '1 day of periods shorter than an hour' : '7 days'}), given ${given}`,
    ];
  }
  return [];
}
