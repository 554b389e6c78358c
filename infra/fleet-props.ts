import { type Duration, type Size, Stack, Token } from 'aws-cdk-lib';
import type * as autoscaling from 'aws-cdk-lib/aws-autoscaling';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import type { InstanceRequirements } from './capacity-options';
import { parseConfig, type WorkerConfig } from './config';
import type { DeployInputs } from './deploy-inputs';

/** How the group buys its instances: Spot (the original's default profile) or on-demand. */
export enum WorkerCapacity {
  SPOT = 'spot',
  ON_DEMAND = 'ondemand',
}

/** The attributes of instanceRequirements (README, Configuration); cpuManufacturers default intel, amd. */
export type InstanceRequirementsInput = Omit<InstanceRequirements, 'cpuManufacturers'> & {
  readonly cpuManufacturers?: InstanceRequirements['cpuManufacturers'];
};

/** The Cycloid (Concourse) scheduler the workers register with. Defaults: Cycloid SaaS. */
export interface SchedulerEndpoint {
  /** Base URL whose `/api/v1/info` gives the Concourse version to install. */
  readonly apiAddress?: string;
  /** Allow an http:// apiAddress (a scheduler on a trusted network only). @default false */
  readonly allowHttp?: boolean;
  /** Host of the TSA the workers register through. */
  readonly host?: string;
  /** Port of the TSA. */
  readonly port?: number;
  /** The TSA's public host key (an OpenSSH public key line). */
  readonly tsaPublicKey?: string;
}

/** Where the image build downloads from: each origin, or a mirror of its layout (https only). */
export interface ArtifactMirrors {
  readonly concourse?: string;
  readonly telegrafRepository?: string;
  readonly telegrafKey?: string;
  readonly ssmAgent?: string;
  readonly gems?: string;
}

/**
 * Instances prepared ahead and kept stopped (or hibernated): a scale-out starts one instead of
 * launching a new instance. Needs on-demand capacity and a single instance type.
 */
export interface WarmPoolOptions {
  /** Instances kept in the pool. @default 0 */
  readonly minSize?: number;
  /** Instances in the group and the pool together. @default the group's maxCapacity */
  readonly maxPreparedCapacity?: number;
  /** @default 'Stopped' */
  readonly poolState?: 'Stopped' | 'Hibernated';
  /** A scale-in returns instances to the pool instead of terminating them. @default false */
  readonly reuseOnScaleIn?: boolean;
}

/**
 * A pool of Cycloid CI workers and its control plane. Every property is optional; each default is
 * the original stack's. Values are checked by the same parser as the app's cdk.json configuration:
 * a bad one fails the synthesis with one line per problem, naming the configuration key.
 */
