/**
 * Monthly cost of the control plane (not the workers) for a fleet, from counted invocations,
 * measured init times, assumed handler times and counted state transitions, at public
 * us-east-1/eu-west-1 list prices (2026), free tiers ignored so the figure is an upper bound.
 */
export const PRICES = {
  lambdaPerMillionRequests: 0.2,
  lambdaArmPerGbSecond: 0.0000133334,
  stepFunctionsPerThousandTransitions: 0.025,
  cloudWatchAlarm: 0.1,
  cloudWatchDashboard: 3,
  cloudWatchCustomMetric: 0.3,
  logsIngestionPerGb: 0.5,
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
  customMetrics: number;
  /** GB of control-plane logs per month. */
  logGb: number;
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
  customMetrics: 30,
  logGb: 0.5,
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
    { item: 'CloudWatch alarms', quantity: `${m.alarms}`, usd: m.alarms * PRICES.cloudWatchAlarm },
    {
      item: 'CloudWatch dashboards',
      quantity: `${m.dashboards}`,
      usd: m.dashboards * PRICES.cloudWatchDashboard,
    },
    {
      item: 'Custom metrics',
      quantity: `${a.customMetrics}`,
      usd: a.customMetrics * PRICES.cloudWatchCustomMetric,
    },
    { item: 'Log ingestion', quantity: `${a.logGb} GB`, usd: a.logGb * PRICES.logsIngestionPerGb },
    { item: 'KMS keys', quantity: `${m.kmsKeys}`, usd: m.kmsKeys * PRICES.kmsKey },
  ];
}
