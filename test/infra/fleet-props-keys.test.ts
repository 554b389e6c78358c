import { isDeepStrictEqual } from 'node:util';
import { App, Stack } from 'aws-cdk-lib';
import type { z } from 'zod';
import { configSchema, parseConfig, type WorkerConfig } from '../../infra/config';
import { resolveFleetProps } from '../../infra/fleet-props';
import { type EveryFleetProp, fleetPropsFromConfig } from '../../infra/fleet-props-from-config';

/**
 * Every configuration key reaches the construct's properties and comes back from them, and every
 * property carries a key. The keys are the schema's own (infra/config.ts, fleet-options.ts
 * included); the properties are what fleetPropsFromConfig returns, every one of them (its type
 * says so).
 *
 * A new key: give it a value in SAMPLES, one that is not its default (the compiler and the first
 * test say when one is missing). Valid only beside another key: that one under ALONGSIDE.
 */
type ConfigKey = keyof typeof configSchema.shape;

const SAMPLES: Record<ConfigKey, unknown> = {
  customer: 'acme',
  project: 'ci',
  env: 'dev',
  // From the stack the construct is in, as the app's stack is in the configured region.
  region: 'us-east-2',
  schedulerApiAddress: 'https://scheduler.example.com',
  schedulerAllowHttp: true,
  schedulerHost: 'tsa.example.com',
  schedulerPort: 2222,
  tsaPublicKey:
    'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8g tsa@example',
  workerKeyParameter: '/ci/workers/worker-key',
  teamId: 'ci',
  workerTag: 'build',
  workerRuntime: 'guardian',
  workerDnsServer: ['10.0.0.2'],
  workerVersion: '7.11.2',
  vpcId: 'vpc-0123456789abcdef0',
  subnetIds: ['subnet-0123456789abcdef0', 'subnet-0fedcba9876543210'],
  bastionSecurityGroupId: 'sg-0123456789abcdef0',
  metricsSecurityGroupId: 'sg-0fedcba9876543210',
  keyPairName: 'ops',
  securityGroupIds: ['sg-0aaaaaaaaaaaaaaaa', 'sg-0bbbbbbbbbbbbbbbb'],
  associatePublicIp: true,
  workerEnvironment: { CONCOURSE_CONTAINERD_MAX_CONTAINERS: '250' },
  extraTags: { team: 'ci' },
  workerAmiId: 'ami-0123456789abcdef0',
  desiredCapacity: 2,
  minSize: 0,
  maxSize: 8,
  instanceType: ['m5d.2xlarge', 'c5d.4xlarge'],
  capacity: 'ondemand',
  spotMaxPrice: '0.5',
  onDemandBase: 2,
  onDemandPercentage: 30,
  instanceRequirements: {
    vCpu: { min: 8, max: 16 },
    memoryMiB: { min: 16384 },
    memoryGiBPerVCpu: { min: 2, max: 8 },
    cpuManufacturers: ['amd'],
    instanceGenerations: ['current'],
    burstablePerformance: 'excluded',
    localStorage: 'required',
    localStorageTypes: ['ssd'],
    bareMetal: 'excluded',
    allowedInstanceTypes: ['c5*', 'm5*'],
  },
  spotFallbackCooldown: '1h',
  warmPool: { minSize: 1, maxPreparedCapacity: 4, poolState: 'Stopped', reuseOnScaleIn: true },
  rootVolumeSize: 30,
  dataVolumeSize: 200,
  ebsOptimized: false,
  fsVolumeType: 'ext4',
  useLocalDevice: true,
  varLibDevice: '/dev/nvme1n1',
  schedule: { start: '0 7 * * MON-FRI', stop: '0 20 * * *' },
  keepRunningOnBootFailure: true,
  buildsUseInstanceRole: true,
  ansibleVersion: '2.18.1',
  artifactMirrors: {
    concourse: 'https://mirror.example.com/concourse',
    telegrafRepository: 'https://mirror.example.com/telegraf',
    telegrafKey: 'https://mirror.example.com/telegraf.key',
    ssmAgent: 'https://mirror.example.com/ssm',
    gems: 'https://mirror.example.com/gems',
  },
  concourseChecksums: { '7.11.2': 'a'.repeat(64) },
  amiRetention: 5,
  amiRetentionRequestShare: 0.5,
  minHealthyPercentage: 80,
  rolloutCanaryPercentage: 25,
  rolloutBakeTime: '5m',
  bootFailureLimit: 5,
  bootTimeout: '20m',
  drainTimeout: '1h',
  versionCheckInterval: '10m',
  versionLagTolerance: '6h',
  keptInstanceTtl: '2h',
  notificationEmail: 'ops@example.com',
  logRetentionDays: 90,
};

