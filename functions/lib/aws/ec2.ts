import { EC2Client } from '@aws-sdk/client-ec2';

/** Created once per container and reused by every invocation. */
export const ec2 = new EC2Client({});
