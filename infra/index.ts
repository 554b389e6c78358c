/**
 * The package's entry: the worker pool as a construct to embed in any CDK app, and the app's own
 * stack and configuration parser.
 */
export { ConfigError, parseConfig, type WorkerConfig } from './config';
export {
  type ArtifactMirrors,
  type ExternalWorkerFleetProps,
  type SchedulerEndpoint,
  type WarmPoolOptions,
  WorkerCapacity,
} from './fleet-props';
export { fleetPropsFromConfig } from './fleet-props-from-config';
export { ExternalWorkerFleet, ExternalWorkerStack, type ExternalWorkerStackProps } from './stack';
