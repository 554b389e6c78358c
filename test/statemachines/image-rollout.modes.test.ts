import {
  DescribeAutoScalingGroupsCommand,
  UpdateAutoScalingGroupCommand,
} from '@aws-sdk/client-auto-scaling';
import { CreateLaunchTemplateVersionCommand, CreateTagsCommand } from '@aws-sdk/client-ec2';
import type { ImagebuilderClient } from '@aws-sdk/client-imagebuilder';
import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import type { AwsClientStub } from 'aws-sdk-client-mock';
import { type LambdaHandler, runStateMachine } from '../support/asl-harness';
import { registerImage } from '../support/image-architecture';
import { type Moto, startMoto } from '../support/moto';
import { resetSdkClients } from '../support/sdk-adapter';
import {
  buildWorld,
  CURRENT_AMI_PARAMETER,
  GROUP,
  mockImageBuilder,
  RETENTION_ARN,
  RETENTION_ENV,
  RefreshService,
  type World,
} from './rollout-world';
import { mockAllThrottledOnce } from './throttle';

let moto: Moto;
let retention: LambdaHandler;
beforeAll(async () => {
  moto = await startMoto();
  resetSdkClients();
  Object.assign(process.env, RETENTION_ENV);
  retention = (await import('../../functions/ami-retention/handler')).handler as LambdaHandler;
});
afterAll(async () => moto.stop());

let world: World;
const restore: Array<{ restore(): void }> = [];
afterEach(() => {
  for (const mock of restore.splice(0)) mock.restore();
});

async function setUp(desired: number, options: { throttle?: boolean; mixed?: boolean } = {}) {
  await moto.reset();
  world = await buildWorld(desired, { mixed: options.mixed });
  if (options.throttle) restore.push(...mockAllThrottledOnce());
  const refreshes = new RefreshService({ throttleFirstCalls: options.throttle });
  const imagebuilder: AwsClientStub<ImagebuilderClient> = mockImageBuilder(world.newAmi, options.throttle);
  restore.push(refreshes.mock, imagebuilder);
  return refreshes;
}

const run = (
  event: unknown,
  options: { substitutions?: Record<string, string>; retention?: LambdaHandler } = {},
) =>
  runStateMachine('image-rollout', event, {
    substitutions: { ...world.substitutions, ...options.substitutions },
    lambdas: { [RETENTION_ARN]: options.retention ?? retention },
  });

async function groupVersion(): Promise<string | undefined> {
  const { AutoScalingGroups = [] } = await world.asg.send(
    new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [GROUP] }),
  );
  const group = AutoScalingGroups[0];
  return (group?.LaunchTemplate ?? group?.MixedInstancesPolicy?.LaunchTemplate?.LaunchTemplateSpecification)
    ?.Version;
}

const currentAmi = async () =>
  (await new SSMClient({}).send(new GetParameterCommand({ Name: CURRENT_AMI_PARAMETER }))).Parameter?.Value;

const messages = (execution: { sdkCalls: Array<{ action: string; parameters: unknown }> }) =>
  execution.sdkCalls
    .filter((c) => c.action === 'publish')
    .map((c) => (c.parameters as { Message: string }).Message);

const actions = (execution: { sdkCalls: Array<{ action: string }> }) =>
  execution.sdkCalls.map((c) => c.action);

