import * as path from 'node:path';
import { CfnOutput, Stack, type StackProps, Tags } from 'aws-cdk-lib';
import type * as logs from 'aws-cdk-lib/aws-logs';
import * as s3assets from 'aws-cdk-lib/aws-s3-assets';
import type { Construct } from 'constructs';
import { AmiRetention } from './ami-retention';
import type { WorkerConfig } from './config';
import { deployInputs } from './deploy-inputs';
import { WorkerFleet } from './fleet';
import { STACK_TAG, workerImageName } from './names';
import { Notifications } from './notifications';
import { ImageRollout } from './rollout';

export interface ExternalWorkerStackProps extends StackProps {
  config: WorkerConfig;
}

/** The whole deployment: the worker fleet and the event-driven control plane that keeps it healthy. */
export class ExternalWorkerStack extends Stack {
  readonly fleet: WorkerFleet;
  readonly notifications: Notifications;
  readonly retention: AmiRetention;
  readonly rollout: ImageRollout;

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
    const imageName = workerImageName(config);
    this.retention = new AmiRetention(this, 'AmiRetention', { config, imageName, logRetention });
    this.rollout = new ImageRollout(this, 'Rollout', {
      config,
      fleet: this.fleet,
      notifications: this.notifications,
      retention: this.retention.function,
      imageName,
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
    new CfnOutput(this, 'ImageRolloutStateMachineArn', {
      description: 'State machine rolling new AMIs (and deploys) out to the workers',
      value: this.rollout.stateMachine.stateMachineArn,
    });
    new CfnOutput(this, 'WorkerLogGroup', {
      description: 'CloudWatch Logs group of the workers (boot log, worker log, syslog)',
      value: this.fleet.logGroup.logGroupName,
    });
  }
}
