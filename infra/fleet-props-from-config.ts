import { Duration, Fn, Size, Validations } from 'aws-cdk-lib';
import * as autoscaling from 'aws-cdk-lib/aws-autoscaling';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import type { WorkerConfig } from './config';
import type { ExternalWorkerFleetProps, WorkerCapacity } from './fleet-props';

/**
 * Every property of the construct, given or not: what `fleetPropsFromConfig` returns, so that a
 * property added to ExternalWorkerFleetProps is one the configuration must give too (the compiler
 * says so), and test/infra/fleet-props-keys.test.ts finds every property at run time.
 */
export type EveryFleetProp = { [K in keyof Required<ExternalWorkerFleetProps>]: ExternalWorkerFleetProps[K] };

/**
 * The typed properties of a parsed configuration: what the app (cdk.json context) gives the
 * construct. Security groups, key pair and VPC are imported by id into `scope`; nothing is created.
 */
export function fleetPropsFromConfig(scope: Construct, config: WorkerConfig): EveryFleetProp {
  const securityGroup = (id: string, securityGroupId: string | undefined) =>
    securityGroupId ? ec2.SecurityGroup.fromSecurityGroupId(scope, id, securityGroupId) : undefined;
  const vpc = config.vpcId
    ? // The zones are never read: the subnets are given by id.
      ec2.Vpc.fromVpcAttributes(scope, 'Vpc', { vpcId: config.vpcId, availabilityZones: Fn.getAzs() })
    : undefined;
  const subnets = config.subnetIds?.map((subnetId, i) =>
    ec2.Subnet.fromSubnetId(scope, `Subnet${i}`, subnetId),
  );
  // Only ids are read from these imports: what CDK warns they lack (zones, route tables) is never used.
  if (vpc) {
    Validations.of(vpc).acknowledge({
      id: 'Annotation::@aws-cdk/aws-ec2:vpcAttributeIsListTokenavailabilityZones',
      reason: 'Only the VPC id is read: the subnets are given by id.',
    });
  }
  for (const subnet of subnets ?? []) {
    Validations.of(subnet).acknowledge({
      id: 'Annotation::@aws-cdk/aws-ec2:noSubnetRouteTableId',
      reason: 'Only the subnet id is read.',
    });
  }
  const schedule = (expression: string | undefined) =>
    expression ? autoscaling.Schedule.expression(expression) : undefined;
  const duration = (value: number) => Duration.seconds(value);
  const size = (gib: number) => Size.gibibytes(gib);
  return {
    teamId: config.teamId,
    customer: config.customer,
    project: config.project,
    env: config.env,
    vpc,
    vpcSubnets: subnets ? { subnets } : undefined,
    scheduler: {
      apiAddress: config.schedulerApiAddress,
      allowHttp: config.schedulerAllowHttp,
      host: config.schedulerHost,
      port: config.schedulerPort,
      tsaPublicKey: config.tsaPublicKey,
    },
    workerKeyParameterName: config.workerKeyParameter,
    workerTag: config.workerTag,
    workerRuntime: config.workerRuntime,
    workerDnsServers: config.workerDnsServer,
    workerVersion: config.workerVersion,
    bastionSecurityGroup: securityGroup('BastionSecurityGroup', config.bastionSecurityGroupId),
    metricsSecurityGroup: securityGroup('MetricsSecurityGroup', config.metricsSecurityGroupId),
    keyPair: config.keyPairName
      ? ec2.KeyPair.fromKeyPairName(scope, 'KeyPair', config.keyPairName)
      : undefined,
    extraTags: config.extraTags,
    workerAmiId: config.workerAmiId,
    desiredCapacity: config.desiredCapacity,
    minCapacity: config.minSize,
    maxCapacity: config.maxSize,
    // None when the attributes choose them.
    instanceTypes: config.instanceRequirements
      ? undefined
      : config.instanceType.map((type) => new ec2.InstanceType(type)),
    capacity: config.capacity as WorkerCapacity,
    // A price for Spot capacity only: the parser refuses one with on-demand.
    spotMaxPrice: config.capacity === 'spot' ? config.spotMaxPrice : undefined,
    onDemandBase: config.onDemandBase,
    onDemandPercentage: config.onDemandPercentage,
    instanceRequirements: config.instanceRequirements,
    spotFallbackCooldown: config.capacity === 'spot' ? duration(config.spotFallbackCooldown) : undefined,
    rootVolumeSize: size(config.rootVolumeSize),
    dataVolumeSize: size(config.dataVolumeSize),
    ebsOptimized: config.ebsOptimized,
    fsVolumeType: config.fsVolumeType,
    useLocalDevice: config.useLocalDevice,
    varLibDevice: config.varLibDevice,
    schedule: { start: schedule(config.schedule.start), stop: schedule(config.schedule.stop) },
    keepRunningOnBootFailure: config.keepRunningOnBootFailure,
    buildsUseInstanceRole: config.buildsUseInstanceRole,
    ansibleVersion: config.ansibleVersion,
    artifactMirrors: config.artifactMirrors,
    concourseChecksums: config.concourseChecksums,
    amiRetention: config.amiRetention,
    amiRetentionRequestShare: config.amiRetentionRequestShare,
    minHealthyPercentage: config.minHealthyPercentage,
    bootTimeout: duration(config.bootTimeout),
    drainTimeout: duration(config.drainTimeout),
    versionCheckInterval: duration(config.versionCheckInterval),
    versionLagTolerance: duration(config.versionLagTolerance),
    keptInstanceTtl: duration(config.keptInstanceTtl),
    securityGroups: config.securityGroupIds?.map((id, i) =>
      ec2.SecurityGroup.fromSecurityGroupId(scope, `AttachedSecurityGroup${i}`, id),
    ),
    associatePublicIp: config.associatePublicIp,
    workerEnvironment: config.workerEnvironment,
    rolloutCanaryPercentage: config.rolloutCanaryPercentage,
    rolloutBakeTime: duration(config.rolloutBakeTime),
    bootFailureLimit: config.bootFailureLimit,
    warmPool: config.warmPool,
    notificationEmail: config.notificationEmail,
    logRetention: config.logRetentionDays as logs.RetentionDays,
  };
}
