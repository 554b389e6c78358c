import type { Context } from 'aws-lambda';
import * as z from 'zod/mini';
import { autoscaling } from '../lib/aws/autoscaling';
import { sns } from '../lib/aws/sns';
import { ssm } from '../lib/aws/ssm';
import { envVar, readEnv } from '../lib/env';
import { loggedHandler } from '../lib/handler';
import { parseInput } from '../lib/parse';
import { checkEvent, FALLBACK_EVENT_FORM, launchUnsuccessfulEvent } from './events';
import { handleCheck, handleLaunchFailure } from './fallback';

const env = readEnv({
  STACK_NAME: envVar.text(),
  GROUP_NAME: envVar.text(),
  TOPIC_ARN: envVar.arn(),
  STATE_PARAMETER: envVar.parameterName(),
  ON_DEMAND_PERCENTAGE: z.pipe(
    z.string().check(z.regex(/^(100|[1-9]?[0-9])$/, 'expected a percentage 0-100')),
    z.transform(Number),
  ),
  COOLDOWN_SECONDS: envVar.positiveInt(),
});

const settings = {
  stackName: env.STACK_NAME,
  groupName: env.GROUP_NAME,
  topicArn: env.TOPIC_ARN,
  parameterName: env.STATE_PARAMETER,
  configuredPercentage: env.ON_DEMAND_PERCENTAGE,
  cooldownSeconds: env.COOLDOWN_SECONDS,
};

/** The group's failed launches (EventBridge), and the schedule's check (see fallback.ts). */
export const handler = loggedHandler(async (rawEvent: unknown, _context: Context) => {
  const clients = { autoscaling, ssm, sns };
  const input = parseInput(
    z.union([launchUnsuccessfulEvent, checkEvent]),
    rawEvent,
    'event',
    FALLBACK_EVENT_FORM,
  );
  return 'detail' in input
    ? handleLaunchFailure(clients, settings, input, new Date())
    : handleCheck(clients, settings, new Date());
});
