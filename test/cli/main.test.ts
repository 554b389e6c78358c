import {
  DescribeAutoScalingGroupsCommand,
  DescribeAutoScalingInstancesCommand,
  DetachInstancesCommand,
  TerminateInstanceInAutoScalingGroupCommand,
} from '@aws-sdk/client-auto-scaling';
import { DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { CreateTagsCommand, DescribeInstancesCommand } from '@aws-sdk/client-ec2';
import { SendCommandCommand } from '@aws-sdk/client-ssm';
import { EXIT } from '../../cli/errors';
import { USAGE } from '../../cli/main';
import { TAG } from '../../functions/lib/contract';
import { cli, GROUP, mockedClients, STACK } from './mocked';

const ID = 'i-0123456789abcdef0';
const HINT = 'run external-worker --help for the commands';

describe('command line', () => {
  test.each([
    [['status'], '--stack <name> is required'],
    [['statu', '--stack', STACK], 'unknown command: statu'],
    [['rollout', '--stack', STACK], 'unknown command: rollout'],
    [['status', '--dry-run', '--stack', STACK], 'status does not take --dry-run'],
    [['destroy', '--wait', '--stack', STACK], 'destroy does not take --wait'],
    [['keep', '--stack', STACK], 'keep needs one instance id'],
    [['status', 'extra', '--stack', STACK], 'status takes no argument (got extra)'],
    [['status', '--stak', STACK], "Unknown option '--stak'"],
    [[], 'no command given'],
  ])('%j is a usage error (exit code 2), before any AWS call', async (args, message) => {
    const { clients, mocks } = mockedClients();
    const { code, err } = await cli(clients, args);
    expect(code).toBe(EXIT.usage);
    expect(err).toEqual([`external-worker: ${message}`, HINT]);
    expect(mocks.cfn.calls()).toHaveLength(0);
  });

  test('--help prints the commands and the exit codes', async () => {
    const { clients } = mockedClients();
    const { code, out } = await cli(clients, ['--help']);
    expect(code).toBe(0);
    expect(out).toEqual([USAGE]);
    expect(USAGE).toContain('exit codes: 0 ok, 1 unexpected error, 2 usage, 3 stack not found');
  });

  test('AWS refusing the credentials is one line and exit code 7, no stack trace', async () => {
    const { clients, mocks } = mockedClients();
    mocks.cfn.on(DescribeStacksCommand).rejects(
      Object.assign(new Error('The security token included in the request is expired\n    at x (y.js:1)'), {
        name: 'ExpiredToken',
      }),
    );
    const { code, err } = await cli(clients, ['status', '--stack', STACK]);
    expect(code).toBe(EXIT.aws);
    expect(err).toEqual([
      'external-worker: AWS refused the request (ExpiredToken): The security token included in the request is expired',
    ]);
  });

  test('no credentials, or no region, say what to set: exit code 7', async () => {
    for (const [error, line] of [
      [
        Object.assign(new Error('Could not load credentials from any providers'), {
          name: 'CredentialsProviderError',
        }),
        'external-worker: no AWS credentials: Could not load credentials from any providers (set AWS_PROFILE, or log in with aws sso login)',
      ],
      [
        new Error('Region is missing'),
        'external-worker: no AWS region: set AWS_REGION (or a region in your AWS profile)',
      ],
    ] as const) {
      const { clients, mocks } = mockedClients();
      mocks.cfn.on(DescribeStacksCommand).rejects(error);
      expect(await cli(clients, ['status', '--stack', STACK])).toMatchObject({ code: EXIT.aws, err: [line] });
    }
  });

  test('an unexpected error is one line and exit code 1', async () => {
    const { clients, mocks } = mockedClients();
    mocks.autoscaling
      .on(DescribeAutoScalingInstancesCommand)
      .rejects(Object.assign(new Error('Internal failure'), { name: 'InternalFailure' }));
    mocks.ec2.on(DescribeInstancesCommand).resolves({});
    const { code, err } = await cli(clients, ['drain', ID, '--stack', STACK]);
    expect(code).toBe(EXIT.unexpected);
    expect(err).toEqual(['external-worker: InternalFailure: Internal failure']);
  });
});

function member(state: string) {
  return {
    AutoScalingInstances: [
      {
        InstanceId: ID,
        AutoScalingGroupName: GROUP,
        LifecycleState: state,
        AvailabilityZone: 'eu-west-1a',
        HealthStatus: 'HEALTHY',
        ProtectedFromScaleIn: false,
      },
    ],
  };
}
const running = { Reservations: [{ Instances: [{ InstanceId: ID, State: { Name: 'running' as const } }] }] };

describe('keep', () => {
  test('a worker still in the launch gate is tagged keeprunning=true, nothing else', async () => {
    const { clients, mocks } = mockedClients();
    mocks.autoscaling.on(DescribeAutoScalingInstancesCommand).resolves(member('Pending:Wait'));
    mocks.ec2.on(DescribeInstancesCommand).resolves(running);
    const { code, out } = await cli(clients, ['keep', ID, '--stack', STACK]);
    expect(code).toBe(0);
    expect(out).toEqual([
      `${ID} is still booting: tagged keeprunning=true, the launch gate keeps it if its boot fails`,
    ]);
    expect(mocks.ec2.commandCalls(CreateTagsCommand).map((c) => c.args[0].input)).toEqual([
      { Resources: [ID], Tags: [{ Key: TAG.keepRunning, Value: 'true' }] },
    ]);
    expect(mocks.autoscaling.commandCalls(DetachInstancesCommand)).toHaveLength(0);
  });

  test('an in-service worker: retire sent to it alone, then tagged, then detached without lowering the capacity', async () => {
    const { clients, mocks } = mockedClients();
    mocks.autoscaling.on(DescribeAutoScalingInstancesCommand).resolves(member('InService'));
    mocks.ec2.on(DescribeInstancesCommand).resolves(running);
    const { code } = await cli(clients, ['keep', ID, '--stack', STACK]);
    expect(code).toBe(0);
    expect(mocks.ssm.commandCalls(SendCommandCommand)[0]?.args[0].input).toMatchObject({
      DocumentName: 'AWS-RunShellScript',
      InstanceIds: [ID],
      Parameters: { commands: ['/usr/local/sbin/external-worker-retire'] },
    });
    expect(mocks.autoscaling.commandCalls(DetachInstancesCommand)[0]?.args[0].input).toEqual({
      AutoScalingGroupName: GROUP,
      InstanceIds: [ID],
      ShouldDecrementDesiredCapacity: false,
    });
  });

  test('a worker SSM cannot reach is left as it is: exit code 5', async () => {
    const { clients, mocks } = mockedClients();
    mocks.autoscaling.on(DescribeAutoScalingInstancesCommand).resolves(member('InService'));
    mocks.ec2.on(DescribeInstancesCommand).resolves(running);
    mocks.ssm
      .on(SendCommandCommand)
      .rejects(Object.assign(new Error('Instances not in a valid state'), { name: 'InvalidInstanceId' }));
    const { code, err } = await cli(clients, ['keep', ID, '--stack', STACK]);
    expect(code).toBe(EXIT.failed);
    expect(err).toEqual([
      `external-worker: cannot reach the worker of ${ID} through SSM (InvalidInstanceId): nothing changed`,
    ]);
    expect(mocks.ec2.commandCalls(CreateTagsCommand)).toHaveLength(0);
    expect(mocks.autoscaling.commandCalls(DetachInstancesCommand)).toHaveLength(0);
  });
});

describe('drain', () => {
  test('shows the drain through the terminate hook and the replacement through the launch gate', async () => {
    const { clients, mocks } = mockedClients();
    mocks.autoscaling.on(DescribeAutoScalingInstancesCommand).resolves(member('InService'));
    mocks.ec2.on(DescribeInstancesCommand).resolves(running);
    const NEW = 'i-0fedcba9876543210';
    const group = (...instances: Array<[string, string]>) => ({
      AutoScalingGroups: [
        {
          AutoScalingGroupName: GROUP,
          MinSize: 1,
          MaxSize: 6,
          DesiredCapacity: 1,
          DefaultCooldown: 300,
          AvailabilityZones: ['eu-west-1a'],
          HealthCheckType: 'EC2',
          CreatedTime: new Date(),
          Instances: instances.map(([InstanceId, LifecycleState]) => ({
            InstanceId,
            LifecycleState: LifecycleState as never,
            AvailabilityZone: 'eu-west-1a',
            HealthStatus: 'Healthy',
            ProtectedFromScaleIn: false,
          })),
        },
      ],
    });
    mocks.autoscaling
      .on(DescribeAutoScalingGroupsCommand)
      .resolvesOnce(group([ID, 'InService']))
      .resolvesOnce(group([ID, 'Terminating:Wait']))
      .resolvesOnce(group([ID, 'Terminating:Wait'], [NEW, 'Pending:Wait']))
      .resolvesOnce(group([ID, 'Terminating:Proceed'], [NEW, 'InService']))
      .resolves(group([NEW, 'InService']));
    const { code, out, err } = await cli(clients, ['drain', ID, '--stack', STACK]);
    expect(code).toBe(0);
    expect(
      mocks.autoscaling.commandCalls(TerminateInstanceInAutoScalingGroupCommand)[0]?.args[0].input,
    ).toEqual({
      InstanceId: ID,
      ShouldDecrementDesiredCapacity: false,
    });
    expect(err).toEqual([
      `      0s  ${ID} Terminating:Wait`,
      `     15s  ${ID} Terminating:Wait, replacement ${NEW} Pending:Wait`,
      `     30s  ${ID} Terminating:Proceed, replacement ${NEW} InService`,
      `     45s  ${ID} gone, replacement ${NEW} InService`,
    ]);
    expect(out.at(-1)).toBe(`${ID} drained and replaced`);
  });
});
