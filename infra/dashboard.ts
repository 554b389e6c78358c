import { Duration, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { EXECUTION_ENDED } from '../functions/flow-metrics/outcomes';
import { LOG_RECORD } from '../functions/lib/contract';
import type { WorkerFleet } from './fleet';
import type { WorkerFunction } from './lambda';
import type { ObservabilityProps } from './observability';

export interface DashboardProps extends ObservabilityProps {
  deadLetterQueues: sqs.IQueue[];
  /** Every alarm of the stack, shown first. */
  alarms: cloudwatch.Alarm[];
  /** Its records are what the flows' widgets read. */
  flowMetrics: WorkerFunction;
  stackName: string;
}

/** Auto Scaling group metrics (collected because the group enables them). */
function groupMetric(fleet: WorkerFleet, metricName: string, period: Duration): cloudwatch.Metric {
  return new cloudwatch.Metric({
    namespace: 'AWS/AutoScaling',
    metricName,
    dimensionsMap: { AutoScalingGroupName: fleet.groupName },
    statistic: 'Average',
    period,
  });
}

/**
 * The stack's dashboard: first whether everything is fine, then what fails without a flow
 * failing, then the flows, then what the functions did.
 */
export function createDashboard(scope: Construct, props: DashboardProps): cloudwatch.Dashboard {
  const { fleet, logs: logGroups, deadLetterQueues, flowMetrics } = props;
  const minute = Duration.minutes(1);
  const fleetMetric = (metricName: string, label: string) =>
    groupMetric(fleet, metricName, minute).with({ label });
  const query = (title: string, logGroup: logs.ILogGroup, lines: string[], width = 8, height = 6) =>
    new cloudwatch.LogQueryWidget({
      title,
      width,
      height,
      view: cloudwatch.LogQueryVisualizationType.TABLE,
      logGroupNames: [logGroup.logGroupName],
      queryLines: lines,
    });
  const dashboard = new cloudwatch.Dashboard(scope, 'Dashboard', {
    dashboardName: `${props.stackName}-workers`,
    defaultInterval: Duration.days(1),
  });

  // "Is everything fine?": the alarms, what runs against what should run, the fleet's size.
  dashboard.addWidgets(
    new cloudwatch.AlarmStatusWidget({
      title: 'Alarms',
      width: 8,
      height: 6,
      alarms: props.alarms,
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
        fleetMetric('GroupInServiceInstances', 'in service'),
        fleetMetric('GroupDesiredCapacity', 'desired'),
        fleetMetric('GroupPendingInstances', 'pending'),
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
          flowMetrics.function.metricErrors({
            label: 'flow-metrics errors',
            period: Duration.minutes(5),
          }),
          flowMetrics.function.metricThrottles({
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
          label: queue.node.path.replace(`${Stack.of(scope).node.id}/`, ''),
          period: Duration.minutes(5),
          statistic: 'Maximum',
        }),
      ),
    }),
    // From the lifecycle hook to the launch gate's "healthy": the boot as the fleet sees it.
    query('Boot time of healthy launches (s)', flowMetrics.logGroup, [
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
    query('Flow outcomes', flowMetrics.logGroup, [
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
        fleetMetric('GroupDesiredCapacity', 'desired'),
        fleetMetric('GroupInServiceInstances', 'in service'),
        fleetMetric('GroupPendingInstances', 'pending'),
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
