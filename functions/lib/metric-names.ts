/** Names of the metrics the control plane emits (namespace ExternalWorker). */
export const METRIC = {
  AmisDeleted: 'AmisDeleted',
  SnapshotsDeleted: 'SnapshotsDeleted',
} as const;
