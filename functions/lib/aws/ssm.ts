import { SSMClient } from '@aws-sdk/client-ssm';

/** Created once per container and reused by every invocation. */
export const ssm = new SSMClient({});
