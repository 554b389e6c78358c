import { Duration, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { EXECUTION_ENDED, type Flow } from '../functions/flow-metrics/outcomes';
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
    const { config, fleet } = props;
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
    this.dashboard = this.createDashboard(props, fleet);
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
    const { config, notifications, fleet } = props;
    for (const { flow, stateMachine } of props.flows) {
      this.alarm(
        `${flow}ExecutionsFailed`,
        {
          alarmDescription: `A ${flow.toLowerCase()} execution failed, timed out or was aborted`,
          metric: new cloudwatch.MathExpression({
            expression: 'failed + timedOut + aborted',
            usingMetrics: {
              failed: stateMachine.metricFailed({ period: Duration.minutes(5) }),
              timedOut: stateMachine.metricTimedOut({ period: Duration.minutes(5) }),
              aborted: stateMachine.metricAborted({ period: Duration.minutes(5) }),
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
    this.alarm(
      'BuildFailed',
      {
        alarmDescription: 'A worker image build failed',
        metric: this.metric(METRIC.buildFailed),
        threshold: 1,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      },
      notifications,
    );
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
    const groupMetric = (metricName: string) => this.groupMetric(fleet, metricName, Duration.minutes(5));
    this.alarm(
      'FleetBelowDesired',
      {
        alarmDescription: 'Fewer workers in service than desired for 30 minutes',
        metric: new cloudwatch.MathExpression({
          expression: 'desired - inService',
          usingMetrics: {
            desired: groupMetric('GroupDesiredCapacity'),
            inService: groupMetric('GroupInServiceInstances'),
          },
          period: Duration.minutes(5),
        }),
        threshold: 1,
        evaluationPeriods: 6,
        datapointsToAlarm: 6,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      },
      notifications,
    );
  }

  private createDashboard(props: ObservabilityProps, fleet: WorkerFleet): cloudwatch.Dashboard {
    const graph = (title: string, names: string[], statistic = 'Sum') =>
      new cloudwatch.GraphWidget({
        title,
        width: 8,
        left: names.map((name) => this.metric(name, statistic)),
      });
    const groupMetric = (metricName: string) => this.groupMetric(fleet, metricName, Duration.minutes(1));
    const dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      dashboardName: `${this.stackName}-workers`,
      defaultInterval: Duration.days(1),
    });
    dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Workers',
        width: 8,
        left: ['GroupDesiredCapacity', 'GroupInServiceInstances', 'GroupPendingInstances'].map(groupMetric),
      }),
      graph('Version checks and builds', [
        METRIC.versionCheckSucceeded,
        METRIC.versionCheckFailed,
        METRIC.buildStarted,
        METRIC.buildFailed,
      ]),
      graph('Fleet behind the scheduler (1 = behind)', [METRIC.fleetVersionBehind], 'Maximum'),
    );
    // Outcomes come from the flow-metrics records (a query costs per GB scanned, a metric per
    // outcome would be a billed custom metric each); durations are AWS/States' ExecutionTime.
    dashboard.addWidgets(
      new cloudwatch.LogQueryWidget({
        title: 'Flow outcomes',
        width: 8,
        view: cloudwatch.LogQueryVisualizationType.TABLE,
        logGroupNames: [this.flowMetrics.logGroup.logGroupName],
        queryLines: [
          `filter message = "${EXECUTION_ENDED}"`,
          'stats count(*) as executions by flow, status, outcome',
          'sort flow, executions desc',
        ],
      }),
      new cloudwatch.GraphWidget({
        title: 'Flow durations (ms)',
        width: 8,
        left: props.flows.map(({ flow, stateMachine }) =>
          stateMachine.metricTime({ label: flow, statistic: 'Average' }),
        ),
      }),
      graph('Spot', [
        METRIC.spotInterruptions,
        METRIC.spotReplacementsStarted,
        METRIC.rebalanceRecommendations,
      ]),
    );
    dashboard.addWidgets(
      graph('AMI retention', [
        METRIC.amisDeleted,
        METRIC.snapshotsDeleted,
        METRIC.launchTemplateVersionsDeleted,
      ]),
    );
    dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'State machine executions',
        width: 12,
        left: props.flows.flatMap(({ flow, stateMachine }) => [
          stateMachine.metricSucceeded({ label: `${flow} succeeded` }),
          stateMachine.metricFailed({ label: `${flow} failed` }),
          stateMachine.metricTimedOut({ label: `${flow} timed out` }),
          stateMachine.metricAborted({ label: `${flow} aborted` }),
        ]),
      }),
      new cloudwatch.LogQueryWidget({
        title: 'Worker log errors',
        width: 12,
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
