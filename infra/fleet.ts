import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ArnFormat, CustomResource, Fn, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as autoscaling from 'aws-cdk-lib/aws-autoscaling';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3assets from 'aws-cdk-lib/aws-s3-assets';
import { Construct } from 'constructs';
import { ARCHITECTURES } from './architecture';
import { purchase } from './capacity-options';
import type { WorkerConfig } from './config';
import type { DeployInputs } from './deploy-inputs';
import { mixedInstancesPolicy, usesMixedInstancesPolicy } from './fleet-capacity';
import { createSchedules } from './fleet-schedules';
import { acknowledgeGuardRule } from './guard';
import { WorkerFunction } from './lambda';
import {
  runtimeParameters,
  STACK_TAG,
  stockAmiParameter,
  TAGGED_AT_LAUNCH,
  workerLogGroupName,
} from './names';
import { workerUserData } from './user-data';
import { encryptedGp3 } from './volumes';
import { createWarmPool } from './warm-pool';
import { createWorkerRole } from './worker-role';

export interface WorkerFleetProps {
  config: WorkerConfig;
  inputs: DeployInputs;
  /** The ansible/ folder as an S3 asset: a worker on the stock AMI installs itself from it. */
  playbook: s3assets.Asset;
  logRetention: logs.RetentionDays;
}

/** Instance store disks as the original mapped them; types without instance store ignore them. */
const INSTANCE_STORE_DEVICES = ['g', 'h', 'i', 'j', 'k', 'l', 'm', 'n'].map((letter, i) => ({
  deviceName: `/dev/xvd${letter}`,
  virtualName: `ephemeral${i}`,
}));

/**
 * The worker fleet: security group, instance role, launch template, Auto Scaling group with its
 * lifecycle hooks, schedules and log group. Everything the original Terraform module created.
 */
export class WorkerFleet extends Construct {
  readonly securityGroup: ec2.CfnSecurityGroup;
  readonly role: iam.Role;
  readonly launchTemplate: ec2.CfnLaunchTemplate;
  readonly group: autoscaling.CfnAutoScalingGroup;
  readonly groupName: string;
  readonly logGroup: logs.LogGroup;
  readonly launchHookName: string;
  readonly terminateHookName: string;
  /** True when the group launches through a mixed instances policy (Spot, several or attribute-chosen types). */
  readonly mixedInstances: boolean;
  /** The customer tag's value (a deploy parameter unless configured). */
  readonly customer: string;
  /** The group's warm pool (config warmPool), if any. */
  readonly warmPool?: autoscaling.CfnWarmPool;

  constructor(scope: Construct, id: string, props: WorkerFleetProps) {
    super(scope, id);
    const { config, inputs } = props;
    this.groupName = `${config.stackName}-workers`;
    this.launchHookName = `${config.stackName}-launch`;
    this.terminateHookName = `${config.stackName}-terminate`;
    this.mixedInstances = usesMixedInstancesPolicy(config);
    this.customer = inputs.customer;

    this.logGroup = new logs.LogGroup(this, 'WorkerLogs', {
      logGroupName: workerLogGroupName(config),
      retention: props.logRetention,
      removalPolicy: RemovalPolicy.RETAIN,
    });

    this.securityGroup = this.createSecurityGroup(config, inputs);
    this.role = createWorkerRole(this, config, props.playbook);
    const profile = new iam.CfnInstanceProfile(this, 'InstanceProfile', { roles: [this.role.roleName] });

    const imageId = config.workerAmiId ?? this.currentAmi(config, inputs, props.playbook);
    this.launchTemplate = new ec2.CfnLaunchTemplate(this, 'LaunchTemplate', {
      launchTemplateName: `${config.stackName}-worker`,
      launchTemplateData: this.launchTemplateData(config, inputs, props, profile.attrArn, imageId),
      tagSpecifications: [{ resourceType: 'launch-template', tags: this.tagList(config, inputs) }],
    });
    if (config.buildsUseInstanceRole) {
      acknowledgeGuardRule(
        this.launchTemplate,
        'ec2_launch_template_token_hop_limit_check',
        'buildsUseInstanceRole asks for it explicitly: builds need the extra hop to reach the instance role (see the README, Security).',
      );
    }
    if (config.associatePublicIp) {
      acknowledgeGuardRule(
        this.launchTemplate,
        'ec2_launch_template_public_ip_disabled_check',
        "associatePublicIp asks for it explicitly (the original stack's behaviour): workers in public subnets without a NAT reach the scheduler and AWS through it. The workers' own group admits only the bastion and metrics groups; what groups attached through securityGroupIds admit is the operator's choice.",
      );
    }
    acknowledgeGuardRule(
      this.launchTemplate,
      'ec2_launch_template_monitoring_enabled_check',
      "Nothing scales or alarms on the workers' EC2 metrics: Telegraf serves per-second host metrics on tcp/9100, and detailed monitoring would be a cost per instance for no reader.",
    );

    this.group = this.createGroup(config, inputs);
    if (config.warmPool) this.warmPool = createWarmPool(this, this.group, config.warmPool);
    createSchedules(this, this.group, config);
  }

