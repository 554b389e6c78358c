import * as path from 'node:path';
import { Fn, Stack, type StackProps, Tags } from 'aws-cdk-lib';
import type * as logs from 'aws-cdk-lib/aws-logs';
import * as s3assets from 'aws-cdk-lib/aws-s3-assets';
import type { Construct } from 'constructs';
import { AmiRetention } from './ami-retention';
import type { WorkerConfig } from './config';
import { deployInputs } from './deploy-inputs';
import { DestroyWorkflow } from './destroy';
import { WorkerFleet } from './fleet';
import { acknowledgeGuardRule } from './guard';
import { WorkerImagePipeline } from './image-pipeline';
import { KeptExpiry } from './kept-expiry';
import { Lifecycle } from './lifecycle';
import { STACK_TAG } from './names';
import { Notifications } from './notifications';
import { Observability } from './observability';
import { addOutputs } from './outputs';
import { ImageRollout } from './rollout';
import { VersionCheck } from './version-check';

export interface ExternalWorkerStackProps extends StackProps {
  config: WorkerConfig;
}

/** The whole deployment: the worker fleet and the event-driven control plane that keeps it healthy. */
export class ExternalWorkerStack extends Stack {
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

  constructor(scope: Construct, id: string, props: ExternalWorkerStackProps) {
    super(scope, id, props);
    const { config } = props;
    const inputs = deployInputs(this, config);
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
    Tags.of(this).add(STACK_TAG, config.stackName);
    Tags.of(this).add('customer', inputs.customer);
    Tags.of(this).add('project', config.project);
    Tags.of(this).add('env', config.env);
    for (const [key, value] of Object.entries(config.extraTags)) Tags.of(this).add(key, value);

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
    });
    this.observability.alarms.push(this.keptExpiry.alarm);

    addOutputs(this, config);
  }
}
