import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { logger, metrics } from './observability';

/**
 * Wraps a handler with the Powertools middlewares: the Lambda context in every log line and
 * metrics flushed as EMF after each invocation (even when it throws). No cold-start metric: it
 * would be one more custom metric per function that no alarm or dashboard reads, and Lambda's own
 * init duration (REPORT line) already tells a cold start.
 */
export function lambdaHandler<TEvent, TResult>(
  handler: (event: TEvent, context: Context) => Promise<TResult>,
) {
  return middy(handler)
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(logMetrics(metrics));
}

/** The same without metrics, for a function that only logs (no empty flush warning each run). */
export function loggedHandler<TEvent, TResult>(
  handler: (event: TEvent, context: Context) => Promise<TResult>,
) {
  return middy(handler).use(injectLambdaContext(logger, { resetKeys: true }));
}
