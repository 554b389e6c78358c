import { Duration, Stack, Validations } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as destinations from 'aws-cdk-lib/aws-lambda-destinations';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { WorkerConfig } from './config';
import type { WorkerFleet } from './fleet';
import { WorkerFunction } from './lambda';
import { runtimeParameters, STACK_TAG } from './names';
import { deadLetterQueue } from './queues';

export interface AmiRetentionProps {
  config: WorkerConfig;
  /** Its launch template's unneeded versions are deleted; its group's and instances' stay. */
  fleet: WorkerFleet;
  /** Name of the Image Builder images of this stack (the recipe name): its images are deleted too. */
  imageName: string;
  logRetention: logs.RetentionDays;
}

/**
 * Deletes the launch template versions and the AMIs of the stack that nothing needs any more (functions/ami-retention): after every
 * successful rollout, and daily for what a failed or skipped run left behind.
 */
export class AmiRetention extends Construct {
  readonly function: lambda.IFunction;
  /** Where each run logs what it deleted (the dashboard and the CLI read it). */
  readonly logGroup: logs.ILogGroup;
  readonly deadLetterQueue: sqs.Queue;
  /** Name of the daily rule (the destroy workflow disables it by name). */
  readonly ruleName: string;

  constructor(scope: Construct, id: string, props: AmiRetentionProps) {
    super(scope, id);
    const { config, fleet } = props;
    const stack = Stack.of(this);
    const currentAmi = runtimeParameters(config).currentAmi;
    const worker = new WorkerFunction(this, 'Function', {
      name: 'ami-retention',
      description:
        'Deletes the launch template versions, AMIs, snapshots and Image Builder images of the stack that nothing uses',
      // Hundreds of deletions paced under EC2's request limits take minutes.
      timeout: Duration.minutes(15),
      logRetention: props.logRetention,
      environment: {
        LAUNCH_TEMPLATE_ID: fleet.launchTemplate.ref,
        GROUP_NAME: fleet.groupName,
        AMI_RETENTION: String(config.amiRetention),
        EC2_REQUEST_SHARE: String(config.amiRetentionRequestShare),
        CURRENT_AMI_PARAMETER: currentAmi,
        ...(config.workerAmiId ? { PINNED_AMI_ID: config.workerAmiId } : {}),
      },
      unscopedActions: [
        'ec2:DescribeImages',
        'ec2:DescribeInstances',
        'ec2:DescribeLaunchTemplateVersions',
        'ec2:DescribeSnapshots',
        'autoscaling:DescribeAutoScalingGroups',
      ],
    });
    this.function = worker.function;
    this.logGroup = worker.logGroup;
    const role = worker.role;
    role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'DeregisterOwnAmis',
        actions: ['ec2:DeregisterImage'],
        resources: [stack.formatArn({ service: 'ec2', account: '', resource: 'image', resourceName: '*' })],
        conditions: { StringEquals: { [`ec2:ResourceTag/${STACK_TAG}`]: config.stackName } },
      }),
    );
    role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'DeleteFleetLaunchTemplateVersions',
        actions: ['ec2:DeleteLaunchTemplateVersions'],
        resources: [
          stack.formatArn({
            service: 'ec2',
            resource: 'launch-template',
            resourceName: fleet.launchTemplate.ref,
          }),
        ],
      }),
    );
    // Image Builder does not tag the snapshots of the AMIs it distributes: the function tags those
    // of each AMI with the stack before deregistering it, so that deletions (DeregisterImage with
    // DeleteAssociatedSnapshots needs ec2:DeleteSnapshot on each snapshot too, and the sweep of
    // orphans) can be held to this stack's snapshots.
    const snapshots = stack.formatArn({
      service: 'ec2',
      account: '',
      resource: 'snapshot',
      resourceName: '*',
    });
    role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'TagSnapshotsOfAmisToDeregister',
        actions: ['ec2:CreateTags'],
        resources: [snapshots],
        conditions: {
          StringEquals: { [`aws:RequestTag/${STACK_TAG}`]: config.stackName },
          'ForAllValues:StringEquals': { 'aws:TagKeys': [STACK_TAG] },
        },
      }),
    );
    role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'DeleteOwnSnapshots',
        actions: ['ec2:DeleteSnapshot'],
        resources: [snapshots],
        conditions: { StringEquals: { [`ec2:ResourceTag/${STACK_TAG}`]: config.stackName } },
      }),
    );
    role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'DeleteOwnImageBuilderImages',
        actions: ['imagebuilder:DeleteImage'],
        resources: [
          stack.formatArn({
            service: 'imagebuilder',
            resource: 'image',
            resourceName: `${props.imageName}/*`,
          }),
        ],
      }),
    );
    role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'ReadCurrentAmi',
        actions: ['ssm:GetParameter'],
        resources: [
          stack.formatArn({ service: 'ssm', resource: 'parameter', resourceName: currentAmi.slice(1) }),
        ],
      }),
    );
    const region = config.region;
    for (const [resource, reason] of [
      [
        `arn:${stack.partition}:ec2:${region}::image/*`,
        'Any AMI id, but only those tagged with this stack (condition).',
      ],
      [
        `arn:${stack.partition}:ec2:${region}::snapshot/*`,
        'Any snapshot id, but only tagged with this stack: the tag it puts (condition on the request tag) and deletes (condition on the resource tag).',
      ],
      [
        `arn:${stack.partition}:imagebuilder:${region}:<AWS::AccountId>:image/${props.imageName}/*`,
        "Every version and build of this stack's Image Builder image.",
      ],
    ]) {
      Validations.of(role).acknowledge({
        id: `AwsSolutions-IAM5[Resource::${resource}]`,
        reason: reason as string,
      });
    }

    this.deadLetterQueue = deadLetterQueue(this, 'DeadLetters');
    // EventBridge hands the event to Lambda's asynchronous queue: failures after that land here.
    this.function.configureAsyncInvoke({
      retryAttempts: 2,
      maxEventAge: Duration.hours(6),
      onFailure: new destinations.SqsDestination(this.deadLetterQueue),
    });
    this.ruleName = `${config.stackName}-ami-retention`;
    new events.Rule(this, 'Daily', {
      ruleName: this.ruleName,
      description: `Daily AMI retention of ${config.stackName}`,
      schedule: events.Schedule.cron({ minute: '17', hour: '3' }),
      targets: [
        new targets.LambdaFunction(this.function, {
          event: events.RuleTargetInput.fromObject({ source: 'schedule' }),
          deadLetterQueue: this.deadLetterQueue,
          retryAttempts: 8,
          maxEventAge: Duration.hours(6),
        }),
      ],
    });
  }
}
