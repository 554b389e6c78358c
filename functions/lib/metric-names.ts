/** Names of the metrics the control plane emits (namespace `ExternalWorker`), in one place for alarms and dashboards. */
export const METRIC = {
  /** A Spot interruption warning for an instance of the group. */
  SpotInterruptions: 'SpotInterruptions',
  /** An interrupted instance left the group and a replacement was asked for at once. */
  SpotReplacementsStarted: 'SpotReplacementsStarted',
  /** An interrupted instance was still in the launch gate: its launch was abandoned. */
  SpotLaunchesAbandoned: 'SpotLaunchesAbandoned',
  /** A rebalance recommendation for an instance of the group (Capacity Rebalancing acts on it). */
  RebalanceRecommendations: 'RebalanceRecommendations',
  /** A Spot or rebalance event for an instance of another group, or none. */
  SpotEventsIgnored: 'SpotEventsIgnored',
  /** A Spot event seen again, or for an instance already leaving: nothing done. */
  SpotEventsDuplicate: 'SpotEventsDuplicate',
} as const;

export type MetricName = (typeof METRIC)[keyof typeof METRIC];
