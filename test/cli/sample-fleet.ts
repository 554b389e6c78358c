import {
  AutoScalingClient,
  CreateAutoScalingGroupCommand,
  DescribeAutoScalingGroupsCommand,
} from '@aws-sdk/client-auto-scaling';
import { CloudFormationClient, CreateStackCommand } from '@aws-sdk/client-cloudformation';
import {
  CloudWatchClient,
  PutMetricAlarmCommand,
  PutMetricDataCommand,
  SetAlarmStateCommand,
} from '@aws-sdk/client-cloudwatch';
import {
  CloudWatchLogsClient,
  CreateLogGroupCommand,
  CreateLogStreamCommand,
  PutLogEventsCommand,
} from '@aws-sdk/client-cloudwatch-logs';
import {
  CreateLaunchTemplateCommand,
  CreateTagsCommand,
  EC2Client,
  RegisterImageCommand,
  RunInstancesCommand,
} from '@aws-sdk/client-ec2';
import { ImagebuilderClient } from '@aws-sdk/client-imagebuilder';
import { LambdaClient } from '@aws-sdk/client-lambda';
import {
  CreateStateMachineCommand,
  SFNClient,
  StartExecutionCommand,
  StopExecutionCommand,
} from '@aws-sdk/client-sfn';
import { PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import type { Clients } from '../../cli/clients';
import type { Io } from '../../cli/io';
import { LOG_RECORD, OUTPUT, TAG } from '../../functions/lib/contract';

export const STACK = 'external-worker-prod';
export const GROUP = `${STACK}-workers`;
export const RETENTION_FUNCTION = `${STACK}-ami-retention`;
export const RETENTION_LOG_GROUP = `${STACK}-ami-retention-logs`;
const ACCOUNT = '123456789012';
const imageArn = (build: string) =>
  `arn:aws:imagebuilder:eu-west-1:${ACCOUNT}:image/${STACK}-worker/${build}`;

/** SDK clients pointed at moto by the environment startMoto sets. */
export function motoClients(): Clients {
  return {
    cfn: new CloudFormationClient({}),
    autoscaling: new AutoScalingClient({}),
    ec2: new EC2Client({}),
    ssm: new SSMClient({}),
    sfn: new SFNClient({}),
    lambda: new LambdaClient({}),
    cloudwatch: new CloudWatchClient({}),
    logs: new CloudWatchLogsClient({}),
    imagebuilder: new ImagebuilderClient({}),
  };
}

/** What a command printed, and a clock that only moves when the command sleeps. */
export interface Captured extends Io {
  stdout: string[];
  stderr: string[];
  answers: string[];
}

export function capture(now: Date, answers: string[] = []): Captured {
  let clock = now.getTime();
  const io: Captured = {
    stdout: [],
    stderr: [],
    answers,
    out: (...lines) => void io.stdout.push(...lines),
    err: (...lines) => void io.stderr.push(...lines),
    ask: async (question) => {
      io.stderr.push(question);
      return io.answers.shift();
    },
    sleep: async (ms) => {
      clock += ms;
    },
    now: () => new Date(clock),
  };
  return io;
}

export interface SampleFleet {
  amis: { old: string; current: string; previous: string; stock: string };
  instances: string[];
  kept: string;
  launchTemplateId: string;
  machines: Record<'rollout' | 'launch' | 'drain' | 'destroy', string>;
  alarms: string[];
}

async function ami(ec2: EC2Client, name: string, tags: Record<string, string>): Promise<string> {
  const { ImageId } = await ec2.send(new RegisterImageCommand({ Name: name, RootDeviceName: '/dev/xvda' }));
  await ec2.send(
    new CreateTagsCommand({
      Resources: [ImageId as string],
      Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })),
    }),
  );
  return ImageId as string;
}

/**
 * A deployed stack as the CLI finds it: two workers in service on the current AMI, one kept
 * instance, the version check's state, state machines with a launch running and a past rollout,
 * three alarms (one firing), a retention run in the metrics, and the stack's outputs.
 */
