import type { Context } from 'aws-lambda';
import * as z from 'zod/mini';
import { envVar, readEnv } from '../lib/env';
import { loggedHandler } from '../lib/handler';
import { logger } from '../lib/observability';
import { parseInput } from '../lib/parse';
import { EXECUTION_ENDED, executionStatusChange, FLOW_OUTCOMES, type Flow, measure } from './outcomes';

const env = readEnv({
  // State machine ARN → flow name, e.g. {"arn:aws:states:…:stateMachine:x": "Launch"}.
  FLOWS: envVar.json(z.record(z.string(), z.enum(Object.keys(FLOW_OUTCOMES) as [Flow, ...Flow[]]))),
});

/** Logs the end of every state machine execution: flow, status, outcome, duration. */
export const handler = loggedHandler(async (rawEvent: unknown, _context: Context) => {
  const event = parseInput(executionStatusChange, rawEvent, 'execution status change');
  const measurement = measure(event, env.FLOWS);
  if (!measurement) return;
  const { execution, ...fields } = measurement;
  logger.info(EXECUTION_ENDED, { ...fields, execution });
});
