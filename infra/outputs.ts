import { CfnOutput, Fn } from 'aws-cdk-lib';
import { OUTPUT, TAG } from '../functions/lib/contract';
import type { WorkerConfig } from './config';
import { runtimeParameters } from './names';
import type { ExternalWorkerFleet } from './stack';

/**
 * What an operator needs after a deploy: names and ARNs to act on the fleet and its control plane.
 * The operator CLI (cli/) finds every resource it uses from these, given the stack name alone; the
 * destroy workflow adds its own (`DestroyStateMachineArn`).
 */
export function addOutputs(stack: ExternalWorkerFleet, config: WorkerConfig): void {
  const outputs: Record<string, [string, string]> = {
    [OUTPUT.securityGroupId]: ['Security group of the workers', stack.fleet.securityGroup.attrGroupId],
    [OUTPUT.groupName]: ['Auto Scaling group of the workers', stack.fleet.groupName],
    [OUTPUT.launchTemplateId]: ['Launch template of the workers', stack.fleet.launchTemplate.ref],
    [OUTPUT.logGroup]: [
      'CloudWatch Logs group of the workers (boot log, worker log, syslog)',
      stack.fleet.logGroup.logGroupName,
    ],
    [OUTPUT.topicArn]: ['SNS topic of failures, rollbacks and alarms', stack.notifications.topic.topicArn],
    [OUTPUT.imagePipelineArn]: [
      'Worker image pipeline; rebuild by hand: npx external-worker rebuild --stack <stack>',
      stack.image.pipeline.attrArn,
    ],
    [OUTPUT.versionStateParameter]: [
      'SSM parameter holding the version check state (see docs/image.md)',
      runtimeParameters(config).versionState,
    ],
    [OUTPUT.currentAmiParameter]: [
      'SSM parameter holding the AMI the last successful rollout put in place',
      runtimeParameters(config).currentAmi,
    ],
    [OUTPUT.schedulerApiAddress]: [
      'Scheduler API whose /api/v1/info gives the Concourse version',
      config.schedulerApiAddress,
    ],
    [OUTPUT.retentionFunctionName]: [
      'AMI retention function; dry run: npx external-worker retention --dry-run --stack <stack>',
      stack.retention.function.functionName,
    ],
    [OUTPUT.retentionLogGroup]: [
      'Log group of the AMI retention function: one record a run, with what it deleted',
      stack.retention.logGroup.logGroupName,
    ],
    [OUTPUT.rolloutStateMachineArn]: [
      'State machine rolling new AMIs (and deploys) out to the workers',
      stack.rollout.stateMachine.stateMachineArn,
    ],
    [OUTPUT.launchStateMachineArn]: [
      'Launch gate of the workers (instance-launch)',
      stack.lifecycle.launch.stateMachine.stateMachineArn,
    ],
    [OUTPUT.drainStateMachineArn]: [
      'Drain of the workers (instance-drain)',
      stack.lifecycle.drain.stateMachine.stateMachineArn,
    ],
    [OUTPUT.alarmNames]: [
      'CloudWatch alarms of the stack, comma-separated',
      Fn.join(
        ',',
        stack.observability.alarms.map((alarm) => alarm.alarmName),
      ),
    ],
    [OUTPUT.keptInstanceTag]: ['Tag of the instances kept for debugging after a failed boot', TAG.kept],
  };
  for (const [id, [description, value]] of Object.entries(outputs))
    new CfnOutput(stack, id, { description, value });
}
