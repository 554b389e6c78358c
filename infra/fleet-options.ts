import { z } from 'zod';

/**
 * Configuration keys of the original stack's fleet options: security groups attached to the
 * workers, the public-IP switch, and extra worker settings. Spread into the schema of config.ts.
 */

const SECURITY_GROUP_ID = /^sg-[0-9a-f]{8,17}$/;

/**
 * A network interface takes at most 16 security groups (the quota "Security groups per network
 * interface" defaults to 5 and can be raised to 16), the workers' own group being one of them.
 * https://docs.aws.amazon.com/vpc/latest/userguide/amazon-vpc-limits.html#vpc-limits-security-groups
 */
export const MAX_EXTRA_SECURITY_GROUPS = 15;

/**
 * What the boot script and the worker's environment file accept, nothing more: the name of a
 * Concourse worker setting, and a value of letters, digits and `_ . , : / = + @ -` (no space,
 * quote, `$`, backtick, brace, `%`, `#`, `;`, backslash or control character). The boot script
 * checks each pair against the same grammar (ansible/roles/boot/files/external-worker-boot).
 */
export const WORKER_ENVIRONMENT_NAME = /^CONCOURSE_[A-Z0-9_]{1,100}$/;
export const WORKER_ENVIRONMENT_VALUE = /^[A-Za-z0-9_.,:/=+@-]{1,1024}$/;
const MAX_WORKER_ENVIRONMENT = 64;

/**
 * Settings the stack writes into the worker's environment itself (ansible/roles/concourse_worker/
 * templates/worker.env.j2), each from a key of its own or because the control plane relies on it.
 */
export const STACK_WORKER_ENVIRONMENT: Record<string, string> = {
  CONCOURSE_NAME: 'the instance name the control plane finds the worker by',
  CONCOURSE_EPHEMERAL: 'always true: a worker never outlives its instance',
  CONCOURSE_WORK_DIR: 'on the data volume (useLocalDevice, varLibDevice)',
  CONCOURSE_TSA_HOST: 'schedulerHost and schedulerPort',
  CONCOURSE_TSA_PUBLIC_KEY: 'tsaPublicKey',
  CONCOURSE_TSA_WORKER_PRIVATE_KEY: 'workerKeyParameter',
  CONCOURSE_TEAM: 'teamId',
  CONCOURSE_TAG: 'workerTag',
  CONCOURSE_RUNTIME: 'workerRuntime',
  CONCOURSE_CONTAINERD_NETWORK_POOL: 'the build network the host firewall guards',
  CONCOURSE_GARDEN_NETWORK_POOL: 'the build network the host firewall guards',
  CONCOURSE_CONTAINERD_RESTRICTED_NETWORK: 'buildsUseInstanceRole',
  CONCOURSE_GARDEN_DENY_NETWORK: 'buildsUseInstanceRole',
  CONCOURSE_CONTAINERD_DNS_SERVER: 'workerDnsServer',
  CONCOURSE_GARDEN_DNS_SERVER: 'workerDnsServer',
  CONCOURSE_BAGGAGECLAIM_DRIVER: 'fsVolumeType',
};

const fromJsonString = <T extends z.ZodType>(schema: T) =>
  z.preprocess((value) => {
    if (typeof value !== 'string') return value;
    const raw = value.trim();
    if (raw.startsWith('[') || raw.startsWith('{')) {
      try {
        return JSON.parse(raw);
      } catch {
        return value;
      }
    }
    return raw.split(',').map((s) => s.trim());
  }, schema);

const SECURITY_GROUP_FORM = 'security group ids such as sg-0123456789abcdef0';

export const fleetOptionKeys = {
  // Attached to every worker beside its own group, as the original attached the bastion and
  // metrics groups (bastion_sg_allow, metrics_sg_allow).
  securityGroupIds: fromJsonString(
    z
      .array(
        z.string({ error: SECURITY_GROUP_FORM }).regex(SECURITY_GROUP_ID, { error: SECURITY_GROUP_FORM }),
        {
          error: `a list of ${SECURITY_GROUP_FORM}, e.g. sg-0123abcd,sg-4567ef01`,
        },
      )
      .max(MAX_EXTRA_SECURITY_GROUPS, {
        error: `at most ${MAX_EXTRA_SECURITY_GROUPS} security groups (16 per network interface, the workers' own included)`,
      })
      .refine((ids) => new Set(ids).size === ids.length, { error: 'security group ids without repeats' }),
  ).optional(),
  // Unset: the subnet's own setting (MapPublicIpOnLaunch) decides. README, Configuration.
  associatePublicIp: z
    .preprocess(
      (raw) => (raw === 'true' ? true : raw === 'false' ? false : raw),
      z.boolean({ error: 'true or false' }),
    )
    .optional(),
  workerEnvironment: z
    .preprocess(
      (raw) => {
        if (typeof raw !== 'string') return raw;
        try {
          return JSON.parse(raw);
        } catch {
          return raw;
        }
      },
      z.record(
        z.string(),
        z.string({ error: 'string values' }).regex(WORKER_ENVIRONMENT_VALUE, {
          error:
            'values of 1-1024 letters, digits and _ . , : / = + @ - (no spaces, quotes, $, braces or other shell or template characters)',
        }),
        {
          error:
            'a map of Concourse worker settings to values, e.g. {"CONCOURSE_CONTAINERD_MAX_CONTAINERS": "250"}',
        },
      ),
    )
    .superRefine((env, ctx) => {
      // One problem per bad name, naming it (a record's key schema would report the map instead).
      for (const name of Object.keys(env).filter((key) => !WORKER_ENVIRONMENT_NAME.test(key))) {
        ctx.addIssue({
          code: 'custom',
          message: `names of Concourse worker settings (CONCOURSE_ and upper-case letters, digits, _) instead of ${JSON.stringify(name)}`,
        });
      }
      if (Object.keys(env).length > MAX_WORKER_ENVIRONMENT) {
        ctx.addIssue({ code: 'custom', message: `at most ${MAX_WORKER_ENVIRONMENT} worker settings` });
      }
    })
    .default({}),
};

type FleetOptions = {
  [K in keyof typeof fleetOptionKeys]: z.output<(typeof fleetOptionKeys)[K]>;
};

/** Rules between these keys and the others, on the keys that are valid on their own. */
export function fleetOptionProblems(options: Partial<FleetOptions>): string[] {
  const problems: string[] = [];
  const taken = Object.keys(options.workerEnvironment ?? {}).filter(
    (name) => name in STACK_WORKER_ENVIRONMENT,
  );
  if (taken.length > 0) {
    problems.push(
      `workerEnvironment: expected no setting the stack writes itself, given ${taken
        .map((name) => `${name} (${STACK_WORKER_ENVIRONMENT[name]})`)
        .join(', ')}`,
    );
  }
  return problems;
}

/** The worker settings as one line of the user data: `NAME=value` pairs, space-separated, sorted. */
export function encodedWorkerEnvironment(environment: Record<string, string>): string {
  return Object.entries(environment)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([name, value]) => `${name}=${value}`)
    .join(' ');
}
