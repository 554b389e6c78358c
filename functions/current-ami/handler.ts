import type { Context } from 'aws-lambda';
import { ec2 } from '../lib/aws/ec2';
import { ssm } from '../lib/aws/ssm';
import { errorMessage } from '../lib/errors';
import { lambdaHandler } from '../lib/handler';
import { logger } from '../lib/observability';
import { parseInput } from '../lib/parse';
import { customResourceEvent, respond } from './custom-resource';
import { resolveCurrentAmi } from './resolve';

/** CloudFormation custom resource: the AMI a deploy puts in the launch template (see resolve.ts). */
export const handler = lambdaHandler(async (rawEvent: unknown, _context: Context) => {
  const event = parseInput(customResourceEvent, rawEvent, 'custom resource event');
  const physicalResourceId = event.PhysicalResourceId ?? `${event.LogicalResourceId}-current-ami`;
  if (event.RequestType === 'Delete') {
    await respond(event, { status: 'SUCCESS', physicalResourceId });
    return;
  }
  try {
    const choice = await resolveCurrentAmi(
      { ssm, ec2 },
      {
        current: event.ResourceProperties.CurrentAmiParameter,
        stock: event.ResourceProperties.StockAmiParameter,
      },
    );
    logger.info('launch template AMI resolved', { ...choice });
    await respond(event, {
      status: 'SUCCESS',
      physicalResourceId,
      data: { ImageId: choice.imageId, Source: choice.source },
    });
  } catch (error) {
    logger.error('could not resolve the launch template AMI', { error });
    await respond(event, { status: 'FAILED', reason: errorMessage(error).slice(0, 500), physicalResourceId });
  }
});
