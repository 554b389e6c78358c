/** Namespace of every metric the control plane emits. */
export const METRICS_NAMESPACE = 'ExternalWorker';

/**
 * Value of the `service` dimension of every metric: one for all functions, so that dashboards and
 * alarms find a metric by its name and stack whichever function emits it.
 */
export const METRICS_SERVICE = 'external-worker';

/**
 * Names of the metrics the functions emit (namespace `ExternalWorker`, dimensions `service` and
 * `Stack`, nothing else), in one place so that the alarms refer to exactly what the code counts.
 * Each is one billed custom metric a stack ($0.30 a month at list price), so one is here only when
 * an alarm reads it, and never for what AWS measures already (AWS/States has the executions' ends
 * and durations, AWS/Lambda the errors, AWS/AutoScaling the group's instances). What only a person
 * reads (versions, Spot warnings, what retention deleted, flow outcomes, boot times) is a field of
 * the functions' log records, which the dashboard and the CLI query.
 */
export const METRIC = {
  /** The scheduler's answer was unusable (the reason is in the log record). */
  versionCheckFailed: 'VersionCheckFailed',
  /** 1 while the fleet's recorded Concourse version differs from the scheduler's, else 0. */
  fleetVersionBehind: 'FleetVersionBehind',
  /** Kept instances past their end (kept-until) still running: their expiry could not end them. */
  keptInstancesExpired: 'KeptInstancesExpired',
  /** The launch gate abandoned a worker that failed its boot: a rollout alarm reads it. */
  launchesAbandoned: 'LaunchesAbandoned',
} as const;
export type AlarmedMetric = (typeof METRIC)[keyof typeof METRIC];

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
