import * as path from 'node:path';
import { CfnOutput, Fn, Stack, type StackProps, Tags } from 'aws-cdk-lib';
import type * as logs from 'aws-cdk-lib/aws-logs';
import * as s3assets from 'aws-cdk-lib/aws-s3-assets';
import type { Construct } from 'constructs';
import type { WorkerConfig } from './config';
import { deployInputs } from './deploy-inputs';
import { DestroyWorkflow } from './destroy';
import { WorkerFleet } from './fleet';
import { WorkerImagePipeline } from './image-pipeline';
import { Lifecycle } from './lifecycle';
import { runtimeParameters, STACK_TAG } from './names';
import { Notifications } from './notifications';
import { Observability } from './observability';
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
  readonly destroy: DestroyWorkflow;
  readonly lifecycle: Lifecycle;

  constructor(scope: Construct, id: string, props: ExternalWorkerStackProps) {
    super(scope, id, props);
    const { config } = props;
    const inputs = deployInputs(this, config);
    const logRetention = config.logRetentionDays as logs.RetentionDays;

    Tags.of(this).add(STACK_TAG, config.stackName);
    Tags.of(this).add('project', config.project);
    Tags.of(this).add('env', config.env);
    for (const [key, value] of Object.entries(config.extraTags)) Tags.of(this).add(key, value);

    const playbook = new s3assets.Asset(this, 'Playbook', {
      path: path.join(__dirname, '..', 'ansible'),
      exclude: ['tests', '*.retry', '.ansible'],
    });

    this.fleet = new WorkerFleet(this, 'Fleet', { config, inputs, playbook, logRetention });
    this.notifications = new Notifications(this, 'Notifications', { config });
    this.image = new WorkerImagePipeline(this, 'Image', {
      config,
      playbook,
      subnetId: Fn.select(0, inputs.subnetIds),
      vpcId: inputs.vpcId,
      logRetention,
    });
    this.versionCheck = new VersionCheck(this, 'VersionCheck', {
      config,
      image: this.image,
      topic: this.notifications.topic,
      logRetention,
    });
    this.destroy = new DestroyWorkflow(this, 'Destroy', {
      config,
      fleet: this.fleet,
      notifications: this.notifications,
      scheduleNames: [this.versionCheck.scheduleName],
      ruleNames: [],
    });
    this.lifecycle = new Lifecycle(this, 'Lifecycle', {
      config,
      fleet: this.fleet,
      notifications: this.notifications,
      logRetention,
    });

    new Observability(this, 'Observability', {
      config,
      fleet: this.fleet,
      notifications: this.notifications,
      flows: [
        { flow: 'Launch', stateMachine: this.lifecycle.launch.stateMachine },
        { flow: 'Drain', stateMachine: this.lifecycle.drain.stateMachine },
        { flow: 'Destroy', stateMachine: this.destroy.workflow.stateMachine },
      ],
      deadLetterQueues: [this.versionCheck.deadLetterQueue, this.lifecycle.deadLetterQueue],
      logRetention,
    });

    new CfnOutput(this, 'WorkersSecurityGroupId', {
      description: 'Security group of the workers',
      value: this.fleet.securityGroup.attrGroupId,
    });
    new CfnOutput(this, 'AutoScalingGroupName', {
      description: 'Auto Scaling group of the workers',
      value: this.fleet.groupName,
    });
    new CfnOutput(this, 'NotificationTopicArn', {
      description: 'SNS topic of failures, rollbacks and alarms',
      value: this.notifications.topic.topicArn,
    });
    new CfnOutput(this, 'LaunchStateMachineArn', {
      description: 'Launch gate of the workers (instance-launch)',
      value: this.lifecycle.launch.stateMachine.stateMachineArn,
    });
    new CfnOutput(this, 'DrainStateMachineArn', {
      description: 'Drain of the workers (instance-drain)',
      value: this.lifecycle.drain.stateMachine.stateMachineArn,
    });
    new CfnOutput(this, 'WorkerLogGroup', {
      description: 'CloudWatch Logs group of the workers (boot log, worker log, syslog)',
      value: this.fleet.logGroup.logGroupName,
    });
    new CfnOutput(this, 'ImagePipelineArn', {
      description:
        'Worker image pipeline; rebuild by hand: aws imagebuilder start-image-pipeline-execution --image-pipeline-arn <this>',
      value: this.image.pipeline.attrArn,
    });
    new CfnOutput(this, 'VersionStateParameter', {
      description: 'SSM parameter holding the version check state (see docs/image.md)',
      value: runtimeParameters(config).versionState,
    });
  }
}
