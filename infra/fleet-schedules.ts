import * as autoscaling from 'aws-cdk-lib/aws-autoscaling';
import type { Construct } from 'constructs';
import type { WorkerConfig } from './config';

/**
 * The configured start and stop of the fleet, in UTC: the stop empties the group, the start puts
 * back the configured sizes.
 */
export function createSchedules(
  scope: Construct,
  group: autoscaling.CfnAutoScalingGroup,
  config: WorkerConfig,
): void {
  if (config.schedule.start) {
    new autoscaling.CfnScheduledAction(scope, 'ScheduledStart', {
      autoScalingGroupName: group.ref,
      recurrence: config.schedule.start,
      timeZone: 'Etc/UTC',
      minSize: config.minSize,
      maxSize: config.maxSize,
      desiredCapacity: config.desiredCapacity,
    });
  }
  if (config.schedule.stop) {
    new autoscaling.CfnScheduledAction(scope, 'ScheduledStop', {
      autoScalingGroupName: group.ref,
      recurrence: config.schedule.stop,
      timeZone: 'Etc/UTC',
      minSize: 0,
      maxSize: config.maxSize,
      desiredCapacity: 0,
    });
  }
}
