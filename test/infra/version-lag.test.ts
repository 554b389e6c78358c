import { METRIC } from '../../functions/lib/metric-names';
import { lagAlarmWindow } from '../../infra/version-lag';
import { problemsOrNone as problems } from '../support/config-problems';
import { synth } from '../support/stack';

describe('the fleet-behind alarm follows versionCheckInterval', () => {
  test('one period per check, as many periods as the tolerance', () => {
    expect(lagAlarmWindow(300, 10_800)).toEqual({ periodSeconds: 300, evaluationPeriods: 36 });
    expect(lagAlarmWindow(900, 10_800)).toEqual({ periodSeconds: 900, evaluationPeriods: 12 });
    // The schedule runs in whole minutes: 90 s is every 2 minutes, and so is the period.
    expect(lagAlarmWindow(90, 3600)).toEqual({ periodSeconds: 120, evaluationPeriods: 30 });
    // A tolerance that is not a whole number of checks is rounded up: never earlier than asked.
    expect(lagAlarmWindow(420, 3600)).toEqual({ periodSeconds: 420, evaluationPeriods: 9 });
    expect(lagAlarmWindow(7200, 172_800)).toEqual({ periodSeconds: 7200, evaluationPeriods: 24 });
  });

  test('the template: both version alarms count in periods of the check interval', () => {
    const { template } = synth({ versionCheckInterval: '90s', versionLagTolerance: '1h' });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: METRIC.fleetVersionBehind,
      Statistic: 'Minimum',
      Period: 120,
      EvaluationPeriods: 30,
      DatapointsToAlarm: 30,
      TreatMissingData: 'missing',
    });
    // 90 s would not be a valid CloudWatch period: the schedule's 2 minutes is.
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: METRIC.versionCheckFailed,
      Period: 120,
    });
    template.hasResourceProperties('AWS::Scheduler::Schedule', { ScheduleExpression: 'rate(2 minutes)' });
  });
});

describe('validation rejects what CloudWatch cannot evaluate', () => {
  test('periods under an hour: at most one day of them', () => {
    expect(problems({ versionLagTolerance: '24h' })).toEqual([]);
    expect(problems({ versionLagTolerance: '25h' })).toEqual([
      'versionLagTolerance: expected at most 24h with a versionCheckInterval of 5m (a CloudWatch alarm evaluates at most 1 day of periods shorter than an hour), given 25h',
    ]);
    expect(problems({ versionCheckInterval: '7m', versionLagTolerance: '24h' })).toEqual([
      'versionLagTolerance: expected at most 1435m with a versionCheckInterval of 7m (a CloudWatch alarm evaluates at most 1 day of periods shorter than an hour), given 24h',
    ]);
  });

  test('periods of an hour or more: up to seven days, so the whole range of the key', () => {
    expect(problems({ versionCheckInterval: '1h', versionLagTolerance: '48h' })).toEqual([]);
  });

  test('a tolerance shorter than one check', () => {
    expect(problems({ versionCheckInterval: '2h', versionLagTolerance: '1h' })).toEqual([
      'versionLagTolerance: expected at least versionCheckInterval (2h): the lag is seen once per check, given 1h',
    ]);
  });

  test('reported with the other problems, after each key is valid on its own', () => {
    expect(problems({ versionLagTolerance: '30h', minSize: 'x' })).toHaveLength(2);
    expect(problems({ versionLagTolerance: '1000h' })).toEqual([
      expect.stringMatching(/^versionLagTolerance: expected a duration from 30m to 48h/),
    ]);
  });
});