describe('image-rollout: special fleets', () => {
  test('an empty group moves to the new version at once, without a refresh', async () => {
    const refreshes = await setUp(0);
    const execution = await run(world.event);
    expect(execution.status).toBe('SUCCEEDED');
    expect(refreshes.started).toEqual([]);
    expect(actions(execution)).toContain('updateAutoScalingGroup');
    expect(await groupVersion()).toBe('2');
    expect(await currentAmi()).toBe(world.newAmi);
    expect(execution.lambdaCalls).toHaveLength(1);
  });

  test.each([2, 0])(
    'a mixed instances group of %i moves through its mixed instances policy',
    async (desired) => {
      const refreshes = await setUp(desired, { mixed: true });
      const execution = await run(world.event);
      expect(execution.status).toBe('SUCCEEDED');
      const policy = {
        LaunchTemplate: {
          LaunchTemplateSpecification: { LaunchTemplateId: world.launchTemplateId, Version: '2' },
          Overrides: [{ InstanceType: 't3.micro' }, { InstanceType: 't3a.micro' }],
        },
        InstancesDistribution: expect.objectContaining({ OnDemandPercentageAboveBaseCapacity: 0 }),
      };
      if (desired > 0)
        expect(refreshes.started[0]?.DesiredConfiguration).toEqual({ MixedInstancesPolicy: policy });
      else expect(refreshes.started).toEqual([]);
      expect(await groupVersion()).toBe('2');
      expect(await currentAmi()).toBe(world.newAmi);
    },
  );

  test('a pinned workerAmiId: notified, nothing rolled out', async () => {
    const refreshes = await setUp(2);
    const execution = await run(world.event, { substitutions: { PinnedAmiId: 'ami-0123456789abcdef0' } });
    expect(execution.status).toBe('SUCCEEDED');
    expect(actions(execution)).toEqual(['publish']);
    expect(messages(execution)[0]).toContain('pinned, not rolled out');
    expect(refreshes.started).toEqual([]);
  });

  test('an AMI marked bad is refused before anything changes', async () => {
    const refreshes = await setUp(2);
    await world.ec2.send(
      new CreateTagsCommand({
        Resources: [world.newAmi],
        Tags: [{ Key: 'external-worker:bad', Value: 'true' }],
      }),
    );
    const execution = await run(world.event);
    expect(execution.error).toBe('AmiMarkedBad');
    expect(actions(execution)).not.toContain('createLaunchTemplateVersion');
    expect(refreshes.started).toEqual([]);
  });

  test('an image older than the fleet AMI (a late event) is not rolled out', async () => {
    const refreshes = await setUp(2);
    // AMI dates have a resolution of one second.
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const ImageId = await registerImage(world.ec2, { Name: 'newer', RootDeviceName: '/dev/xvda' });
    await world.ec2.send(
      new CreateLaunchTemplateVersionCommand({
        LaunchTemplateId: world.launchTemplateId,
        LaunchTemplateData: { ImageId },
      }),
    );
    await world.asg.send(
      new UpdateAutoScalingGroupCommand({
        AutoScalingGroupName: GROUP,
        LaunchTemplate: { LaunchTemplateId: world.launchTemplateId, Version: '2' },
      }),
    );
    const execution = await run(world.event);
    expect(execution.status).toBe('SUCCEEDED');
    expect(execution.statesEntered).toContain('OlderThanFleet');
    expect(refreshes.started).toEqual([]);
    expect(await groupVersion()).toBe('2');
  });

  test('throttling on every AWS call is retried and the rollout completes', async () => {
    const refreshes = await setUp(2, { throttle: true });
    let retentionCalls = 0;
    const execution = await run(world.event, {
      retention: async (event, context) => {
        retentionCalls += 1;
        if (retentionCalls === 1)
          throw Object.assign(new Error('Rate exceeded'), { name: 'Lambda.TooManyRequestsException' });
        return retention(event, context);
      },
    });
    expect([execution.status, execution.cause]).toEqual(['SUCCEEDED', undefined]);
    expect(execution.statesEntered).toContain('RolledOut');
    const calls = actions(execution);
    for (const action of [
      'getImage',
      'describeTags',
      'describeAutoScalingGroups',
      'describeLaunchTemplateVersions',
      'createTags',
      'createLaunchTemplateVersion',
      'describeInstanceRefreshes',
      'startInstanceRefresh',
      'modifyLaunchTemplate',
      'putParameter',
      'publish',
    ]) {
      expect({ action, retried: calls.filter((c) => c === action).length >= 2 }).toEqual({
        action,
        retried: true,
      });
    }
    expect(retentionCalls).toBe(2);
    expect(refreshes.started).toHaveLength(1);
    expect(await currentAmi()).toBe(world.newAmi);
  });
});

describe('image-rollout: after a deploy (config mode)', () => {
  const deploy = { source: 'deploy' };

  test('instances already on the group version: nothing to do', async () => {
    const refreshes = await setUp(2);
    const execution = await run(deploy);
    expect(execution.status).toBe('SUCCEEDED');
    expect(execution.statesEntered).toContain('InSync');
    expect(refreshes.started).toEqual([]);
  });

  test('a deploy that changed the launch configuration reaches running instances by a refresh', async () => {
    const refreshes = await setUp(2);
    // What CloudFormation does on such a deploy: a new version, the group pointed at it, no replacement.
    await world.ec2.send(
      new CreateLaunchTemplateVersionCommand({
        LaunchTemplateId: world.launchTemplateId,
        LaunchTemplateData: { ImageId: world.oldAmi, InstanceType: 't3.small' },
      }),
    );
    await world.asg.send(
      new UpdateAutoScalingGroupCommand({
        AutoScalingGroupName: GROUP,
        LaunchTemplate: { LaunchTemplateId: world.launchTemplateId, Version: '2' },
      }),
    );
    const execution = await run(deploy);
    expect(execution.status).toBe('SUCCEEDED');
    expect(refreshes.started).toHaveLength(1);
    expect(refreshes.started[0]?.DesiredConfiguration).toEqual({
      LaunchTemplate: { LaunchTemplateId: world.launchTemplateId, Version: '2' },
    });
    expect(refreshes.started[0]?.Preferences).toMatchObject({ SkipMatching: true, AutoRollback: true });
    expect(actions(execution)).not.toContain('putParameter');
    expect(execution.lambdaCalls).toEqual([]);

    // The same deploy event again: the refresh to that version exists, no second one.
    refreshes.refreshes[0]?.script.splice(0);
    Object.assign(refreshes.refreshes[0] ?? {}, { Status: 'InProgress' });
    await world.asg.send(
      new UpdateAutoScalingGroupCommand({
        AutoScalingGroupName: GROUP,
        LaunchTemplate: { LaunchTemplateId: world.launchTemplateId, Version: '2' },
      }),
    );
    const again = await run(deploy);
    expect(again.statesEntered).toContain('AlreadyRefreshing');
    expect(refreshes.started).toHaveLength(1);
  });

  test('a failed configuration refresh notifies and never marks an AMI bad', async () => {
    const refreshes = await setUp(2);
    refreshes.script = ['InProgress', 'Failed'];
    refreshes.failure = { StatusReason: 'Launch failed: InsufficientInstanceCapacity' };
    await world.ec2.send(
      new CreateLaunchTemplateVersionCommand({
        LaunchTemplateId: world.launchTemplateId,
        LaunchTemplateData: { ImageId: world.oldAmi },
      }),
    );
    await world.asg.send(
      new UpdateAutoScalingGroupCommand({
        AutoScalingGroupName: GROUP,
        LaunchTemplate: { LaunchTemplateId: world.launchTemplateId, Version: '2' },
      }),
    );
    const execution = await run(deploy);
    expect(execution.error).toBe('ConfigRolloutFailed');
    expect(actions(execution)).not.toContain('createTags');
    expect(messages(execution)[0]).toContain('InsufficientInstanceCapacity');
  });
});