  /** The group's ARN, by its name: what the flows that act on the group are granted. */
  get groupArn(): string {
    return Stack.of(this).formatArn({
      service: 'autoscaling',
      resource: 'autoScalingGroup',
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
      resourceName: `*:autoScalingGroupName/${this.groupName}`,
    });
  }

  /** The launch template's ARN, which Auto Scaling checks the caller may launch from. */
  get launchTemplateArn(): string {
    return Stack.of(this).formatArn({
      service: 'ec2',
      resource: 'launch-template',
      resourceName: this.launchTemplate.ref,
    });
  }

  private tagList(config: WorkerConfig, inputs: DeployInputs) {
    return Object.entries(this.tags(config, inputs)).map(([key, value]) => ({ key, value }));
  }

  private tags(config: WorkerConfig, inputs: DeployInputs): Record<string, string> {
    return {
      ...config.extraTags,
      Name: `${config.project}-worker-${config.env}`,
      customer: inputs.customer,
      project: config.project,
      env: config.env,
      role: 'worker',
      'cycloid.io': 'true',
      [STACK_TAG]: config.stackName,
      ...(config.keepRunningOnBootFailure ? { keeprunning: 'true' } : {}),
    };
  }

  private createSecurityGroup(config: WorkerConfig, inputs: DeployInputs): ec2.CfnSecurityGroup {
    const ingress: ec2.CfnSecurityGroup.IngressProperty[] = [];
    if (config.bastionSecurityGroupId) {
      ingress.push({
        ipProtocol: 'tcp',
        fromPort: 22,
        toPort: 22,
        sourceSecurityGroupId: config.bastionSecurityGroupId,
        description: 'SSH from the bastion',
      });
    }
    if (config.metricsSecurityGroupId) {
      ingress.push({
        ipProtocol: 'tcp',
        fromPort: 9100,
        toPort: 9100,
        sourceSecurityGroupId: config.metricsSecurityGroupId,
        description: 'Prometheus metrics (Telegraf)',
      });
    }
    return new ec2.CfnSecurityGroup(this, 'SecurityGroup', {
      vpcId: inputs.vpcId,
      groupDescription: `Concourse workers of ${config.stackName}`,
      securityGroupEgress: [
        { ipProtocol: '-1', cidrIp: '0.0.0.0/0', description: 'Scheduler, AWS APIs, build traffic' },
      ],
      securityGroupIngress: ingress.length > 0 ? ingress : undefined,
    });
  }

