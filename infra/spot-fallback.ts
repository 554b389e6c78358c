import { Duration, Stack, Validations } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as destinations from 'aws-cdk-lib/aws-lambda-destinations';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { SPOT_LAUNCH_FAILURE } from '../functions/lib/contract';
import { purchase } from './capacity-options';
import type { WorkerConfig } from './config';
import type { WorkerFleet } from './fleet';
import { WorkerFunction } from './lambda';
import { runtimeParameters, TAGGED_AT_LAUNCH } from './names';
import type { Notifications } from './notifications';
import { groupUpdateScope, notificationScope, type Scope } from './statemachines/iam';

export interface SpotFallbackProps {
  config: WorkerConfig;
  fleet: WorkerFleet;
  notifications: Notifications;
  logRetention: logs.RetentionDays;
  /** Where a failure event or a check goes once its retries are spent. */
  deadLetterQueue: sqs.IQueue;
}

/**
 * Keeps the team's workers when Spot has no capacity: the group's Spot launch failures raise its
 * on-demand share to 100 %, a check on a schedule puts the configured share back once Spot has
 * stopped failing for `spotFallbackCooldown`, one notice at the start and one at the end of each
 * episode (functions/spot-fallback). The rule's own AWS/Events metrics count the Spot launch
 * failures, at no charge: no custom metric is needed.
 * https://docs.aws.amazon.com/autoscaling/ec2/userguide/ts-as-capacity.html
 */
export class SpotFallback extends Construct {
  readonly function: WorkerFunction;
  readonly failureRule: events.Rule;
  readonly checkRule: events.Rule;

  constructor(scope: Construct, id: string, props: SpotFallbackProps) {
    super(scope, id);
    const { config, fleet, notifications, logRetention } = props;
    const stack = Stack.of(this);
    const parameter = runtimeParameters(config).spotFallback;

    this.function = new WorkerFunction(this, 'Function', {
      name: 'spot-fallback',
      description: 'Raises the on-demand share while Spot launches fail, restores it once they succeed',
      logRetention,
      memorySize: 128,
      environment: {
        GROUP_NAME: fleet.groupName,
        TOPIC_ARN: notifications.topic.topicArn,
        STATE_PARAMETER: parameter,
        ON_DEMAND_PERCENTAGE: String(purchase(config).onDemandPercentage),
        COOLDOWN_SECONDS: String(config.spotFallbackCooldown),
      },
      unscopedActions: ['autoscaling:DescribeAutoScalingGroups'],
    });
    const role = this.function.role;
    const groupArn = fleet.groupArn;
    // The policy goes back whole, launch template included: Auto Scaling checks the caller may
    // launch from that template, as for any group update (statemachines/iam.ts).
    grantScope(
      role,
      ['autoscaling:UpdateAutoScalingGroup'],
      groupUpdateScope({
        groupArn,
        templateArn: fleet.launchTemplateArn,
        roleArn: fleet.role.roleArn,
        stack,
      }),
    );
    grantScope(role, ['sns:Publish'], notificationScope(notifications));
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['ssm:GetParameter', 'ssm:PutParameter'],
        resources: [
          stack.formatArn({ service: 'ssm', resource: 'parameter', resourceName: parameter.slice(1) }),
        ],
      }),
    );

    this.function.function.configureAsyncInvoke({
      retryAttempts: 2,
      maxEventAge: Duration.hours(1),
      onFailure: new destinations.SqsDestination(props.deadLetterQueue),
    });
    const target = (event?: events.RuleTargetInput) =>
      new targets.LambdaFunction(this.function.function, {
        event,
        deadLetterQueue: props.deadLetterQueue,
        retryAttempts: 8,
        maxEventAge: Duration.hours(1),
      });
    // Spot failures name Spot in EC2's message: the function reads the message itself, the pattern
    // only keeps the rule's metrics to those and the function from every other failed launch.
    this.failureRule = new events.Rule(this, 'SpotLaunchFailures', {
      description: `Spot launch failures of ${fleet.groupName}`,
      eventPattern: {
        source: ['aws.autoscaling'],
        detailType: [SPOT_LAUNCH_FAILURE.detailType],
        detail: {
          AutoScalingGroupName: [fleet.groupName],
          StatusMessage: events.Match.anyOf(
            ...SPOT_LAUNCH_FAILURE.statusMessageWildcards.map((w) => events.Match.wildcard(w)),
          ),
        },
      },
      targets: [target()],
    });
    // Every cool-down (within 5 min and 1 h): Spot is tried again at most one period late. The
    // check does nothing outside an episode but read the state.
    this.checkRule = new events.Rule(this, 'Check', {
      description: `Spot fallback check of ${fleet.groupName}`,
      schedule: events.Schedule.rate(checkPeriod(config.spotFallbackCooldown)),
      targets: [target(events.RuleTargetInput.fromObject({ source: 'schedule' }))],
    });

    this.acknowledge(fleet.groupName);
  }

  /** Spot launch failures of the group (AWS/Events, free): what the dashboard plots. */
  metricSpotLaunchFailures(): cloudwatch.Metric {
    return new cloudwatch.Metric({
      namespace: 'AWS/Events',
      metricName: 'TriggeredRules',
      dimensionsMap: { RuleName: this.failureRule.ruleName },
      statistic: 'Sum',
      period: Duration.minutes(5),
      label: 'Spot launch failures',
    });
  }

  private acknowledge(groupName: string): void {
    const stack = Stack.of(this);
    const region = stack.region;
    const findings: Array<[string, string]> = [
      [
        `Resource::arn:${stack.partition}:autoscaling:${region}:<AWS::AccountId>:autoScalingGroup:*:autoScalingGroupName/${groupName}`,
        'The group ARN holds a generated id: the group is named exactly, the id is the wildcard.',
      ],
      [
        'Resource::*',
        'DescribeAutoScalingGroups has no resource-level permissions; RunInstances only through this launch template (condition).',
      ],
      [
        'Action::kms:GenerateDataKey*',
        'Publishing to the encrypted notification topic needs data keys of its key.',
      ],
      ...TAGGED_AT_LAUNCH.map((resource): [string, string] => [
        `Resource::arn:${stack.partition}:ec2:${region}:<AWS::AccountId>:${resource}/*`,
        "Setting the group's on-demand share: tags only what RunInstances launches from this stack's template (conditions), as Auto Scaling requires.",
      ]),
    ];
    for (const [finding, reason] of findings) {
      Validations.of(this.function.role).acknowledge({ id: `AwsSolutions-IAM5[${finding}]`, reason });
    }
  }
}

/** The check's period: the cool-down, within 5 minutes and an hour. */
export function checkPeriod(cooldownSeconds: number): Duration {
  return Duration.minutes(Math.min(60, Math.max(5, Math.round(cooldownSeconds / 60))));
}

/** The scope's grants for `actions`, and what AWS checks on the caller's behalf. */
function grantScope(role: iam.IRole, actions: string[], scope: Scope): void {
  for (const grant of scope.grants) {
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({ actions, resources: grant.resources, conditions: grant.conditions }),
    );
  }
  scope.implied?.(role);
}
