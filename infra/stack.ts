import * as path from 'node:path';
import { CfnOutput, Fn, Stack, type StackProps, Tags } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as logs from 'aws-cdk-lib/aws-logs';
import * as s3assets from 'aws-cdk-lib/aws-s3-assets';
import type * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { AmiRetention } from './ami-retention';
import { purchase } from './capacity-options';
import type { WorkerConfig } from './config';
import { deployInputs } from './deploy-inputs';
import { DestroyWorkflow } from './destroy';
import { WorkerFleet } from './fleet';
import { type ExternalWorkerFleetProps, resolveFleetProps } from './fleet-props';
import { fleetPropsFromConfig } from './fleet-props-from-config';
import { acknowledgeGuardRule } from './guard';
import { WorkerImagePipeline } from './image-pipeline';
import { KeptExpiry } from './kept-expiry';
import { Lifecycle } from './lifecycle';
import { STACK_TAG } from './names';
import { Notifications } from './notifications';
import { Observability } from './observability';
import { addOutputs } from './outputs';
import { ImageRollout } from './rollout';
import { SpotFallback } from './spot-fallback';
import { VersionCheck } from './version-check';

/**
 * The whole deployment as a construct: the worker fleet and the event-driven control plane that
 * keeps it healthy. One per stack: the stack's name is in the name of every resource, its outputs
 * are what the operator CLI reads, and the destroy workflow ends by deleting that stack.
 */
export class ExternalWorkerFleet extends Construct implements ec2.IConnectable, iam.IGrantable {
  /** The configuration the fleet was built from, after validation. */
  readonly config: WorkerConfig;
  /** The `customer` tag: a parameter of the one-click template, else the configured value. */
  readonly customer: string;
  /** The workers' security group: allow what may reach them (`connections.allowFrom(peer, port)`). */
  readonly connections: ec2.Connections;
  /** The workers' instance role: grants to the fleet are grants to the worker hosts (not their builds). */
  readonly grantPrincipal: iam.IPrincipal;
  /** Failures, rollbacks and alarms are published here. */
  readonly topic: sns.ITopic;
  readonly fleet: WorkerFleet;
  readonly notifications: Notifications;
  readonly image: WorkerImagePipeline;
  readonly versionCheck: VersionCheck;
  readonly retention: AmiRetention;
  readonly rollout: ImageRollout;
  readonly lifecycle: Lifecycle;
  readonly keptExpiry: KeptExpiry;
  readonly destroy: DestroyWorkflow;
  readonly observability: Observability;
  /** Raises the on-demand share while Spot launches fail: only a group with Spot instances has one. */
  readonly spotFallback?: SpotFallback;

