/**
 * Monthly cost of the control plane (not the workers) for a fleet, from counted invocations,
 * durations and state transitions, at public us-east-1/eu-west-1 list prices (2026), free tiers
 * ignored so the figure is an upper bound.
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
  /** Minutes between version checks. */
  versionCheckMinutes: number;
  /** Instances launched per worker per month (Spot replacements, schedules, rollouts). */
  launchesPerWorker: number;
  rolloutsPerMonth: number;
  /** Minutes an instance refresh takes for the fleet (drives the rollout's polling loop). */
  rolloutMinutes: number;
  spotInterruptionsPerWorker: number;
  alarms: number;
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
  alarms: 12,
  customMetrics: 30,
  logGb: 0.5,
};

export interface FlowTransitions {
  launch: number;
  drain: number;
  rolloutPerMinute: number;
  rolloutFixed: number;
}

export interface CostLine {
  item: string;
  quantity: string;
  usd: number;
}

const MINUTES_PER_MONTH = 30 * 24 * 60;

export function monthlyCost(flows: FlowTransitions, a: FleetAssumptions = DEFAULT_ASSUMPTIONS): CostLine[] {
  const versionChecks = MINUTES_PER_MONTH / a.versionCheckMinutes;
  const launches = a.workers * a.launchesPerWorker;
  const interruptions = a.workers * a.spotInterruptionsPerWorker;
  // Every execution end is counted by flow-metrics; AMI retention runs daily and after each rollout.
  const invocations =
    versionChecks + interruptions + 30 + a.rolloutsPerMonth + launches * 2 + a.rolloutsPerMonth;
  const gbSeconds = invocations * 0.256 * 0.3;
  const transitions =
    launches * (flows.launch + flows.drain) +
    a.rolloutsPerMonth * (flows.rolloutFixed + flows.rolloutPerMinute * a.rolloutMinutes);
  return [
    {
      item: 'Lambda requests',
      quantity: `${Math.round(invocations)} invocations`,
      usd: (invocations / 1e6) * PRICES.lambdaPerMillionRequests,
    },
    {
      item: 'Lambda compute (256 MB, 300 ms each)',
      quantity: `${gbSeconds.toFixed(0)} GB-s`,
      usd: gbSeconds * PRICES.lambdaArmPerGbSecond,
    },
    {
      item: 'Step Functions transitions',
      quantity: `${Math.round(transitions)} transitions`,
      usd: (transitions / 1000) * PRICES.stepFunctionsPerThousandTransitions,
    },
    { item: 'CloudWatch alarms', quantity: `${a.alarms}`, usd: a.alarms * PRICES.cloudWatchAlarm },
    { item: 'CloudWatch dashboard', quantity: '1', usd: PRICES.cloudWatchDashboard },
    {
      item: 'Custom metrics',
      quantity: `${a.customMetrics}`,
      usd: a.customMetrics * PRICES.cloudWatchCustomMetric,
    },
    { item: 'Log ingestion', quantity: `${a.logGb} GB`, usd: a.logGb * PRICES.logsIngestionPerGb },
    { item: 'KMS key (notifications)', quantity: '1', usd: PRICES.kmsKey },
  ];
}
