import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Aws, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as imagebuilder from 'aws-cdk-lib/aws-imagebuilder';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3assets from 'aws-cdk-lib/aws-s3-assets';
import { Construct } from 'constructs';
import { CONCOURSE_VERSION_PATTERN_SOURCE } from '../functions/lib/concourse-version';
import { ARCHITECTURES } from './architecture';
import { encodedBuildVariables } from './build-variables';
import type { WorkerConfig } from './config';
import { runtimeParameters, STACK_TAG, stockAmiParameter, workerImageName } from './names';
import { PlaybookRebuild } from './playbook-rebuild';
import { encryptedGp3 } from './volumes';

export interface WorkerImagePipelineProps {
  config: WorkerConfig;
  /** The ansible/ folder as an S3 asset: the build runs its build.yml. */
  playbook: s3assets.Asset;
  /** Subnet of the build instances (one of the fleet's); it needs outbound access. */
  subnetId: string;
  vpcId: string;
  /** The customer tag (a deploy parameter unless configured). */
  customer: string;
  logRetention: logs.RetentionDays;
}

export const COMPONENT_DOCUMENT = path.join(__dirname, 'image', 'worker-component.yml');

/**
 * Image Builder components and recipes are immutable: a changed one needs a new version. The
 * version is derived from the content, so that it moves exactly when the content does.
 */
function contentVersion(...parts: string[]): string {
  const digest = createHash('sha256').update(parts.join('\n')).digest('hex');
  // 28 bits: below Image Builder's 2^30-1 limit for a version node.
  return `1.0.${Number.parseInt(digest.slice(0, 7), 16)}`;
}

/**
 * The worker image pipeline: Debian 12 + the ansible/ playbook at the Concourse version read at
 * build time, checked before and after the AMI is made. It has no schedule: the version check,
 * a deploy that changes ansible/, or an operator starts it.
 */
export class WorkerImagePipeline extends Construct {
  readonly pipeline: imagebuilder.CfnImagePipeline;
  /** Image (recipe) name: build version ARNs are `…:image/<imageName>/<version>/<build>`. */
  readonly imageName: string;
  readonly imageArnPattern: string;
  readonly logGroup: logs.LogGroup;
  readonly role: iam.Role;
  readonly securityGroup: ec2.CfnSecurityGroup;
  /** Starts a build when a deploy changes ansible/. */
  readonly rebuildTrigger: PlaybookRebuild;

