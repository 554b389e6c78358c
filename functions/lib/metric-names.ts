/** Namespace of every metric the control plane emits. */
export const METRICS_NAMESPACE = 'ExternalWorker';

/**
 * Value of the `service` dimension of every metric: one for all functions, so that dashboards and
 * alarms find a metric by its name and stack whichever function emits it.
 */
export const METRICS_SERVICE = 'external-worker';

/**
 * Names of the metrics the functions emit (namespace `ExternalWorker`, dimensions `service` and
 * `Stack`, nothing else), in one place so that dashboards, alarms and the CLI refer to exactly what
 * the code counts. Each is one billed custom metric a stack, so one is here only when an alarm, the
 * dashboard or the CLI reads it, and never for what AWS measures already (AWS/States has the
 * executions' ends and durations, AWS/Lambda the errors); what only a person reads goes to the
 * log records, which the dashboard queries. Flow outcomes are log records too
 * (functions/flow-metrics/outcomes.ts).
 */
export const METRIC = {
  /** The scheduler answered with a usable version. */
  versionCheckSucceeded: 'VersionCheckSucceeded',
  /** The scheduler's answer was unusable (the reason is in the log record). */
  versionCheckFailed: 'VersionCheckFailed',
  /** An image build was started. */
  buildStarted: 'BuildStarted',
  /** An image build started for a version ended FAILED or CANCELLED. */
  buildFailed: 'BuildFailed',
  /** 1 while the fleet's recorded Concourse version differs from the scheduler's, else 0. */
  fleetVersionBehind: 'FleetVersionBehind',
  /** A Spot interruption warning for an instance of the group. */
  spotInterruptions: 'SpotInterruptions',
  /** An interrupted instance left the group and a replacement was asked for at once. */
  spotReplacementsStarted: 'SpotReplacementsStarted',
  /** AMIs deregistered by retention. */
  amisDeleted: 'AmisDeleted',
  /** Snapshots deleted by retention. */
  snapshotsDeleted: 'SnapshotsDeleted',
  /** Launch template versions of the fleet deleted by retention (before choosing the AMIs). */
  launchTemplateVersionsDeleted: 'LaunchTemplateVersionsDeleted',
  /** Kept instances past their end (kept-until) still running: their expiry could not end them. */
  keptInstancesExpired: 'KeptInstancesExpired',
  /** The launch gate abandoned a worker that failed its boot: a rollout alarm reads it. */
  launchesAbandoned: 'LaunchesAbandoned',
  /** A rebalance recommendation for an instance of the group (Capacity Rebalancing acts on it). */
  rebalanceRecommendations: 'RebalanceRecommendations',
} as const;

/** Why a scheduler answer was unusable: the `reason` of the version check's log record. */
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
