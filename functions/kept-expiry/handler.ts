import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { Context } from 'aws-lambda';
import { ec2 } from '../lib/aws/ec2';
import { sns } from '../lib/aws/sns';
import { LOG_RECORD } from '../lib/contract';
import { envVar, readEnv } from '../lib/env';
import { lambdaHandler } from '../lib/handler';
import { METRIC } from '../lib/metric-names';
import { logger, metrics } from '../lib/observability';
import { expireKeptInstances, throwOnFailure } from './expiry';

const env = readEnv({
  STACK_NAME: envVar.text(),
  TOPIC_ARN: envVar.arn(),
  KEPT_INSTANCE_TTL_SECONDS: envVar.positiveInt(),
});

/** Invoked by its schedule; the event carries nothing it needs, so it is not read. */
export const handler = lambdaHandler(async (_event: unknown, _context: Context) => {
  logger.appendKeys({ stack: env.STACK_NAME });
  const result = await expireKeptInstances(
    { ec2, sns },
    {
      stackName: env.STACK_NAME,
      topicArn: env.TOPIC_ARN,
      ttlSeconds: env.KEPT_INSTANCE_TTL_SECONDS,
      now: new Date(),
    },
  );
  metrics.addMetric(METRIC.keptInstancesExpired, MetricUnit.Count, result.expired);
  // `kept` is what the dashboard shows: the kept instances left after this run.
  logger.info(LOG_RECORD.keptExpiryDone, {
    kept: result.instances.filter((i) => i.action !== 'terminated').length,
    instances: result.instances,
    expired: result.expired,
  });
  throwOnFailure(result);
  return result;
});
