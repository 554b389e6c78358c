/**
 * Monthly cost of the control plane (not the workers, nor the image builds' instances) for a
 * fleet, from counted invocations, measured init times, assumed handler times, counted state
 * transitions and what the synthesized template declares, at public us-east-1/eu-west-1 list
 * prices (2026), free tiers ignored so the figure is an upper bound.
 *
 * CloudWatch bills an alarm per metric it evaluates: an alarm on a metric math expression costs
 * one alarm metric for each metric in the expression, $0.30 instead of $0.10 at high resolution (a
 * period under 60 s); a custom metric is billed per namespace, name and dimension set emitted; a
 * dashboard $3 a month; Logs Insights per GB scanned (https://aws.amazon.com/cloudwatch/pricing/).
 * Auto Scaling group metrics are "available at 1-minute granularity at no additional charge"
 * (https://docs.aws.amazon.com/autoscaling/ec2/userguide/ec2-auto-scaling-metrics.html). Events
 * of AWS services and scheduled rules on the default bus cost nothing
 * (https://aws.amazon.com/eventbridge/pricing/); EventBridge Scheduler bills each invocation.
 */
export const PRICES = {
  lambdaPerMillionRequests: 0.2,
  lambdaArmPerGbSecond: 0.0000133334,
  stepFunctionsPerThousandTransitions: 0.025,
  /** Per standard-resolution alarm metric a month. */
  cloudWatchAlarmMetric: 0.1,
  /** Per high-resolution (period under 60 s) alarm metric a month. */
  cloudWatchHighResolutionAlarmMetric: 0.3,
  cloudWatchDashboard: 3,
  cloudWatchCustomMetric: 0.3,
  logsIngestionPerGb: 0.5,
  logsStoragePerGbMonth: 0.03,
  logsInsightsPerGbScanned: 0.005,
  schedulerPerMillionInvocations: 1,
  snsPerMillionPublishes: 0.5,
  snsPerHundredThousandEmails: 2,
  kmsKey: 1,
  kmsPerTenThousandRequests: 0.03,
  xrayPerMillionTraces: 5,
  ssmAdvancedParameter: 0.05,
} as const;

export interface FleetAssumptions {
  workers: number;
  /** Minutes between version checks (config default 5 m). */
  versionCheckMinutes: number;
  /** Instances launched (and so later drained) per worker per month: Spot replacements, schedules, rollouts. */
  launchesPerWorker: number;
  rolloutsPerMonth: number;
  /** Minutes an instance refresh takes for the fleet (drives the rollout's polling loop). */
  rolloutMinutes: number;
  spotInterruptionsPerWorker: number;
  /** Spot launch failures of the group a month (each one invokes the Spot fallback). */
  spotLaunchFailures: number;
  /** Lambda memory of every function (infra/lambda.ts default). */
  lambdaMb: number;
  /** Handler time once initialized, per function: AWS round trips, not measured here. */
  handlerMs: Record<string, number>;
  /** GB of control-plane logs per month: function records, state machine execution logs (level ALL). */
  logGb: number;
  /** GB of worker logs per month (boot log, worker log, syslog): scanned by the worker-log widget only. */
  workerLogGb: number;
  /** Dashboard loads a month; each runs every Logs Insights widget over the dashboard's range. */
  dashboardViews: number;
  /** Notifications a month (alarm changes, rollbacks, kept-instance warnings, aborted executions), each mailed once. */
  notifications: number;
}

export const DEFAULT_ASSUMPTIONS: FleetAssumptions = {
  workers: 20,
  versionCheckMinutes: 5,
  launchesPerWorker: 8,
  rolloutsPerMonth: 4,
  rolloutMinutes: 40,
  spotInterruptionsPerWorker: 2,
  spotLaunchFailures: 40,
  lambdaMb: 256,
  handlerMs: {
    'version-check': 800,
    'ami-retention': 10_000,
    'lifecycle-deadline': 5,
    'flow-metrics': 20,
    'spot-interruption': 300,
    'kept-expiry': 300,
    'spot-fallback': 200,
  },
  logGb: 0.5,
  workerLogGb: 2,
  dashboardViews: 60,
  notifications: 200,
};

export interface FlowTransitions {
  launch: number;
  drain: number;
  rolloutPerMinute: number;
  rolloutFixed: number;
}

