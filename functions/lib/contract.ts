/**
 * Names shared by the stack (infra/), its functions and state machines, and the operator CLI
 * (cli/): tags, run-time parameter names, the worker's commands and the stack outputs. Plain
 * constants only, so that the CLI can import them without the CDK.
 */

/** Tags the control plane reads or writes at run time. */
export const TAG = {
  /** On every resource of the stack, and on what its functions create (AMIs, instances). */
  stack: 'external-worker:stack',
  /** On an instance kept for debugging, out of the group: why it was kept. */
  kept: 'external-worker:kept',
  /** On a kept instance: when it was kept (ISO-8601). */
  keptSince: 'external-worker:kept-since',
  /** On a kept instance whose stay is bounded: when it is ended (ISO-8601). */
  keptUntil: 'external-worker:kept-until',
  /** On a kept instance: the kept-until its end was announced for (the warning is sent once). */
  keptWarned: 'external-worker:kept-warned',
  /** On an instance (or its group): keep it for debugging if its boot fails. */
  keepRunning: 'keeprunning',
  /** On an AMI whose rollout failed: never rolled out again automatically. */
  badAmi: 'external-worker:bad',
  /** On an AMI the rollout rolled out: the Image Builder image it came from. */
  image: 'external-worker:image',
  /** Set by Image Builder on the AMIs it distributes: the image build version ARN. */
  imageBuilder: 'Ec2ImageBuilderArn',
  /** Set by EC2 on every instance launched from a launch template. */
  launchTemplateVersion: 'aws:ec2launchtemplate:version',
} as const;

/** Names (under `/<project>/<env>`) of the SSM parameters the control plane writes at run time. */
export const RUNTIME_PARAMETER = {
  currentAmi: 'current-ami',
  versionState: 'version-state',
  buildVersion: 'build-version',
  spotFallback: 'spot-fallback',
} as const;

/** On the worker image: retires the Concourse worker (SIGUSR2) and returns at once. */
export const RETIRE_COMMAND = '/usr/local/sbin/external-worker-retire';

/** Keys of the stack outputs: what an operator (and the CLI) finds the fleet's resources by. */
export const OUTPUT = {
  securityGroupId: 'WorkersSecurityGroupId',
  groupName: 'AutoScalingGroupName',
  launchTemplateId: 'LaunchTemplateId',
  logGroup: 'WorkerLogGroup',
  topicArn: 'NotificationTopicArn',
  imagePipelineArn: 'ImagePipelineArn',
  versionStateParameter: 'VersionStateParameter',
  currentAmiParameter: 'CurrentAmiParameter',
  schedulerApiAddress: 'SchedulerApiAddress',
  retentionFunctionName: 'RetentionFunctionName',
  retentionLogGroup: 'RetentionLogGroup',
  rolloutStateMachineArn: 'ImageRolloutStateMachineArn',
  launchStateMachineArn: 'LaunchStateMachineArn',
  drainStateMachineArn: 'DrainStateMachineArn',
  destroyStateMachineArn: 'DestroyStateMachineArn',
  alarmNames: 'AlarmNames',
  keptInstanceTag: 'KeptInstanceTag',
} as const;

/**
 * Messages of the log records that the dashboard's queries and the CLI read: what a person reads
 * and no alarm needs is a field of a record, not a billed custom metric.
 */
export const LOG_RECORD = {
  /** Every version check: scheduler, built and fleet versions, whether the fleet is behind. */
  versionChecked: 'version checked',
  /** Every Spot warning or rebalance recommendation for an instance of the group, with its outcome. */
  spotEventHandled: 'spot event handled',
  /** Every AMI retention run: what it deleted (counts and ids) and kept. */
  retentionDone: 'AMI retention done',
  /** Every kept-instance expiry run: how many kept instances there are, how many outlived their end. */
  keptExpiryDone: 'kept instance expiry done',
  /** Every Spot fallback decision: a Spot launch failure or a check, the episode's phase, what was done. */
  spotFallback: 'spot fallback',
} as const;

/**
 * The group's failed launches that name Spot, as the Spot fallback's rule matches them (EventBridge
 * wildcard patterns on StatusMessage, case-sensitive): the rule's own AWS/Events metrics then count
 * Spot launch failures. The function reads the message itself (functions/spot-fallback/events.ts).
 * https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-create-pattern-operators.html#eb-filtering-wildcard-matching
 */
export const SPOT_LAUNCH_FAILURE = {
  detailType: 'EC2 Instance Launch Unsuccessful',
  statusMessageWildcards: ['*Spot*', '*spot*', '*UnfulfillableCapacity*'],
} as const;