  /**
   * The AMI a deploy puts in the launch template when none is pinned: resolved at deploy time by
   * a custom resource (see functions/current-ami). It runs again whenever anything that shapes the
   * launch template or the group changes, so a deploy that touches them carries the AMI the last
   * rollout installed, never an older one.
   */
  private currentAmi(config: WorkerConfig, inputs: DeployInputs, playbook: s3assets.Asset): string {
    const resolver = new WorkerFunction(this, 'CurrentAmiResolver', {
      name: 'current-ami',
      description: 'Resolves the AMI a deploy puts in the worker launch template',
      logRetention: config.logRetentionDays as logs.RetentionDays,
      unscopedActions: ['ec2:DescribeImages'],
    });
    const parameters = runtimeParameters(config);
    resolver.function.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['ssm:GetParameter'],
        resources: [
          Stack.of(this).formatArn({
            service: 'ssm',
            resource: 'parameter',
            resourceName: parameters.currentAmi.slice(1),
          }),
          Stack.of(this).formatArn({
            service: 'ssm',
            resource: 'parameter',
            resourceName: stockAmiParameter(config).slice(1),
            account: '',
          }),
        ],
      }),
    );
    const fingerprint = createHash('sha256')
      .update(JSON.stringify(config))
      .update(fs.readFileSync(path.join(__dirname, 'userdata', 'bootstrap.sh')))
      // The user data names the playbook asset: a playbook change is a launch template change too.
      .update(playbook.assetHash)
      .digest('hex');
    const resource = new CustomResource(this, 'CurrentAmi', {
      serviceToken: resolver.function.functionArn,
      resourceType: 'Custom::WorkerAmi',
      properties: {
        CurrentAmiParameter: parameters.currentAmi,
        StockAmiParameter: stockAmiParameter(config),
        // A recorded AMI of another architecture (the instance types changed) is never reused.
        Architecture: ARCHITECTURES[config.architecture].ec2,
        // Any change here re-runs the resolver before the launch template is updated.
        Fingerprint: Fn.join('|', [
          fingerprint,
          inputs.vpcId,
          inputs.teamId,
          inputs.customer,
          Fn.join(',', inputs.subnetIds),
        ]),
      },
    });
    return resource.getAttString('ImageId');
  }

  private launchTemplateData(
    config: WorkerConfig,
    inputs: DeployInputs,
    props: WorkerFleetProps,
    profileArn: string,
    imageId: string,
  ): ec2.CfnLaunchTemplate.LaunchTemplateDataProperty {
    const tags = this.tagList(config, inputs);
    const singleType = !this.mixedInstances;
    // The workers' own group first, then those given to attach (the original attached the bastion
    // and metrics groups themselves).
    const groups = [this.securityGroup.attrGroupId, ...(config.securityGroupIds ?? [])];
    // A public-IP choice is a property of the network interface, and EC2 then takes the security
    // groups from the interface only. Unset, the subnet's own setting (MapPublicIpOnLaunch) decides.
    // ("If you specify a network interface, you must specify any security groups as part of the
    // network interface": https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_RunInstances.html)
    const networkInterfaces =
      config.associatePublicIp === undefined
        ? undefined
        : [
            {
              deviceIndex: 0,
              associatePublicIpAddress: config.associatePublicIp,
              groups,
              deleteOnTermination: true,
            },
          ];
    return {
      imageId,
      // A mixed instances policy names the types and the market (fleet-capacity.ts).
      instanceType: singleType ? config.instanceType[0] : undefined,
      iamInstanceProfile: { arn: profileArn },
      securityGroupIds: networkInterfaces ? undefined : groups,
      networkInterfaces,
      keyName: config.keyPairName,
      ebsOptimized: config.ebsOptimized,
      // IMDSv2 only, hop limit 1: a token cannot leave the host, so a build container (one network
      // hop away) gets none; the host firewall drops its packets to the service as well. Only the
      // explicit buildsUseInstanceRole allows the extra hop.
      // https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/configuring-IMDS-existing-instances.html
      metadataOptions: {
        httpTokens: 'required',
        httpPutResponseHopLimit: config.buildsUseInstanceRole ? 2 : 1,
        httpEndpoint: 'enabled',
        httpProtocolIpv6: 'disabled',
        instanceMetadataTags: 'enabled',
      },
      blockDeviceMappings: [
        encryptedGp3('/dev/xvda', config.rootVolumeSize),
        encryptedGp3('/dev/xvdf', config.dataVolumeSize),
        ...INSTANCE_STORE_DEVICES,
      ],
      // A hibernated pool instance resumes with its memory, written to the encrypted root volume.
      // https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/hibernating-prerequisites.html
      hibernationOptions: config.warmPool?.poolState === 'Hibernated' ? { configured: true } : undefined,
      userData: Fn.base64(workerUserData(config, inputs, this.logGroup.logGroupName, props.playbook)),
      tagSpecifications: TAGGED_AT_LAUNCH.map((resourceType) => ({ resourceType, tags })),
    };
  }

  private createGroup(config: WorkerConfig, inputs: DeployInputs): autoscaling.CfnAutoScalingGroup {
    const launchTemplate = {
      launchTemplateId: this.launchTemplate.ref,
      // An explicit version: instance refresh rollback needs one, and the group moves only when told.
      version: this.launchTemplate.attrLatestVersionNumber,
    };
    const group = new autoscaling.CfnAutoScalingGroup(this, 'Group', {
      autoScalingGroupName: this.groupName,
      minSize: String(config.minSize),
      maxSize: String(config.maxSize),
      desiredCapacity: String(config.desiredCapacity),
      vpcZoneIdentifier: inputs.subnetIds,
      launchTemplate: this.mixedInstances ? undefined : launchTemplate,
      mixedInstancesPolicy: this.mixedInstances ? mixedInstancesPolicy(config, launchTemplate) : undefined,
      capacityRebalance: this.mixedInstances && purchase(config).spot,
      terminationPolicies: ['OldestLaunchTemplate', 'NewestInstance'],
      healthCheckType: 'EC2',
      healthCheckGracePeriod: 300,
      metricsCollection: [{ granularity: '1Minute' }],
      lifecycleHookSpecificationList: [
        {
          lifecycleHookName: this.launchHookName,
          lifecycleTransition: 'autoscaling:EC2_INSTANCE_LAUNCHING',
          defaultResult: 'ABANDON',
          // The launch gate decides well before this; the margin covers its last poll.
          heartbeatTimeout: Math.min(config.bootTimeout + 120, 7200),
        },
        {
          lifecycleHookName: this.terminateHookName,
          lifecycleTransition: 'autoscaling:EC2_INSTANCE_TERMINATING',
          defaultResult: 'CONTINUE',
          // Longer drains are kept alive by the drain's heartbeats.
          heartbeatTimeout: Math.min(config.drainTimeout + 120, 7200),
        },
      ],
      tags: Object.entries(this.tags(config, inputs)).map(([key, value]) => ({
        key,
        value,
        propagateAtLaunch: true,
      })),
    });
    if (this.mixedInstances) {
      acknowledgeGuardRule(
        group,
        'autoscaling_group_nitro_encryption_in_transit_override_check',
        'Workers never talk to each other: their traffic goes to the TSA over SSH and to AWS over TLS, encrypted whatever the instance type.',
      );
      Validations.of(group).acknowledge({
        id: 'AwsSolutions-EC26',
        reason:
          'Both EBS volumes are encrypted in the launch template; the check cannot follow it through a mixed instances policy.',
      });
    }
    if (config.instanceRequirements) {
      acknowledgeGuardRule(
        group,
        'autoscaling_group_nitro_instance_override_check',
        'instanceRequirements leaves the types to AWS, by the attributes the operator chose: no list of types to check. The workers do not rely on the hardware for their security: their traffic is SSH to the TSA and TLS to AWS, their volumes encrypted.',
      );
    }
    acknowledgeGuardRule(
      group,
      'autoscaling_multiple_az_check',
      'The subnets are a deploy parameter (SubnetIds), one per Availability Zone as the operator chooses: the template cannot know their zones.',
    );
    // One override of instance attributes passes the rule: it stands for every type that matches.
    if (!config.instanceRequirements && config.instanceType.length <= 1) {
      acknowledgeGuardRule(
        group,
        'autoscaling_mixed_instances_policy_multiple_instance_types_check',
        'The configuration names a single instance type (instanceType): a list, or instanceRequirements, gives the group several.',
      );
    }
    Validations.of(group).acknowledge({
      id: 'AwsSolutions-AS3',
      reason:
        'Scaling and lifecycle events go to EventBridge, where the control plane acts on them and alarms notify; e-mail per scaling event would be noise.',
    });
    // A deploy leaves the size the schedules or an operator set, unless the configuration changed it.
    group.cfnOptions.updatePolicy = {
      autoScalingScheduledAction: { ignoreUnmodifiedGroupSizeProperties: true },
    };
    return group;
  }
}