/** What the synthesized template declares that the bill depends on (countTemplate). */
export interface TemplateCounts {
  alarms: number;
  /** Metrics the alarms evaluate: one a plain alarm, one per metric in a math expression. */
  standardAlarmMetrics: number;
  highResolutionAlarmMetrics: number;
  dashboards: number;
  /** Logs Insights widgets of the dashboards: the log groups each queries (logical ids). */
  logWidgets: Array<{ title: string; sources: string[] }>;
  /** Days a dashboard shows by default: what a load queries. */
  dashboardRangeDays: number;
  kmsKeys: number;
  /** EventBridge Scheduler schedules (billed per invocation) and their invocations a month. */
  schedules: Array<{ id: string; perMonth: number }>;
  /** EventBridge rules on the default bus: AWS service events and schedules, free. */
  rules: number;
  /** The longest retention of the stack's log groups. */
  logRetentionDays: number;
  /** Log groups of the workers (their launch template names them), by logical id. */
  workerLogGroups: string[];
  advancedParameters: number;
  /** Granularity of each Auto Scaling group's metrics collection (free at 1Minute). */
  groupMetrics: string[];
  tracedFunctions: number;
  tracedStateMachines: number;
}

/** What the bench measured and counted. */
export interface Measured {
  flows: FlowTransitions;
  /** Lambda invocations per execution, counted by the harness. */
  lambdaPerLaunch: number;
  lambdaPerDrain: number;
  lambdaPerRollout: number;
  /** Median cold load + init per function, ms (billed: Lambda bills the init phase). */
  coldMs: Record<string, number>;
  template: TemplateCounts;
  /** Custom metric series the functions emit (namespace × name × dimension set), from their EMF output. */
  customMetrics: number;
}

export interface CostLine {
  item: string;
  quantity: string;
  usd: number;
}

const MINUTES_PER_MONTH = 30 * 24 * 60;

/** Invocations per function per month. */
export function invocations(m: Measured, a: FleetAssumptions): Record<string, number> {
  const launches = a.workers * a.launchesPerWorker;
  return {
    'version-check': MINUTES_PER_MONTH / a.versionCheckMinutes,
    'lifecycle-deadline': launches * (m.lambdaPerLaunch + m.lambdaPerDrain),
    'spot-interruption': a.workers * a.spotInterruptionsPerWorker,
    // One per execution end of the launch, drain and rollout flows.
    'flow-metrics': launches * 2 + a.rolloutsPerMonth,
    // Daily, and from each successful rollout.
    'ami-retention': 30 + a.rolloutsPerMonth * m.lambdaPerRollout,
    // Every 15 minutes (infra/kept-expiry.ts).
    'kept-expiry': MINUTES_PER_MONTH / 15,
    // Its check every cool-down (default 30 min, infra/spot-fallback.ts), and each Spot launch failure.
    'spot-fallback': MINUTES_PER_MONTH / 30 + a.spotLaunchFailures,
  };
}

