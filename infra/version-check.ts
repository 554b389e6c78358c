import { type CfnElement, Duration, Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as logs from 'aws-cdk-lib/aws-logs';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as targets from 'aws-cdk-lib/aws-scheduler-targets';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { WorkerConfig } from './config';
import type { WorkerImagePipeline } from './image-pipeline';
import { WorkerFunction } from './lambda';
import { runtimeParameters } from './names';
import { deadLetterQueue } from './queues';
import { checkIntervalMinutes } from './version-lag';

export interface VersionCheckProps {
  config: WorkerConfig;
  image: WorkerImagePipeline;
  topic: sns.ITopic;
  logRetention: logs.RetentionDays;
}

/**
 * Polls the scheduler's Concourse version every `versionCheckInterval` and starts the image
 * pipeline when the version to run changes (functions/version-check).
 */
export class VersionCheck extends Construct {
  readonly function: WorkerFunction;
  readonly schedule: scheduler.Schedule;
  /** The schedule's name, known at synth (the destroy workflow's role is scoped by it). */
  readonly scheduleName: string;
  readonly deadLetterQueue: sqs.Queue;

  constructor(scope: Construct, id: string, props: VersionCheckProps) {
    super(scope, id);
    const { config, image, topic } = props;
    const stack = Stack.of(this);
    const parameters = runtimeParameters(config);
    const pipelineArn = image.pipeline.attrArn;

    // Events the schedule could not deliver, and invocations that failed all their retries.
    this.deadLetterQueue = deadLetterQueue(this, 'ScheduleDeadLetters');
    this.function = new WorkerFunction(this, 'Function', {
      name: 'version-check',
      description: 'Follows the scheduler Concourse version and starts worker image builds',
      logRetention: props.logRetention,
      unscopedActions: ['ec2:DescribeImages'],
      deadLetterQueue: this.deadLetterQueue,
      timeout: Duration.seconds(30),
      environment: {
        SCHEDULER_API_ADDRESS: config.schedulerApiAddress,
        STATE_PARAMETER: parameters.versionState,
        BUILD_VERSION_PARAMETER: parameters.buildVersion,
        CURRENT_AMI_PARAMETER: parameters.currentAmi,
        IMAGE_PIPELINE_ARN: pipelineArn,
        TOPIC_ARN: topic.topicArn,
        REQUEST_TIMEOUT_MS: '5000',
        ...(config.workerVersion ? { WORKER_VERSION: config.workerVersion } : {}),
      },
    });
    const role = this.function.role;
    role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'VersionState',
        actions: ['ssm:GetParameter', 'ssm:PutParameter'],
        resources: [parameters.versionState, parameters.buildVersion].map((name) =>
          stack.formatArn({ service: 'ssm', resource: 'parameter', resourceName: name.slice(1) }),
        ),
      }),
    );
    role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'FleetAmi',
        actions: ['ssm:GetParameter'],
        resources: [
          stack.formatArn({
            service: 'ssm',
            resource: 'parameter',
            resourceName: parameters.currentAmi.slice(1),
          }),
        ],
      }),
    );
    role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'StartAndListBuilds',
        actions: ['imagebuilder:StartImagePipelineExecution', 'imagebuilder:ListImagePipelineImages'],
        resources: [pipelineArn],
      }),
    );
    role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'FollowBuilds',
        actions: ['imagebuilder:GetImage'],
        resources: [image.imageArnPattern],
      }),
    );
    topic.grantPublish(role);
    Validations.of(role).acknowledge({
      id: `AwsSolutions-IAM5[Resource::arn:${stack.partition}:imagebuilder:${config.region}:<AWS::AccountId>:image/${image.imageName}/*]`,
      reason:
        'Build version ARNs of this pipeline end with a version and build number only known once a build started; limited to this pipeline image name.',
    });
    Validations.of(role).acknowledge({
      id: 'AwsSolutions-IAM5[Action::kms:GenerateDataKey*]',
      reason: 'Publishing to the encrypted topic needs data keys of its key, and of that key only.',
    });

    const minutes = checkIntervalMinutes(config.versionCheckInterval);
    const invokeRole = new iam.Role(this, 'ScheduleRole', {
      assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com', {
        conditions: { StringEquals: { 'aws:SourceAccount': stack.account } },
      }),
      description: `Invokes the version check of ${config.stackName}`,
    });
    this.scheduleName = `${config.stackName}-version-check`;
    this.schedule = new scheduler.Schedule(this, 'Schedule', {
      scheduleName: this.scheduleName,
      description: `Checks the scheduler Concourse version of ${config.stackName}`,
      schedule: scheduler.ScheduleExpression.rate(Duration.minutes(minutes)),
      target: new targets.LambdaInvoke(this.function.function, {
        role: invokeRole,
        deadLetterQueue: this.deadLetterQueue,
        retryAttempts: 3,
        // A poll older than the next one is worthless.
        maxEventAge: Duration.seconds(Math.min(Math.max(minutes * 60, 60), 86400)),
        input: scheduler.ScheduleTargetInput.fromObject({ source: 'version-check-schedule' }),
      }),
    });
    Validations.of(invokeRole).acknowledge({
      id: `AwsSolutions-IAM5[Resource::<${stack.getLogicalId(this.function.function.node.defaultChild as CfnElement)}.Arn>:*]`,
      reason: 'Invoke of the version-check function only (its versions and aliases included).',
    });
  }
}
