import * as fs from 'node:fs';
import * as path from 'node:path';
import { Match } from 'aws-cdk-lib/assertions';
import { METRIC } from '../../functions/lib/metric-names';
import { synth } from '../support/stack';

const FUNCTIONS = path.join(__dirname, '..', '..', 'functions');
// State machines emit metrics too (PutMetricData Tasks), from their definitions.
const STATE_MACHINES = path.join(__dirname, '..', '..', 'infra', 'statemachines');

function sources(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return sources(full);
    return entry.name.endsWith('.ts') ? [fs.readFileSync(full, 'utf8')] : [];
  });
}

/** Metric names the code really emits: the METRIC constants it uses. */
function emittedNames(): Set<string> {
  const code = [...sources(FUNCTIONS), ...sources(STATE_MACHINES)].join('\n');
  return new Set(
    Object.entries(METRIC)
      .filter(([key]) => code.includes(`METRIC.${key}`))
      .map(([, name]) => name),
  );
}

/** Names of the ExternalWorker metrics a dashboard body refers to. */
function dashboardMetricNames(body: unknown): string[] {
  const text = JSON.stringify(body);
  return [...text.matchAll(/\[\\"ExternalWorker\\",\\"([A-Za-z]+)\\"/g)].map((m) => m[1] as string);
}

describe('observability', () => {
  const { template, config } = synth();

  test('every metric name of the registry is emitted somewhere in the code', () => {
    const code = [...sources(FUNCTIONS), ...sources(STATE_MACHINES)].join('\n');
    const unused = Object.keys(METRIC).filter((key) => !code.includes(`METRIC.${key}`));
    expect(unused).toEqual([]);
  });

  test('the dashboard graphs only metrics that the functions emit', () => {
    const [dashboard] = Object.values(template.findResources('AWS::CloudWatch::Dashboard')) as Array<{
      Properties: { DashboardBody: unknown };
    }>;
    const names = dashboardMetricNames(dashboard?.Properties.DashboardBody);
    expect(names.length).toBeGreaterThan(5);
    const emitted = emittedNames();
    expect(names.filter((name) => !emitted.has(name))).toEqual([]);
    expect(JSON.stringify(dashboard?.Properties.DashboardBody)).toContain('GroupInServiceInstances');
    // The worker log group, by reference, in the log query widget.
    expect(JSON.stringify(dashboard?.Properties.DashboardBody)).toMatch(/SOURCE.{0,12}FleetWorkerLogs/);
  });

  test('every custom metric is read by an alarm, the dashboard or the CLI, and by nothing else', () => {
    const [dashboard] = Object.values(template.findResources('AWS::CloudWatch::Dashboard')) as Array<{
      Properties: { DashboardBody: unknown };
    }>;
    const alarmed = (
      Object.values(template.findResources('AWS::CloudWatch::Alarm')) as Array<{
        Properties: { Namespace?: string; MetricName?: string };
      }>
    )
      .filter((alarm) => alarm.Properties.Namespace === 'ExternalWorker')
      .map((alarm) => alarm.Properties.MetricName);
    const cli = fs.readFileSync(path.join(__dirname, '..', '..', 'cli', 'alarms.ts'), 'utf8');
    const read = Object.entries(METRIC)
      .filter(([key]) => cli.includes(`METRIC.${key}`))
      .map(([, name]) => name);
    const needed = new Set([
      ...dashboardMetricNames(dashboard?.Properties.DashboardBody),
      ...alarmed,
      ...read,
    ]);
    expect([...needed].sort()).toEqual(Object.values(METRIC).sort());
  });

  test('no per-function cold-start metric and no extra dimension: one series per metric name', () => {
    const code = sources(FUNCTIONS).join('\n');
    expect(code).not.toMatch(/captureColdStartMetric:\s*true|addDimension|singleMetric/);
  });

  test('flow outcomes from the log records, durations and ends from AWS/States', () => {
    const [dashboard] = Object.values(template.findResources('AWS::CloudWatch::Dashboard')) as Array<{
      Properties: { DashboardBody: unknown };
    }>;
    const body = JSON.stringify(dashboard?.Properties.DashboardBody);
    expect(body).toMatch(/SOURCE.{0,12}ObservabilityFlowMetricsLogs/);
    expect(body).toContain('stats count(*) as executions by flow, status, outcome');
    for (const name of ['ExecutionTime', 'ExecutionsFailed', 'ExecutionsTimedOut', 'ExecutionsAborted'])
      expect(body).toContain(`\\"AWS/States\\",\\"${name}\\"`);
  });

  test('every alarm notifies the topic', () => {
    const alarms = Object.values(template.findResources('AWS::CloudWatch::Alarm')) as Array<{
      Properties: { AlarmActions: unknown[] };
    }>;
    expect(alarms.length).toBeGreaterThan(4);
    for (const alarm of alarms) {
      expect(alarm.Properties.AlarmActions).toEqual([{ Ref: expect.stringMatching(/^NotificationsTopic/) }]);
    }
  });

  test('version check failing three times in a row', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: METRIC.versionCheckFailed,
      Namespace: 'ExternalWorker',
      // Powertools adds the service dimension to every metric: the alarm must name it too.
      Dimensions: [
        { Name: 'Stack', Value: 'external-worker-prod' },
        { Name: 'service', Value: 'external-worker' },
      ],
      Period: config.versionCheckInterval,
      EvaluationPeriods: 3,
      DatapointsToAlarm: 3,
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
    });
  });

  test('a failed build, and the fleet behind the scheduler for longer than the tolerance', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: METRIC.buildFailed,
      Threshold: 1,
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: METRIC.fleetVersionBehind,
      Statistic: 'Minimum',
      Period: 300,
      EvaluationPeriods: config.versionLagTolerance / 300,
      DatapointsToAlarm: config.versionLagTolerance / 300,
      TreatMissingData: 'missing',
    });
  });

  test('the group below its desired capacity for 30 minutes', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      EvaluationPeriods: 6,
      Metrics: Match.arrayWith([
        Match.objectLike({ Expression: 'desired - inService' }),
        Match.objectLike({
          MetricStat: Match.objectLike({
            Metric: Match.objectLike({ MetricName: 'GroupDesiredCapacity', Namespace: 'AWS/AutoScaling' }),
          }),
        }),
      ]),
    });
  });

  test('any dead-letter queue not empty', () => {
    const queues = Object.keys(template.findResources('AWS::SQS::Queue'));
    expect(queues.length).toBeGreaterThan(0);
    for (const queue of queues) {
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        MetricName: 'ApproximateNumberOfMessagesVisible',
        Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [queue, 'QueueName'] } }],
      });
    }
  });

  test('every asynchronous target has a dead-letter queue', () => {
    for (const rule of Object.values(template.findResources('AWS::Events::Rule')) as Array<{
      Properties: { Targets: Array<Record<string, unknown>> };
    }>) {
      for (const target of rule.Properties.Targets) expect(target.DeadLetterConfig).toBeDefined();
    }
    const scheduleTargets: string[] = [];
    for (const schedule of Object.values(template.findResources('AWS::Scheduler::Schedule')) as Array<{
      Properties: { Target: Record<string, unknown> };
    }>) {
      expect(schedule.Properties.Target.DeadLetterConfig).toBeDefined();
      scheduleTargets.push(JSON.stringify(schedule.Properties.Target.Arn));
    }
    // A function invoked asynchronously (by a rule or a schedule) also sends what fails all its
    // retries somewhere: a dead-letter queue, or an on-failure destination.
    const ruleTargets = (
      Object.values(template.findResources('AWS::Events::Rule')) as Array<{
        Properties: { Targets: Array<{ Arn: unknown }> };
      }>
    ).flatMap((rule) => rule.Properties.Targets.map((target) => JSON.stringify(target.Arn)));
    const invokeConfigs = JSON.stringify(template.findResources('AWS::Lambda::EventInvokeConfig'));
    const functions = template.findResources('AWS::Lambda::Function');
    const asyncFunctions = Object.keys(functions).filter((id) =>
      [...ruleTargets, ...scheduleTargets].some((arn) => arn.includes(`"${id}"`)),
    );
    expect(asyncFunctions.length).toBeGreaterThanOrEqual(3);
    for (const id of asyncFunctions) {
      const props = (functions[id] as { Properties: { DeadLetterConfig?: unknown } }).Properties;
      const hasDestination = invokeConfigs.includes(`"${id}"`) && invokeConfigs.includes('OnFailure');
      expect({ id, handled: props.DeadLetterConfig !== undefined || hasDestination }).toEqual({
        id,
        handled: true,
      });
    }
  });
});
