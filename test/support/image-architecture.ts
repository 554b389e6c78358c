import {
  DescribeImagesCommand,
  type DescribeImagesCommandOutput,
  type EC2Client,
  type Image,
  RegisterImageCommand,
  type RegisterImageCommandInput,
} from '@aws-sdk/client-ec2';

type Ec2Architecture = 'x86_64' | 'arm64';

/**
 * Moto keeps no architecture for an AMI registered with RegisterImage (it drops the parameter),
 * where EC2 always answers one. The tests register their AMIs through `registerImage`, which
 * remembers the architecture, and the Step Functions harness gives it back in DescribeImages
 * answers (`withRegisteredArchitectures`), as EC2 would.
 */
const registered = new Map<string, Ec2Architecture>();

/** RegisterImage in moto, its architecture remembered (x86_64 unless given, as the stack's amd64 builds). */
export async function registerImage(
  ec2: EC2Client,
  input: RegisterImageCommandInput & { Architecture?: Ec2Architecture },
): Promise<string> {
  const architecture = input.Architecture ?? 'x86_64';
  const { ImageId } = await ec2.send(new RegisterImageCommand({ ...input, Architecture: architecture }));
  registered.set(ImageId as string, architecture);
  return ImageId as string;
}

/** A DescribeImages answer with the architecture of each AMI registered through registerImage. */
export function withRegisteredArchitectures(answer: { Images?: Image[] }): { Images?: Image[] } {
  if (!answer.Images) return answer;
  return {
    ...answer,
    Images: answer.Images.map((image) => {
      const architecture = image.ImageId ? registered.get(image.ImageId) : undefined;
      return architecture && !image.Architecture ? { ...image, Architecture: architecture } : image;
    }),
  };
}

/**
 * `ec2`'s DescribeImages answers give every AMI without an architecture `architecture`, until the
 * returned spy is restored: for functions that call EC2 themselves.
 */
export function answerImageArchitecture(ec2: EC2Client, architecture: Ec2Architecture = 'x86_64') {
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
