import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';

/** Namespace of every metric the control plane emits. */
export const METRICS_NAMESPACE = 'ExternalWorker';

/** One structured JSON logger per function; service name from POWERTOOLS_SERVICE_NAME. */
export const logger = new Logger();

/** EMF metrics, flushed after each invocation by the handler wrapper; dimension `Stack` set from STACK_NAME. */
export const metrics = new Metrics({ namespace: METRICS_NAMESPACE });
if (process.env.STACK_NAME) metrics.setDefaultDimensions({ Stack: process.env.STACK_NAME });
