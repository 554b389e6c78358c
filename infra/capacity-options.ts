import { z } from 'zod';
import { parseDuration } from './duration';

/**
 * Configuration keys of how the group buys its instances beyond the `capacity` switch: an
 * on-demand base and share over Spot, instance types chosen by their attributes, and the Spot
 * fallback's cool-down. Spread into the schema of config.ts.
 * https://docs.aws.amazon.com/autoscaling/ec2/userguide/ec2-auto-scaling-mixed-instances-groups.html
 */

const INSTANCE_TYPE_PATTERN = /^[a-z0-9*][a-z0-9.*-]{0,29}$/;

const fromJson = <T extends z.ZodType>(schema: T) =>
  z.preprocess((value) => {
    if (typeof value !== 'string') return value;
    try {
      return JSON.parse(value);
    } catch {
      return value;
    }
  }, schema);

const count = (what: string) =>
  z.preprocess(
    (raw) => (typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : raw),
    z
      .number({ error: `a non-negative integer (${what})` })
      .int()
      .nonnegative(),
  );

/** `{min, max}` of an attribute: min required, max optional and not below min. */
const range = (unit: string, integer = true) => {
  const value = integer ? z.number().int().nonnegative() : z.number().nonnegative();
  return z
    .strictObject(
      { min: value, max: value.optional() },
      { error: `{"min": <${unit}>, "max": <${unit}>} (max optional)` },
    )
    .refine((r) => r.max === undefined || r.max >= r.min, { error: `a max (${unit}) not below min` });
};

const typeList = (what: string) =>
  z
    .array(
      z.string().regex(INSTANCE_TYPE_PATTERN, {
        error: `instance types or families, with * as a wildcard (such as m5.8xlarge, c5*.*, r*), ${what}`,
      }),
    )
    .min(1)
    .max(400);

/**
 * The attributes AWS picks the group's instance types by, instead of a list. Named as the
 * InstanceRequirements of the group's overrides, shortened where plain (`vCpu` for VCpuCount).
 * https://docs.aws.amazon.com/autoscaling/ec2/APIReference/API_InstanceRequirements.html
 */
export const instanceRequirementsSchema = z
  .strictObject(
    {
      vCpu: range('vCPUs'),
      memoryMiB: range('MiB'),
      memoryGiBPerVCpu: range('GiB', false).optional(),
      // The processors say the image's architecture (architecture.ts): Intel and AMD (amd64)
      // unless told otherwise, amazon-web-services alone for Graviton (arm64).
      cpuManufacturers: z
        .array(z.enum(['intel', 'amd', 'amazon-web-services', 'apple']))
        .min(1)
        .default(['intel', 'amd']),
      instanceGenerations: z
        .array(z.enum(['current', 'previous']))
        .min(1)
        .optional(),
      burstablePerformance: z.enum(['included', 'excluded', 'required']).optional(),
      localStorage: z.enum(['included', 'excluded', 'required']).optional(),
      localStorageTypes: z
        .array(z.enum(['hdd', 'ssd']))
        .min(1)
        .optional(),
      bareMetal: z.enum(['included', 'excluded', 'required']).optional(),
      allowedInstanceTypes: typeList('at most 400').optional(),
      excludedInstanceTypes: typeList('at most 400').optional(),
    },
    {
      error:
        'an object of instance attributes, e.g. {"vCpu": {"min": 8, "max": 16}, "memoryMiB": {"min": 16384}} (see the README)',
    },
  )
  // "You can use either AllowedInstanceTypes or ExcludedInstanceTypes, but not both."
  .refine((r) => !(r.allowedInstanceTypes && r.excludedInstanceTypes), {
    error: 'allowedInstanceTypes or excludedInstanceTypes, not both',
  });

export type InstanceRequirements = z.output<typeof instanceRequirementsSchema>;

/** Cool-downs the fallback accepts: at least 5 minutes, at most a day. */
const COOLDOWN = { min: 300, max: 86_400, form: 'a duration from 5m to 24h, such as 30m' };

