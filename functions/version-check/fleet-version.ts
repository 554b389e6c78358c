import type { EC2Client } from '@aws-sdk/client-ec2';
import type { SSMClient } from '@aws-sdk/client-ssm';
import { describeImage, tagValue } from '../lib/images';
import { readParameter } from '../lib/parameters';

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
  const amiId = await readParameter(clients.ssm, currentAmiParameter);
  if (!amiId?.startsWith('ami-')) return undefined;
  return tagValue(await describeImage(clients.ec2, amiId), IMAGE_TAG);
}

/** The image build of an Image Builder image ARN (`…:image/<name>/1.0.0/4` → `1.0.0/4`). */
export function imageBuild(arn: string | undefined): string | undefined {
  return arn?.match(/:image\/[^/]+\/([^/]+\/[^/]+)$/)?.[1];
}
