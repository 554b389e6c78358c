/**
 * The configurations whose templates pass the slow checks: AWS Control Tower's cfn-guard rules
 * (test/infra/guard.test.ts) and CDK's CloudFormation validation (the fullest two and the default,
 * test/infra/template-validation.test.ts). Every other test synthesizes its variants without the
 * guard rules (test/support/stack.ts). test/infra/guard.test.ts proves that these set every
 * configuration key to a value other than its default, and every value of each choice: a key added
 * to infra/config.ts belongs in one of them, where what it adds to the template is checked.
 */

export type Context = Record<string, unknown>;

/** Every optional resource and property a Spot configuration can add. */
export const FULLEST_SPOT: Context = {
  customer: 'acme',
  teamId: 'acme',
  vpcId: 'vpc-0123456789abcdef0',
  subnetIds: 'subnet-0123456789abcdef0,subnet-0fedcba9876543210',
  bastionSecurityGroupId: 'sg-0123456789abcdef0',
  metricsSecurityGroupId: 'sg-0fedcba9876543210',
  securityGroupIds: 'sg-0123456789abcdef0,sg-0fedcba9876543210',
  associatePublicIp: true,
  workerEnvironment: { CONCOURSE_CONTAINERD_MAX_CONTAINERS: '250' },
  keyPairName: 'ops',
  extraTags: { team: 'ci' },
  instanceType: 'c5d.2xlarge,m5d.2xlarge',
  spotMaxPrice: '0.5',
  onDemandBase: 1,
  onDemandPercentage: 20,
  spotFallbackCooldown: '45m',
  schedule: { start: '0 7 * * 1-5', stop: '0 20 * * 1-5' },
  desiredCapacity: 2,
  minSize: 1,
  maxSize: 9,
  rootVolumeSize: 30,
  dataVolumeSize: 200,
  workerTag: 'fast',
  workerRuntime: 'guardian',
  workerDnsServer: '10.0.0.2',
  workerVersion: '7.11.2',
  keepRunningOnBootFailure: true,
  notificationEmail: 'ops@example.com',
  logRetentionDays: 90,
  amiRetention: 5,
  amiRetentionRequestShare: 0.5,
  schedulerApiAddress: 'https://scheduler.example.com:8443/api',
  schedulerHost: 'tsa.example.com',
  schedulerPort: 2222,
  tsaPublicKey:
    'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIAcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcH tsa@example.com',
  ansibleVersion: '2.18.1',
  artifactMirrors: {
    concourse: 'https://mirror.example.com/concourse',
    telegrafRepository: 'https://mirror.example.com/telegraf/debian',
    telegrafKey: 'https://mirror.example.com/telegraf/influxdata-archive.key',
    ssmAgent: 'https://mirror.example.com/ssm-agent',
    gems: 'https://mirror.example.com/rubygems',
  },
  concourseChecksums: { '7.11.2': 'a'.repeat(64) },
  minHealthyPercentage: 75,
  rolloutCanaryPercentage: 25,
  rolloutBakeTime: '30m',
  bootFailureLimit: 5,
  keptInstanceTtl: '36h',
};

/** What on-demand capacity, a pinned AMI, a scheduler on a trusted network and other names change. */
export const FULLEST_ONDEMAND: Context = {
  project: 'ci',
  env: 'staging',
  capacity: 'ondemand',
  associatePublicIp: false,
  ebsOptimized: false,
  workerAmiId: 'ami-0123456789abcdef0',
  workerKeyParameter: '/ci/secret/key',
  workerRuntime: 'houdini',
  fsVolumeType: 'ext4',
  useLocalDevice: true,
  varLibDevice: 'nodevice',
  buildsUseInstanceRole: true,
  minSize: 2,
  maxSize: 4,
  desiredCapacity: 3,
  schedulerApiAddress: 'http://scheduler.internal:8080',
  schedulerAllowHttp: true,
  bootTimeout: '20m',
  drainTimeout: '3h',
  versionCheckInterval: '15m',
  versionLagTolerance: '6h',
  warmPool: { minSize: 1, maxPreparedCapacity: 4, poolState: 'Stopped', reuseOnScaleIn: true },
};

/** The configurations cfn-guard checks, by what they are. */
export const GUARD_CHECKED: ReadonlyArray<[string, Context]> = [
  ['the defaults', {}],
  ['the fullest Spot configuration', FULLEST_SPOT],
  ['the fullest on-demand configuration', FULLEST_ONDEMAND],
  [
    'mixed Spot types, a year of logs, aws-cn',
    { instanceType: 'c5d.2xlarge,c5ad.2xlarge', logRetentionDays: 365, region: 'cn-north-1' },
  ],
  [
    'Spot types chosen by attributes',
    { instanceRequirements: { vCpu: { min: 8, max: 16 }, memoryMiB: { min: 16384 } } },
  ],
  [
    'a hibernated warm pool',
    { capacity: 'ondemand', instanceType: 'm5.large', warmPool: '{"poolState":"Hibernated"}' },
  ],
  ['on-demand in aws-us-gov', { capacity: 'ondemand', region: 'us-gov-west-1' }],
];