export async function buildSampleFleet(clients: Clients, schedulerAddress: string): Promise<SampleFleet> {
  const { ec2 } = clients;
  const stackTag = { [TAG.stack]: STACK };
  const amis = {
    old: await ami(ec2, 'external-worker_worker_prod_1', {
      ...stackTag,
      [TAG.imageBuilder]: imageArn('1.0.0/1'),
    }),
    previous: await ami(ec2, 'external-worker_worker_prod_2', {
      ...stackTag,
      [TAG.imageBuilder]: imageArn('1.0.0/2'),
      [TAG.image]: imageArn('1.0.0/2'),
    }),
    current: await ami(ec2, 'external-worker_worker_prod_3', {
      ...stackTag,
      [TAG.imageBuilder]: imageArn('1.0.0/3'),
      [TAG.image]: imageArn('1.0.0/3'),
    }),
    stock: await ami(ec2, 'debian-12-amd64', {}),
  };
  const { LaunchTemplate } = await ec2.send(
    new CreateLaunchTemplateCommand({
      LaunchTemplateName: `${STACK}-workers`,
      LaunchTemplateData: { ImageId: amis.current, InstanceType: 'c5d.2xlarge' },
    }),
  );
  const launchTemplateId = LaunchTemplate?.LaunchTemplateId as string;
  await clients.autoscaling.send(
    new CreateAutoScalingGroupCommand({
      AutoScalingGroupName: GROUP,
      LaunchTemplate: { LaunchTemplateId: launchTemplateId, Version: '1' },
      MinSize: 1,
      MaxSize: 6,
      DesiredCapacity: 2,
      AvailabilityZones: ['eu-west-1a', 'eu-west-1b'],
      Tags: [{ Key: TAG.stack, Value: STACK, PropagateAtLaunch: true }],
    }),
  );
  const { AutoScalingGroups = [] } = await clients.autoscaling.send(
    new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [GROUP] }),
  );
  const instances = (AutoScalingGroups[0]?.Instances ?? []).map((i) => i.InstanceId as string);

  const { Instances = [] } = await ec2.send(
    new RunInstancesCommand({
      ImageId: amis.previous,
      MinCount: 1,
      MaxCount: 1,
      InstanceType: 'c5d.2xlarge',
      Placement: { AvailabilityZone: 'eu-west-1b' },
      TagSpecifications: [
        {
          ResourceType: 'instance',
          Tags: [
            { Key: TAG.stack, Value: STACK },
            { Key: TAG.kept, Value: 'boot failed: step concourse-worker: TSA refused the key' },
          ],
        },
      ],
    }),
  );
  const kept = Instances[0]?.InstanceId as string;

  await clients.ssm.send(
    new PutParameterCommand({
      Name: '/external-worker/prod/current-ami',
      Value: amis.current,
      Type: 'String',
    }),
  );
  await clients.ssm.send(
    new PutParameterCommand({
      Name: '/external-worker/prod/version-state',
      Type: 'String',
      Value: JSON.stringify({
        version: '7.11.2',
        attempt: 1,
        imageBuildVersionArn: imageArn('1.0.0/3'),
        startedAt: '2026-11-30T08:00:00.000Z',
        build: 'available',
        failures: 0,
        notified: false,
      }),
    }),
  );

  const machines = {} as SampleFleet['machines'];
  for (const [flow, name] of [
    ['rollout', 'image-rollout'],
    ['launch', 'instance-launch'],
    ['drain', 'instance-drain'],
    ['destroy', 'destroy'],
  ] as const) {
    const { stateMachineArn } = await clients.sfn.send(
      new CreateStateMachineCommand({
        name: `${STACK}-${name}`,
        roleArn: `arn:aws:iam::${ACCOUNT}:role/${name}`,
        definition: JSON.stringify({ StartAt: 'Done', States: { Done: { Type: 'Succeed' } } }),
      }),
    );
    machines[flow] = stateMachineArn as string;
  }
  const rollout = await clients.sfn.send(
    new StartExecutionCommand({ stateMachineArn: machines.rollout, name: 'image-1-0-0-3', input: '{}' }),
  );
  await clients.sfn.send(new StopExecutionCommand({ executionArn: rollout.executionArn }));
  await clients.sfn.send(
    new StartExecutionCommand({ stateMachineArn: machines.launch, name: 'launch-i-0new', input: '{}' }),
  );

  const alarms = [`${STACK}-RolloutExecutionsFailed`, `${STACK}-DeadLetters`, `${STACK}-BelowDesired`];
  for (const name of alarms)
    await clients.cloudwatch.send(
      new PutMetricAlarmCommand({
        AlarmName: name,
        AlarmDescription:
          name === `${STACK}-BelowDesired`
            ? 'The group stayed below its desired capacity for 30 minutes'
            : name,
        MetricName: 'Whatever',
        Namespace: 'ExternalWorker',
        Statistic: 'Sum',
        Period: 300,
        EvaluationPeriods: 1,
        Threshold: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      }),
    );
  await clients.cloudwatch.send(
    new SetAlarmStateCommand({
      AlarmName: `${STACK}-BelowDesired`,
      StateValue: 'ALARM',
      StateReason: 'Threshold crossed',
    }),
  );
  await deployStack(clients.cfn, {
    [OUTPUT.groupName]: GROUP,
    [OUTPUT.launchTemplateId]: launchTemplateId,
    [OUTPUT.imagePipelineArn]: `arn:aws:imagebuilder:eu-west-1:${ACCOUNT}:image-pipeline/${STACK}-worker`,
    [OUTPUT.versionStateParameter]: '/external-worker/prod/version-state',
    [OUTPUT.currentAmiParameter]: '/external-worker/prod/current-ami',
    [OUTPUT.schedulerApiAddress]: schedulerAddress,
    [OUTPUT.retentionFunctionName]: RETENTION_FUNCTION,
    [OUTPUT.retentionLogGroup]: RETENTION_LOG_GROUP,
    [OUTPUT.topicArn]: `arn:aws:sns:eu-west-1:${ACCOUNT}:${STACK}-notifications`,
    [OUTPUT.keptInstanceTag]: TAG.kept,
    [OUTPUT.rolloutStateMachineArn]: machines.rollout,
    [OUTPUT.launchStateMachineArn]: machines.launch,
    [OUTPUT.drainStateMachineArn]: machines.drain,
    [OUTPUT.destroyStateMachineArn]: machines.destroy,
    [OUTPUT.alarmNames]: alarms.join(','),
  });
  return { amis, instances, kept, launchTemplateId, machines, alarms };
}

