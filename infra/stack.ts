import * as path from 'node:path';
import { CfnOutput, Stack, type StackProps, Tags } from 'aws-cdk-lib';
import type * as logs from 'aws-cdk-lib/aws-logs';
import * as s3assets from 'aws-cdk-lib/aws-s3-assets';
import type { Construct } from 'constructs';
import type { WorkerConfig } from './config';
import { deployInputs } from './deploy-inputs';
import { WorkerFleet } from './fleet';
import { Lifecycle } from './lifecycle';
import { STACK_TAG } from './names';
import { Notifications } from './notifications';

export interface ExternalWorkerStackProps extends StackProps {
  config: WorkerConfig;
}

/** The whole deployment: the worker fleet and the event-driven control plane that keeps it healthy. */
export class ExternalWorkerStack extends Stack {
  readonly fleet: WorkerFleet;
  readonly notifications: Notifications;
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
    this.notifications = new Notifications(this, 'Notifications', {
      stackName: config.stackName,
      email: config.notificationEmail,
    });
    this.lifecycle = new Lifecycle(this, 'Lifecycle', {
      config,
      fleet: this.fleet,
      notifications: this.notifications,
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
  }
}
