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
import { EXECUTION_ENDED, type Flow } from '../functions/flow-metrics/outcomes';
import { LOG_RECORD } from '../functions/lib/contract';
import { METRIC, METRICS_NAMESPACE, METRICS_SERVICE } from '../functions/lib/metric-names';
import type { WorkerConfig } from './config';
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
    this.dashboard = this.createDashboard(props, deadLetterQueues);
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

  /** Auto Scaling group metrics (collected because the group enables them). */
  private groupMetric(fleet: WorkerFleet, metricName: string, period: Duration): cloudwatch.Metric {
    return new cloudwatch.Metric({
      namespace: 'AWS/AutoScaling',
      metricName,
      dimensionsMap: { AutoScalingGroupName: fleet.groupName },
      statistic: 'Average',
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

  private createDashboard(props: ObservabilityProps, deadLetterQueues: sqs.IQueue[]): cloudwatch.Dashboard {
    const { fleet, logs: logGroups } = props;
    const minute = Duration.minutes(1);
    const groupMetric = (metricName: string, label: string) =>
      this.groupMetric(fleet, metricName, minute).with({ label });
    const query = (title: string, logGroup: logs.ILogGroup, lines: string[], width = 8, height = 6) =>
      new cloudwatch.LogQueryWidget({
        title,
        width,
        height,
        view: cloudwatch.LogQueryVisualizationType.TABLE,
        logGroupNames: [logGroup.logGroupName],
        queryLines: lines,
      });
    const dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      dashboardName: `${this.stackName}-workers`,
      defaultInterval: Duration.days(1),
    });

    // "Is everything fine?": the alarms, what runs against what should run, the fleet's size.
    dashboard.addWidgets(
      new cloudwatch.AlarmStatusWidget({
        title: 'Alarms',
        width: 8,
        height: 6,
        alarms: this.alarms,
        sortBy: cloudwatch.AlarmStatusWidgetSortBy.STATE_UPDATED_TIMESTAMP,
      }),
      // The version check's last record: the scheduler's version, the last build's, the fleet's.
      query('Versions (last check)', logGroups.versionCheck, [
        `filter message = "${LOG_RECORD.versionChecked}"`,
        // `answer` says why a scheduler version is missing: the last check got no usable answer.
        'stats latest(scheduler) as scheduler, latest(built) as built, latest(build) as build, latest(fleet) as fleet, latest(behind) as fleetBehind, latest(answer) as lastAnswer',
      ]),
      new cloudwatch.SingleValueWidget({
        title: 'Workers in service / desired',
        width: 4,
        height: 6,
        metrics: [
          groupMetric('GroupInServiceInstances', 'in service'),
          groupMetric('GroupDesiredCapacity', 'desired'),
          groupMetric('GroupPendingInstances', 'pending'),
        ],
      }),
      query(
        'Kept instances',
        logGroups.keptExpiry,
        [
          `filter message = "${LOG_RECORD.keptExpiryDone}"`,
          'stats latest(kept) as kept, latest(expired) as pastTheirEnd',
        ],
        4,
      ),
    );
    // What fails without a flow failing: functions, lost events, slow boots.
    dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Lambda errors and throttles',
        width: 8,
        left: props.functions
          .flatMap(({ name, fn }) => [
            fn.metricErrors({ label: `${name} errors`, period: Duration.minutes(5) }),
            fn.metricThrottles({ label: `${name} throttles`, period: Duration.minutes(5) }),
          ])
          .concat([
            this.flowMetrics.function.metricErrors({
              label: 'flow-metrics errors',
              period: Duration.minutes(5),
            }),
            this.flowMetrics.function.metricThrottles({
              label: 'flow-metrics throttles',
              period: Duration.minutes(5),
            }),
          ]),
      }),
      new cloudwatch.GraphWidget({
        title: 'Dead-letter queue depth',
        width: 8,
        left: deadLetterQueues.map((queue) =>
          queue.metricApproximateNumberOfMessagesVisible({
            label: queue.node.path.replace(`${Stack.of(this).node.id}/`, ''),
            period: Duration.minutes(5),
            statistic: 'Maximum',
          }),
        ),
      }),
      // From the lifecycle hook to the launch gate's "healthy": the boot as the fleet sees it.
      query('Boot time of healthy launches (s)', this.flowMetrics.logGroup, [
        `filter message = "${EXECUTION_ENDED}" and flow = "Launch" and outcome = "healthy"`,
        'stats pct(durationSeconds, 90) as p90, pct(durationSeconds, 50) as p50, max(durationSeconds) as slowest, count(*) as boots',
      ]),
    );
    // The flows: how they end (AWS/States), why (the flow-metrics records), how long they take.
    dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'State machine executions',
        width: 8,
        left: props.flows.flatMap(({ flow, stateMachine }) => [
          stateMachine.metricSucceeded({ label: `${flow} succeeded` }),
          stateMachine.metricFailed({ label: `${flow} failed` }),
          stateMachine.metricTimedOut({ label: `${flow} timed out` }),
          stateMachine.metricAborted({ label: `${flow} aborted` }),
        ]),
      }),
      // A query costs per GB scanned; a metric per outcome would be a billed custom metric each.
      query('Flow outcomes', this.flowMetrics.logGroup, [
        `filter message = "${EXECUTION_ENDED}"`,
        'stats count(*) as executions by flow, status, outcome',
        'sort flow, executions desc',
      ]),
      new cloudwatch.GraphWidget({
        title: 'Flow durations (ms)',
        width: 8,
        left: props.flows.map(({ flow, stateMachine }) =>
          stateMachine.metricTime({ label: flow, statistic: 'Average' }),
        ),
      }),
    );
    // What the functions did, from their records.
    dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Workers',
        width: 6,
        left: [
          groupMetric('GroupDesiredCapacity', 'desired'),
          groupMetric('GroupInServiceInstances', 'in service'),
          groupMetric('GroupPendingInstances', 'pending'),
        ],
        right: props.spotLaunchFailures ? [props.spotLaunchFailures] : undefined,
      }),
      query(
        'Version checks and builds',
        logGroups.versionCheck,
        [
          `filter message = "${LOG_RECORD.versionChecked}" or message like /^image build/`,
          'stats count(*) as records by message, answer',
        ],
        6,
      ),
      query(
        'Spot warnings and rebalance recommendations',
        logGroups.spot,
        [`filter message = "${LOG_RECORD.spotEventHandled}"`, 'stats count(*) as events by event, outcome'],
        6,
      ),
      query(
        'AMI retention',
        logGroups.retention,
        [
          `filter message = "${LOG_RECORD.retentionDone}" and ispresent(amisDeleted)`,
          'stats count(*) as runs, sum(amisDeleted) as amis, sum(snapshotsDeleted) as snapshots, sum(versionsDeleted) as launchTemplateVersions',
        ],
        6,
      ),
    );
    dashboard.addWidgets(
      new cloudwatch.LogQueryWidget({
        title: 'Worker log errors',
        width: 24,
        logGroupNames: [fleet.logGroup.logGroupName],
        queryLines: [
          'fields @timestamp, @logStream, @message',
          'filter @message like /(?i)(error|fatal|panic)/',
          'sort @timestamp desc',
          'limit 50',
        ],
      }),
    );
    return dashboard;
  }
}
