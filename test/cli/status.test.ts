import * as fs from 'node:fs';
import * as path from 'node:path';
import { DescribeAutoScalingGroupsCommand } from '@aws-sdk/client-auto-scaling';
import { DescribeAlarmsCommand, GetMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { FilterLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { DescribeImagesCommand, DescribeInstancesCommand, type Instance } from '@aws-sdk/client-ec2';
import { ListExecutionsCommand } from '@aws-sdk/client-sfn';
import { GetParameterCommand } from '@aws-sdk/client-ssm';
import { run } from '../../cli/main';
import { LOG_RECORD, TAG } from '../../functions/lib/contract';
import {
  GROUP,
  MACHINES,
  mockedClients,
  OUTPUTS,
  RETENTION_FUNCTION,
  RETENTION_LOG_GROUP,
  STACK,
} from './mocked';
import { capture } from './sample-fleet';

const now = new Date('2026-12-01T12:00:00Z');
const ago = (minutes: number) => new Date(now.getTime() - minutes * 60_000);
const image = (build: string) => `arn:aws:imagebuilder:eu-west-1:123456789012:image/${STACK}-worker/${build}`;
const AMI = { current: 'ami-0c1d2e3f405162738', previous: 'ami-0b1c2d3e4f5061728' };
const WORKERS = ['i-0a1b2c3d4e5f60718', 'i-0b2c3d4e5f6071829', 'i-0c3d4e5f60718293a'] as const;
const KEPT = 'i-0d4e5f60718293a4b';

/** The fleet the README shows: three workers (one booting), a kept one, a scheduler ahead of the fleet. */
function sampleFleet() {
  const world = mockedClients();
  const { mocks } = world;
  mocks.ssm.on(GetParameterCommand, { Name: '/external-worker/prod/current-ami' }).resolves({
    Parameter: { Value: AMI.current },
  });
  mocks.ssm.on(GetParameterCommand, { Name: '/external-worker/prod/version-state' }).resolves({
    Parameter: {
      Value: JSON.stringify({
        version: '7.11.2',
        attempt: 1,
        imageBuildVersionArn: image('1.0.0/3'),
        startedAt: '2026-11-30T08:20:00.000Z',
        build: 'available',
        failures: 0,
        notified: false,
      }),
    },
  });
  const members: Array<[string, string, string]> = [
    [WORKERS[0], 'eu-west-1a', 'InService'],
    [WORKERS[1], 'eu-west-1b', 'InService'],
    [WORKERS[2], 'eu-west-1c', 'Pending:Wait'],
  ];
  mocks.autoscaling.on(DescribeAutoScalingGroupsCommand, { AutoScalingGroupNames: [GROUP] }).resolves({
    AutoScalingGroups: [
      {
        AutoScalingGroupName: GROUP,
        MinSize: 1,
        MaxSize: 6,
        DesiredCapacity: 3,
        DefaultCooldown: 300,
        AvailabilityZones: ['eu-west-1a', 'eu-west-1b', 'eu-west-1c'],
        HealthCheckType: 'EC2',
        CreatedTime: ago(60 * 24 * 30),
        LaunchTemplate: { LaunchTemplateId: 'lt-0123456789abcdef0', Version: '7' },
        Instances: members.map(([InstanceId, AvailabilityZone, LifecycleState]) => ({
          InstanceId,
          AvailabilityZone,
          LifecycleState: LifecycleState as never,
          HealthStatus: 'Healthy',
          ProtectedFromScaleIn: false,
          LaunchTemplate: { LaunchTemplateId: 'lt-0123456789abcdef0', Version: '7' },
        })),
      },
    ],
  });
  const ec2Instance = (id: string, minutes: number, spot: boolean, imageId: string): Instance => ({
    InstanceId: id,
    ImageId: imageId,
    LaunchTime: ago(minutes),
    ...(spot ? { InstanceLifecycle: 'spot' as const } : {}),
    State: { Name: 'running' },
  });
  mocks.ec2.on(DescribeInstancesCommand, { InstanceIds: [...WORKERS] }).resolves({
    Reservations: [
      {
        Instances: [
          ec2Instance(WORKERS[0], 192, true, AMI.current),
          ec2Instance(WORKERS[1], 192, false, AMI.current),
          ec2Instance(WORKERS[2], 2, true, AMI.current),
        ],
      },
    ],
  });
  mocks.ec2
    .on(DescribeInstancesCommand, {
      Filters: [
        { Name: `tag:${TAG.stack}`, Values: [STACK] },
        { Name: 'tag-key', Values: [TAG.kept] },
        { Name: 'instance-state-name', Values: ['pending', 'running', 'stopping', 'stopped'] },
      ],
    })
    .resolves({
      Reservations: [
        {
          Instances: [
            {
              ...ec2Instance(KEPT, 320, true, AMI.previous),
              Placement: { AvailabilityZone: 'eu-west-1b' },
              Tags: [
                { Key: TAG.stack, Value: STACK },
                { Key: TAG.kept, Value: 'boot failed: step concourse-worker: TSA refused the key' },
                { Key: TAG.keptSince, Value: ago(300).toISOString() },
              ],
            },
          ],
        },
      ],
    });
  const ami = (ImageId: string, build: string) => ({
    Images: [
      {
        ImageId,
        State: 'available' as const,
        Tags: [
          { Key: TAG.stack, Value: STACK },
          { Key: TAG.imageBuilder, Value: image(build) },
          { Key: TAG.image, Value: image(build) },
        ],
      },
    ],
  });
  mocks.ec2.on(DescribeImagesCommand, { ImageIds: [AMI.current] }).resolves(ami(AMI.current, '1.0.0/3'));
  mocks.ec2.on(DescribeImagesCommand, { ImageIds: [AMI.previous] }).resolves(ami(AMI.previous, '1.0.0/2'));
  mocks.sfn.on(ListExecutionsCommand).resolves({ executions: [] });
  mocks.sfn
    .on(ListExecutionsCommand, { stateMachineArn: MACHINES.launch, statusFilter: 'RUNNING' })
    .resolves({
      executions: [
        {
          executionArn: `${MACHINES.launch}:launch-${WORKERS[2]}`,
          stateMachineArn: MACHINES.launch,
          name: `launch-${WORKERS[2]}`,
          status: 'RUNNING',
          startDate: ago(2),
        },
      ],
    });
  mocks.sfn.on(ListExecutionsCommand, { stateMachineArn: MACHINES.rollout, maxResults: 10 }).resolves({
    executions: [
      {
        executionArn: `${MACHINES.rollout}:image-1-0-0-3`,
        stateMachineArn: MACHINES.rollout,
        name: 'image-1-0-0-3',
        status: 'SUCCEEDED',
        startDate: new Date('2026-11-30T09:00:00Z'),
        stopDate: new Date('2026-11-30T09:14:00Z'),
      },
    ],
  });
  const at3 = [new Date('2026-12-01T03:00:00Z')];
  mocks.cloudwatch.on(GetMetricDataCommand).resolves({
    MetricDataResults: [
      { Id: 'invocations', Timestamps: at3, Values: [1] },
      { Id: 'errors', Timestamps: at3, Values: [0] },
    ],
  });
  // The run's record, 12 minutes into the hour; a dry run's record counts nothing.
  const record = (minutes: number, fields: Record<string, unknown>) => ({
    timestamp: Date.parse('2026-12-01T03:00:00Z') + minutes * 60_000,
    message: JSON.stringify({ level: 'INFO', message: LOG_RECORD.retentionDone, ...fields }),
  });
  mocks.logs.on(FilterLogEventsCommand).resolves({
    events: [
      record(5, { dryRun: true, kept: 3 }),
      record(12, { dryRun: false, amisDeleted: 2, snapshotsDeleted: 3, versionsDeleted: 1, kept: 3 }),
    ],
  });
  mocks.cloudwatch.on(DescribeAlarmsCommand).resolves({
    MetricAlarms: Array.from({ length: 11 }, (_, i) =>
      i === 4
        ? {
            AlarmName: `${STACK}-BelowDesired-1X2Y3Z`,
            AlarmDescription: 'The group stayed below its desired capacity for 30 minutes',
            StateValue: 'ALARM' as const,
            StateUpdatedTimestamp: ago(20),
          }
        : { AlarmName: `${STACK}-Alarm${i}`, StateValue: 'OK' as const },
    ),
  });
  return world;
}

const readmeSample = () => {
  const readme = fs.readFileSync(path.join(__dirname, '..', '..', 'README.md'), 'utf8');
  const block = readme.split('`status` on a sample fleet:\n\n```\n')[1]?.split('\n```')[0];
  return block?.split('\n');
};

test('status of the README sample fleet is the text the README shows', async () => {
  const { clients, mocks } = sampleFleet();
  const io = capture(now);
  const code = await run(['status', '--stack', STACK], {
    clients: () => clients,
    io,
    scheduler: async () => ({ ok: true, version: '7.12.0' }),
  });
  expect(io.stderr).toEqual([]);
  expect(code).toBe(0);
  expect(io.stdout).toEqual(readmeSample());
  // The alarms are the stack's, by the names its output lists; the retention's metrics are its function's.
  expect(mocks.cloudwatch.commandCalls(DescribeAlarmsCommand)[0]?.args[0].input.AlarmNames).toEqual(
    OUTPUTS.AlarmNames?.split(','),
  );
  const queries =
    mocks.cloudwatch.commandCalls(GetMetricDataCommand)[0]?.args[0].input.MetricDataQueries ?? [];
  expect(queries[0]?.MetricStat?.Metric?.Dimensions).toEqual([
    { Name: 'FunctionName', Value: RETENTION_FUNCTION },
  ]);
  expect(mocks.logs.commandCalls(FilterLogEventsCommand)[0]?.args[0].input).toMatchObject({
    logGroupName: RETENTION_LOG_GROUP,
    filterPattern: `"${LOG_RECORD.retentionDone}"`,
  });
});

test('status reads only: no call that changes anything', async () => {
  const { clients, mocks } = sampleFleet();
  const code = await run(['status', '--json', '--stack', STACK], {
    clients: () => clients,
    io: capture(now),
    scheduler: async () => ({ ok: true, version: '7.12.0' }),
  });
  expect(code).toBe(0);
  const names = Object.values(mocks).flatMap((mock) =>
    mock.calls().map((call) => call.args[0].constructor.name),
  );
  expect(names.filter((name) => !/^(Describe|Get|List|Filter)/.test(name))).toEqual([]);
});