  constructor(scope: Construct, id: string, props: ExternalWorkerFleetProps = {}) {
    super(scope, id);
    const host = Stack.of(this);
    if (host.node.findAll().some((c) => c !== this && c instanceof ExternalWorkerFleet)) {
      throw new Error(`${host.stackName} already holds an ExternalWorkerFleet: one fleet per stack`);
    }
    const resolved = resolveFleetProps(this, props);
    const config = resolved.config;
    this.config = config;
    const inputs = deployInputs(this, { ...config, ...resolved.references });
    const logRetention = config.logRetentionDays as logs.RetentionDays;
    // Every log group of the stack keeps its events for logRetentionDays.
    if (config.logRetentionDays < 365) {
      acknowledgeGuardRule(
        this,
        'cloudwatch_log_group_retention_period_check',
        `Operational logs of the workers and the control plane, kept ${config.logRetentionDays} days as configured (logRetentionDays); audit records are CloudTrail's. 365 or more meets this control.`,
      );
    }
    acknowledgeGuardRule(
      this,
      'cloudwatch_log_group_encrypted_check',
      'CloudWatch Logs encrypts every log group at rest; no secret is logged (the worker key is read at boot and never printed), so a customer-managed key would protect nothing more.',
    );

    // The original's cost and ownership tags, on every resource whose type takes tags; what the
    // launches and the image builds create gets them from the fleet and the image pipeline.
    this.customer = inputs.customer;
    tagResources(this, config, this.customer);

    const playbook = new s3assets.Asset(this, 'Playbook', {
      path: path.join(__dirname, '..', 'ansible'),
      exclude: ['tests', '*.retry', '.ansible'],
    });

    this.fleet = new WorkerFleet(this, 'Fleet', { config, inputs, playbook, logRetention });
    this.notifications = new Notifications(this, 'Notifications', { config });
    const common = { config, logRetention };
    const fleetAndTopic = { ...common, fleet: this.fleet, notifications: this.notifications };

    this.image = new WorkerImagePipeline(this, 'Image', {
      ...common,
      playbook,
      subnetId: Fn.select(0, inputs.subnetIds),
      vpcId: inputs.vpcId,
      customer: inputs.customer,
    });
    this.versionCheck = new VersionCheck(this, 'VersionCheck', {
      ...common,
      image: this.image,
      topic: this.notifications.topic,
    });
    this.retention = new AmiRetention(this, 'AmiRetention', {
      ...common,
      fleet: this.fleet,
      imageName: this.image.imageName,
    });
    this.rollout = new ImageRollout(this, 'Rollout', {
      ...fleetAndTopic,
      retention: this.retention.function,
      imageName: this.image.imageName,
    });
    this.lifecycle = new Lifecycle(this, 'Lifecycle', fleetAndTopic);
    // The hooks are part of the group, so its first instances wait in them from the first create:
    // their rules, targets and state machines must exist by then, or those instances sit until the
    // hook's default result (ABANDON) and are relaunched. The reverse order holds on delete: the
    // drain still runs while the group's last instances terminate.
    this.fleet.group.node.addDependency(this.lifecycle);
    this.keptExpiry = new KeptExpiry(this, 'KeptExpiry', { ...common, topic: this.notifications.topic });
    if (purchase(config).spot) {
      this.spotFallback = new SpotFallback(this, 'SpotFallback', {
        ...fleetAndTopic,
        // Alarmed already: a queue (and its alarm) of its own would add to the bill for no reader.
        deadLetterQueue: this.lifecycle.deadLetterQueue,
      });
    }
    this.destroy = new DestroyWorkflow(this, 'Destroy', {
      ...fleetAndTopic,
      // What starts new work: builds, rollouts, retention. The lifecycle rules stay on so drains run.
      scheduleNames: [this.versionCheck.scheduleName],
      scheduleRoleArns: [this.versionCheck.scheduleRole.roleArn],
      ruleNames: [...this.rollout.ruleNames, this.retention.ruleName],
    });

    this.observability = new Observability(this, 'Observability', {
      ...fleetAndTopic,
      flows: [
        { flow: 'Rollout', stateMachine: this.rollout.stateMachine },
        { flow: 'Launch', stateMachine: this.lifecycle.launch.stateMachine },
        { flow: 'Drain', stateMachine: this.lifecycle.drain.stateMachine },
        { flow: 'Destroy', stateMachine: this.destroy.workflow.stateMachine },
      ],
      deadLetterQueues: [
        this.versionCheck.deadLetterQueue,
        this.retention.deadLetterQueue,
        this.rollout.deadLetterQueue,
        this.lifecycle.deadLetterQueue,
        this.keptExpiry.deadLetterQueue,
      ],
      functions: [
        { name: 'version-check', fn: this.versionCheck.function.function },
        { name: 'ami-retention', fn: this.retention.function },
        { name: 'lifecycle-deadline', fn: this.lifecycle.deadline.function },
        { name: 'spot-interruption', fn: this.lifecycle.spot.function },
        { name: 'kept-expiry', fn: this.keptExpiry.function.function },
        ...(this.spotFallback ? [{ name: 'spot-fallback', fn: this.spotFallback.function.function }] : []),
      ],
      spotLaunchFailures: this.spotFallback?.metricSpotLaunchFailures(),
      logs: {
        versionCheck: this.versionCheck.function.logGroup,
        retention: this.retention.logGroup,
        spot: this.lifecycle.spot.logGroup,
        keptExpiry: this.keptExpiry.function.logGroup,
      },
      alarms: [
        this.keptExpiry.alarm,
        this.rollout.alarms.launchesAbandoned,
        this.rollout.alarms.fleetBelowDesired,
      ],
    });

    addOutputs(this, config);
    // The CLI reads the outputs by their names, wherever the fleet sits in the stack.
    for (const child of this.node.children) {
      if (child instanceof CfnOutput) child.overrideLogicalId(child.node.id);
    }

    this.connections = new ec2.Connections({
      securityGroups: [
        ec2.SecurityGroup.fromSecurityGroupId(
          this,
          'WorkerSecurityGroup',
          this.fleet.securityGroup.attrGroupId,
          {
            allowAllOutbound: true,
          },
        ),
      ],
    });
    for (const { securityGroup, port, description } of resolved.ingressReferences) {
      this.connections.allowFrom(securityGroup, ec2.Port.tcp(port), description);
    }
    this.grantPrincipal = this.fleet.role;
    this.topic = this.notifications.topic;
  }

