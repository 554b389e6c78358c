import { z } from 'zod';
import { CONCOURSE_VERSION_FORM, CONCOURSE_VERSION_PATTERN } from '../functions/lib/concourse-version';
import { type Architecture, groupArchitecture, requirementsArchitecture } from './architecture';
import { capacityOptionKeys } from './capacity-options';
import { crossKeyProblems } from './config/cross-key';
import {
  asJson,
  asList,
  asNumber,
  bool,
  cron,
  duration,
  fromString,
  nonNegativeInt,
  pattern,
  positiveInt,
} from './config/parsers';
import { ConfigError, describe, isCdkKey, nestDottedKeys, valueAt } from './config/problems';
import { fleetOptionKeys } from './fleet-options';
import { warmPoolKeys } from './warm-pool';

export { ConfigError };

/**
 * The deployment's configuration: the original stack's parameters under their new names.
 * Values come from cdk.json context and `-c key=value`; `-c` values arrive as strings, so every
 * numeric, boolean, list and map key also accepts its string form.
 */

const CYCLOID_SAAS = {
  schedulerApiAddress: 'https://scheduler.cycloid.io',
  schedulerHost: 'scheduler.cycloid.io',
  schedulerPort: 32223,
  // Public host key of the Cycloid SaaS scheduler (TSA), as published in the original one-click template.
  tsaPublicKey:
    'ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQC+To6R1hDAO00Xrt8q5Md38J9dh+aMIbV2GTqQkFcKwVAB6czbPPcitPWZ7y3Bw1dKMC8R7DGRAt01yWlkYo/voRp5prqKMc/uzkObhHNy42eJgZlStKU1IMw/fx0Rx+6Y3NClCCOecx415dkAH+PFudKosq4pFB9KjfOp3tMHqirMSF7dsbM3910gcPBL2NFHkOZ4cNfeSztXEg9wy4SExX3CHiUyLiShpwXa+C2f6IPdOJt+9ueXQIL0hcMmd12PRL5UU6/e5U5kldM4EWiJoohVbfoA1CRFF9QwJt6H3IiZPmd3sWqIVVy6Vssn5okjYLRwCwEd8+wd8tI6OnNb',
};