export function monthlyCost(m: Measured, a: FleetAssumptions = DEFAULT_ASSUMPTIONS): CostLine[] {
  const t = m.template;
  const calls = invocations(m, a);
  const total = Object.values(calls).reduce((sum, n) => sum + n, 0);
  // Low traffic: every invocation is assumed to start cold (upper bound).
  const gbSeconds = Object.entries(calls).reduce(
    (sum, [name, n]) =>
      sum + (n * ((m.coldMs[name] ?? 0) + (a.handlerMs[name] ?? 0)) * (a.lambdaMb / 1024)) / 1000,
    0,
  );
  const launches = a.workers * a.launchesPerWorker;
  const executions = launches * 2 + a.rolloutsPerMonth;
  const transitions =
    launches * (m.flows.launch + m.flows.drain) +
    a.rolloutsPerMonth * (m.flows.rolloutFixed + m.flows.rolloutPerMinute * a.rolloutMinutes);
  // Each widget scans its log groups over the dashboard's range at every load; a control-plane
  // group is costed as if it held all the control-plane logs (upper bound).
  const range = t.dashboardRangeDays / 30;
  const scannedGb =
    a.dashboardViews *
    t.logWidgets.reduce(
      (sum, widget) =>
        sum +
        widget.sources.reduce(
          (s, source) => s + (t.workerLogGroups.includes(source) ? a.workerLogGb : a.logGb) * range,
          0,
        ),
      0,
    );
  const storedGb = a.logGb * (t.logRetentionDays / 30);
  const scheduled = t.schedules.reduce((sum, s) => sum + s.perMonth, 0);
  // Every traced invocation or execution starts a trace at most (upper bound: none joins another's).
  const traces = (t.tracedFunctions > 0 ? total : 0) + (t.tracedStateMachines > 0 ? executions : 0);
  // SNS encrypts each publish with the stack's key: a data key request each (upper bound, no caching).
  const kmsRequests = a.notifications;
  const nonStandardGroupMetrics = t.groupMetrics.filter((g) => g !== '1Minute').length;
  if (nonStandardGroupMetrics > 0)
    throw new Error('Auto Scaling group metrics at another granularity than 1Minute');
  return [
    {
      item: 'Lambda requests',
      quantity: `${Math.round(total)} invocations`,
      usd: (total / 1e6) * PRICES.lambdaPerMillionRequests,
    },
    {
      item: `Lambda compute (arm64, ${a.lambdaMb} MB, init + handler)`,
      quantity: `${gbSeconds.toFixed(0)} GB-s`,
      usd: gbSeconds * PRICES.lambdaArmPerGbSecond,
    },
    {
      item: 'Step Functions transitions (standard)',
      quantity: `${Math.round(transitions)} transitions`,
      usd: (transitions / 1000) * PRICES.stepFunctionsPerThousandTransitions,
    },
    {
      item: 'CloudWatch alarms (billed per metric evaluated)',
      quantity: `${t.alarms} alarms, ${t.standardAlarmMetrics} standard + ${t.highResolutionAlarmMetrics} high-resolution metrics`,
      usd:
        t.standardAlarmMetrics * PRICES.cloudWatchAlarmMetric +
        t.highResolutionAlarmMetrics * PRICES.cloudWatchHighResolutionAlarmMetric,
    },
    {
      item: 'CloudWatch dashboards',
      quantity: `${t.dashboards}`,
      usd: t.dashboards * PRICES.cloudWatchDashboard,
    },
    {
      item: 'Custom metrics (functions’ EMF, state machines’ PutMetricData)',
      quantity: `${m.customMetrics}`,
      usd: m.customMetrics * PRICES.cloudWatchCustomMetric,
    },
    {
      item: 'Auto Scaling group metrics (1-minute)',
      quantity: `${t.groupMetrics.length} group${t.groupMetrics.length === 1 ? '' : 's'}`,
      usd: 0,
    },
    { item: 'Log ingestion', quantity: `${a.logGb} GB`, usd: a.logGb * PRICES.logsIngestionPerGb },
    {
      item: `Log storage (${t.logRetentionDays} days kept)`,
      quantity: `${storedGb.toFixed(2)} GB-month`,
      usd: storedGb * PRICES.logsStoragePerGbMonth,
    },
    {
      item: 'Logs Insights (dashboard widgets)',
      quantity: `${t.logWidgets.length} widgets, ${scannedGb.toFixed(1)} GB scanned`,
      usd: scannedGb * PRICES.logsInsightsPerGbScanned,
    },
    {
      item: 'EventBridge Scheduler',
      quantity: `${Math.round(scheduled)} invocations (${t.rules} rules: free)`,
      usd: (scheduled / 1e6) * PRICES.schedulerPerMillionInvocations,
    },
    {
      item: 'SNS (publishes, e-mails)',
      quantity: `${a.notifications}`,
      usd:
        (a.notifications / 1e6) * PRICES.snsPerMillionPublishes +
        (a.notifications / 1e5) * PRICES.snsPerHundredThousandEmails,
    },
    {
      item: 'KMS (keys, requests)',
      quantity: `${t.kmsKeys} key${t.kmsKeys === 1 ? '' : 's'}, ${kmsRequests} requests`,
      usd: t.kmsKeys * PRICES.kmsKey + (kmsRequests / 1e4) * PRICES.kmsPerTenThousandRequests,
    },
    {
      item: 'X-Ray traces (functions and state machines traced)',
      quantity: `${Math.round(traces)}`,
      usd: (traces / 1e6) * PRICES.xrayPerMillionTraces,
    },
    {
      item: 'SSM advanced parameters',
      quantity: `${t.advancedParameters}`,
      usd: t.advancedParameters * PRICES.ssmAdvancedParameter,
    },
  ];
}

type Resources = Record<string, { Type: string; Properties?: Record<string, unknown> }>;

/**
 * Alarm metrics of synthesized AWS::CloudWatch::Alarm resources: a plain alarm evaluates one
 * metric, an alarm on an expression every MetricStat it lists (the expressions themselves are
 * free); high resolution when the period is under 60 s.
 */
export function alarmMetricCounts(resources: Resources): { standard: number; highResolution: number } {
  let standard = 0;
  let highResolution = 0;
  for (const alarm of Object.values(resources).filter((r) => r.Type === 'AWS::CloudWatch::Alarm')) {
    const props = alarm.Properties ?? {};
    const queries = props.Metrics as Array<{ MetricStat?: { Period?: number } }> | undefined;
    const periods = queries
      ? queries.flatMap((query) => (query.MetricStat ? [query.MetricStat.Period ?? 60] : []))
      : [(props.Period as number | undefined) ?? 60];
    for (const period of periods) {
      if (period < 60) highResolution += 1;
      else standard += 1;
    }
  }
  return { standard, highResolution };
}

