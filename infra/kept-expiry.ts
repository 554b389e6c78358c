import { Duration, Stack, Validations } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as destinations from 'aws-cdk-lib/aws-lambda-destinations';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { TAG } from '../functions/lib/contract';
import { METRIC, METRICS_NAMESPACE, METRICS_SERVICE } from '../functions/lib/metric-names';
import type { WorkerConfig } from './config';
import { WorkerFunction } from './lambda';
import { STACK_TAG } from './names';
import { deadLetterQueue } from './queues';

/** How often kept instances are looked at: the warning comes 45 to 60 minutes before the TTL. */
export const KEPT_EXPIRY_RATE = Duration.minutes(15);

export interface KeptExpiryProps {
  config: WorkerConfig;
  topic: sns.ITopic;
  logRetention: logs.RetentionDays;
}

/**
 * Ends the instances kept for debugging after `keptInstanceTtl`, with a notification an hour
 * before (functions/kept-expiry), and alarms when one outlives its end.
 */
export class KeptExpiry extends Construct {
  readonly function: WorkerFunction;
  readonly deadLetterQueue: sqs.Queue;
  readonly alarm: cloudwatch.Alarm;

  constructor(scope: Construct, id: string, props: KeptExpiryProps) {
    super(scope, id);
    const { config, topic } = props;
    const stack = Stack.of(this);
    this.deadLetterQueue = deadLetterQueue(this, 'DeadLetters');
    this.function = new WorkerFunction(this, 'Function', {
      name: 'kept-expiry',
      description: 'Warns of and then terminates the instances kept for debugging after keptInstanceTtl',
      logRetention: props.logRetention,
      unscopedActions: ['ec2:DescribeInstances'],
      environment: {
        TOPIC_ARN: topic.topicArn,
        KEPT_INSTANCE_TTL_SECONDS: String(config.keptInstanceTtl),
      },
    });
    const role = this.function.role;
    const keptInstancesOfThisStack = {
      StringEquals: { [`aws:ResourceTag/${STACK_TAG}`]: config.stackName },
      // Only instances carrying the kept tag: never one of the group.
      Null: { [`aws:ResourceTag/${TAG.kept}`]: 'false' },
    };
    const instances = stack.formatArn({ service: 'ec2', resource: 'instance', resourceName: '*' });
    role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'TerminateKeptInstances',
        actions: ['ec2:TerminateInstances'],
        resources: [instances],
        conditions: keptInstancesOfThisStack,
      }),
    );
    role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'RecordTheirEnd',
        actions: ['ec2:CreateTags'],
        resources: [instances],
        conditions: {
          ...keptInstancesOfThisStack,
          'ForAllValues:StringEquals': { 'aws:TagKeys': [TAG.keptSince, TAG.keptUntil, TAG.keptWarned] },
        },
      }),
    );
    topic.grantPublish(role);
    Validations.of(role).acknowledge({
      id: `AwsSolutions-IAM5[Resource::arn:${stack.partition}:ec2:${config.region}:<AWS::AccountId>:instance/*]`,
      reason: 'Instances are created at run time; only those tagged with this stack and kept (conditions).',
    });
    Validations.of(role).acknowledge({
      id: 'AwsSolutions-IAM5[Action::kms:GenerateDataKey*]',
      reason: 'Publishing to the encrypted topic needs data keys of its key, and of that key only.',
    });

    this.function.function.configureAsyncInvoke({
      retryAttempts: 2,
      // A run older than the next one is worthless.
      maxEventAge: KEPT_EXPIRY_RATE,
      onFailure: new destinations.SqsDestination(this.deadLetterQueue),
    });
    new events.Rule(this, 'Schedule', {
      description: `Kept instance expiry of ${config.stackName}`,
      schedule: events.Schedule.rate(KEPT_EXPIRY_RATE),
      targets: [
        new targets.LambdaFunction(this.function.function, {
          event: events.RuleTargetInput.fromObject({ source: 'schedule' }),
          deadLetterQueue: this.deadLetterQueue,
          retryAttempts: 2,
          maxEventAge: KEPT_EXPIRY_RATE,
        }),
      ],
    });

    // Two runs in a row found a kept instance past its end: its termination keeps failing (the
    // failed runs also land in the dead-letter queue, which alarms on its own).
    this.alarm = new cloudwatch.Alarm(this, 'Expired', {
      alarmDescription: `A kept instance outlived keptInstanceTtl (${Math.round(config.keptInstanceTtl / 3600)} h) or its kept-until: end it with external-worker release <id>`,
      metric: new cloudwatch.Metric({
        namespace: METRICS_NAMESPACE,
        metricName: METRIC.keptInstancesExpired,
        dimensionsMap: { service: METRICS_SERVICE, Stack: config.stackName },
        statistic: 'Maximum',
        period: KEPT_EXPIRY_RATE,
      }),
      threshold: 1,
      evaluationPeriods: 2,
      datapointsToAlarm: 2,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    this.alarm.addAlarmAction(new actions.SnsAction(topic));
  }
}