const SECURITY_GROUP_ID = /^sg-[0-9a-f]{8,17}$/;
const VPC_ID = /^vpc-[0-9a-f]{8,17}$/;
const SUBNET_ID = /^subnet-[0-9a-f]{8,17}$/;
const AMI_ID = /^ami-[0-9a-f]{8,17}$/;
// family + generation (+ attributes) "." size, e.g. c5d.2xlarge, m7i-flex.large, u-6tb1.metal
const INSTANCE_TYPE = /^[a-z][a-z0-9-]*[0-9][a-z0-9-]*\.[0-9]*[a-z0-9]+$/;
const NAME = /^[a-z][a-z0-9-]{0,30}$/;
const SSM_PARAMETER_NAME = /^\/[a-zA-Z0-9_.\-/]{1,1010}$/;
// https only, a host (and port), a path of URL-safe characters; no credentials, query or fragment:
// the value reaches the image build's shell and apt's sources.
const ARTIFACT_URL =
  /^https:\/\/[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*(:[0-9]{1,5})?(\/[A-Za-z0-9._~%+-]+)*\/?$/;
const SHA256 = /^[0-9a-f]{64}$/;
// Values that reach a shell, the user data, Ansible or a Jinja context are held to grammars with no
// room for quotes, spaces, `$`, backticks, braces, `%`, newlines or NUL: they are data wherever they go.
const HOST_LABEL = '[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?';
const HOST_NAME = new RegExp(`^(?=.{1,253}$)${HOST_LABEL}(\\.${HOST_LABEL})*$`);
const OCTET = '(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])';
const IPV4 = new RegExp(`^${OCTET}(\\.${OCTET}){3}$`);
// scheme://host[:port][/path]: no user info, query or fragment.
const SCHEDULER_URL = /^(https?):\/\/([A-Za-z0-9.-]{1,253})(:[0-9]{1,5})?(\/[A-Za-z0-9._~/-]*)?$/;
const SSH_PUBLIC_KEY =
  /^(ssh-rsa|ssh-ed25519|ecdsa-sha2-nistp256|ecdsa-sha2-nistp384|ecdsa-sha2-nistp521) (AAAA[A-Za-z0-9+/]+={0,2})( [A-Za-z0-9@._+-]{1,100})?$/;
// AWS's own grammar of tag values (letters, digits, spaces and _ . : / = + - @).
// https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_Tag.html
const TAG_VALUE = /^[\p{L}\p{Zs}\p{N}_.:/=+\-@]{0,256}$/u;
/** Instance types of one Auto Scaling group (mixed instances policy overrides). */
export const MAX_INSTANCE_TYPES = 40;

const SCHEDULER_URL_FORM =
  'an https URL of a host, optional port and path (https://scheduler.example.com[:port][/path]), without quotes, spaces, query or user info';
const TSA_KEY_FORM =
  'an OpenSSH public key line: ssh-rsa|ssh-ed25519|ecdsa-sha2-nistp256|384|521, its base64 key of that type, an optional comment of letters, digits and @ . _ + -';

// A single value or a comma-separated string arrives as a list: one grammar, one message per problem.
const instanceTypes = fromString(
  asList,
  z
    .array(pattern(INSTANCE_TYPE, 'an EC2 instance type such as c5d.2xlarge'), {
      error: 'an EC2 instance type such as c5d.2xlarge, or a list of them',
    })
    .min(1, { error: 'a non-empty list of EC2 instance types' })
    .max(MAX_INSTANCE_TYPES, {
      error: `at most ${MAX_INSTANCE_TYPES} instance types (the limit of an Auto Scaling group)`,
    }),
);

const tagMap = fromString(
  asJson,
  z.record(
    // Instance tags are readable from the instance metadata, which allows only these characters in keys.
    z.string().regex(/^(?!aws:)[A-Za-z0-9+\-=._:]{1,128}$/, {
      error: 'tag keys of letters, digits and + - = . _ : (not starting with aws:)',
    }),
    z.string().regex(TAG_VALUE, {
      error: 'tag values of at most 256 letters, digits, spaces and _ . : / = + - @',
    }),
    { error: 'a map of tag names (letters, digits, + - = . _ :, not aws:…) to strings, e.g. {"team":"ci"}' },
  ),
);

const artifactUrl = (layout: string) =>
  pattern(ARTIFACT_URL, `an https URL without query, fragment or credentials, serving ${layout}`)
    .max(2048)
    .transform((url) => url.replace(/\/+$/, ''));

/** Where the image build downloads from: each origin, or a mirror of its layout. */
const artifactMirrors = fromString(
  asJson,
  z.strictObject(
    {
      concourse: artifactUrl('v<version>/concourse-<version>-linux-<arch>.tgz (amd64 or arm64)').optional(),
      telegrafRepository: artifactUrl('an apt repository with suite stable, component main').optional(),
      telegrafKey: artifactUrl('the repository signing key (the file itself)').optional(),
      ssmAgent: artifactUrl('<version>/debian_<arch>/amazon-ssm-agent.deb (amd64 or arm64)').optional(),
      gems: artifactUrl('gems/<name>-<version>.gem').optional(),
    },
    {
      error:
        'an object of https mirror URLs: {"concourse", "telegrafRepository", "telegrafKey", "ssmAgent", "gems"}',
    },
  ),
);

const concourseChecksums = fromString(
  asJson,
  z.record(
    pattern(CONCOURSE_VERSION_PATTERN, `Concourse versions (${CONCOURSE_VERSION_FORM}) as keys`),
    pattern(SHA256, 'sha256 checksums of 64 lower-case hex digits'),
    {
      error:
        'a map of Concourse version to the sha256 of its tarball for the workers\' architecture (linux-amd64 or linux-arm64), e.g. {"7.11.2": "<64 hex>"}',
    },
  ),
);

/** An OpenSSH public key line whose key blob is well-formed and of the type the line names. */
function isOpenSshPublicKey(line: string): boolean {
  const match = SSH_PUBLIC_KEY.exec(line);
  if (!match?.[1] || !match[2]) return false;
  const blob = Buffer.from(match[2], 'base64');
  if (blob.length < 4 || blob.toString('base64') !== match[2]) return false;
  const typeLength = blob.readUInt32BE(0);
  return typeLength < blob.length && blob.subarray(4, 4 + typeLength).toString('latin1') === match[1];
}

const ipv4List = fromString(
  asList,
  z
    .array(pattern(IPV4, 'IPv4 addresses such as 10.0.0.2'), {
      error: 'an IPv4 address such as 10.0.0.2, or a list of them',
    })
    .min(1, { error: 'a non-empty list of IPv4 addresses' })
    .max(8, { error: 'at most 8 DNS servers' }),
);

export const configSchema = z.strictObject({
  customer: pattern(NAME, 'lower-case letters, digits and dashes, starting with a letter').optional(),
  project: pattern(NAME, 'lower-case letters, digits and dashes, starting with a letter').default(
    'external-worker',
  ),
  env: pattern(/^[a-z][a-z0-9-]{0,15}$/, 'lower-case letters, digits and dashes (at most 16)').default(
    'prod',
  ),
  region: pattern(/^[a-z]{2}(-gov)?-[a-z]+-[0-9]$/, 'an AWS region such as eu-west-1').default('eu-west-1'),
  schedulerApiAddress: z
    .string({ error: SCHEDULER_URL_FORM })
    .refine(
      (url) => {
        const match = SCHEDULER_URL.exec(url);
        const port = match?.[3] ? Number(match[3].slice(1)) : 443;
        return match?.[2] !== undefined && HOST_NAME.test(match[2]) && port >= 1 && port <= 65535;
      },
      { error: SCHEDULER_URL_FORM },
    )
    .default(CYCLOID_SAAS.schedulerApiAddress),
  // The scheduler's answer decides what the image build and the first boot install: over plain
  // http anyone on the path chooses it. Only for a scheduler on a trusted network.
  schedulerAllowHttp: bool.default(false),
  schedulerHost: pattern(HOST_NAME, 'a host name or IPv4 address such as scheduler.cycloid.io').default(
    CYCLOID_SAAS.schedulerHost,
  ),
  schedulerPort: fromString(
    asNumber,
    z.number({ error: 'a TCP port (1-65535)' }).int().min(1).max(65535),
  ).default(CYCLOID_SAAS.schedulerPort),
  tsaPublicKey: z
    .string({ error: TSA_KEY_FORM })
    .refine(isOpenSshPublicKey, { error: TSA_KEY_FORM })
    .default(CYCLOID_SAAS.tsaPublicKey),
  workerKeyParameter: pattern(SSM_PARAMETER_NAME, 'an SSM parameter name starting with /').optional(),
  teamId: pattern(/^[A-Za-z0-9_.-]{1,128}$/, 'a Concourse team name').optional(),
  workerTag: pattern(/^[A-Za-z0-9_.-]{1,64}$/, 'a Concourse worker tag (letters, digits, _ . -)').optional(),
  workerRuntime: z
    .enum(['containerd', 'guardian', 'houdini'], { error: 'containerd, guardian or houdini' })
    .default('containerd'),
  workerDnsServer: ipv4List.optional(),
  workerVersion: pattern(CONCOURSE_VERSION_PATTERN, CONCOURSE_VERSION_FORM).optional(),
  vpcId: pattern(VPC_ID, 'a VPC id such as vpc-0123456789abcdef0').optional(),
  subnetIds: fromString(
    asList,
    z
      .array(pattern(SUBNET_ID, 'subnet ids such as subnet-0123456789abcdef0'), {
        error: 'a list of subnet ids, e.g. subnet-0123abcd,subnet-4567ef01',
      })
      .min(1, { error: 'a non-empty list of subnet ids' }),
  ).optional(),
  bastionSecurityGroupId: pattern(
    SECURITY_GROUP_ID,
    'a security group id such as sg-0123456789abcdef0',
  ).optional(),
  metricsSecurityGroupId: pattern(
    SECURITY_GROUP_ID,
    'a security group id such as sg-0123456789abcdef0',
  ).optional(),
  keyPairName: pattern(/^[ -~]{1,255}$/, 'an EC2 key pair name').optional(),
  ...fleetOptionKeys,
  ...warmPoolKeys,
  extraTags: tagMap.default({}),
  workerAmiId: pattern(AMI_ID, 'an AMI id such as ami-0123456789abcdef0').optional(),
  desiredCapacity: nonNegativeInt('number of workers').default(1),
  minSize: nonNegativeInt('minimum number of workers').default(1),
  maxSize: positiveInt('maximum number of workers').default(6),
  instanceType: instanceTypes.default(['c5d.2xlarge']),
  capacity: z.enum(['spot', 'ondemand'], { error: 'spot or ondemand' }).default('spot'),
  ...capacityOptionKeys,
  spotMaxPrice: fromString(
    (raw) => raw,
    z
      .union([z.string(), z.number()], { error: 'a positive decimal price in USD per hour, e.g. 0.3' })
      .transform((v) => String(v))
      .refine((v) => /^(0|[1-9][0-9]*)(\.[0-9]+)?$/.test(v) && Number(v) > 0, {
        error: 'a positive decimal price in USD per hour, e.g. 0.3',
      }),
  ).default('0.3'),
  rootVolumeSize: positiveInt('GiB').default(20),
  dataVolumeSize: positiveInt('GiB').default(130),
  ebsOptimized: bool.default(true),
  fsVolumeType: z.enum(['btrfs', 'ext4'], { error: 'btrfs or ext4' }).default('btrfs'),
  useLocalDevice: bool.default(false),
  // The data volume the launch template always attaches: the work dir goes there unless told otherwise.
  varLibDevice: pattern(
    /^(nodevice|\/dev\/[a-z0-9]+)$/,
    'nodevice or a device path such as /dev/xvdf',
  ).default('/dev/xvdf'),
  schedule: fromString(
    asJson,
    z.strictObject(
      { start: cron.optional(), stop: cron.optional() },
      { error: 'an object {"start": "<cron>", "stop": "<cron>"}' },
    ),
  ).default({}),
  keepRunningOnBootFailure: bool.default(false),
  // Off: builds cannot reach the instance metadata service, so never the instance role (README, Security).
  buildsUseInstanceRole: bool.default(false),
  ansibleVersion: pattern(/^[0-9]+\.[0-9]+(\.[0-9]+)?$/, 'an ansible-core version such as 2.17.7').default(
    '2.17.7',
  ),
  artifactMirrors: artifactMirrors.default({}),
  concourseChecksums: concourseChecksums.default({}),
  amiRetention: positiveInt('AMIs to keep').default(3),
  /** Share of each EC2 request bucket's refill a retention run may use; the rest is left to the account. */
  amiRetentionRequestShare: fromString(
    asNumber,
    z.number({ error: 'a share of EC2 request rates, more than 0 and at most 1, such as 0.8' }).gt(0).max(1),
  ).default(0.8),
  minHealthyPercentage: fromString(
    asNumber,
    z.number({ error: 'a percentage 0-100' }).int().min(0).max(100),
  ).default(90),
  // The share of the group a rollout replaces first: a checkpoint of the instance refresh, reached
  // once at least that share is new, so never less than one instance. Below 100: the refresh's last
  // checkpoint is 100.
  rolloutCanaryPercentage: fromString(
    asNumber,
    z.number({ error: 'a percentage of the group from 1 to 99, such as 10' }).int().min(1).max(99),
  ).default(10),
  // How long the canary, and then the whole new fleet, runs watched by the rollout alarms before the
  // rollout goes on. Twice this fits in the rollout's 48 h with room for the replacements.
  rolloutBakeTime: duration('a duration from 1m to 12h, such as 10m', 60, 43200).default(600),
  // Failed boots in a row of one AMI after which the launch gate marks it bad and returns the group
  // to the version it ran before; at most 10, each one a tag on the AMI (50 at most).
  bootFailureLimit: fromString(
    asNumber,
    z.number({ error: 'a number of failed boots from 1 to 10, such as 3' }).int().min(1).max(10),
  ).default(3),
  bootTimeout: duration('a duration from 2m to 2h, such as 15m', 120, 7200).default(900),
  drainTimeout: duration('a duration from 1m to 48h, such as 30m', 60, 172800).default(1800),
  versionCheckInterval: duration('a duration from 1m to 24h, such as 5m', 60, 86400).default(300),
  versionLagTolerance: duration('a duration from 30m to 48h, such as 3h', 1800, 172800).default(10800),
  // How long an instance kept for debugging lives before the kept-instance expiry ends it.
  keptInstanceTtl: duration('a duration from 1h to 720h (30 days), such as 24h', 3600, 2_592_000).default(
    86400,
  ),
  notificationEmail: z.email({ error: 'an e-mail address' }).optional(),
  logRetentionDays: fromString(
    asNumber,
    z
      .number({
        error: 'a CloudWatch Logs retention in days (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, …)',
      })
      .refine((d) => LOG_RETENTION_DAYS.includes(d), {
        error: 'a CloudWatch Logs retention in days (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, …)',
      }),
  ).default(30),
});

const LOG_RETENTION_DAYS = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
];

