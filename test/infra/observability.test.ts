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

type Widget = { type: string; x: number; y: number; properties: { title?: string; view?: string } };

function dashboardBody(template: ReturnType<typeof synth>['template']): unknown {
  const [dashboard] = Object.values(template.findResources('AWS::CloudWatch::Dashboard')) as Array<{
    Properties: { DashboardBody: unknown };
  }>;
  return dashboard?.Properties.DashboardBody;
}

/** The widgets of the dashboard, references to resources rendered as `<logical id>`. */
function dashboardWidgets(template: ReturnType<typeof synth>['template']): Widget[] {
  const body = dashboardBody(template) as { 'Fn::Join': [string, unknown[]] };
  const text = body['Fn::Join'][1]
    .map((part) => (typeof part === 'string' ? part : `<${[Object.values(part as object)[0]].flat()[0]}>`))
    .join('');
  return (JSON.parse(text) as { widgets: Widget[] }).widgets;
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

  test('the dashboard graphs no custom metric: what only a person reads comes from the records', () => {
    const body = dashboardBody(template);
    // Custom metrics are billed per series: each one exists for an alarm, none for the dashboard.
    expect(dashboardMetricNames(body)).toEqual([]);
    const text = JSON.stringify(body);
    expect(text).toContain('GroupInServiceInstances');
    // The worker log group, by reference, in the log query widget.
    expect(text).toMatch(/SOURCE.{0,12}FleetWorkerLogs/);
  });

  test('every custom metric is read by an alarm, and the alarms read no other', () => {
    const alarmed = (
      Object.values(template.findResources('AWS::CloudWatch::Alarm')) as Array<{
        Properties: { Namespace?: string; MetricName?: string };
      }>
    )
      .filter((alarm) => alarm.Properties.Namespace === 'ExternalWorker')
      .map((alarm) => alarm.Properties.MetricName);
    expect([...new Set(alarmed)].sort()).toEqual(Object.values(METRIC).sort());
    expect([...emittedNames()].sort()).toEqual(Object.values(METRIC).sort());
    // The CLI reads the records too, not metrics of ours.
    for (const file of fs.readdirSync(path.join(__dirname, '..', '..', 'cli')))
      expect(fs.readFileSync(path.join(__dirname, '..', '..', 'cli', file), 'utf8')).not.toMatch(
        /METRICS_NAMESPACE|METRIC\./,
      );
  });

  test('top row: alarm status of every alarm of the stack, versions, workers in service vs desired, kept instances', () => {
    const widgets = dashboardWidgets(template);
    const top = widgets.filter((w) => w.y === 0);
    expect(top.map((w) => w.properties.title)).toEqual([
      'Alarms',
      'Versions (last check)',
      'Workers in service / desired',
      'Kept instances',
    ]);
    const alarmIds = Object.keys(template.findResources('AWS::CloudWatch::Alarm'));
    const status = JSON.stringify(top[0]);
    expect(top[0]?.type).toBe('alarm');
    for (const id of alarmIds) expect(status).toContain(id);
    expect(JSON.stringify(top[1])).toMatch(/SOURCE.{0,12}VersionCheckFunctionLogs/);
    expect(JSON.stringify(top[1])).toContain(
      'stats latest(scheduler) as scheduler, latest(built) as built, latest(build) as build, latest(fleet) as fleet',
    );
    expect(top[2]?.properties.view).toBe('singleValue');
    expect(JSON.stringify(top[2])).toContain('GroupDesiredCapacity');
    expect(JSON.stringify(top[3])).toMatch(/SOURCE.{0,12}KeptExpiryFunctionLogs/);
  });

  test('Lambda errors and throttles of every function, every dead-letter queue, boot time p90', () => {
    const widgets = dashboardWidgets(template);
    const byTitle = (title: string) => JSON.stringify(widgets.find((w) => w.properties.title === title));
    const lambdaWidget = byTitle('Lambda errors and throttles');
    const functions = Object.keys(template.findResources('AWS::Lambda::Function')).filter(
      (id) => !id.startsWith('FleetCurrentAmi') && !id.startsWith('AWS') && !id.includes('Provider'),
    );
    expect(functions.length).toBeGreaterThanOrEqual(6);
    for (const id of functions) expect({ id, shown: lambdaWidget.includes(id) }).toEqual({ id, shown: true });
    expect(lambdaWidget).toContain('"AWS/Lambda","Throttles"');
    const queues = byTitle('Dead-letter queue depth');
    for (const id of Object.keys(template.findResources('AWS::SQS::Queue'))) expect(queues).toContain(id);
    expect(byTitle('Boot time of healthy launches (s)')).toContain('stats pct(durationSeconds, 90) as p90');
  });

  test('no per-function cold-start metric and no extra dimension: one series per metric name', () => {
    const code = sources(FUNCTIONS).join('\n');
    expect(code).not.toMatch(/captureColdStartMetric:\s*true|addDimension|singleMetric/);
  });

  test('flow outcomes from the log records, durations and ends from AWS/States', () => {
    const body = JSON.stringify(dashboardBody(template));
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

  test('each flow alarms on its failed or timed-out executions; an aborted one is told by a rule', () => {
    const machines = Object.keys(template.findResources('AWS::StepFunctions::StateMachine'));
    expect(machines).toHaveLength(4);
    for (const machine of machines) {
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        Metrics: Match.arrayWith([
          Match.objectLike({ Expression: 'failed + timedOut' }),
          Match.objectLike({
            MetricStat: Match.objectLike({
              Metric: Match.objectLike({
                MetricName: 'ExecutionsTimedOut',
                Dimensions: [{ Name: 'StateMachineArn', Value: { Ref: machine } }],
              }),
            }),
          }),
        ]),
      });
    }
    const rules = Object.values(template.findResources('AWS::Events::Rule')) as Array<{
      Properties: {
        EventPattern: { detail?: { status?: string[]; stateMachineArn?: unknown[] } };
        Targets: Array<Record<string, unknown>>;
      };
    }>;
    const aborted = rules.filter(
      (rule) => rule.Properties.EventPattern?.detail?.status?.join() === 'ABORTED',
    );
    expect(aborted).toHaveLength(1);
    expect(aborted[0]?.Properties.EventPattern.detail?.stateMachineArn).toEqual(
      machines.map((machine) => ({ Ref: machine })),
    );
    const [target] = aborted[0]?.Properties.Targets ?? [];
    expect(target?.Arn).toEqual({ Ref: expect.stringMatching(/^NotificationsTopic/) });
    expect(JSON.stringify(target?.InputTransformer)).toContain('<detail-executionArn>');
    expect(target?.DeadLetterConfig).toBeDefined();
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

  test('the fleet behind the scheduler for longer than the tolerance', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: METRIC.fleetVersionBehind,
      Statistic: 'Minimum',
      Period: 300,
      EvaluationPeriods: config.versionLagTolerance / 300,
      DatapointsToAlarm: config.versionLagTolerance / 300,
      TreatMissingData: 'missing',
    });
  });

  test("the group below its desired capacity for longer than a boot: one alarm, the rollout's, notifying", () => {
    const below = Object.values(
      template.findResources('AWS::CloudWatch::Alarm', {
        Properties: { Metrics: Match.arrayWith([Match.objectLike({ Expression: 'desired - inService' })]) },
      }),
    ) as Array<{ Properties: Record<string, unknown> }>;
    expect(below).toHaveLength(1);
    expect(below[0]?.Properties).toMatchObject({
      AlarmName: `${config.stackName}-rollout-fleet-below-desired`,
      EvaluationPeriods: Math.ceil(config.bootTimeout / 60) + 5,
      AlarmActions: [expect.anything()],
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
