import { alarmMetricCount, DEFAULT_ASSUMPTIONS, type Measured, monthlyCost, PRICES } from '../../bench/cost';
import { synth } from '../support/stack';

const measured = (alarmMetrics: number, customMetrics: number): Measured => ({
  flows: { launch: 0, drain: 0, rolloutPerMinute: 0, rolloutFixed: 0 },
  lambdaPerLaunch: 0,
  lambdaPerDrain: 0,
  lambdaPerRollout: 0,
  coldMs: {},
  alarms: 2,
  alarmMetrics,
  customMetrics,
  dashboards: 0,
  kmsKeys: 0,
});

describe('control-plane cost', () => {
  test('an alarm on a math expression costs one alarm metric per metric it reads', () => {
    // https://aws.amazon.com/cloudwatch/pricing/ ("Alarms"): billed per metric in the expression.
    expect(
      alarmMetricCount({
        plain: { Properties: {} },
        math: {
          Properties: {
            Metrics: [
              { Expression: 'a + b + c' },
              { MetricStat: {} },
              { MetricStat: {} },
              { MetricStat: {} },
            ],
          },
        },
      }),
    ).toBe(4);
  });

  test("the stack's flow alarms are billed for the three AWS/States metrics each reads", () => {
    const { template } = synth();
    const alarms = template.findResources('AWS::CloudWatch::Alarm');
    const flows = Object.fromEntries(Object.entries(alarms).filter(([id]) => /ExecutionsFailed/.test(id)));
    expect(Object.keys(flows)).toHaveLength(4);
    expect(alarmMetricCount(flows)).toBe(12);
    expect(alarmMetricCount(alarms)).toBeGreaterThan(Object.keys(alarms).length);
  });

  test('alarms and custom metrics are priced by what is billed', () => {
    const lines = monthlyCost(measured(5, 3), DEFAULT_ASSUMPTIONS);
    const usd = (item: RegExp) => lines.find((line) => item.test(line.item))?.usd;
    expect(usd(/^CloudWatch alarms/)).toBeCloseTo(5 * PRICES.cloudWatchAlarmMetric);
    expect(usd(/^Custom metrics/)).toBeCloseTo(3 * PRICES.cloudWatchCustomMetric);
  });
});