export interface ExternalWorkerFleetProps {
  /** Concourse team the workers register to. @default a `TeamId` CloudFormation parameter */
  readonly teamId?: string;
  /** Cycloid organization, used in tags. @default a `Customer` CloudFormation parameter */
  readonly customer?: string;
  /** Project name, in resource names and tags. @default 'external-worker' */
  readonly project?: string;
  /** Environment name, in resource names and tags. @default 'prod' */
  readonly env?: string;
  /** VPC of the workers and of the image builds. @default `VpcId` and `SubnetIds` CloudFormation parameters */
  readonly vpc?: ec2.IVpc;
  /** Subnets of the workers; they need outbound access to the scheduler and AWS APIs. @default the VPC's default selection */
  readonly vpcSubnets?: ec2.SubnetSelection;
  /** @default Cycloid SaaS */
  readonly scheduler?: SchedulerEndpoint;
  /** SSM SecureString holding the worker's private key. @default `/<project>/<env>/worker-key` */
  readonly workerKeyParameterName?: string;
  /** Concourse worker tag. @default none */
  readonly workerTag?: string;
  /** @default 'containerd' */
  readonly workerRuntime?: 'containerd' | 'guardian' | 'houdini';
  /** DNS servers of the build containers. @default the VPC's */
  readonly workerDnsServers?: string[];
  /** Pin the Concourse version. @default follow the scheduler's */
  readonly workerVersion?: string;
  /** Allowed to reach the workers over SSH (tcp/22). Anything else: `connections`. @default none */
  readonly bastionSecurityGroup?: ec2.ISecurityGroup;
  /** Allowed to read the workers' Prometheus metrics (tcp/9100). @default none */
  readonly metricsSecurityGroup?: ec2.ISecurityGroup;
  /** EC2 key pair of the workers. @default none: SSM Session Manager */
  readonly keyPair?: ec2.IKeyPair;
  /** Tags of the workers and their volumes. @default none */
  readonly extraTags?: Record<string, string>;
  /** Run this AMI instead of the built ones. @default the image pipeline's */
  readonly workerAmiId?: string;
  /** @default 1 */
  readonly desiredCapacity?: number;
  /** @default 1 */
  readonly minCapacity?: number;
  /** @default 6 */
  readonly maxCapacity?: number;
  /** One type, or several: a mixed instances policy over all of them. @default [c5d.2xlarge] */
  readonly instanceTypes?: ec2.InstanceType[];
  /** @default WorkerCapacity.SPOT */
  readonly capacity?: WorkerCapacity;
  /** Maximum Spot price, USD per hour (Spot only). @default 0.3 */
  readonly spotMaxPrice?: number | string;
  /** On-demand instances before any Spot one (Spot capacity only). @default 0 */
  readonly onDemandBase?: number;
  /** On-demand share above the base, 0-99 with Spot. @default 0 with Spot, 100 on-demand */
  readonly onDemandPercentage?: number;
  /** Instance types chosen by AWS from these attributes, instead of `instanceTypes`. @default none */
  readonly instanceRequirements?: InstanceRequirementsInput;
  /** Quiet time after the last Spot launch failure before Spot is tried again (Spot only). @default 30 minutes */
  readonly spotFallbackCooldown?: Duration;
  /** @default 20 GiB */
  readonly rootVolumeSize?: Size;
  /** The work dir's volume. @default 130 GiB */
  readonly dataVolumeSize?: Size;
  /** @default true */
  readonly ebsOptimized?: boolean;
  /** Baggageclaim's file system. @default 'btrfs' */
  readonly fsVolumeType?: 'btrfs' | 'ext4';
  /** Work dir on the instance store (NVMe) instead of the data volume. @default false */
  readonly useLocalDevice?: boolean;
  /** Device of the work dir, or 'nodevice'. @default '/dev/xvdf' */
  readonly varLibDevice?: string;
  /** Scheduled start (to the configured size) and stop (to zero), UTC. @default none */
  readonly schedule?: { readonly start?: autoscaling.Schedule; readonly stop?: autoscaling.Schedule };
  /** Keep an instance that failed to boot, out of the fleet, for debugging (the original's DebugMode). @default false */
  readonly keepRunningOnBootFailure?: boolean;
  /** Let builds reach the instance role (IMDS hop limit 2). @default false */
  readonly buildsUseInstanceRole?: boolean;
  /** ansible-core of the image build. @default '2.17.7' */
  readonly ansibleVersion?: string;
  /** @default the origins */
  readonly artifactMirrors?: ArtifactMirrors;
  /** sha256 of Concourse tarballs by version, checked by the build. @default none */
  readonly concourseChecksums?: Record<string, string>;
  /** Built AMIs kept. @default 3 */
  readonly amiRetention?: number;
  /** Share of EC2's request rates a retention run may use. @default 0.8 */
  readonly amiRetentionRequestShare?: number;
  /** Instance refresh minimum healthy percentage. @default 90 */
  readonly minHealthyPercentage?: number;
  /** @default 15 minutes */
  readonly bootTimeout?: Duration;
  /** @default 30 minutes */
  readonly drainTimeout?: Duration;
  /** @default 5 minutes */
  readonly versionCheckInterval?: Duration;
  /** How long the fleet may run an older version than the scheduler before an alarm. @default 3 hours */
  readonly versionLagTolerance?: Duration;
  /** Life of an instance kept for debugging. @default 24 hours */
  readonly keptInstanceTtl?: Duration;
  /** Security groups attached to every worker beside its own (the original's bastion and metrics groups). @default none */
  readonly securityGroups?: ec2.ISecurityGroup[];
  /** A public IPv4 address on every worker (true), never (false). @default the subnet's setting */
  readonly associatePublicIp?: boolean;
  /** Extra `CONCOURSE_*` worker settings, data only. @default none */
  readonly workerEnvironment?: Record<string, string>;
  /** Share of the group a rollout replaces first, then bakes. @default 10 */
  readonly rolloutCanaryPercentage?: number;
  /** How long the canary, then the whole new fleet, runs watched by the rollout alarms. @default 10 minutes */
  readonly rolloutBakeTime?: Duration;
  /** Failed boots in a row of one AMI after which it is marked bad and the group goes back. @default 3 */
  readonly bootFailureLimit?: number;
  /** A warm pool beside the group. @default none */
  readonly warmPool?: WarmPoolOptions;
  /** Subscribed to the notifications topic. @default none */
  readonly notificationEmail?: string;
  /** Retention of every log group. @default one month */
  readonly logRetention?: logs.RetentionDays;
}

