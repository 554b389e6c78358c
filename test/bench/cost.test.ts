import {
  alarmMetricCounts,
  countTemplate,
  DEFAULT_ASSUMPTIONS,
  type Measured,
  monthlyCost,
  PRICES,
  type TemplateCounts,
} from '../../bench/cost';
import { allCustomMetricSeries, emittedNames, stateMachineSeries } from '../../bench/custom-metrics';
import { METRIC } from '../../functions/lib/metric-names';
import { synth } from '../support/stack';

const counts = (overrides: Partial<TemplateCounts>): TemplateCounts => ({
  alarms: 2,
  standardAlarmMetrics: 0,
  highResolutionAlarmMetrics: 0,
  dashboards: 0,
  logWidgets: [],
  dashboardRangeDays: 1,
  kmsKeys: 0,
  schedules: [],
  rules: 0,
  logRetentionDays: 30,
  workerLogGroups: [],
  advancedParameters: 0,
  groupMetrics: [],
  tracedFunctions: 0,
  tracedStateMachines: 0,
  ...overrides,
});

const measured = (template: Partial<TemplateCounts>, customMetrics = 0): Measured => ({
  flows: { launch: 0, drain: 0, rolloutPerMinute: 0, rolloutFixed: 0 },
  lambdaPerLaunch: 0,
  lambdaPerDrain: 0,
  lambdaPerRollout: 0,
  coldMs: {},
  template: counts(template),
  customMetrics,
});

type Resources = Parameters<typeof alarmMetricCounts>[0];

describe('control-plane cost', () => {
  const { template } = synth();
  const resources = (template.toJSON() as { Resources: Resources }).Resources;

  test('an alarm on a math expression costs one alarm metric per metric it reads, three times more at high resolution', () => {
    // https://aws.amazon.com/cloudwatch/pricing/ ("Alarms"): billed per metric in the expression.
    expect(
      alarmMetricCounts({
        plain: { Type: 'AWS::CloudWatch::Alarm', Properties: { Period: 300 } },
        fast: { Type: 'AWS::CloudWatch::Alarm', Properties: { Period: 10 } },
        math: {
          Type: 'AWS::CloudWatch::Alarm',
          Properties: {
            Metrics: [
              { Expression: 'a + b + c' },
              { MetricStat: { Period: 60 } },
              { MetricStat: { Period: 300 } },
              { MetricStat: { Period: 30 } },
            ],
          },
        },
        queue: { Type: 'AWS::SQS::Queue', Properties: {} },
      }),
    ).toEqual({ standard: 3, highResolution: 2 });
    const lines = monthlyCost(measured({ standardAlarmMetrics: 3, highResolutionAlarmMetrics: 2 }));
    expect(lines.find((line) => /^CloudWatch alarms/.test(line.item))?.usd).toBeCloseTo(
      3 * PRICES.cloudWatchAlarmMetric + 2 * PRICES.cloudWatchHighResolutionAlarmMetric,
    );
  });

  test("the stack's flow alarms are billed for the two AWS/States metrics each reads", () => {
    const flows = Object.fromEntries(Object.entries(resources).filter(([id]) => /ExecutionsFailed/.test(id)));
    expect(Object.keys(flows)).toHaveLength(4);
    expect(alarmMetricCounts(flows)).toEqual({ standard: 8, highResolution: 0 });
  });

  test('the template counts: alarms, the dashboard and its log widgets, schedules, keys, retention, tracing', () => {
    const c = countTemplate({ Resources: resources });
    expect(c.alarms).toBe(Object.keys(template.findResources('AWS::CloudWatch::Alarm')).length);
    expect(c.standardAlarmMetrics).toBeGreaterThan(c.alarms);
    expect(c.dashboards).toBe(1);
    expect(c.dashboardRangeDays).toBe(1);
    expect(c.logWidgets.map((w) => w.title)).toContain('Versions (last check)');
    for (const widget of c.logWidgets) expect(widget.sources.length).toBeGreaterThan(0);
    // The workers' log group is scanned at the workers' volume, the others at the control plane's.
    expect(c.workerLogGroups).toEqual([expect.stringMatching(/^FleetWorkerLogs/)]);
    expect(c.schedules).toEqual([{ id: expect.stringMatching(/^VersionCheckSchedule/), perMonth: 8640 }]);
    expect(c.kmsKeys).toBe(1);
    expect(c.groupMetrics).toEqual(['1Minute']);
    expect(c.logRetentionDays).toBe(30);
    expect(c.tracedFunctions).toBeGreaterThan(5);
    expect(c.advancedParameters).toBe(0);
  });

  test("custom metrics are counted from the functions' EMF and the state machines' PutMetricData: one series per alarmed name", () => {
    const putByStateMachines = stateMachineSeries().map((s) => s.name);
    expect([...emittedNames(), ...putByStateMachines].sort()).toEqual(Object.values(METRIC).sort());
    const series = allCustomMetricSeries();
    expect(series.map((s) => s.name).sort()).toEqual(Object.values(METRIC).sort());
    for (const s of series)
      expect(s).toMatchObject({ namespace: 'ExternalWorker', dimensions: ['Stack', 'service'] });
    const lines = monthlyCost(measured({}, series.length));
    expect(lines.find((line) => /^Custom metrics/.test(line.item))?.usd).toBeCloseTo(
      series.length * PRICES.cloudWatchCustomMetric,
    );
  });

  test('Logs Insights: each widget scans its log groups over the dashboard range at every load', () => {
    const lines = monthlyCost(
      measured({
        logWidgets: [
          { title: 'a', sources: ['Control'] },
          { title: 'b', sources: ['Control', 'Workers'] },
        ],
        workerLogGroups: ['Workers'],
        dashboardRangeDays: 3,
      }),
    );
    const a = DEFAULT_ASSUMPTIONS;
    const gb = a.dashboardViews * (2 * a.logGb + a.workerLogGb) * (3 / 30);
    expect(lines.find((line) => /^Logs Insights/.test(line.item))?.usd).toBeCloseTo(
      gb * PRICES.logsInsightsPerGbScanned,
    );
  });
});
