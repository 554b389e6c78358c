import { Aws, type CfnElement, Duration, Stack, Validations } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import type * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { ARCHITECTURES } from './architecture';
import type { WorkerConfig } from './config';
import type { WorkerFleet } from './fleet';
import { runtimeParameters, STACK_TAG, TAGGED_AT_LAUNCH } from './names';
import type { Notifications } from './notifications';
import { deadLetterQueue } from './queues';
import { RolloutAlarms } from './rollout-alarms';
import { WorkerStateMachine } from './state-machine';
import { ANY_RESOURCE, groupUpdateScope, notificationScope, type Scopes } from './statemachines/iam';
import { AMI_TAG, SNAPSHOT_TAGS } from './statemachines/image-rollout/tags';
import { BAD_AMI_TAG, ROLLBACK_VERSION_TAG } from './statemachines/pieces';

export interface ImageRolloutProps {
  config: WorkerConfig;
  fleet: WorkerFleet;
  notifications: Notifications;
  /** The AMI retention function, run after every successful rollout. */
  retention: lambda.IFunction;
  /**
   * Name of this stack's Image Builder image (the recipe name): only state changes of its images
   * (`arn:aws:imagebuilder:<region>:<account>:image/<name>/…`) start a rollout.
   */
  imageName: string;
  logRetention: logs.RetentionDays;
}

/** Tags the rollout writes on AMIs: the only ones its role may write. */
const ROLLOUT_TAGS = [...Object.values(AMI_TAG), ROLLBACK_VERSION_TAG, BAD_AMI_TAG];

/** Tags the rollout writes on the snapshots of a new AMI: the stack's own tags. */
const SNAPSHOT_TAG_KEYS = SNAPSHOT_TAGS.map((tag) => tag.Key);

/**
 * The image-rollout state machine and what starts it: a new image of this stack's pipeline
 * (AVAILABLE or FAILED), and every successful update of this stack (a deploy that changed the
 * launch configuration reaches running instances through the same instance refresh).
 */
export class ImageRollout extends Construct {
  readonly stateMachine: sfn.StateMachine;
  readonly imageRule: events.Rule;
  readonly deployRule: events.Rule;
  readonly deadLetterQueue: sqs.Queue;
  /** The alarms every refresh watches, rolling back when one fires. */
  readonly alarms: RolloutAlarms;
  /** Names of the rules that start rollouts (the destroy workflow disables them by name). */
  readonly ruleNames: string[];

  constructor(scope: Construct, id: string, props: ImageRolloutProps) {
    super(scope, id);
    const { config, fleet } = props;
    const stack = Stack.of(this);
    const currentAmi = runtimeParameters(config).currentAmi;
    this.alarms = new RolloutAlarms(this, 'Alarms', {
      config,
      groupName: fleet.groupName,
      topic: props.notifications.topic,
    });
    const machine = new WorkerStateMachine(this, 'Machine', {
      name: 'image-rollout',
      // Poll every minute; a refresh of a large fleet with long drains takes hours.
      timeout: Duration.hours(48),
      logRetention: props.logRetention,
      substitutions: {
        GroupName: fleet.groupName,
        LaunchTemplateId: fleet.launchTemplate.ref,
        Region: stack.region,
        // EC2's name of the instance types' architecture (DescribeImages' Architecture).
        WorkerArchitecture: ARCHITECTURES[config.architecture].ec2,
        TopicArn: props.notifications.topic.topicArn,
        StackName: config.stackName,
        Customer: fleet.customer,
        Project: config.project,
        Env: config.env,
        CurrentAmiParameter: currentAmi,
        PinnedAmiId: config.workerAmiId ?? 'none',
        MinHealthyPercentage: String(config.minHealthyPercentage),
        // Launch before terminating wherever the bounds allow it (Max - Min may not exceed 100).
        MaxHealthyPercentage: String(Math.min(config.minHealthyPercentage + 100, 200)),
        RolloutCanaryPercentage: String(config.rolloutCanaryPercentage),
        RolloutBakeSeconds: String(config.rolloutBakeTime),
        LaunchesAbandonedAlarm: this.alarms.launchesAbandoned.alarmName,
        FleetBelowDesiredAlarm: this.alarms.fleetBelowDesired.alarmName,
        RetentionFunctionArn: props.retention.functionArn,
        // The rollout acts only on images of this stack's pipeline, however it was started.
        ImageArnPrefix: this.imageArnPrefix(props.imageName),
      },
      scopes: this.scopes(props),
    });
    this.stateMachine = machine.stateMachine;
    this.acknowledge(machine.role, props);

    const dlq = deadLetterQueue(this, 'DeadLetters');
    this.deadLetterQueue = dlq;
    this.ruleNames = [`${config.stackName}-image-state-change`, `${config.stackName}-stack-updated`];
    const target = (input?: events.RuleTargetInput) =>
      new targets.SfnStateMachine(this.stateMachine, {
        input,
        deadLetterQueue: dlq,
        retryAttempts: 185,
        maxEventAge: Duration.hours(24),
      });
    this.imageRule = new events.Rule(this, 'ImageStateChange', {
      ruleName: this.ruleNames[0],
      description: `New images of ${props.imageName} roll out to ${fleet.groupName}`,
      eventPattern: {
        source: ['aws.imagebuilder'],
        detailType: ['EC2 Image Builder Image State Change'],
        resources: events.Match.prefix(this.imageArnPrefix(props.imageName)),
        detail: { state: { status: ['AVAILABLE', 'FAILED'] } },
      },
      targets: [target()],
    });
    this.deployRule = new events.Rule(this, 'StackUpdated', {
      ruleName: this.ruleNames[1],
      description: `A deploy of ${config.stackName} reaches running instances through an instance refresh`,
      eventPattern: {
        source: ['aws.cloudformation'],
        detailType: ['CloudFormation Stack Status Change'],
        detail: { 'stack-id': [Aws.STACK_ID], 'status-details': { status: ['UPDATE_COMPLETE'] } },
      },
      targets: [target(events.RuleTargetInput.fromObject({ source: 'deploy' }))],
    });
  }

