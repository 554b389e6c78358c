/**
 * Monthly cost of the control plane (not the workers) for a fleet, from counted invocations,
 * measured init times, assumed handler times and counted state transitions, at public
 * us-east-1/eu-west-1 list prices (2026), free tiers ignored so the figure is an upper bound.
 *
 * CloudWatch bills a standard alarm per metric it evaluates: an alarm on a metric math
 * expression costs one alarm metric for each metric in the expression
 * (https://aws.amazon.com/cloudwatch/pricing/, "Alarms"), so alarms are costed by the metrics they
 * read, counted in the template, not by their number. A custom metric is billed per name and
 * dimension set emitted (same page, "Metrics"), counted from the registry the functions emit from.
 */
export const PRICES = {
  lambdaPerMillionRequests: 0.2,
  lambdaArmPerGbSecond: 0.0000133334,
  stepFunctionsPerThousandTransitions: 0.025,
  /** Per standard-resolution alarm metric a month. */
  cloudWatchAlarmMetric: 0.1,
  cloudWatchDashboard: 3,
  cloudWatchCustomMetric: 0.3,
  logsIngestionPerGb: 0.5,
  logsInsightsPerGbScanned: 0.005,
  kmsKey: 1,
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
  /** Lambda memory of every function (infra/lambda.ts default). */
  lambdaMb: number;
  /** Handler time once initialized, per function: AWS round trips, not measured here. */
  handlerMs: Record<string, number>;
  /** GB of control-plane logs per month. */
  logGb: number;
  /** Dashboard loads a month; each runs its flow-outcome query over the month's flow-metrics logs. */
  dashboardViews: number;
  /** Share of the control-plane logs that the flow-metrics function writes. */
  flowLogShare: number;
}

export const DEFAULT_ASSUMPTIONS: FleetAssumptions = {
  workers: 20,
  versionCheckMinutes: 5,
  launchesPerWorker: 8,
  rolloutsPerMonth: 4,
  rolloutMinutes: 40,
  spotInterruptionsPerWorker: 2,
  lambdaMb: 256,
  handlerMs: {
    'version-check': 800,
    'ami-retention': 10_000,
    'lifecycle-deadline': 5,
    'flow-metrics': 20,
    'spot-interruption': 300,
    'kept-expiry': 300,
  },
  logGb: 0.5,
  dashboardViews: 60,
  flowLogShare: 0.1,
};

export interface FlowTransitions {
  launch: number;
  drain: number;
  rolloutPerMinute: number;
  rolloutFixed: number;
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
  /** From the synthesized template. */
  alarms: number;
  /** Metrics the alarms evaluate: one a plain alarm, one per metric in a math expression. */
  alarmMetrics: number;
  /** Custom metric series the functions emit (name × dimension set). */
  customMetrics: number;
  dashboards: number;
  kmsKeys: number;
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
  };
}

export function monthlyCost(m: Measured, a: FleetAssumptions = DEFAULT_ASSUMPTIONS): CostLine[] {
  const calls = invocations(m, a);
  const total = Object.values(calls).reduce((sum, n) => sum + n, 0);
  // Low traffic: every invocation is assumed to start cold (upper bound).
  const gbSeconds = Object.entries(calls).reduce(
    (sum, [name, n]) =>
      sum + (n * ((m.coldMs[name] ?? 0) + (a.handlerMs[name] ?? 0)) * (a.lambdaMb / 1024)) / 1000,
    0,
  );
  const launches = a.workers * a.launchesPerWorker;
  const transitions =
    launches * (m.flows.launch + m.flows.drain) +
    a.rolloutsPerMonth * (m.flows.rolloutFixed + m.flows.rolloutPerMinute * a.rolloutMinutes);
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
      quantity: `${m.alarms} alarms, ${m.alarmMetrics} metrics`,
      usd: m.alarmMetrics * PRICES.cloudWatchAlarmMetric,
    },
    {
      item: 'CloudWatch dashboards',
      quantity: `${m.dashboards}`,
      usd: m.dashboards * PRICES.cloudWatchDashboard,
    },
    {
      item: 'Custom metrics',
      quantity: `${m.customMetrics}`,
      usd: m.customMetrics * PRICES.cloudWatchCustomMetric,
    },
    { item: 'Log ingestion', quantity: `${a.logGb} GB`, usd: a.logGb * PRICES.logsIngestionPerGb },
    {
      item: 'Logs Insights (dashboard flow outcomes)',
      quantity: `${(a.dashboardViews * a.logGb * a.flowLogShare).toFixed(1)} GB scanned`,
      usd: a.dashboardViews * a.logGb * a.flowLogShare * PRICES.logsInsightsPerGbScanned,
    },
    { item: 'KMS keys', quantity: `${m.kmsKeys}`, usd: m.kmsKeys * PRICES.kmsKey },
  ];
}

/**
 * Alarm metrics of synthesized AWS::CloudWatch::Alarm resources: a plain alarm evaluates one
 * metric, an alarm on an expression every MetricStat it lists (the expressions themselves are free).
 */
export function alarmMetricCount(alarms: Record<string, { Properties?: { Metrics?: unknown[] } }>): number {
  return Object.values(alarms).reduce((sum, alarm) => {
    const queries = alarm.Properties?.Metrics as Array<{ MetricStat?: unknown }> | undefined;
    return sum + (queries ? queries.filter((query) => query.MetricStat !== undefined).length : 1);
  }, 0);
}