  /** Lets `grantee` start a worker image build (what `external-worker rebuild` does). */
  grantStartRebuild(grantee: iam.IGrantable): iam.Grant {
    return iam.Grant.addToPrincipal({
      grantee,
      actions: ['imagebuilder:StartImagePipelineExecution'],
      resourceArns: [this.image.pipeline.attrArn],
    });
  }

  /** Lets `grantee` start the destroy workflow (which still asks for the stack name as confirmation). */
  grantStartDestroy(grantee: iam.IGrantable): iam.Grant {
    return this.destroy.workflow.stateMachine.grantStartExecution(grantee);
  }
}

/** The tags of everything the fleet creates, and of what its functions create at run time. */
function tagResources(scope: Construct, config: WorkerConfig, customer: string): void {
  Tags.of(scope).add(STACK_TAG, config.stackName);
  Tags.of(scope).add('customer', customer);
  Tags.of(scope).add('project', config.project);
  Tags.of(scope).add('env', config.env);
  for (const [key, value] of Object.entries(config.extraTags)) Tags.of(scope).add(key, value);
}

export interface ExternalWorkerStackProps extends StackProps {
  config: WorkerConfig;
}

/** The parts of the fleet the app's stack shows as its own, under the construct's names. */
export const FLEET_PARTS = [
  'fleet',
  'notifications',
  'image',
  'versionCheck',
  'retention',
  'rollout',
  'lifecycle',
  'keptExpiry',
  'spotFallback',
  'destroy',
  'observability',
] as const;
export type FleetParts = Pick<ExternalWorkerFleet, (typeof FLEET_PARTS)[number]>;

// The parts are the fleet's, read through: declared once, in the construct.
export interface ExternalWorkerStack extends FleetParts {}

/** The app's stack: one ExternalWorkerFleet built from the cdk.json configuration. */
// biome-ignore lint/suspicious/noUnsafeDeclarationMerging: the constructor defines every part the interface above names
export class ExternalWorkerStack extends Stack {
  /** The fleet, as `Default`: its resources keep the logical ids they have at the stack's root. */
  readonly workers: ExternalWorkerFleet;

  constructor(scope: Construct, id: string, props: ExternalWorkerStackProps) {
    super(scope, id, props);
    this.workers = new ExternalWorkerFleet(this, 'Default', fleetPropsFromConfig(this, props.config));
    // What CDK shares stack-wide (the provider of AWS API custom resources) is the fleet's here.
    tagResources(this, this.workers.config, this.workers.customer);
    for (const part of FLEET_PARTS) {
      Object.defineProperty(this, part, { value: this.workers[part], enumerable: true });
    }
  }
}
