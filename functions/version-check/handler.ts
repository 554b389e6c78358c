import type { Context } from 'aws-lambda';
import * as z from 'zod/mini';
import { ec2 } from '../lib/aws/ec2';
import { imagebuilder } from '../lib/aws/imagebuilder';
import { sns } from '../lib/aws/sns';
import { ssm } from '../lib/aws/ssm';
import { CONCOURSE_VERSION_FORM, CONCOURSE_VERSION_PATTERN } from '../lib/concourse-version';
import { envVar, readEnv } from '../lib/env';
import { lambdaHandler } from '../lib/handler';
import { logger } from '../lib/observability';
import { parseInput } from '../lib/parse';
import { checkVersion } from './check';

const env = readEnv({
  SCHEDULER_API_ADDRESS: envVar.url(),
  STATE_PARAMETER: envVar.parameterName(),
  BUILD_VERSION_PARAMETER: envVar.parameterName(),
  CURRENT_AMI_PARAMETER: envVar.parameterName(),
  IMAGE_PIPELINE_ARN: envVar.arn(),
  TOPIC_ARN: envVar.arn(),
  WORKER_VERSION: z.optional(
    z.string().check(z.regex(CONCOURSE_VERSION_PATTERN, `expected ${CONCOURSE_VERSION_FORM}`)),
  ),
  REQUEST_TIMEOUT_MS: z.optional(envVar.positiveInt()),
  STACK_NAME: envVar.optionalText(),
});

/** The schedule's input (infra/version-check.ts): it carries nothing the check needs, but nothing else is accepted. */
const scheduleInput = z.strictObject({ source: z.optional(z.literal('version-check-schedule')) });

/** Invoked by the schedule every `versionCheckInterval`. */
export const handler = lambdaHandler(async (rawEvent: unknown, _context: Context) => {
  parseInput(
    scheduleInput,
    rawEvent ?? {},
    'version check input',
    '{"source": "version-check-schedule"} or {}',
  );
  const outcome = await checkVersion(
    { ssm, imagebuilder, sns, ec2 },
    {
      schedulerApiAddress: env.SCHEDULER_API_ADDRESS,
      stateParameter: env.STATE_PARAMETER,
      buildVersionParameter: env.BUILD_VERSION_PARAMETER,
      currentAmiParameter: env.CURRENT_AMI_PARAMETER,
      imagePipelineArn: env.IMAGE_PIPELINE_ARN,
      topicArn: env.TOPIC_ARN,
      workerVersion: env.WORKER_VERSION,
      limits: env.REQUEST_TIMEOUT_MS ? { timeoutMs: env.REQUEST_TIMEOUT_MS } : undefined,
      stackName: env.STACK_NAME,
    },
  );
  logger.info('version check done', { ...outcome });
  return outcome;
});
