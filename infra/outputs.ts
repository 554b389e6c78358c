import { CfnOutput } from 'aws-cdk-lib';
import type { WorkerConfig } from './config';
import { runtimeParameters } from './names';
import type { ExternalWorkerStack } from './stack';

/** What an operator needs after a deploy: names and ARNs to act on the fleet and its control plane. */
export function addOutputs(stack: ExternalWorkerStack, config: WorkerConfig): void {
  const outputs: Record<string, [string, string]> = {
    WorkersSecurityGroupId: ['Security group of the workers', stack.fleet.securityGroup.attrGroupId],
    AutoScalingGroupName: ['Auto Scaling group of the workers', stack.fleet.groupName],
    WorkerLogGroup: [
      'CloudWatch Logs group of the workers (boot log, worker log, syslog)',
      stack.fleet.logGroup.logGroupName,
    ],
    NotificationTopicArn: ['SNS topic of failures, rollbacks and alarms', stack.notifications.topic.topicArn],
    ImagePipelineArn: [
      'Worker image pipeline; rebuild by hand: aws imagebuilder start-image-pipeline-execution --image-pipeline-arn <this>',
      stack.image.pipeline.attrArn,
    ],
    VersionStateParameter: [
      'SSM parameter holding the version check state (see docs/image.md)',
      runtimeParameters(config).versionState,
    ],
    ImageRolloutStateMachineArn: [
      'State machine rolling new AMIs (and deploys) out to the workers',
      stack.rollout.stateMachine.stateMachineArn,
    ],
    LaunchStateMachineArn: [
      'Launch gate of the workers (instance-launch)',
      stack.lifecycle.launch.stateMachine.stateMachineArn,
    ],
    DrainStateMachineArn: [
      'Drain of the workers (instance-drain)',
      stack.lifecycle.drain.stateMachine.stateMachineArn,
    ],
  };
  for (const [id, [description, value]] of Object.entries(outputs))
    new CfnOutput(stack, id, { description, value });
}