/** Minutes between runs of a `rate(…)` expression, or undefined for another form. */
function rateMinutes(expression: string): number | undefined {
  const match = /^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$/.exec(expression);
  if (!match) return undefined;
  const unit = match[2]?.startsWith('minute') ? 1 : match[2]?.startsWith('hour') ? 60 : 1440;
  return Number(match[1]) * unit;
}

/** A dashboard body (Fn::Join of text and references) as JSON, references as their logical ids. */
function dashboardJson(body: unknown): { start?: string; widgets: Array<Record<string, unknown>> } {
  const join = (body as { 'Fn::Join'?: [string, unknown[]] })['Fn::Join'];
  const text =
    typeof body === 'string'
      ? body
      : (join?.[1] ?? [])
          .map((part) =>
            typeof part === 'string' ? part : String([Object.values(part as object)[0]].flat()[0]),
          )
          .join('');
  return JSON.parse(text);
}

/** Days of an ISO 8601 duration such as the dashboards' `-P1D` or `-PT3H`. */
function days(duration: string | undefined): number {
  const match = /^-?P(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?)?$/.exec(duration ?? '');
  if (!match) return 1;
  const [, w, d, h, m] = match.map((v) => Number(v ?? 0));
  return (w ?? 0) * 7 + (d ?? 0) + (h ?? 0) / 24 + (m ?? 0) / 1440;
}

/** The counts of the synthesized template (Template.toJSON()) that the bill depends on. */
export function countTemplate(json: { Resources: Resources }): TemplateCounts {
  const resources = json.Resources;
  const ofType = (type: string) => Object.entries(resources).filter(([, r]) => r.Type === type);
  const alarmMetrics = alarmMetricCounts(resources);
  const dashboards = ofType('AWS::CloudWatch::Dashboard').map(([, r]) =>
    dashboardJson(r.Properties?.DashboardBody),
  );
  const logWidgets = dashboards.flatMap((d) =>
    d.widgets
      .filter((w) => w.type === 'log')
      .map((w) => {
        const props = w.properties as { title?: string; query?: string };
        return {
          title: props.title ?? '',
          sources: [...(props.query ?? '').matchAll(/SOURCE '([^']+)'/g)].map((s) => s[1] as string),
        };
      }),
  );
  const groups = ofType('AWS::AutoScaling::AutoScalingGroup');
  // A worker log group is one the workers are told to write to: their launch template names it.
  const launchTemplates = JSON.stringify(ofType('AWS::EC2::LaunchTemplate'));
  const workerLogGroups = ofType('AWS::Logs::LogGroup')
    .map(([id]) => id)
    .filter((id) => launchTemplates.includes(`{"Ref":"${id}"}`));
  const schedules = ofType('AWS::Scheduler::Schedule').map(([id, r]) => {
    const minutes = rateMinutes(String(r.Properties?.ScheduleExpression ?? ''));
    if (minutes === undefined) throw new Error(`${id}: schedule expression the bench cannot count`);
    return { id, perMonth: MINUTES_PER_MONTH / minutes };
  });
  return {
    alarms: ofType('AWS::CloudWatch::Alarm').length,
    standardAlarmMetrics: alarmMetrics.standard,
    highResolutionAlarmMetrics: alarmMetrics.highResolution,
    dashboards: dashboards.length,
    logWidgets,
    dashboardRangeDays: Math.max(0, ...dashboards.map((d) => days(d.start))),
    kmsKeys: ofType('AWS::KMS::Key').length,
    schedules,
    rules: ofType('AWS::Events::Rule').length,
    logRetentionDays: Math.max(
      0,
      ...ofType('AWS::Logs::LogGroup').map(([, r]) => Number(r.Properties?.RetentionInDays ?? 3653)),
    ),
    workerLogGroups,
    advancedParameters: ofType('AWS::SSM::Parameter').filter(([, r]) => r.Properties?.Tier === 'Advanced')
      .length,
    groupMetrics: groups.flatMap(([, r]) =>
      ((r.Properties?.MetricsCollection as Array<{ Granularity: string }> | undefined) ?? []).map(
        (c) => c.Granularity,
      ),
    ),
    tracedFunctions: ofType('AWS::Lambda::Function').filter(
      ([, r]) => (r.Properties?.TracingConfig as { Mode?: string } | undefined)?.Mode === 'Active',
    ).length,
    tracedStateMachines: ofType('AWS::StepFunctions::StateMachine').filter(
      ([, r]) => (r.Properties?.TracingConfiguration as { Enabled?: boolean } | undefined)?.Enabled,
    ).length,
  };
}
