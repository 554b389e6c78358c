import type { EC2Client } from '@aws-sdk/client-ec2';
import type { SSMClient } from '@aws-sdk/client-ssm';
import { describeImage, tagValue } from '../lib/images';
import { logger } from '../lib/observability';
import { readParameter } from '../lib/parameters';

/** Tag that the rollout puts on an AMI whose rollout failed: it is never chosen again automatically. */
export const BAD_AMI_TAG = 'external-worker:bad';

export interface AmiChoice {
  imageId: string;
  /** `rollout`: the AMI the last successful rollout recorded; `stock`: the stock Debian AMI (first deploy). */
  source: 'rollout' | 'stock';
}

async function isUsable(ec2: EC2Client, imageId: string): Promise<boolean> {
  const image = await describeImage(ec2, imageId);
  return image?.State === 'available' && tagValue(image, BAD_AMI_TAG) !== 'true';
}

/**
 * The AMI a deploy must put in the launch template: the one the last successful rollout recorded,
 * so that a deploy never moves the fleet back; on the very first deploy (nothing recorded yet, or
 * the recorded AMI is gone) the stock Debian 12 AMI, on which the boot installs everything.
 */
export async function resolveCurrentAmi(
  clients: { ssm: SSMClient; ec2: EC2Client },
  parameters: { current: string; stock: string },
): Promise<AmiChoice> {
  const recorded = await readParameter(clients.ssm, parameters.current);
  if (recorded?.startsWith('ami-') && (await isUsable(clients.ec2, recorded))) {
    return { imageId: recorded, source: 'rollout' };
  }
  if (recorded) logger.warn('recorded AMI is not usable, falling back to the stock image', { recorded });
  const stock = await readParameter(clients.ssm, parameters.stock);
  if (!stock) throw new Error(`stock AMI parameter ${parameters.stock} has no value`);
  return { imageId: stock, source: 'stock' };
}
