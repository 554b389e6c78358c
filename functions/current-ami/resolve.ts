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

/** Why an AMI cannot go into the launch template, or undefined when it can. */
async function unusable(ec2: EC2Client, imageId: string, architecture: string): Promise<string | undefined> {
  const image = await describeImage(ec2, imageId);
  if (image?.State !== 'available') return `not available (${image?.State ?? 'gone'})`;
  if (tagValue(image, BAD_AMI_TAG) === 'true') return `tagged ${BAD_AMI_TAG}=true`;
  // The instance types changed architecture since the last rollout: its AMI cannot boot on them.
  if (image.Architecture !== architecture) {
    return `built for ${image.Architecture ?? 'an unknown architecture'}, the instance types are ${architecture}`;
  }
  return undefined;
}

/**
 * The AMI a deploy must put in the launch template: the one the last successful rollout recorded,
 * so that a deploy never moves the fleet back; on the very first deploy (nothing recorded yet, or
 * the recorded AMI is gone, or of another architecture than the instance types) the stock
 * Debian 12 AMI of their architecture, on which the boot installs everything.
 */
export async function resolveCurrentAmi(
  clients: { ssm: SSMClient; ec2: EC2Client },
  parameters: { current: string; stock: string; architecture: 'x86_64' | 'arm64' },
): Promise<AmiChoice> {
  const recorded = await readParameter(clients.ssm, parameters.current);
  const why = recorded?.startsWith('ami-')
    ? await unusable(clients.ec2, recorded, parameters.architecture)
    : 'not an AMI id';
  if (recorded?.startsWith('ami-') && why === undefined) {
    return { imageId: recorded, source: 'rollout' };
  }
  if (recorded) logger.warn('recorded AMI is not usable, falling back to the stock image', { recorded, why });
  const stock = await readParameter(clients.ssm, parameters.stock);
  if (!stock) throw new Error(`stock AMI parameter ${parameters.stock} has no value`);
  return { imageId: stock, source: 'stock' };
}
