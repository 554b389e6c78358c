import { AutoScalingClient } from '@aws-sdk/client-auto-scaling';

/** Created once per container and reused by every invocation. */
export const autoscaling = new AutoScalingClient({});
