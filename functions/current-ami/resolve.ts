import { DescribeImagesCommand, type EC2Client } from '@aws-sdk/client-ec2';
import { GetParameterCommand, ParameterNotFound, type SSMClient } from '@aws-sdk/client-ssm';
import { logger } from '../lib/observability';

/** Tag that the rollout puts on an AMI whose rollout failed: it is never chosen again automatically. */
export const BAD_AMI_TAG = 'external-worker:bad';

export interface AmiChoice {
  imageId: string;
  /** `rollout`: the AMI the last successful rollout recorded; `stock`: the stock Debian AMI (first deploy). */
  source: 'rollout' | 'stock';
}

async function readParameter(ssm: SSMClient, name: string): Promise<string | undefined> {
  try {
    const { Parameter } = await ssm.send(new GetParameterCommand({ Name: name }));
    return Parameter?.Value;
  } catch (error) {
    if (error instanceof ParameterNotFound) return undefined;
    throw error;
  }
}

async function isUsable(ec2: EC2Client, imageId: string): Promise<boolean> {
  const { Images = [] } = await ec2
    .send(new DescribeImagesCommand({ ImageIds: [imageId] }))
    .catch((error) => {
      // A deregistered id makes DescribeImages fail rather than return nothing.
      if (String(error?.name).startsWith('InvalidAMIID')) return { Images: [] };
      throw error;
    });
  const image = Images[0];
  if (image?.State !== 'available') return false;
  return !(image.Tags ?? []).some((tag) => tag.Key === BAD_AMI_TAG && tag.Value === 'true');
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
