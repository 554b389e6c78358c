import { type CfnElement, Duration, Stack, Validations } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as destinations from 'aws-cdk-lib/aws-lambda-destinations';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { METRICS_NAMESPACE } from '../functions/lib/metric-names';
import type { WorkerConfig } from './config';
import type { WorkerFleet } from './fleet';
import { WorkerFunction } from './lambda';
import { STACK_TAG, TAGGED_AT_LAUNCH } from './names';
import type { Notifications } from './notifications';
import { deadLetterQueue } from './queues';
import { WorkerStateMachine } from './state-machine';
import { BOOT_FAILURE_TAG } from './statemachines/boot-storm';
import {
  ANY_RESOURCE,
  groupUpdateScope,
  notificationScope,
  type Scope,
  type Scopes,
} from './statemachines/iam';
import { BAD_AMI_TAG, ROLLBACK_VERSION_TAG } from './statemachines/pieces';

export interface LifecycleProps {
  config: WorkerConfig;
  fleet: WorkerFleet;
  notifications: Notifications;
  logRetention: logs.RetentionDays;
}

/** Events from Auto Scaling and EC2 are best effort and land within seconds: older ones are stale. */
const EVENT_RETRY = { retryAttempts: 8, maxEventAge: Duration.hours(1) };

/**
 * The lifecycle of a worker: the launch gate (instance-launch), the drain (instance-drain), and the
 * answer to Spot interruptions (spot-interruption), each started by the events of this group only.
 */
export class Lifecycle extends Construct {
  readonly launch: WorkerStateMachine;
  readonly drain: WorkerStateMachine;
  readonly spot: WorkerFunction;
  readonly deadline: WorkerFunction;
  readonly deadLetterQueue: sqs.Queue;
  private readonly config: WorkerConfig;

