import type { Context } from 'aws-lambda';
import * as z from 'zod/mini';
import { ec2 } from '../lib/aws/ec2';
import { imagebuilder } from '../lib/aws/imagebuilder';
import { sns } from '../lib/aws/sns';
import { ssm } from '../lib/aws/ssm';
import { envVar, readEnv } from '../lib/env';
import { lambdaHandler } from '../lib/handler';
import { logger } from '../lib/observability';
import { checkVersion } from './check';
import { VERSION_PATTERN } from './scheduler-info';

const env = readEnv({
  SCHEDULER_API_ADDRESS: envVar.url(),
  STATE_PARAMETER: envVar.parameterName(),
  BUILD_VERSION_PARAMETER: envVar.parameterName(),
  CURRENT_AMI_PARAMETER: envVar.parameterName(),
  IMAGE_PIPELINE_ARN: envVar.arn(),
  TOPIC_ARN: envVar.arn(),
  WORKER_VERSION: z.optional(z.string().check(z.regex(VERSION_PATTERN, 'expected a Concourse version'))),
  REQUEST_TIMEOUT_MS: z.optional(envVar.positiveInt()),
  STACK_NAME: envVar.optionalText(),
});

/**
 * Invoked by the schedule every `versionCheckInterval`. The schedule's input carries nothing the
 * check needs, so the event is not read.
 */
export const handler = lambdaHandler(async (_event: unknown, _context: Context) => {
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