export const capacityOptionKeys = {
  /** On-demand instances before any Spot one (OnDemandBaseCapacity). */
  onDemandBase: count('on-demand instances before any Spot instance').optional(),
  /** On-demand share above the base (OnDemandPercentageAboveBaseCapacity): 0 with Spot, 100 on-demand. */
  onDemandPercentage: z
    .preprocess(
      (raw) => (typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : raw),
      z.number({ error: 'a percentage 0-100 (on-demand share above onDemandBase)' }).int().min(0).max(100),
    )
    .optional(),
  instanceRequirements: fromJson(instanceRequirementsSchema).optional(),
  /** How long the fallback keeps the group on-demand after the last Spot launch failure. */
  spotFallbackCooldown: z
    .union([z.string(), z.number()], { error: COOLDOWN.form })
    .transform((value, ctx) => {
      const seconds = parseDuration(value);
      if (seconds === undefined || seconds < COOLDOWN.min || seconds > COOLDOWN.max) {
        ctx.addIssue({ code: 'custom', message: COOLDOWN.form });
        return z.NEVER;
      }
      return seconds;
    })
    .default(1800),
};

type Output<K extends keyof typeof capacityOptionKeys> = z.output<(typeof capacityOptionKeys)[K]>;

/** The keys of capacity-options.ts and the ones of config.ts they depend on, each valid alone. */
export interface CapacityFields {
  capacity?: 'spot' | 'ondemand';
  onDemandBase?: Output<'onDemandBase'>;
  onDemandPercentage?: Output<'onDemandPercentage'>;
  instanceRequirements?: Output<'instanceRequirements'>;
  /** Whether each key was given at all (a default is not a choice). */
  given: { instanceType: boolean; spotFallbackCooldown: boolean };
}

/**
 * Rules between these keys and `capacity`, `instanceType` and `spotMaxPrice`: `capacity` stays the
 * simple switch, the base and share refine a Spot group, and nothing contradicts it.
 */
export function capacityOptionProblems(f: CapacityFields): string[] {
  const problems: string[] = [];
  const shaping = [
    f.onDemandBase !== undefined ? `onDemandBase=${f.onDemandBase}` : undefined,
    f.onDemandPercentage !== undefined ? `onDemandPercentage=${f.onDemandPercentage}` : undefined,
  ].filter((s): s is string => s !== undefined);
  if (f.capacity === 'ondemand' && shaping.length > 0 && f.onDemandPercentage !== 100) {
    problems.push(
      `capacity: expected spot with ${shaping.join(' and ')} (capacity=ondemand buys every instance on-demand; a base and a share shape a Spot group), given "ondemand"`,
    );
  }
  if (f.capacity !== 'ondemand' && f.onDemandPercentage === 100) {
    problems.push(
      `onDemandPercentage: expected less than 100 with capacity=spot (100 leaves no Spot instance: that is capacity=ondemand), given 100`,
    );
  }
  if (f.instanceRequirements !== undefined && f.given.instanceType) {
    problems.push(
      'instanceRequirements: expected nothing with instanceType (the group takes either a list of instance types or the attributes AWS chooses them by), given both',
    );
  }
  if (f.given.spotFallbackCooldown && !purchase(f).spot) {
    problems.push(
      'spotFallbackCooldown: expected nothing with capacity=ondemand (the fallback only acts on a group with Spot instances), given a value',
    );
  }
  return problems;
}

/** How the group buys: the base, the on-demand share above it, and whether any Spot is asked. */
export interface Purchase {
  onDemandBase: number;
  onDemandPercentage: number;
  spot: boolean;
}

export function purchase(c: {
  capacity?: 'spot' | 'ondemand';
  onDemandBase?: number;
  onDemandPercentage?: number;
}): Purchase {
  const onDemandPercentage = c.onDemandPercentage ?? (c.capacity === 'ondemand' ? 100 : 0);
  return { onDemandBase: c.onDemandBase ?? 0, onDemandPercentage, spot: onDemandPercentage < 100 };
}