  constructor(scope: Construct, id: string, props: LifecycleProps) {
    super(scope, id);
    const { config, fleet, notifications, logRetention } = props;
    this.config = config;
    const stack = Stack.of(this);
    this.deadLetterQueue = deadLetterQueue(this, 'DeadLetters');

    this.deadline = new WorkerFunction(this, 'Deadline', {
      name: 'lifecycle-deadline',
      description: 'Deadline of a lifecycle action: its start plus its allowed time',
      logRetention,
      timeout: Duration.seconds(10),
      memorySize: 128,
    });

    const groupArn = fleet.groupArn;
    const scopes: Scopes = {
      lifecycleActions: { grants: [{ resources: [groupArn] }] },
      runCommand: this.runCommandScope(),
      anyResource: ANY_RESOURCE,
      deadlineFunction: {
        grants: [
          { resources: [this.deadline.function.functionArn, `${this.deadline.function.functionArn}:*`] },
        ],
      },
      notificationTopic: notificationScope(notifications),
    };
    const common = {
      GroupName: fleet.groupName,
      DeadlineFunctionArn: this.deadline.function.functionArn,
      TopicArn: notifications.topic.topicArn,
    };
    this.launch = new WorkerStateMachine(this, 'Launch', {
      name: 'instance-launch',
      substitutions: {
        ...common,
        LaunchHookName: fleet.launchHookName,
        BootTimeoutSeconds: String(config.bootTimeout),
        LaunchTemplateId: fleet.launchTemplate.ref,
        StackName: config.stackName,
        BootFailureLimit: String(config.bootFailureLimit),
      },
      scopes: {
        ...scopes,
        tagThisStacksInstances: this.tagInstancesScope([
          'external-worker:kept',
          'external-worker:kept-since',
        ]),
        // The storm guard: failed boots counted on the AMI, the bad mark, the record cleared.
        recordBootsOnAmis: this.tagAmisScope([`${BOOT_FAILURE_TAG}*`]),
        tagThisStacksAmis: this.tagAmisScope([BAD_AMI_TAG]),
        clearBootRecordOnAmis: this.tagAmisScope([`${BOOT_FAILURE_TAG}*`, ROLLBACK_VERSION_TAG]),
        returnThisGroup: groupUpdateScope({
          groupArn,
          templateArn: fleet.launchTemplateArn,
          roleArn: fleet.role.roleArn,
          stack,
        }),
        launchMetrics: {
          grants: [
            { resources: ['*'], conditions: { StringEquals: { 'cloudwatch:namespace': METRICS_NAMESPACE } } },
          ],
        },
      },
      // The action's own time plus room for the last poll and the decision; the hook outlives it.
      timeout: Duration.seconds(config.bootTimeout + 900),
      logRetention,
    });
    this.drain = new WorkerStateMachine(this, 'Drain', {
      name: 'instance-drain',
      substitutions: {
        ...common,
        TerminateHookName: fleet.terminateHookName,
        DrainTimeoutSeconds: String(config.drainTimeout),
      },
      scopes,
      timeout: Duration.seconds(config.drainTimeout + 900),
      logRetention,
    });

    this.spot = new WorkerFunction(this, 'SpotInterruption', {
      name: 'spot-interruption',
      description:
        'Retires and replaces a worker on a Spot interruption warning; counts rebalance recommendations',
      logRetention,
      environment: { GROUP_NAME: fleet.groupName, LAUNCH_HOOK_NAME: fleet.launchHookName },
      unscopedActions: ['autoscaling:DescribeAutoScalingInstances', 'ec2:DescribeTags'],
    });
    this.spot.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: [
          'autoscaling:CompleteLifecycleAction',
          'autoscaling:DetachInstances',
          'autoscaling:SetInstanceHealth',
        ],
        resources: [groupArn],
      }),
    );
    for (const grant of this.runCommandScope().grants) {
      this.spot.role.addToPrincipalPolicy(
        new iam.PolicyStatement({ actions: ['ssm:SendCommand'], ...grant }),
      );
    }
    for (const grant of this.tagInstancesScope(['external-worker:interrupted']).grants) {
      this.spot.role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['ec2:CreateTags'], ...grant }));
    }
    this.spot.function.configureAsyncInvoke({
      retryAttempts: 2,
      // Past the two-minute warning the instance is gone: an older event has nothing left to act on.
      maxEventAge: Duration.minutes(10),
      onFailure: new destinations.SqsDestination(this.deadLetterQueue),
    });

    this.rules(fleet);
    this.acknowledge(fleet.groupName);
  }

  private rules(fleet: WorkerFleet): void {
    const lifecycleRule = (id: string, detailType: string, hookName: string, machine: WorkerStateMachine) =>
      new events.Rule(this, id, {
        description: `${detailType} of ${fleet.groupName} (${hookName})`,
        eventPattern: {
          source: ['aws.autoscaling'],
          detailType: [detailType],
          detail: { AutoScalingGroupName: [fleet.groupName], LifecycleHookName: [hookName] },
        },
        targets: [
          new targets.SfnStateMachine(machine.stateMachine, {
            deadLetterQueue: this.deadLetterQueue,
            ...EVENT_RETRY,
          }),
        ],
      });
    lifecycleRule('LaunchRule', 'EC2 Instance-launch Lifecycle Action', fleet.launchHookName, this.launch);
    lifecycleRule(
      'DrainRule',
      'EC2 Instance-terminate Lifecycle Action',
      fleet.terminateHookName,
      this.drain,
    );
    new events.Rule(this, 'SpotRule', {
      description: `Spot interruption warnings and rebalance recommendations (the function keeps those of ${fleet.groupName})`,
      eventPattern: {
        source: ['aws.ec2'],
        detailType: ['EC2 Spot Instance Interruption Warning', 'EC2 Instance Rebalance Recommendation'],
      },
      targets: [
        new targets.LambdaFunction(this.spot.function, {
          deadLetterQueue: this.deadLetterQueue,
          retryAttempts: 2,
          maxEventAge: Duration.minutes(10),
        }),
      ],
    });
  }

  /** Run Command on this stack's instances only, with the one document the lifecycle uses. */
  private runCommandScope(): Scope {
    const stack = Stack.of(this);
    return {
      grants: [
        {
          resources: [stack.formatArn({ service: 'ec2', resource: 'instance', resourceName: '*' })],
          conditions: { StringEquals: { [`ssm:resourceTag/${STACK_TAG}`]: stack.stackName } },
        },
        {
          resources: [
            stack.formatArn({
              service: 'ssm',
              account: '',
              resource: 'document',
              resourceName: 'AWS-RunShellScript',
            }),
          ],
        },
      ],
    };
  }

  /** Only the given tag keys (patterns), only on this stack's AMIs. */
  private tagAmisScope(keys: string[]): Scope {
    const stack = Stack.of(this);
    const { stackName } = this.config;
    return {
      grants: [
        {
          resources: [stack.formatArn({ service: 'ec2', account: '', resource: 'image', resourceName: '*' })],
          conditions: {
            StringEquals: { [`ec2:ResourceTag/${STACK_TAG}`]: stackName },
            'ForAllValues:StringLike': { 'aws:TagKeys': keys },
          },
        },
      ],
    };
  }

  /** Only the given tag keys, only on this stack's instances. */
  private tagInstancesScope(keys: string[]): Scope {
    const stack = Stack.of(this);
    return {
      grants: [
        {
          resources: [stack.formatArn({ service: 'ec2', resource: 'instance', resourceName: '*' })],
          conditions: {
            StringEquals: { [`aws:ResourceTag/${STACK_TAG}`]: stack.stackName },
            'ForAllValues:StringEquals': { 'aws:TagKeys': keys },
          },
        },
      ],
    };
  }

  private acknowledge(groupName: string): void {
    const stack = Stack.of(this);
    const region = stack.region;
    const deadlineId = stack.getLogicalId(this.deadline.function.node.defaultChild as CfnElement);
    const findings: Array<[string, string]> = [
      [
        `Resource::arn:${stack.partition}:autoscaling:${region}:<AWS::AccountId>:autoScalingGroup:*:autoScalingGroupName/${groupName}`,
        'The group ARN holds a generated id: the group is named exactly, the id is the wildcard.',
      ],
      [
        `Resource::arn:${stack.partition}:ec2:${region}:<AWS::AccountId>:instance/*`,
        'Instances are created at run time; Run Command and tagging are limited to those carrying this stack tag.',
      ],
      [
        'Resource::*',
        'DescribeInstances, DescribeTags, GetCommandInvocation, DescribeInstanceInformation and DescribeAutoScalingGroups have no resource-level permissions; PutMetricData only to the stack namespace (condition); RunInstances only through this launch template (condition).',
      ],
    ];
    const launchFindings: Array<[string, string]> = [
      [
        `Resource::arn:${stack.partition}:ec2:${region}::image/*`,
        "The storm guard's tags only (condition), on AMIs tagged with this stack only (condition).",
      ],
      ...TAGGED_AT_LAUNCH.filter((resource) => resource !== 'instance').map((resource): [string, string] => [
        `Resource::arn:${stack.partition}:ec2:${region}:<AWS::AccountId>:${resource}/*`,
        "Putting the group back on a version: tags only what RunInstances launches from this stack's template (conditions), as Auto Scaling requires.",
      ]),
    ];
    const stateMachineFindings: Array<[string, string]> = [
      [
        `Resource::<${deadlineId}.Arn>:*`,
        'Invoking the deadline function, any of its versions (as grantInvoke does).',
      ],
      [
        'Action::kms:GenerateDataKey*',
        'Publishing to the encrypted notification topic needs data keys of its key.',
      ],
    ];
    for (const role of [this.launch.role, this.drain.role, this.spot.role]) {
      const own =
        role === this.spot.role
          ? findings
          : [...findings, ...stateMachineFindings, ...(role === this.launch.role ? launchFindings : [])];
      for (const [finding, reason] of own) {
        Validations.of(role).acknowledge({ id: `AwsSolutions-IAM5[${finding}]`, reason });
      }
    }
  }
}
