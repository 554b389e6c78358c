import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { METRICS_NAMESPACE, METRICS_SERVICE } from './metric-names';

/** One structured JSON logger per function; service name from POWERTOOLS_SERVICE_NAME. */
export const logger = new Logger();

/**
 * EMF metrics, flushed after each invocation by the handler wrapper. Dimensions: `service`
 * (METRICS_SERVICE) and `Stack` (from STACK_NAME).
 */
export const metrics = new Metrics({ namespace: METRICS_NAMESPACE, serviceName: METRICS_SERVICE });
if (process.env.STACK_NAME) metrics.setDefaultDimensions({ Stack: process.env.STACK_NAME });
