import { Duration, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import type { Flow } from '../functions/flow-metrics/outcomes';
import { METRIC, METRICS_NAMESPACE, METRICS_SERVICE } from '../functions/lib/metric-names';
import type { WorkerConfig } from './config';
import { createDashboard } from './dashboard';
import type { WorkerFleet } from './fleet';
import { WorkerFunction } from './lambda';
import { displayPath } from './names';
import type { Notifications } from './notifications';
import { deadLetterQueue } from './queues';
import { lagAlarmWindow } from './version-lag';

export interface ObservabilityProps {
  config: WorkerConfig;
  fleet: WorkerFleet;
  notifications: Notifications;
  /** The state machines whose executions are measured and alarmed, by flow. */
  flows: Array<{ flow: Flow; stateMachine: sfn.IStateMachine }>;
  /** Every dead-letter queue of the stack: any message in one is an alarm. */
  deadLetterQueues: sqs.IQueue[];
  /** The control-plane functions whose errors and throttles the dashboard shows. */
  functions: Array<{ name: string; fn: lambda.IFunction }>;
  /** The log groups whose records the dashboard's queries read. */
  logs: {
    versionCheck: logs.ILogGroup;
    retention: logs.ILogGroup;
    spot: logs.ILogGroup;
    keptExpiry: logs.ILogGroup;
  };
  /** Alarms made elsewhere in the stack: shown and listed with these. */
  alarms?: cloudwatch.Alarm[];
  /** The group's Spot launch failures (an AWS metric), beside its workers: when Spot falls back. */
  spotLaunchFailures?: cloudwatch.IMetric;
  logRetention: logs.RetentionDays;
}

/** Metrics, the dashboard and the alarms of the stack. */
export class Observability extends Construct {
  readonly dashboard: cloudwatch.Dashboard;
  readonly alarms: cloudwatch.Alarm[] = [];
  readonly flowMetrics: WorkerFunction;
  private readonly stackName: string;

  constructor(scope: Construct, id: string, props: ObservabilityProps) {
    super(scope, id);
    const { config } = props;
    this.stackName = config.stackName;

    const flowMetricsDeadLetters = deadLetterQueue(this, 'FlowMetricsDeadLetters');
    this.flowMetrics = new WorkerFunction(this, 'FlowMetrics', {
      name: 'flow-metrics',
      description: 'Logs the outcome of every state machine execution, for the dashboard',
      logRetention: props.logRetention,
      deadLetterQueue: flowMetricsDeadLetters,
      environment: {
        FLOWS: Stack.of(this).toJsonString(
          Object.fromEntries(
            props.flows.map(({ flow, stateMachine }) => [stateMachine.stateMachineArn, flow]),
          ),
        ),
      },
    });
    if (props.flows.length > 0) {
      new events.Rule(this, 'ExecutionEnded', {
        description: 'End of every execution of the stack state machines',
        eventPattern: {
          source: ['aws.states'],
          detailType: ['Step Functions Execution Status Change'],
          detail: {
            status: ['SUCCEEDED', 'FAILED', 'TIMED_OUT', 'ABORTED'],
            stateMachineArn: props.flows.map(({ stateMachine }) => stateMachine.stateMachineArn),
          },
        },
        targets: [
          new targets.LambdaFunction(this.flowMetrics.function, {
            deadLetterQueue: flowMetricsDeadLetters,
            retryAttempts: 8,
            maxEventAge: Duration.hours(6),
          }),
        ],
      });
    }

    const deadLetterQueues = [...props.deadLetterQueues, flowMetricsDeadLetters];
    this.createAlarms(props, deadLetterQueues);
    this.alarms.push(...(props.alarms ?? []));
    this.notifyAborted(props, flowMetricsDeadLetters);
    this.dashboard = createDashboard(this, {
      ...props,
      deadLetterQueues,
      alarms: this.alarms,
      flowMetrics: this.flowMetrics,
      stackName: this.stackName,
    });
  }

  /**
   * An execution stopped by hand (StopExecution: nothing of the stack aborts one) is told on the
   * topic by a rule rather than by an alarm: EventBridge delivers AWS events for free, where the
   * alarms' ExecutionsAborted metrics would cost $0.10 a month each, and the message names the
   * execution, which an alarm cannot.
   */
  private notifyAborted(props: ObservabilityProps, deadLetters: sqs.IQueue): void {
    if (props.flows.length === 0) return;
    const detail = (path: string) => events.EventField.fromPath(`$.detail.${path}`);
    new events.Rule(this, 'ExecutionAborted', {
      description: 'An execution of the stack state machines stopped by hand',
      eventPattern: {
        source: ['aws.states'],
        detailType: ['Step Functions Execution Status Change'],
        detail: {
          status: ['ABORTED'],
          stateMachineArn: props.flows.map(({ stateMachine }) => stateMachine.stateMachineArn),
        },
      },
      targets: [
        new targets.SnsTopic(props.notifications.topic, {
          message: events.RuleTargetInput.fromText(
            `${this.stackName}: execution ${detail('name')} of ${detail('stateMachineArn')} was stopped (ABORTED) before its end. What it was doing is left as it was: a lifecycle action goes to its hook's default result, a refresh keeps running unwatched. Execution: ${detail('executionArn')}`,
          ),
          deadLetterQueue: deadLetters,
          retryAttempts: 8,
          maxEventAge: Duration.hours(6),
        }),
      ],
    });
  }

  private metric(name: string, statistic = 'Sum', period = Duration.minutes(5)): cloudwatch.Metric {
    return new cloudwatch.Metric({
      namespace: METRICS_NAMESPACE,
      metricName: name,
      dimensionsMap: { service: METRICS_SERVICE, Stack: this.stackName },
      statistic,
      period,
    });
  }

  private alarm(id: string, props: cloudwatch.AlarmProps, topic: Notifications): cloudwatch.Alarm {
    const alarm = new cloudwatch.Alarm(this, id, {
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      ...props,
    });
    alarm.addAlarmAction(new actions.SnsAction(topic.topic));
    this.alarms.push(alarm);
    return alarm;
  }

  private createAlarms(props: ObservabilityProps, deadLetterQueues: sqs.IQueue[]): void {
    const { config, notifications } = props;
    for (const { flow, stateMachine } of props.flows) {
      this.alarm(
        `${flow}ExecutionsFailed`,
        {
          alarmDescription: `A ${flow.toLowerCase()} execution failed or timed out`,
          // Aborted executions are told by a rule (notifyAborted): an alarm bills each metric.
          metric: new cloudwatch.MathExpression({
            expression: 'failed + timedOut',
            usingMetrics: {
              failed: stateMachine.metricFailed({ period: Duration.minutes(5) }),
              timedOut: stateMachine.metricTimedOut({ period: Duration.minutes(5) }),
            },
            period: Duration.minutes(5),
          }),
          threshold: 1,
          evaluationPeriods: 1,
          comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        },
        notifications,
      );
    }
    const lag = lagAlarmWindow(config.versionCheckInterval, config.versionLagTolerance);
    const checkPeriod = Duration.seconds(lag.periodSeconds);
    this.alarm(
      'VersionCheckFailing',
      {
        alarmDescription: 'The scheduler version could not be read 3 times in a row',
        metric: this.metric(METRIC.versionCheckFailed, 'Sum', checkPeriod),
        threshold: 1,
        evaluationPeriods: 3,
        datapointsToAlarm: 3,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      },
      notifications,
    );
    // A failed image build ends its rollout as failed (ImageBuildFailed): the rollout's flow alarm
    // and its notification say so, a metric of its own would only repeat them.
    // One answer per check and per period, every answer counted (a failed check too): the alarm
    // fires once every check in the tolerance said "behind". A period without an answer (the
    // function did not run) is left out rather than taken for "up to date", which would restart
    // the count; the dead-letter alarms report the function not running.
    this.alarm(
      'FleetBehindScheduler',
      {
        alarmDescription: `The fleet has not run the scheduler's Concourse version for ${Math.round(config.versionLagTolerance / 60)} minutes`,
        metric: this.metric(METRIC.fleetVersionBehind, 'Minimum', checkPeriod),
        threshold: 1,
        evaluationPeriods: lag.evaluationPeriods,
        datapointsToAlarm: lag.evaluationPeriods,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.MISSING,
      },
      notifications,
    );
    deadLetterQueues.forEach((queue, index) => {
      this.alarm(
        `DeadLetters${index}`,
        {
          alarmDescription: `Dead-letter queue ${displayPath(queue)} is not empty: an event was not handled`,
          metric: queue.metricApproximateNumberOfMessagesVisible({
            period: Duration.minutes(5),
            statistic: 'Maximum',
          }),
          threshold: 1,
          evaluationPeriods: 1,
          comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        },
        notifications,
      );
    });
    // The group short of its desired capacity is the rollout's alarm (RolloutAlarms): one alarm
    // serves the refreshes and the operators.
  }
}