  constructor(scope: Construct, id: string, props: WorkerImagePipelineProps) {
    super(scope, id);
    const { config, playbook } = props;
    const stack = Stack.of(this);
    const parameters = runtimeParameters(config);
    this.imageName = workerImageName(config);
    this.imageArnPattern = stack.formatArn({
      service: 'imagebuilder',
      resource: 'image',
      resourceName: `${this.imageName}/*`,
    });

    // Where Image Builder sends the build's logs; created here to give them a retention.
    this.logGroup = new logs.LogGroup(this, 'BuildLogs', {
      logGroupName: `/aws/imagebuilder/${this.imageName}`,
      retention: props.logRetention,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.role = this.createRole(config, playbook, parameters.buildVersion);
    const profile = new iam.CfnInstanceProfile(this, 'InstanceProfile', { roles: [this.role.roleName] });

    this.securityGroup = new ec2.CfnSecurityGroup(this, 'SecurityGroup', {
      vpcId: props.vpcId,
      groupDescription: `Worker image builds of ${config.stackName} (outbound only)`,
      securityGroupEgress: [
        { ipProtocol: '-1', cidrIp: '0.0.0.0/0', description: 'Packages, Concourse release, AWS APIs' },
      ],
    });

    // The stack's tags reach what the builds create (the build instances, the AMIs), which
    // CloudFormation never sees.
    const ownTags = {
      ...config.extraTags,
      [STACK_TAG]: config.stackName,
      customer: props.customer,
      project: config.project,
      env: config.env,
    };

    const document = fs.readFileSync(COMPONENT_DOCUMENT, 'utf8');
    const component = new imagebuilder.CfnComponent(this, 'Component', {
      name: `${config.stackName}-worker-build`,
      version: contentVersion(document),
      platform: 'Linux',
      description: 'Installs the Concourse worker with the ansible/ playbook, then checks it',
      data: document,
    });

    const componentParameters: Record<string, string> = {
      AnsibleVersion: config.ansibleVersion,
      PlaybookS3Uri: playbook.s3ObjectUrl,
      BuildVersionParameter: parameters.buildVersion,
      PinnedVersion: config.workerVersion ?? 'none',
      SchedulerApiAddress: config.schedulerApiAddress.replace(/\/+$/, ''),
      Region: Aws.REGION,
      BuildVariables: encodedBuildVariables(config),
      VersionPattern: CONCOURSE_VERSION_PATTERN_SOURCE,
    };
    const recipe = new imagebuilder.CfnImageRecipe(this, 'Recipe', {
      name: this.imageName,
      version: contentVersion(
        document,
        playbook.assetHash,
        config.ansibleVersion,
        config.workerVersion ?? 'none',
        parameters.buildVersion,
        config.schedulerApiAddress,
        String(config.rootVolumeSize),
        componentParameters.BuildVariables ?? '',
      ),
      description: `Concourse worker of ${config.stackName} on Debian 12 ${config.architecture}`,
      // Resolved by CloudFormation when the recipe is created: never looked up at synth time.
      parentImage: `{{resolve:ssm:${stockAmiParameter(config)}}}`,
      components: [
        {
          componentArn: component.attrArn,
          parameters: Object.entries(componentParameters).map(([name, value]) => ({ name, value: [value] })),
        },
      ],
      blockDeviceMappings: [encryptedGp3('/dev/xvda', config.rootVolumeSize)],
      // The playbook installs and enables the agent itself; the fleet needs it.
      additionalInstanceConfiguration: { systemsManagerAgent: { uninstallAfterBuild: false } },
    });

    const infrastructure = new imagebuilder.CfnInfrastructureConfiguration(this, 'Infrastructure', {
      name: `${config.stackName}-worker-build`,
      description: `Build instances of the ${config.stackName} worker image`,
      // The parent AMI runs on its own architecture only: the build instance is of the workers' one.
      instanceTypes: [ARCHITECTURES[config.architecture].buildInstanceType],
      instanceProfileName: profile.ref,
      subnetId: props.subnetId,
      securityGroupIds: [this.securityGroup.attrGroupId],
      terminateInstanceOnFailure: true,
      instanceMetadataOptions: { httpTokens: 'required', httpPutResponseHopLimit: 1 },
      resourceTags: ownTags,
    });

    const distribution = new imagebuilder.CfnDistributionConfiguration(this, 'Distribution', {
      name: `${config.stackName}-worker`,
      description: `Worker AMIs of ${config.stackName}`,
      distributions: [
        {
          region: Aws.REGION,
          // An untyped property in the L1: CloudFormation's own (capitalized) names.
          amiDistributionConfiguration: {
            Name: `${config.project}_worker_${config.env}_{{imagebuilder:buildDate}}`,
            Description: `Concourse worker of ${config.stackName}`,
            // Image Builder cannot put the Concourse version (known only during the build) in a tag:
            // the rollout tags the AMI with it, read from the build's version parameter.
            AmiTags: {
              ...ownTags,
              'external-worker:build': '{{imagebuilder:buildVersion}}',
              role: 'worker',
            },
          },
        },
      ],
    });

    this.pipeline = new imagebuilder.CfnImagePipeline(this, 'Pipeline', {
      name: `${config.stackName}-worker`,
      description: `Worker image of ${config.stackName}; started by the version check, deploys and operators`,
      imageRecipeArn: recipe.attrArn,
      infrastructureConfigurationArn: infrastructure.attrArn,
      distributionConfigurationArn: distribution.attrArn,
      status: 'ENABLED',
      imageTestsConfiguration: { imageTestsEnabled: true, timeoutMinutes: 60 },
      enhancedImageMetadataEnabled: true,
    });
    // The build writes to its log group from the first execution on.
    this.pipeline.node.addDependency(this.logGroup);

    this.rebuildTrigger = new PlaybookRebuild(this, 'RebuildOnPlaybookChange', {
      pipeline: this.pipeline,
      playbook,
      architecture: config.architecture,
      logRetention: props.logRetention,
    });
  }

  private createRole(config: WorkerConfig, playbook: s3assets.Asset, buildVersionParameter: string) {
    const stack = Stack.of(this);
    const role = new iam.Role(this, 'BuildRole', {
      assumedBy: new iam.ServicePrincipal('ec2.amazonaws.com'),
      description: `Worker image build instances of ${config.stackName}`,
      managedPolicies: [
        iam.ManagedPolicy.fromAwsManagedPolicyName('EC2InstanceProfileForImageBuilder'),
        iam.ManagedPolicy.fromAwsManagedPolicyName('AmazonSSMManagedInstanceCore'),
      ],
    });
    role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'ReadBuildVersion',
        actions: ['ssm:GetParameter'],
        resources: [
          stack.formatArn({
            service: 'ssm',
            resource: 'parameter',
            resourceName: buildVersionParameter.slice(1),
          }),
        ],
      }),
    );
    this.logGroup.grantWrite(role);
    playbook.grantRead(role);
    const acknowledgements: Array<[string, string]> = [
      [
        'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/EC2InstanceProfileForImageBuilder]',
        'Image Builder requires this AWS-maintained policy on build instances (component download, build logs, status).',
      ],
      [
        'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/AmazonSSMManagedInstanceCore]',
        'Image Builder drives the build instance through the SSM agent, which needs exactly this AWS-maintained policy.',
      ],
      [
        `AwsSolutions-IAM5[Resource::arn:${stack.partition}:s3:::cdk-hnb659fds-assets-<AWS::AccountId>-${config.region}/*]`,
        'Read-only access to the playbook asset object, as granted by the asset itself.',
      ],
      ...['s3:GetObject*', 's3:GetBucket*', 's3:List*'].map((action): [string, string] => [
        `AwsSolutions-IAM5[Action::${action}]`,
        'Read-only access to the playbook asset, as granted by the asset itself.',
      ]),
    ];
    for (const [id, reason] of acknowledgements) Validations.of(role).acknowledge({ id, reason });
    return role;
  }
}