/** Keys a sample needs beside it. */
const ALONGSIDE: Partial<Record<ConfigKey, Record<string, unknown>>> = {
  subnetIds: { vpcId: 'vpc-0123456789abcdef0' },
  warmPool: { capacity: 'ondemand' },
};

/** Nested keys the schema refuses beside another one of the sample: the other stands for both. */
const EXCLUSIVE_NESTED: Record<string, string> = {
  'instanceRequirements.excludedInstanceTypes': 'instanceRequirements.allowedInstanceTypes',
};

/** Keys no property carries: the construct reads them from the stack it is in. */
const FROM_THE_STACK: ConfigKey[] = ['region'];

const KEYS = Object.keys(configSchema.shape) as ConfigKey[];

/** The object schema under a key's defaults, optionals and string parsers, if it is one. */
function objectShape(schema: z.ZodType): Record<string, z.ZodType> | undefined {
  const def = schema._zod.def as { type: string; innerType?: z.ZodType; out?: z.ZodType; shape?: object };
  if (def.type === 'object') return def.shape as Record<string, z.ZodType>;
  const inner = def.type === 'pipe' ? def.out : def.innerType;
  return inner ? objectShape(inner) : undefined;
}

const newStack = (config: WorkerConfig) =>
  new Stack(new App({ builtinCloudFormationValidation: false }), config.stackName, {
    env: { region: config.region },
  });

interface Reach {
  config: WorkerConfig;
  /** The configuration the construct makes of its properties. */
  rebuilt: WorkerConfig;
  /** The properties without which the rebuilt value of the key is another. */
  carriers: string[];
}

const reached = new Map<ConfigKey, Reach>();
/** One key at its sample value, through the properties and back. */
function reach(key: ConfigKey): Reach {
  const known = reached.get(key);
  if (known) return known;
  const config = parseConfig({ ...ALONGSIDE[key], [key]: SAMPLES[key] });
  const stack = newStack(config);
  const props: Partial<EveryFleetProp> = fleetPropsFromConfig(stack, config);
  const rebuilt = resolveFleetProps(stack, props).config;
  const lost = (prop: string) => {
    try {
      const { config: without } = resolveFleetProps(stack, { ...props, [prop]: undefined });
      return !isDeepStrictEqual(without[key], rebuilt[key]);
    } catch {
      // Not even a configuration without it (subnets without their VPC): it carries the key.
      return true;
    }
  };
  const carriers = Object.entries(props)
    .filter(([prop, value]) => value !== undefined && lost(prop))
    .map(([prop]) => prop);
  const result = { config, rebuilt, carriers };
  reached.set(key, result);
  return result;
}

describe('configuration keys and construct properties', () => {
  test('every key of the schema has a sample, and only those', () => {
    expect(KEYS.filter((key) => !(key in SAMPLES))).toEqual([]);
    expect(Object.keys(SAMPLES).filter((key) => !(key in configSchema.shape))).toEqual([]);
  });

  test('every nested key (schedule.start, artifactMirrors.gems, …) is in its sample', () => {
    const missing = KEYS.flatMap((key) => {
      const shape = objectShape(configSchema.shape[key]);
      const sample = SAMPLES[key] as Record<string, unknown>;
      return shape
        ? Object.keys(shape)
            .filter((nested) => !(nested in sample))
            .map((n) => `${key}.${n}`)
            .filter((name) => {
              const other = EXCLUSIVE_NESTED[name]?.slice(key.length + 1);
              return other === undefined || !(other in sample);
            })
        : [];
    });
    expect(missing).toEqual([]);
  });

  test.each(KEYS)('%s: its sample is not the default, and comes back from the properties', (key) => {
    const { config, rebuilt } = reach(key);
    expect(config[key]).not.toEqual(parseConfig(ALONGSIDE[key] ?? {})[key]);
    expect(rebuilt[key]).toEqual(config[key]);
  });

  test.each(KEYS.filter((key) => !FROM_THE_STACK.includes(key)))('%s: a property carries it', (key) => {
    expect(reach(key).carriers).not.toEqual([]);
  });

  test.each(FROM_THE_STACK)('%s: read from the stack, no property carries it', (key) => {
    expect(reach(key).carriers).toEqual([]);
  });

  test('every property carries a key', () => {
    const defaults = parseConfig({});
    const props = Object.keys(fleetPropsFromConfig(newStack(defaults), defaults));
    const carrying = new Set(KEYS.flatMap((key) => reach(key).carriers));
    expect(props.filter((prop) => !carrying.has(prop))).toEqual([]);
  });
});
