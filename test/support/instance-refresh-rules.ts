import type { StartInstanceRefreshCommandInput } from '@aws-sdk/client-auto-scaling';

/**
 * What Auto Scaling refuses in a StartInstanceRefresh, from its documentation: moto has no instance
 * refresh, so the local fake checks every request against these rules and refuses it as AWS would
 * (a ValidationError), and a rollout that drifts from them fails its tests.
 * https://docs.aws.amazon.com/autoscaling/ec2/APIReference/API_StartInstanceRefresh.html
 * https://docs.aws.amazon.com/autoscaling/ec2/APIReference/API_RefreshPreferences.html
 * https://docs.aws.amazon.com/autoscaling/ec2/APIReference/API_AlarmSpecification.html
 * https://docs.aws.amazon.com/autoscaling/ec2/userguide/instance-refresh-rollback.html
 * https://docs.aws.amazon.com/autoscaling/ec2/userguide/asg-adding-checkpoints-instance-refresh.html
 */
export function instanceRefreshProblems(input: StartInstanceRefreshCommandInput): string[] {
  const problems: string[] = [];
  const p = input.Preferences ?? {};
  const desired = input.DesiredConfiguration;
  const range = (name: string, value: number | undefined, min: number, max: number) => {
    if (value === undefined) return;
    if (!Number.isInteger(value) || value < min || value > max) {
      problems.push(`${name} must be an integer from ${min} to ${max}, given ${value}`);
    }
  };
  if (!input.AutoScalingGroupName) problems.push('AutoScalingGroupName is required');
  if (input.Strategy !== undefined && !['Rolling', 'ReplaceRootVolume'].includes(input.Strategy)) {
    problems.push(`Strategy must be Rolling or ReplaceRootVolume, given ${input.Strategy}`);
  }
  range('MinHealthyPercentage', p.MinHealthyPercentage, 0, 100);
  range('MaxHealthyPercentage', p.MaxHealthyPercentage, 100, 200);
  if (p.MaxHealthyPercentage !== undefined) {
    // "If you specify MaxHealthyPercentage, you must also specify MinHealthyPercentage, and the
    // difference between them cannot be greater than 100."
    if (p.MinHealthyPercentage === undefined) {
      problems.push('MaxHealthyPercentage needs MinHealthyPercentage');
    } else if (p.MaxHealthyPercentage - p.MinHealthyPercentage > 100) {
      problems.push('MaxHealthyPercentage - MinHealthyPercentage may not exceed 100');
    }
  }
  range('InstanceWarmup', p.InstanceWarmup, 0, Number.MAX_SAFE_INTEGER);
  range('CheckpointDelay', p.CheckpointDelay, 0, 172800);
  range('BakeTime', p.BakeTime, 0, 172800);
  if (p.CheckpointDelay !== undefined && p.CheckpointPercentages === undefined) {
    problems.push('CheckpointDelay needs CheckpointPercentages');
  }
  const checkpoints = p.CheckpointPercentages;
  if (checkpoints !== undefined) {
    checkpoints.forEach((value, index) => {
      range(`CheckpointPercentages[${index}]`, value, 1, 100);
      if (index > 0 && value <= (checkpoints[index - 1] as number)) {
        problems.push('CheckpointPercentages must be unique and in ascending order');
      }
    });
    // "To replace all instances in the Auto Scaling group, the last number in the array must be
    // 100": short of 100 the refresh ends with part of the fleet on the old version.
    if (checkpoints.at(-1) !== 100) problems.push('CheckpointPercentages must end at 100');
  }
  const alarms = p.AlarmSpecification?.Alarms;
  if (alarms !== undefined) {
    if (alarms.length === 0 || alarms.length > 10) problems.push('AlarmSpecification takes 1 to 10 alarms');
    for (const name of alarms) {
      if (name.length < 1 || name.length > 255) problems.push(`alarm name of 1 to 255 characters: ${name}`);
    }
  }
  if (p.AutoRollback) {
    // "A rollback is not supported ... There is no desired configuration ... The Auto Scaling group
    // uses the launch template's $Latest or $Default version."
    const template =
      desired?.LaunchTemplate ?? desired?.MixedInstancesPolicy?.LaunchTemplate?.LaunchTemplateSpecification;
    if (!template) {
      problems.push('AutoRollback needs a DesiredConfiguration with a launch template');
    } else if (!/^[0-9]+$/.test(template.Version ?? '')) {
      problems.push(`AutoRollback needs an explicit launch template version, given ${template.Version}`);
    }
  }
  if (desired?.LaunchTemplate && desired.MixedInstancesPolicy) {
    problems.push('DesiredConfiguration takes a LaunchTemplate or a MixedInstancesPolicy, not both');
  }
  return problems;
}