/** The configuration a fleet is built from, and the deploy inputs given as references (tokens). */
export interface ResolvedFleetProps {
  config: WorkerConfig;
  /** Deploy inputs given as unresolved references: they replace the configuration's. */
  references: Partial<DeployInputs>;
  /** Security groups given as references: allowed through `connections`, not the group's own rules. */
  ingressReferences: Array<{ securityGroup: ec2.ISecurityGroup; port: number; description: string }>;
}

// In the parser's own unit: a bare number there is minutes.
const seconds = (duration: Duration | undefined) =>
  duration === undefined ? undefined : `${duration.toSeconds()}s`;
const gibibytes = (size: Size | undefined) => size?.toGibibytes();
/** A reference resolved at deploy time (a parameter, an attribute): the parser cannot read it. */
const unresolved = (value: string | undefined) => value !== undefined && Token.isUnresolved(value);

/**
 * The fleet's configuration from its typed properties, checked by `parseConfig` like the app's
 * context. The stack holding the fleet names it: its name is the `<stack>` of every resource name.
 */
export function resolveFleetProps(scope: Construct, props: ExternalWorkerFleetProps): ResolvedFleetProps {
  const stack = Stack.of(scope);
  if (Token.isUnresolved(stack.stackName)) {
    throw new Error('ExternalWorkerFleet: the stack holding the fleet needs a stack name known at synth');
  }
  const references: Partial<DeployInputs> = {};
  const raw: Record<string, unknown> = {};
  const set = (key: string, value: unknown) => {
    if (value !== undefined) raw[key] = value;
  };
  const setOrReference = (key: 'teamId' | 'customer' | 'vpcId', value: string | undefined) => {
    if (unresolved(value)) references[key] = value;
    else set(key, value);
  };

  setOrReference('teamId', props.teamId);
  setOrReference('customer', props.customer);
  set('project', props.project);
  set('env', props.env);
  if (!Token.isUnresolved(stack.region)) set('region', stack.region);
  if (props.vpc) {
    setOrReference('vpcId', props.vpc.vpcId);
    // A VPC known by its id alone has no subnets to select: they are then a deploy input (the
    // SubnetIds parameter), as with a configured vpcId and no subnetIds.
    const known = [...props.vpc.publicSubnets, ...props.vpc.privateSubnets, ...props.vpc.isolatedSubnets];
    const subnetIds =
      props.vpcSubnets || known.length > 0 ? props.vpc.selectSubnets(props.vpcSubnets).subnetIds : undefined;
    if (subnetIds && (subnetIds.some((id) => unresolved(id)) || references.vpcId !== undefined)) {
      references.subnetIds = subnetIds;
      // One reference, and both are: a subnet list must come with its VPC.
      references.vpcId = props.vpc.vpcId;
      delete raw.vpcId;
    } else set('subnetIds', subnetIds);
  } else if (props.vpcSubnets) {
    throw new Error('ExternalWorkerFleet: vpcSubnets selects subnets of a vpc; give the vpc too');
  }
  set('schedulerApiAddress', props.scheduler?.apiAddress);
  set('schedulerAllowHttp', props.scheduler?.allowHttp);
  set('schedulerHost', props.scheduler?.host);
  set('schedulerPort', props.scheduler?.port);
  set('tsaPublicKey', props.scheduler?.tsaPublicKey);
  // The default name is the parser's to give: the configuration then reads as the app's own.
  const defaultKeyParameter = `/${props.project ?? 'external-worker'}/${props.env ?? 'prod'}/worker-key`;
  if (props.workerKeyParameterName !== defaultKeyParameter) {
    set('workerKeyParameter', props.workerKeyParameterName);
  }
  set('workerTag', props.workerTag);
  set('workerRuntime', props.workerRuntime);
  set('workerDnsServer', props.workerDnsServers);
  set('workerVersion', props.workerVersion);

  const ingressReferences: ResolvedFleetProps['ingressReferences'] = [];
  const ingress = [
    ['bastionSecurityGroupId', props.bastionSecurityGroup, 22, 'SSH from the bastion'],
    ['metricsSecurityGroupId', props.metricsSecurityGroup, 9100, 'Prometheus metrics (Telegraf)'],
  ] as const;
  for (const [key, securityGroup, port, description] of ingress) {
    if (!securityGroup) continue;
    if (unresolved(securityGroup.securityGroupId)) {
      ingressReferences.push({ securityGroup, port, description });
    } else set(key, securityGroup.securityGroupId);
  }

  set('keyPairName', props.keyPair?.keyPairName);
  set('extraTags', props.extraTags);
  set('workerAmiId', props.workerAmiId);
  set('desiredCapacity', props.desiredCapacity);
  set('minSize', props.minCapacity);
  set('maxSize', props.maxCapacity);
  set(
    'instanceType',
    props.instanceTypes?.map((type) => type.toString()),
  );
  set('capacity', props.capacity);
  set('spotMaxPrice', props.spotMaxPrice);
  set('onDemandBase', props.onDemandBase);
  set('onDemandPercentage', props.onDemandPercentage);
  set('instanceRequirements', props.instanceRequirements);
  set('spotFallbackCooldown', seconds(props.spotFallbackCooldown));
  set('rootVolumeSize', gibibytes(props.rootVolumeSize));
  set('dataVolumeSize', gibibytes(props.dataVolumeSize));
  set('ebsOptimized', props.ebsOptimized);
  set('fsVolumeType', props.fsVolumeType);
  set('useLocalDevice', props.useLocalDevice);
  set('varLibDevice', props.varLibDevice);
  if (props.schedule) {
    const schedule: Record<string, string> = {};
    if (props.schedule.start) schedule.start = props.schedule.start.expressionString;
    if (props.schedule.stop) schedule.stop = props.schedule.stop.expressionString;
    set('schedule', schedule);
  }
  set('keepRunningOnBootFailure', props.keepRunningOnBootFailure);
  set('buildsUseInstanceRole', props.buildsUseInstanceRole);
  set('ansibleVersion', props.ansibleVersion);
  set('artifactMirrors', props.artifactMirrors);
  set('concourseChecksums', props.concourseChecksums);
  set('amiRetention', props.amiRetention);
  set('amiRetentionRequestShare', props.amiRetentionRequestShare);
  set('minHealthyPercentage', props.minHealthyPercentage);
  set('bootTimeout', seconds(props.bootTimeout));
  set('drainTimeout', seconds(props.drainTimeout));
  set('versionCheckInterval', seconds(props.versionCheckInterval));
  set('versionLagTolerance', seconds(props.versionLagTolerance));
  set('keptInstanceTtl', seconds(props.keptInstanceTtl));
  set(
    'securityGroupIds',
    props.securityGroups?.map((group) => group.securityGroupId),
  );
  set('associatePublicIp', props.associatePublicIp);
  set('workerEnvironment', props.workerEnvironment);
  set('rolloutCanaryPercentage', props.rolloutCanaryPercentage);
  set('rolloutBakeTime', seconds(props.rolloutBakeTime));
  set('bootFailureLimit', props.bootFailureLimit);
  set('warmPool', props.warmPool);
  set('notificationEmail', props.notificationEmail);
  set('logRetentionDays', props.logRetention);

  const config = parseConfig(raw);
  return { config: { ...config, stackName: stack.stackName }, references, ingressReferences };
}
