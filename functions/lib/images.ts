import { DescribeImagesCommand, type EC2Client, type Image } from '@aws-sdk/client-ec2';

/** One AMI, or undefined when it does not exist (any more): a deregistered id makes EC2 fail, not answer empty. */
export async function describeImage(ec2: EC2Client, imageId: string): Promise<Image | undefined> {
  try {
    const { Images = [] } = await ec2.send(new DescribeImagesCommand({ ImageIds: [imageId] }));
    return Images[0];
  } catch (error) {
    if (String((error as Error)?.name).startsWith('InvalidAMIID')) return undefined;
    throw error;
  }
}

/** The value of a tag of an AMI. */
export const tagValue = (image: Image | undefined, key: string): string | undefined =>
  image?.Tags?.find((tag) => tag.Key === key)?.Value;
