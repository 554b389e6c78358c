import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { METRIC, METRICS_NAMESPACE, METRICS_SERVICE } from '../functions/lib/metric-names';
import type { WorkerConfig } from './config';

/**
 * The alarms every instance refresh of a rollout watches (its AlarmSpecification): one in ALARM
 * fails the refresh, and AutoRollback puts the group back on the version it ran.
 * https://docs.aws.amazon.com/autoscaling/ec2/userguide/instance-refresh-rollback.html
 * Like every alarm of the stack they notify the topic, outside rollouts too: a storm, a fleet short.
 */
export class RolloutAlarms extends Construct {
  readonly launchesAbandoned: cloudwatch.Alarm;
  readonly fleetBelowDesired: cloudwatch.Alarm;

  constructor(
    scope: Construct,
    id: string,
    props: { config: WorkerConfig; groupName: string; topic: sns.ITopic },
  ) {
    super(scope, id);
    const { config, groupName } = props;
    const minute = Duration.minutes(1);
    // One abandoned worker is enough, and the alarm stays in ALARM for 5 minutes after it, so that
    // the rollout (it polls every minute) still finds which alarm failed its refresh.
    this.launchesAbandoned = new cloudwatch.Alarm(this, 'LaunchesAbandoned', {
      alarmName: `${config.stackName}-rollout-launches-abandoned`,
      alarmDescription: 'The launch gate abandoned a worker whose boot failed (rollouts roll back on it)',
      metric: new cloudwatch.Metric({
        namespace: METRICS_NAMESPACE,
        metricName: METRIC.launchesAbandoned,
        dimensionsMap: { service: METRICS_SERVICE, Stack: config.stackName },
        statistic: 'Sum',
        period: minute,
      }),
      threshold: 1,
      evaluationPeriods: 5,
      datapointsToAlarm: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    // A refresh launches before it terminates, so the group is short only when workers are lost;
    // a lost worker's replacement needs up to the boot timeout: short for longer than that, plus
    // 5 minutes of metric delay, is a failure.
    const shortMinutes = Math.ceil(config.bootTimeout / 60) + 5;
    const groupMetric = (metricName: string) =>
      new cloudwatch.Metric({
        namespace: 'AWS/AutoScaling',
        metricName,
        dimensionsMap: { AutoScalingGroupName: groupName },
        statistic: 'Average',
        period: minute,
      });
    this.fleetBelowDesired = new cloudwatch.Alarm(this, 'FleetBelowDesired', {
      alarmName: `${config.stackName}-rollout-fleet-below-desired`,
      alarmDescription: `Fewer workers in service than desired for ${shortMinutes} minutes (rollouts roll back on it)`,
      metric: new cloudwatch.MathExpression({
        expression: 'desired - inService',
        usingMetrics: {
          desired: groupMetric('GroupDesiredCapacity'),
          inService: groupMetric('GroupInServiceInstances'),
        },
        period: minute,
      }),
      threshold: 1,
      evaluationPeriods: shortMinutes,
      datapointsToAlarm: shortMinutes,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    for (const alarm of [this.launchesAbandoned, this.fleetBelowDesired]) {
      alarm.addAlarmAction(new actions.SnsAction(props.topic));
    }
  }
}
