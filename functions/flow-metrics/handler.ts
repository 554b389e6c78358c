import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { Context } from 'aws-lambda';
import * as z from 'zod/mini';
import { envVar, readEnv } from '../lib/env';
import { lambdaHandler } from '../lib/handler';
import { logger, metrics } from '../lib/observability';
import { parseInput } from '../lib/parse';
import { executionStatusChange, FLOW_OUTCOMES, type Flow, measure } from './outcomes';

const env = readEnv({
  // State machine ARN → flow name, e.g. {"arn:aws:states:…:stateMachine:x": "Launch"}.
  FLOWS: envVar.json(z.record(z.string(), z.enum(Object.keys(FLOW_OUTCOMES) as [Flow, ...Flow[]]))),
});

/** Turns the end of every state machine execution into metrics (EMF). */
export const handler = lambdaHandler(async (rawEvent: unknown, _context: Context) => {
  const event = parseInput(executionStatusChange, rawEvent, 'execution status change');
  const measurement = measure(event, env.FLOWS);
  if (!measurement) return;
  logger.appendKeys({ flow: measurement.flow, execution: measurement.execution });
  for (const name of measurement.counts) metrics.addMetric(name, MetricUnit.Count, 1);
  if (measurement.durationSeconds !== undefined) {
    metrics.addMetric(`${measurement.flow}Duration`, MetricUnit.Seconds, measurement.durationSeconds);
  }
  logger.info('execution ended', {
    counts: measurement.counts,
    durationSeconds: measurement.durationSeconds,
  });
});