/**
 * What depends on the time the test reads the fleet at: since when the instance is kept and until
 * when, and a retention run three hours before.
 */
export async function addDatedFacts(clients: Clients, fleet: SampleFleet, now: Date): Promise<void> {
  await clients.ec2.send(
    new CreateTagsCommand({
      Resources: [fleet.kept],
      Tags: [
        { Key: TAG.keptSince, Value: new Date(now.getTime() - 5 * 3600_000).toISOString() },
        { Key: TAG.keptUntil, Value: new Date(now.getTime() + 19 * 3600_000).toISOString() },
      ],
    }),
  );
  const retentionAt = new Date(now.getTime() - 3 * 3600_000);
  await clients.cloudwatch.send(
    new PutMetricDataCommand({
      Namespace: 'AWS/Lambda',
      MetricData: [
        {
          MetricName: 'Invocations',
          Dimensions: [{ Name: 'FunctionName', Value: RETENTION_FUNCTION }],
          Timestamp: retentionAt,
          Value: 1,
        },
        {
          MetricName: 'Errors',
          Dimensions: [{ Name: 'FunctionName', Value: RETENTION_FUNCTION }],
          Timestamp: retentionAt,
          Value: 0,
        },
      ],
    }),
  );
  // The run's record as the function logs it (JSON log format), beside a dry run's, which counts nothing.
  const logStreamName = '2026/12/01/[$LATEST]0123456789abcdef';
  await clients.logs.send(new CreateLogGroupCommand({ logGroupName: RETENTION_LOG_GROUP }));
  await clients.logs.send(new CreateLogStreamCommand({ logGroupName: RETENTION_LOG_GROUP, logStreamName }));
  const record = (at: Date, fields: Record<string, unknown>) => ({
    timestamp: at.getTime(),
    message: JSON.stringify({
      level: 'INFO',
      message: LOG_RECORD.retentionDone,
      timestamp: at.toISOString(),
      ...fields,
    }),
  });
  await clients.logs.send(
    new PutLogEventsCommand({
      logGroupName: RETENTION_LOG_GROUP,
      logStreamName,
      logEvents: [
        record(new Date(retentionAt.getTime() - 60_000), { dryRun: true, kept: 3, deleted: ['ami-0a'] }),
        record(retentionAt, {
          dryRun: false,
          amisDeleted: 2,
          snapshotsDeleted: 3,
          versionsDeleted: 1,
          kept: 3,
          deleted: ['ami-0a', 'ami-0b'],
        }),
      ],
    }),
  );
}

/** A CloudFormation stack in moto whose outputs are these values. */
export async function deployStack(
  cfn: CloudFormationClient,
  outputs: Record<string, string>,
  name = STACK,
): Promise<void> {
  await cfn.send(
    new CreateStackCommand({
      StackName: name,
      TemplateBody: JSON.stringify({
        Resources: { Placeholder: { Type: 'AWS::CloudFormation::WaitConditionHandle' } },
        Outputs: Object.fromEntries(Object.entries(outputs).map(([key, Value]) => [key, { Value }])),
      }),
    }),
  );
}
