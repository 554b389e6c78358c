/** Namespace of every metric the control plane emits. */
export const METRICS_NAMESPACE = 'ExternalWorker';

/**
 * Value of the `service` dimension of every metric: one for all functions, so that dashboards and
 * alarms find a metric by its name and stack whichever function emits it.
 */
export const METRICS_SERVICE = 'external-worker';

/**
 * Names of the metrics the functions emit (namespace `ExternalWorker`, dimension `Stack`), in one
 * place so that dashboards and alarms in infra/ refer to exactly what the code counts. Flow
 * outcomes (LaunchHealthy, RolloutDuration, …) come from functions/flow-metrics/outcomes.ts.
 */
export const METRIC = {
  /** The scheduler answered with a usable version. */
  versionCheckSucceeded: 'VersionCheckSucceeded',
  /** The scheduler's answer was unusable; dimension `Reason` (see VERSION_CHECK_FAILURE). */
  versionCheckFailed: 'VersionCheckFailed',
  /** 1 when the scheduler reports a version other than the one last built or being built, else 0. */
  schedulerVersionChanged: 'SchedulerVersionChanged',
  /** A pinned `workerVersion` differs from the scheduler's version. */
  versionDrift: 'VersionDrift',
  /** An image build was started. */
  buildStarted: 'BuildStarted',
  /** Starting an image build failed; the next check tries again. */
  buildStartFailed: 'BuildStartFailed',
  /** An image build started for a version ended FAILED or CANCELLED. */
  buildFailed: 'BuildFailed',
  /** A version failed to build too many times in a row: no more automatic builds for it. */
  buildRetriesExhausted: 'BuildRetriesExhausted',
  /** 1 while the fleet's recorded Concourse version differs from the scheduler's, else 0. */
  fleetVersionBehind: 'FleetVersionBehind',
  /** A Spot interruption warning for an instance of the group. */
  spotInterruptions: 'SpotInterruptions',
  /** An interrupted instance left the group and a replacement was asked for at once. */
  spotReplacementsStarted: 'SpotReplacementsStarted',
  /** An interrupted instance was still in the launch gate: its launch was abandoned. */
  spotLaunchesAbandoned: 'SpotLaunchesAbandoned',
  /** A Spot or rebalance event for an instance of another group, or none. */
  spotEventsIgnored: 'SpotEventsIgnored',
  /** A Spot event seen again, or for an instance already leaving: nothing done. */
  spotEventsDuplicate: 'SpotEventsDuplicate',
  /** AMIs deregistered by retention. */
  amisDeleted: 'AmisDeleted',
  /** Snapshots deleted by retention. */
  snapshotsDeleted: 'SnapshotsDeleted',
  /** Launch template versions of the fleet deleted by retention (before choosing the AMIs). */
  launchTemplateVersionsDeleted: 'LaunchTemplateVersionsDeleted',
  /** Instances kept for debugging, out of the group (counted by the kept-instance expiry). */
  keptInstances: 'KeptInstances',
  /** Kept instances past their end (kept-until) still running: their expiry could not end them. */
  keptInstancesExpired: 'KeptInstancesExpired',
  /** Kept instances whose end was announced (an hour before). */
  keptInstancesWarned: 'KeptInstancesWarned',
  /** Kept instances terminated at their end. */
  keptInstancesTerminated: 'KeptInstancesTerminated',
  /** A rebalance recommendation for an instance of the group (Capacity Rebalancing acts on it). */
  rebalanceRecommendations: 'RebalanceRecommendations',
} as const;

/** Dimension of VersionCheckFailed. */
export const REASON_DIMENSION = 'Reason';

/** Values of the `Reason` dimension of VersionCheckFailed. */
export const VERSION_CHECK_FAILURE = {
  timeout: 'Timeout',
  unreachable: 'Unreachable',
  httpStatus: 'HttpStatus',
  redirectLoop: 'RedirectLoop',
  bodyTooLarge: 'BodyTooLarge',
  notJson: 'NotJson',
  noVersion: 'NoVersion',
  malformedVersion: 'MalformedVersion',
} as const;
export type VersionCheckFailure = (typeof VERSION_CHECK_FAILURE)[keyof typeof VERSION_CHECK_FAILURE];