  /** `arn:<partition>:imagebuilder:<region>:<account>:image/<name>/`: every version and build of it. */
  private imageArnPrefix(imageName: string): string {
    return Stack.of(this).formatArn({
      service: 'imagebuilder',
      resource: 'image',
      resourceName: `${imageName}/`,
    });
  }

  private scopes(props: ImageRolloutProps): Scopes {
    const stack = Stack.of(this);
    const { fleet, config } = props;
    const groupArn = fleet.groupArn;
    const templateArn = fleet.launchTemplateArn;
    return {
      readThisStacksImages: {
        grants: [{ resources: [`${this.imageArnPrefix(props.imageName)}*`] }],
      },
      anyResource: ANY_RESOURCE,
      tagThisStacksAmis: {
        grants: [
          {
            resources: [
              stack.formatArn({ service: 'ec2', account: '', resource: 'image', resourceName: '*' }),
            ],
            conditions: {
              StringEquals: { [`ec2:ResourceTag/${STACK_TAG}`]: config.stackName },
              'ForAllValues:StringEquals': { 'aws:TagKeys': ROLLOUT_TAGS },
            },
          },
        ],
      },
      // The snapshots of a new AMI carry no tags yet; never one another stack tagged as its own.
      tagThisStacksAmiSnapshots: {
        grants: [
          {
            resources: [
              stack.formatArn({ service: 'ec2', account: '', resource: 'snapshot', resourceName: '*' }),
            ],
            conditions: {
              StringEquals: { [`aws:RequestTag/${STACK_TAG}`]: config.stackName },
              'ForAllValues:StringEquals': { 'aws:TagKeys': SNAPSHOT_TAG_KEYS },
              StringEqualsIfExists: { [`aws:ResourceTag/${STACK_TAG}`]: config.stackName },
            },
          },
        ],
      },
      versionThisLaunchTemplate: { grants: [{ resources: [templateArn] }] },
      refreshThisGroup: groupUpdateScope({
        groupArn,
        templateArn,
        roleArn: fleet.role.roleArn,
        stack,
      }),
      readRolloutAlarms: {
        grants: [
          {
            resources: [this.alarms.launchesAbandoned.alarmArn, this.alarms.fleetBelowDesired.alarmArn],
          },
        ],
      },
      recordCurrentAmi: {
        grants: [
          {
            resources: [
              stack.formatArn({
                service: 'ssm',
                resource: 'parameter',
                resourceName: runtimeParameters(config).currentAmi.slice(1),
              }),
            ],
          },
        ],
      },
      retentionFunction: {
        grants: [{ resources: [props.retention.functionArn, `${props.retention.functionArn}:*`] }],
      },
      notificationTopic: notificationScope(props.notifications),
    };
  }

  private acknowledge(role: iam.Role, props: ImageRolloutProps): void {
    const stack = Stack.of(this);
    const { fleet, config } = props;
    const region = config.region;
    const acknowledgements: Array<[string, string]> = [
      [
        'Resource::*',
        'Describe calls of Auto Scaling and EC2 have no resource-level permissions; RunInstances only through this launch template (condition).',
      ],
      [
        `Resource::arn:${stack.partition}:imagebuilder:${region}:<AWS::AccountId>:image/${props.imageName}/*`,
        "Every version and build of this stack's Image Builder image.",
      ],
      [
        `Resource::arn:${stack.partition}:autoscaling:${region}:<AWS::AccountId>:autoScalingGroup:*:autoScalingGroupName/${fleet.groupName}`,
        'The group ARN carries a generated id; the name pins it to the group of this stack.',
      ],
      [
        `Resource::arn:${stack.partition}:ec2:${region}::image/*`,
        'AMIs tagged with this stack only (condition), rollout tags only.',
      ],
      ...TAGGED_AT_LAUNCH.map((resource): [string, string] => [
        `Resource::arn:${stack.partition}:ec2:${region}:<AWS::AccountId>:${resource}/*`,
        "Tags only what RunInstances launches from this stack's template (conditions), as Auto Scaling requires.",
      ]),
      [
        `Resource::arn:${stack.partition}:ec2:${region}::snapshot/*`,
        "Snapshot ids are known only once an AMI exists: the stack's own four tags only, and never a snapshot tagged for another stack (conditions).",
      ],
      [
        'Action::kms:GenerateDataKey*',
        'Publishing to the encrypted notifications topic needs data keys of its own key, and of no other.',
      ],
      [
        `Resource::<${stack.getLogicalId(props.retention.node.defaultChild as CfnElement)}.Arn>:*`,
        'Invoking the retention function, any version of it.',
      ],
    ];
    for (const [finding, reason] of acknowledgements) {
      Validations.of(role).acknowledge({ id: `AwsSolutions-IAM5[${finding}]`, reason });
    }
  }
}
