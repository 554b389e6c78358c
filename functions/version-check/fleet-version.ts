import { DescribeImagesCommand, type EC2Client } from '@aws-sdk/client-ec2';
import { GetParameterCommand, ParameterNotFound, type SSMClient } from '@aws-sdk/client-ssm';

/** Tag the rollout puts on every AMI it rolls out: the Image Builder image it came from. */
export const IMAGE_TAG = 'external-worker:image';

/**
 * The Image Builder image the fleet runs: the one whose AMI the last successful rollout recorded.
 * Undefined while no rollout has completed (first deploy, stock AMI) or the AMI is gone.
 */
export async function fleetImage(
  clients: { ssm: SSMClient; ec2: EC2Client },
  currentAmiParameter: string,
): Promise<string | undefined> {
  let amiId: string | undefined;
  try {
    const { Parameter } = await clients.ssm.send(new GetParameterCommand({ Name: currentAmiParameter }));
    amiId = Parameter?.Value;
  } catch (error) {
    if (error instanceof ParameterNotFound) return undefined;
    throw error;
  }
  if (!amiId?.startsWith('ami-')) return undefined;
  const { Images = [] } = await clients.ec2
    .send(new DescribeImagesCommand({ ImageIds: [amiId] }))
    .catch((error) => {
      if (String(error?.name).startsWith('InvalidAMIID')) return { Images: [] };
      throw error;
    });
  return Images[0]?.Tags?.find((tag) => tag.Key === IMAGE_TAG)?.Value;
}
