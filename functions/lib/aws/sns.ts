import { SNSClient } from '@aws-sdk/client-sns';

/** Created once per container and reused by every invocation. */
export const sns = new SNSClient({});