export type WorkerConfig = z.output<typeof configSchema> & {
  /** CloudFormation stack name: `<project>-<env>`. */
  stackName: string;
  /** SSM parameter holding the worker's private key (SecureString). */
  workerKeyParameter: string;
  /** Prefix of every SSM parameter this stack reads or writes at run time. */
  parameterPrefix: string;
  /** The workers' architecture, from their instance types (architecture.ts). */
  architecture: Architecture;
};

/** Validates every key at once; throws a ConfigError with one line per problem. */
export function parseConfig(context: Record<string, unknown>): WorkerConfig {
  const raw = nestDottedKeys(Object.fromEntries(Object.entries(context).filter(([key]) => !isCdkKey(key))));
  const result = configSchema.safeParse(raw);
  const crossKey = crossKeyProblems(raw, configSchema.shape);
  if (!result.success || crossKey.length > 0) {
    const problems = (result.error?.issues ?? []).map((issue) => {
      if (issue.code === 'unrecognized_keys') {
        const where = issue.path.length ? `${issue.path.join('.')}.` : '';
        return issue.keys
          .map(
            (k) =>
              `${where}${k}: unknown key (given ${describe(valueAt(raw, [...issue.path, k]))}); see the README's configuration table`,
          )
          .join('\n  - ');
      }
      // A bad list item is reported against the whole key, as the operator wrote it.
      const itemAt = issue.path.findIndex((segment) => typeof segment === 'number');
      const path = itemAt > 0 ? issue.path.slice(0, itemAt) : issue.path;
      const key = path.join('.') || '(root)';
      const given =
        itemAt > 0
          ? valueAt(raw, path)
          : 'input' in issue && issue.input !== undefined
            ? issue.input
            : valueAt(raw, path);
      return `${key}: expected ${issue.message}, given ${describe(given)}`;
    });
    throw new ConfigError([...problems, ...crossKey]);
  }
  const c = result.data;
  const stackName = `${c.project}-${c.env}`;
  const group = c.instanceRequirements
    ? requirementsArchitecture(c.instanceRequirements.cpuManufacturers)
    : groupArchitecture(c.instanceType);
  if ('problem' in group)
    throw new ConfigError([c.instanceRequirements ? group.problem : `instanceType: ${group.problem}`]);
  return {
    ...c,
    // Chosen by their attributes: the group has no list of its own.
    instanceType: c.instanceRequirements ? [] : c.instanceType,
    stackName,
    architecture: group.architecture,
    parameterPrefix: `/${c.project}/${c.env}`,
    workerKeyParameter: c.workerKeyParameter ?? `/${c.project}/${c.env}/worker-key`,
  };
}
