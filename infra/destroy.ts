import { Aws, CfnOutput, Duration, Fn, RemovalPolicy, Stack, Token, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import type { WorkerConfig } from './config';
import type { WorkerFleet } from './fleet';
import { runtimeParameters, STACK_TAG, workerImageName } from './names';
import type { Notifications } from './notifications';
import { WorkerStateMachine } from './state-machine';
import { ANY_RESOURCE, notificationScope, type Scopes } from './statemachines/iam';

export interface DestroyWorkflowProps {
  config: WorkerConfig;
  fleet: WorkerFleet;
  notifications: Notifications;
  /** EventBridge Scheduler schedules (group `default`) that start work: disabled first. */
  scheduleNames: string[];
  /** Their target roles, exactly: UpdateSchedule hands each back to Scheduler. */
  scheduleRoleArns: string[];
  /** EventBridge rules (default bus) that start builds and rollouts: disabled first. */
  ruleNames: string[];
}

/** Seconds between two looks at the group while its instances drain (the ASL's Wait state). */
export const DRAIN_POLL_SECONDS = 30;
/** Beyond the drain timeout: the terminate hook's own margin, plus time for the termination itself. */
const DRAIN_MARGIN_SECONDS = 600;

// Names of schedules, rules and parameters: nothing that would need escaping in the ASL's JSON or intrinsics.
const RESOURCE_NAME = /^[A-Za-z0-9._/-]{1,1011}$/;

/**
 * A list of names as the ASL reads it: JSON text inside a JSON string, so its quotes are escaped
 * (`States.StringToJson('${Names}')`). Tokens (names CloudFormation generates) are joined in place.
 */
export function aslStringList(names: string[]): string {
  for (const name of names) {
    if (!Token.isUnresolved(name) && !RESOURCE_NAME.test(name)) {
      throw new Error(`not a schedule, rule or parameter name: ${JSON.stringify(name)}`);
    }
  }
  const quoted = names.map((name) =>
    Token.isUnresolved(name) ? Fn.join('', ['\\"', name, '\\"']) : `\\"${name}\\"`,
  );
  return names.some((name) => Token.isUnresolved(name))
    ? Fn.join('', ['[', Fn.join(',', quoted), ']'])
    : `[${quoted.join(',')}]`;
}

/** How many looks at the group the drain wait allows before ending what is left. */
export function maxDrainPolls(config: WorkerConfig): number {
  return Math.ceil((config.drainTimeout + DRAIN_MARGIN_SECONDS) / DRAIN_POLL_SECONDS);
}

/**
 * The `destroy` state machine: started by hand only (nothing in the stack targets it), it removes
 * what the stack created outside CloudFormation, then deletes the stack. Its role can act on this
 * stack's resources only: by name, by ARN, or by the stack tag.
 */
export class DestroyWorkflow extends Construct {
  readonly workflow: WorkerStateMachine;

  constructor(scope: Construct, id: string, props: DestroyWorkflowProps) {
    super(scope, id);
    const { config, fleet, notifications } = props;
    const parameters = Object.values(runtimeParameters(config));
    const polls = maxDrainPolls(config);

    this.workflow = new WorkerStateMachine(this, 'Destroy', {
      name: 'destroy',
      substitutions: {
        StackName: config.stackName,
        GroupName: fleet.groupName,
        ScheduleNames: aslStringList(props.scheduleNames),
        RuleNames: aslStringList(props.ruleNames),
        RuntimeParameterNames: aslStringList(parameters),
        MaxDrainPolls: String(polls),
        TopicArn: notifications.topic.topicArn,
      },
      scopes: this.scopes(props, parameters),
      timeout: Duration.seconds(polls * DRAIN_POLL_SECONDS).plus(Duration.hours(1)),
      logRetention: config.logRetentionDays as logs.RetentionDays,
    });
    // The record of a destroy outlives the stack it deleted; its events expire with the retention.
    this.workflow.logGroup.applyRemovalPolicy(RemovalPolicy.RETAIN);

    this.acknowledge(props);

    new CfnOutput(Stack.of(this), 'DestroyStateMachineArn', {
      description: `Destroy the stack: aws stepfunctions start-execution --state-machine-arn <this> --input '{"confirm":"${config.stackName}"}'`,
      value: this.workflow.stateMachine.stateMachineArn,
    });
  }

  private scopes(props: DestroyWorkflowProps, parameters: string[]): Scopes {
    const { config, fleet } = props;
    const stack = Stack.of(this);
    const arn = (service: string, resource: string, account: string = Aws.ACCOUNT_ID) =>
      `arn:${Aws.PARTITION}:${service}:${Aws.REGION}:${account}:${resource}`;
    const taggedWithStack = { StringEquals: { [`aws:ResourceTag/${STACK_TAG}`]: config.stackName } };
    const on = (resources: string[], conditions?: Record<string, unknown>) => ({
      grants: [{ resources, conditions }],
    });
    return {
      readAndDeleteThisStack: on([arn('cloudformation', `stack/${config.stackName}/*`)]),
      disableSchedules: {
        ...on(props.scheduleNames.map((name) => arn('scheduler', `schedule/default/${name}`))),
        // UpdateSchedule hands the schedule's own target role back to Scheduler.
        implied: (grantee) =>
          grantee.grantPrincipal.addToPrincipalPolicy(
            new iam.PolicyStatement({
              sid: 'KeepScheduleTargetRoles',
              actions: ['iam:PassRole'],
              resources: props.scheduleRoleArns,
              conditions: { StringEquals: { 'iam:PassedToService': 'scheduler.amazonaws.com' } },
            }),
          ),
      },
      disableRules: on(props.ruleNames.map((name) => arn('events', `rule/${name}`))),
      emptyThisGroup: on([arn('autoscaling', `autoScalingGroup:*:autoScalingGroupName/${fleet.groupName}`)]),
      anyResource: ANY_RESOURCE,
      endTaggedInstances: on([arn('ec2', 'instance/*')], taggedWithStack),
      deregisterTaggedImages: on([arn('ec2', 'image/*', '')], taggedWithStack),
      // Snapshots left tagged by an earlier run, and those of this stack's AMIs, which the run tags
      // just before deregistering their AMI (so that a run failing half way leaves them findable).
      deleteTaggedSnapshots: on([arn('ec2', 'snapshot/*', '')], taggedWithStack),
      deleteSnapshotsOfThisStacksAmis: on([arn('ec2', 'snapshot/*', '')], taggedWithStack),
      tagImageSnapshotsWithStack: on([arn('ec2', 'snapshot/*', '')], {
        StringEquals: { [`aws:RequestTag/${STACK_TAG}`]: config.stackName },
        'ForAllValues:StringEquals': { 'aws:TagKeys': [STACK_TAG] },
        // Never a snapshot another stack tagged as its own.
        StringEqualsIfExists: { [`aws:ResourceTag/${STACK_TAG}`]: config.stackName },
      }),
      // The images of this stack's recipe, by its exact name: a delimiter after it.
      deleteImageBuilderImages: on([arn('imagebuilder', `image/${workerImageName(config)}/*`)]),
      deleteRuntimeParameters: on(
        parameters.map((name) =>
          stack.formatArn({ service: 'ssm', resource: 'parameter', resourceName: name.slice(1) }),
        ),
      ),
      notificationTopic: notificationScope(props.notifications),
    };
  }

  private acknowledge(props: DestroyWorkflowProps): void {
    const { config, fleet } = props;
    const role = this.workflow.role;
    const acknowledgements: Array<[string, string]> = [
      [
        'Resource::*',
        'Describe calls (Auto Scaling groups, instances, images, snapshots, tags) and the X-Ray trace writes have no resource-level permissions.',
      ],
      [
        `Resource::arn:<AWS::Partition>:cloudformation:<AWS::Region>:<AWS::AccountId>:stack/${config.stackName}/*`,
        'This stack only, under any of its ids.',
      ],
      [
        `Resource::arn:<AWS::Partition>:autoscaling:<AWS::Region>:<AWS::AccountId>:autoScalingGroup:*:autoScalingGroupName/${fleet.groupName}`,
        'The workers group of this stack, under any of its ids.',
      ],
      [
        'Resource::arn:<AWS::Partition>:ec2:<AWS::Region>:<AWS::AccountId>:instance/*',
        'Only instances tagged with this stack (aws:ResourceTag condition).',
      ],
      [
        'Resource::arn:<AWS::Partition>:ec2:<AWS::Region>::image/*',
        'Only AMIs tagged with this stack (aws:ResourceTag condition).',
      ],
      [
        'Resource::arn:<AWS::Partition>:ec2:<AWS::Region>::snapshot/*',
        'Deletes only snapshots tagged with this stack; tags only with this stack tag (aws:RequestTag, aws:TagKeys conditions).',
      ],
      [
        `Resource::arn:<AWS::Partition>:imagebuilder:<AWS::Region>:<AWS::AccountId>:image/${workerImageName(config)}/*`,
        "Every version and build of this stack's Image Builder image, named exactly.",
      ],
      [
        'Action::kms:GenerateDataKey*',
        'Publishing to the encrypted notifications topic, with its own key only.',
      ],
    ];
    for (const [finding, reason] of acknowledgements) {
      Validations.of(role).acknowledge({ id: `AwsSolutions-IAM5[${finding}]`, reason });
    }
  }
}
