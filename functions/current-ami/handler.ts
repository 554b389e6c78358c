import type { Context } from 'aws-lambda';
import { ec2 } from '../lib/aws/ec2';
import { ssm } from '../lib/aws/ssm';
import { errorMessage } from '../lib/errors';
import { loggedHandler } from '../lib/handler';
import { logger } from '../lib/observability';
import { parseInput } from '../lib/parse';
import {
  CUSTOM_RESOURCE_FORM,
  type CustomResourceEvent,
  customResourceEnvelope,
  customResourceEvent,
  respond,
} from './custom-resource';
import { resolveCurrentAmi } from './resolve';

/** CloudFormation custom resource: the AMI a deploy puts in the launch template (see resolve.ts). */
export const handler = loggedHandler(async (rawEvent: unknown, _context: Context) => {
  // A request we cannot read is still answered, so that CloudFormation fails now instead of waiting an hour.
  const envelope = customResourceEnvelope.safeParse(rawEvent);
  let event: CustomResourceEvent;
  try {
    event = parseInput(customResourceEvent, rawEvent, 'custom resource event', CUSTOM_RESOURCE_FORM);
  } catch (error) {
    if (envelope.success) {
      await respond(envelope.data, {
        status: 'FAILED',
        reason: errorMessage(error).slice(0, 500),
        physicalResourceId: envelope.data.PhysicalResourceId ?? 'invalid-request',
      });
    }
    throw error;
  }
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
        architecture: event.ResourceProperties.Architecture,
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
