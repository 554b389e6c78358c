import * as autoscaling from 'aws-cdk-lib/aws-autoscaling';
import type { Construct } from 'constructs';
import { z } from 'zod';
import hibernationTypes from './hibernation-types.json';

/**
 * The `warmPool` configuration key: instances launched ahead, prepared (everything of the boot but
 * the worker's start) and stopped or hibernated, which a scale-out starts instead of launching
 * new ones. Absent: no warm pool. Spread into the schema of config.ts.
 * https://docs.aws.amazon.com/autoscaling/ec2/userguide/ec2-auto-scaling-warm-pools.html
 */

const WARM_POOL_FORM =
  'an object {"minSize": <instances>, "maxPreparedCapacity": <instances>, "poolState": "Stopped"|"Hibernated", "reuseOnScaleIn": true|false}';

const count = (what: string) =>
  z.preprocess(
    (raw) => (typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : raw),
    z
      .number({ error: `a non-negative integer (${what})` })
      .int({ error: `a non-negative integer (${what})` })
      .nonnegative({ error: `a non-negative integer (${what})` }),
  );

const warmPool = z.preprocess(
  (raw) => {
    if (typeof raw !== 'string') return raw;
    try {
      return JSON.parse(raw);
    } catch {
      return raw;
    }
  },
  z.strictObject(
    {
      minSize: count('instances kept in the pool').default(0),
      // Instances in the group and the pool together; unset, the group's maxSize.
      maxPreparedCapacity: count('instances in the group and the pool together').optional(),
      // Running is left out: a running pool instance costs as much as a worker and would need its
      // worker kept unregistered while it runs.
      poolState: z.enum(['Stopped', 'Hibernated'], { error: 'Stopped or Hibernated' }).default('Stopped'),
      reuseOnScaleIn: z
        .preprocess(
          (raw) => (raw === 'true' ? true : raw === 'false' ? false : raw),
          z.boolean({ error: 'true or false' }),
        )
        .default(false),
    },
    { error: WARM_POOL_FORM },
  ),
);

export const warmPoolKeys = { warmPool: warmPool.optional() };

export type WarmPoolConfig = z.output<typeof warmPool>;

/** Memory of each instance type EC2 reports as able to hibernate (DescribeInstanceTypes). */
const HIBERNATION_MEMORY_MIB: Record<string, number> = hibernationTypes.memoryMiB;

/** "You can't hibernate an instance that has more than 150 GiB of RAM" (hibernation prerequisites). */
const MAX_HIBERNATION_MEMORY_GIB = 150;
/** What the root volume holds beside the memory image: the system, the image's tools and logs. */
export const HIBERNATION_ROOT_MARGIN_GIB = 8;

/**
 * Rules between `warmPool` and the other keys, on keys valid on their own.
 * Warm pools: https://docs.aws.amazon.com/autoscaling/ec2/APIReference/API_PutWarmPool.html
 * ("cannot be called on an Auto Scaling group that has a mixed instances policy or a launch
 * template … that requests Spot Instances"). Hibernation:
 * https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/hibernating-prerequisites.html
 */
export function warmPoolProblems(given: {
  warmPool?: WarmPoolConfig;
  capacity?: string;
  instanceType?: string[];
  instanceRequirements?: unknown;
  rootVolumeSize?: number;
}): string[] {
  const pool = given.warmPool;
  if (!pool) return [];
  const problems: string[] = [];
  if (given.capacity !== undefined && given.capacity !== 'ondemand') {
    problems.push(
      `warmPool: expected capacity=ondemand (Auto Scaling refuses a warm pool for Spot Instances), given capacity=${given.capacity}`,
    );
  }
  const types = given.instanceRequirements ? undefined : given.instanceType;
  if (given.instanceRequirements) {
    problems.push(
      'warmPool: expected a single instanceType (Auto Scaling refuses a warm pool with a mixed instances policy, which instanceRequirements needs), given instanceRequirements',
    );
  } else if (types !== undefined && types.length !== 1) {
    problems.push(
      `warmPool: expected a single instanceType (Auto Scaling refuses a warm pool with a mixed instances policy), given ${types.length} types`,
    );
  }
  if (pool.maxPreparedCapacity !== undefined && pool.maxPreparedCapacity < pool.minSize) {
    problems.push(
      `warmPool.maxPreparedCapacity: expected at least warmPool.minSize (${pool.minSize}), given ${pool.maxPreparedCapacity}`,
    );
  }
  if (pool.poolState === 'Hibernated' && types?.length === 1) {
    const type = types[0] as string;
    const mib = HIBERNATION_MEMORY_MIB[type];
    if (mib === undefined) {
      problems.push(
        `warmPool.poolState: expected an instanceType that supports hibernation with Hibernated (EC2 does not hibernate ${type}), given "Hibernated"`,
      );
    } else if (mib > MAX_HIBERNATION_MEMORY_GIB * 1024) {
      problems.push(
        `warmPool.poolState: expected an instanceType of at most ${MAX_HIBERNATION_MEMORY_GIB} GiB of memory with Hibernated (${type} has ${mib / 1024} GiB), given "Hibernated"`,
      );
    } else {
      const needed = Math.ceil(mib / 1024) + HIBERNATION_ROOT_MARGIN_GIB;
      if (given.rootVolumeSize !== undefined && given.rootVolumeSize < needed) {
        problems.push(
          `rootVolumeSize: expected at least ${needed} GiB with warmPool.poolState=Hibernated (the memory of ${type}, ${Math.ceil(mib / 1024)} GiB, is written to the root volume, beside ${HIBERNATION_ROOT_MARGIN_GIB} GiB for the system), given ${given.rootVolumeSize}`,
        );
      }
    }
  }
  return problems;
}

/**
 * The group's warm pool. Auto Scaling launches its instances through the launch hook like any
 * other (Origin EC2, Destination WarmPool), stops or hibernates them once the launch gate let them
 * through, and starts them on scale-out (Origin WarmPool, Destination AutoScalingGroup).
 * https://docs.aws.amazon.com/autoscaling/ec2/userguide/warm-pool-instance-lifecycle.html
 */
export function createWarmPool(
  scope: Construct,
  group: autoscaling.CfnAutoScalingGroup,
  pool: WarmPoolConfig,
): autoscaling.CfnWarmPool {
  return new autoscaling.CfnWarmPool(scope, 'WarmPool', {
    autoScalingGroupName: group.ref,
    minSize: pool.minSize,
    maxGroupPreparedCapacity: pool.maxPreparedCapacity,
    poolState: pool.poolState,
    instanceReusePolicy: { reuseOnScaleIn: pool.reuseOnScaleIn },
  });
}
