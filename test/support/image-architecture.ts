import { DescribeImagesCommand, type DescribeImagesCommandOutput, type EC2Client } from '@aws-sdk/client-ec2';

/**
 * Moto keeps no architecture for an AMI registered with RegisterImage, where EC2 always answers one:
 * `ec2`'s DescribeImages answers then give such AMIs `architecture`, until the returned spy is restored.
 */
export function answerImageArchitecture(ec2: EC2Client, architecture: 'x86_64' | 'arm64' = 'x86_64') {
  const send = ec2.send.bind(ec2) as (command: unknown) => Promise<unknown>;
  return jest.spyOn(ec2, 'send').mockImplementation((async (command: unknown) => {
    const answer = await send(command);
    if (!(command instanceof DescribeImagesCommand)) return answer;
    const { Images = [] } = answer as DescribeImagesCommandOutput;
    return {
      ...(answer as object),
      Images: Images.map((image) => ({ Architecture: architecture, ...image })),
    };
  }) as never);
}
