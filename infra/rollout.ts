import { ArnFormat, Aws, type CfnElement, Duration, Stack, Validations } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import type { WorkerConfig } from './config';
import type { WorkerFleet } from './fleet';
import { runtimeParameters, STACK_TAG } from './names';
import type { Notifications } from './notifications';
import { deadLetterQueue } from './queues';
import { WorkerStateMachine } from './state-machine';
import { ANY_RESOURCE, notificationScope, type Scopes } from './statemachines/iam';

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
const ROLLOUT_TAGS = [
  'external-worker:image',
  'external-worker:rollout',
  'external-worker:launch-template-version',
  'external-worker:bad',
];

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
  /** Names of the rules that start rollouts (the destroy workflow disables them by name). */
  readonly ruleNames: string[];

  constructor(scope: Construct, id: string, props: ImageRolloutProps) {
    super(scope, id);
    const { config, fleet } = props;
    const stack = Stack.of(this);
    const currentAmi = runtimeParameters(config).currentAmi;
    const machine = new WorkerStateMachine(this, 'Machine', {
      name: 'image-rollout',
      // Poll every minute; a refresh of a large fleet with long drains takes hours.
      timeout: Duration.hours(48),
      logRetention: props.logRetention,
      substitutions: {
        GroupName: fleet.groupName,
        LaunchTemplateId: fleet.launchTemplate.ref,
        Region: stack.region,
        TopicArn: props.notifications.topic.topicArn,
        StackName: config.stackName,
        CurrentAmiParameter: currentAmi,
        PinnedAmiId: config.workerAmiId ?? 'none',
        MinHealthyPercentage: String(config.minHealthyPercentage),
        // Launch before terminating wherever the bounds allow it (Max - Min may not exceed 100).
        MaxHealthyPercentage: String(Math.min(config.minHealthyPercentage + 100, 200)),
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
    const groupArn = stack.formatArn({
      service: 'autoscaling',
      resource: 'autoScalingGroup',
      resourceName: `*:autoScalingGroupName/${fleet.groupName}`,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
    const templateArn = stack.formatArn({
      service: 'ec2',
      resource: 'launch-template',
      resourceName: fleet.launchTemplate.ref,
    });
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
      versionThisLaunchTemplate: { grants: [{ resources: [templateArn] }] },
      refreshThisGroup: {
        grants: [{ resources: [groupArn] }],
        // Auto Scaling checks that whoever points the group at a template may launch from it.
        implied: (grantee) => {
          grantee.grantPrincipal.addToPrincipalPolicy(
            new iam.PolicyStatement({
              sid: 'LaunchFromThisTemplateOnly',
              actions: ['ec2:RunInstances'],
              resources: ['*'],
              conditions: {
                ArnLike: { 'ec2:LaunchTemplate': templateArn },
                Bool: { 'ec2:IsLaunchTemplateResource': 'true' },
              },
            }),
          );
          grantee.grantPrincipal.addToPrincipalPolicy(
            new iam.PolicyStatement({
              sid: 'PassWorkerRole',
              actions: ['iam:PassRole'],
              resources: [fleet.role.roleArn],
              conditions: { StringEquals: { 'iam:PassedToService': 'ec2.amazonaws.com' } },
            }),
          );
          // The template tags the instances and volumes it launches: tagging at launch is checked too.
          // https://docs.aws.amazon.com/autoscaling/ec2/userguide/ec2-auto-scaling-launch-template-permissions.html
          grantee.grantPrincipal.addToPrincipalPolicy(
            new iam.PolicyStatement({
              sid: 'TagWhatThisTemplateLaunches',
              actions: ['ec2:CreateTags'],
              resources: ['instance', 'volume'].map((resource) =>
                stack.formatArn({ service: 'ec2', resource, resourceName: '*' }),
              ),
              conditions: {
                StringEquals: {
                  'ec2:CreateAction': 'RunInstances',
                  [`aws:RequestTag/${STACK_TAG}`]: config.stackName,
                },
              },
            }),
          );
        },
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
      ...['instance', 'volume'].map((resource): [string, string] => [
        `Resource::arn:${stack.partition}:ec2:${region}:<AWS::AccountId>:${resource}/*`,
        "Tags only what RunInstances launches from this stack's template (conditions), as Auto Scaling requires.",
      ]),
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
