/**
 * Names of the metrics the functions emit (namespace ExternalWorker, dimension Stack). The dashboard
 * and the alarms refer to these constants, so a renamed metric cannot leave a graph empty.
 * Flow outcomes (LaunchHealthy, RolloutDuration, …) come from functions/flow-metrics/outcomes.ts.
 */
export const METRIC = {
  VersionCheckSucceeded: 'VersionCheckSucceeded',
  VersionCheckFailed: 'VersionCheckFailed',
  BuildStarted: 'BuildStarted',
  BuildFailed: 'BuildFailed',
  FleetVersionBehind: 'FleetVersionBehind',
  SpotInterruptions: 'SpotInterruptions',
  RebalanceRecommendations: 'RebalanceRecommendations',
  AmisDeleted: 'AmisDeleted',
  SnapshotsDeleted: 'SnapshotsDeleted',
} as const;
