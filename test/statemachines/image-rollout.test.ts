import { DescribeAutoScalingGroupsCommand, StartInstanceRefreshCommand } from '@aws-sdk/client-auto-scaling';
import {
  CreateLaunchTemplateVersionCommand,
  CreateTagsCommand,
  DescribeImagesCommand,
  DescribeLaunchTemplateVersionsCommand,
  DescribeTagsCommand,
} from '@aws-sdk/client-ec2';
import type { ImagebuilderClient } from '@aws-sdk/client-imagebuilder';
import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import type { AwsClientStub } from 'aws-sdk-client-mock';
import { resolveCurrentAmi } from '../../functions/current-ami/resolve';
import { type LambdaHandler, runStateMachine, tasksNeverFaulted, withFaults } from '../support/asl-harness';
import { answerImageArchitecture } from '../support/image-architecture';
import { type Moto, startMoto } from '../support/moto';
import { resetSdkClients, throttleFirstCallOfEveryState } from '../support/sdk-adapter';
import {
  ALARMS,
  buildWorld,
  CURRENT_AMI_PARAMETER,
  GROUP,
  IMAGE_ARN,
  imageEvent,
  mockImageBuilder,
  RETENTION_ARN,
  RETENTION_ENV,
  RefreshService,
  STACK,
  type World,
} from './rollout-world';

let moto: Moto;
let retention: LambdaHandler;
beforeAll(async () => {
  moto = await startMoto();
  resetSdkClients();
  Object.assign(process.env, RETENTION_ENV);
  // The handler makes its clients at load: after moto is up.
  retention = (await import('../../functions/ami-retention/handler')).handler as LambdaHandler;
});
afterAll(async () => moto.stop());

let world: World;
let refreshes: RefreshService;
let imagebuilder: AwsClientStub<ImagebuilderClient>;
beforeEach(async () => {
  await moto.reset();
  world = await buildWorld(2);
  refreshes = new RefreshService();
  imagebuilder = mockImageBuilder(world.newAmi);
});
afterEach(() => {
  refreshes.mock.restore();
  imagebuilder.restore();
});

const run = (event: unknown, substitutions: Record<string, string> = {}) =>
  runStateMachine('image-rollout', event, {
    substitutions: { ...world.substitutions, ...substitutions },
    lambdas: { [RETENTION_ARN]: retention },
    executionName: 'rollout-0f1e2d3c',
  });

async function groupVersion(): Promise<string | undefined> {
  const { AutoScalingGroups = [] } = await world.asg.send(
    new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [GROUP] }),
  );
  return AutoScalingGroups[0]?.LaunchTemplate?.Version;
}

async function amiTags(ami: string): Promise<Record<string, string>> {
  const { Tags = [] } = await world.ec2.send(
    new DescribeTagsCommand({ Filters: [{ Name: 'resource-id', Values: [ami] }] }),
  );
  return Object.fromEntries(Tags.map((t) => [t.Key, t.Value]));
}

async function versionImage(version: string): Promise<string | undefined> {
  const { LaunchTemplateVersions = [] } = await world.ec2.send(
    new DescribeLaunchTemplateVersionsCommand({
      LaunchTemplateId: world.launchTemplateId,
      Versions: [version],
    }),
  );
  return LaunchTemplateVersions[0]?.LaunchTemplateData?.ImageId;
}

const published = (execution: { sdkCalls: Array<{ action: string; parameters: unknown }> }) =>
  execution.sdkCalls
    .filter((c) => c.action === 'publish')
    .map((c) => (c.parameters as { Subject: string; Message: string }).Subject);

const messages = (execution: { sdkCalls: Array<{ action: string; parameters: unknown }> }) =>
  execution.sdkCalls
    .filter((c) => c.action === 'publish')
    .map((c) => (c.parameters as { Message: string }).Message);

describe('image-rollout: a new image', () => {
  test('AVAILABLE: new explicit version, refresh, record, retention, notify', async () => {
    const execution = await run(world.event);
    expect(execution.status).toBe('SUCCEEDED');
    // Its outcome is what the flow metrics count.
    expect(execution.output).toMatchObject({ outcome: 'succeeded' });
    expect(refreshes.started).toHaveLength(1);
    expect(refreshes.started[0]).toEqual({
      AutoScalingGroupName: GROUP,
      Strategy: 'Rolling',
      DesiredConfiguration: { LaunchTemplate: { LaunchTemplateId: world.launchTemplateId, Version: '2' } },
      Preferences: {
        MinHealthyPercentage: 90,
        MaxHealthyPercentage: 190,
        InstanceWarmup: 120,
        SkipMatching: true,
        AutoRollback: true,
        // The canary: 10 % of the group (at least one instance), then its bake, then the rest.
        CheckpointPercentages: [10, 100],
        CheckpointDelay: 600,
        BakeTime: 600,
        AlarmSpecification: { Alarms: [ALARMS.launchesAbandoned, ALARMS.fleetBelowDesired] },
      },
    });
    expect(refreshes.refused).toEqual([]);
    expect(await versionImage('2')).toBe(world.newAmi);
    expect(await groupVersion()).toBe('2');
    expect(await amiTags(world.newAmi)).toMatchObject({
      'external-worker:image': IMAGE_ARN,
      'external-worker:rollout': 'rollout-0f1e2d3c',
      'external-worker:launch-template-version': '2',
    });
    expect(execution.lambdaCalls).toEqual([
      {
        functionArn: RETENTION_ARN,
        payload: { protectNewerThan: expect.any(String), protectAmis: [world.oldAmi] },
      },
    ]);
    expect(published(execution)).toEqual([`${STACK}: new AMI rolled out`]);

    // What the next deploy puts in the launch template: the AMI this rollout recorded.
    const ssm = new SSMClient({});
    const { Parameter } = await ssm.send(new GetParameterCommand({ Name: CURRENT_AMI_PARAMETER }));
    expect(Parameter?.Value).toBe(world.newAmi);
    const architecture = answerImageArchitecture(world.ec2);
    await expect(
      resolveCurrentAmi(
        { ssm, ec2: world.ec2 },
        { current: CURRENT_AMI_PARAMETER, stock: '/aws/stock', architecture: 'x86_64' },
      ),
    ).resolves.toEqual({ imageId: world.newAmi, source: 'rollout' });
    architecture.mockRestore();
  });

  test("the new AMI's snapshots get the stack's tags, which Image Builder gives the AMI only", async () => {
    const execution = await run(world.event);
    expect(execution.status).toBe('SUCCEEDED');
    const { Images = [] } = await world.ec2.send(new DescribeImagesCommand({ ImageIds: [world.newAmi] }));
    const snapshots = (Images[0]?.BlockDeviceMappings ?? []).map((m) => m.Ebs?.SnapshotId as string);
    expect(snapshots).toHaveLength(1);
    expect(await amiTags(snapshots[0] as string)).toEqual({
      'external-worker:stack': STACK,
      customer: 'acme',
      project: 'ew',
      env: 'test',
    });
    expect(execution.statesEntered).toContain('TagAmiSnapshots');
  });

  test('throttling at the first call of every Task, the retention included: the same rollout', async () => {
    const throttle = throttleFirstCallOfEveryState();
    const execution = await withFaults(throttle, () => run(world.event));
    expect([execution.status, execution.error, execution.cause]).toEqual(['SUCCEEDED', undefined, undefined]);
    expect(tasksNeverFaulted('image-rollout', execution, throttle.throttled)).toEqual([]);
    expect(throttle.throttled).toEqual(
      expect.arrayContaining([
        'image-rollout/StartRefreshPlain',
        'image-rollout/RecordCurrentAmi',
        'image-rollout/RunRetention',
      ]),
    );
    expect(refreshes.started).toHaveLength(1);
    expect(await groupVersion()).toBe('2');
    // Throttled PutParameter is retried: the next deploy resolves the new AMI, not the old one.
    const { Parameter } = await new SSMClient({}).send(
      new GetParameterCommand({ Name: CURRENT_AMI_PARAMETER }),
    );
    expect(Parameter?.Value).toBe(world.newAmi);
    expect([...new Set(published(execution))]).toEqual([`${STACK}: new AMI rolled out`]);
  });

  test.each([
    ['AVAILABLE', 'arn:aws:imagebuilder:eu-west-1:123456789012:image/ew-other-worker/1.0.0/2'],
    ['FAILED', 'arn:aws:imagebuilder:eu-west-1:123456789012:image/ew-test-worker-x/1.0.0/2'],
    ['AVAILABLE', 'arn:aws:imagebuilder:eu-west-1:999999999999:image/ew-test-worker/1.0.0/2'],
  ])('%s of an image of another pipeline (%s), started by hand: nothing done', async (status, arn) => {
    const event = structuredClone(world.event) as {
      resources: string[];
      detail: { state: { status: string } };
    };
    event.resources = [arn];
    event.detail.state.status = status;
    const execution = await run(event);
    expect([execution.status, execution.output]).toMatchObject(['SUCCEEDED', { outcome: 'skipped' }]);
    expect(execution.sdkCalls).toEqual([]);
    expect(execution.statesEntered).toEqual(['Route', 'NotForThisStateMachine']);
  });

  test('a group of one launches before it terminates', async () => {
    refreshes.mock.restore();
    imagebuilder.restore();
    await moto.reset();
    world = await buildWorld(1);
    refreshes = new RefreshService();
    imagebuilder = mockImageBuilder(world.newAmi);
    const execution = await run(world.event);
    expect(execution.status).toBe('SUCCEEDED');
    expect(refreshes.started[0]?.Preferences).toMatchObject({
      MinHealthyPercentage: 100,
      MaxHealthyPercentage: 200,
      BakeTime: 600,
    });
    // One instance is the whole group: it is the canary, baked at the end.
    expect(refreshes.started[0]?.Preferences?.CheckpointPercentages).toBeUndefined();
  });

  test('FAILED: notifies with the image and the reason, ends failed, touches nothing', async () => {
    const execution = await run(
      imageEvent('FAILED', 'Image test failed: VerifyConcourseBinary exited with 1'),
    );
    expect(execution.status).toBe('FAILED');
    expect(execution.error).toBe('ImageBuildFailed');
    expect(execution.sdkCalls.map((c) => c.action)).toEqual(['publish']);
    expect(messages(execution)[0]).toContain(IMAGE_ARN);
    expect(messages(execution)[0]).toContain('VerifyConcourseBinary exited with 1');
  });

  test.each(['BUILDING', 'TESTING', 'CANCELLED'])('%s never starts anything', async (status) => {
    const execution = await run(imageEvent(status));
    expect(execution.status).toBe('SUCCEEDED');
    expect(execution.sdkCalls).toEqual([]);
  });

  test('a refresh that fails and rolls back marks the AMI bad and says why', async () => {
    refreshes.script = ['InProgress', 'RollbackInProgress', 'RollbackSuccessful'];
    refreshes.failure = {
      StatusReason: 'Instance refresh failed: the new instances did not become healthy',
      RollbackDetails: { RollbackReason: 'Instance refresh failed', PercentageCompleteOnRollback: 50 },
    };
    const execution = await run(world.event);
    expect(execution.status).toBe('FAILED');
    expect(execution.error).toBe('RolloutFailed');
    expect(await amiTags(world.newAmi)).toMatchObject({ 'external-worker:bad': 'true' });
    expect(await groupVersion()).toBe('1');
    expect(execution.lambdaCalls).toEqual([]);
    expect(published(execution)).toEqual([`${STACK}: rollout failed, fleet rolled back`]);
    expect(messages(execution)[0]).toContain('RollbackSuccessful');
    expect(messages(execution)[0]).toContain('did not become healthy');
    await expect(
      new SSMClient({}).send(new GetParameterCommand({ Name: CURRENT_AMI_PARAMETER })),
    ).rejects.toThrow();

    // The same image again (a replayed event) is refused.
    const again = await run(world.event);
    expect(again.error).toBe('AmiMarkedBad');
    expect(refreshes.started).toHaveLength(1);
  });

  test('an AMI of another architecture than the instance types is refused before anything changes', async () => {
    // A build started before the types moved to Graviton: its amd64 AMI cannot boot on them.
    const execution = await run(world.event, { WorkerArchitecture: 'arm64' });
    expect(execution.status).toBe('FAILED');
    expect(execution.error).toBe('AmiOfAnotherArchitecture');
    expect(published(execution)).toEqual([`${STACK}: AMI refused (other architecture)`]);
    expect(messages(execution)[0]).toContain(
      `is built for x86_64, and the instance types of the fleet are arm64`,
    );
    expect(execution.sdkCalls.map((c) => c.action)).not.toContain('createLaunchTemplateVersion');
    expect(execution.sdkCalls.map((c) => c.action)).not.toContain('createTags');
    expect(refreshes.started).toEqual([]);
    expect(await groupVersion()).toBe('1');
    // Not marked bad: the AMI is good for the types it was built for.
    expect(await amiTags(world.newAmi)).not.toHaveProperty('external-worker:bad');

    // The same event again: refused again, still nothing changed.
    const again = await run(world.event, { WorkerArchitecture: 'arm64' });
    expect(again.error).toBe('AmiOfAnotherArchitecture');
    expect(again.sdkCalls.map((c) => c.action)).not.toContain('createLaunchTemplateVersion');
    expect(refreshes.started).toEqual([]);
    expect(await groupVersion()).toBe('1');
  });

  test('a refresh already running is waited for, never cancelled, then ours starts', async () => {
    refreshes.existing('InProgress', ['InProgress', 'InProgress', 'Successful']);
    const execution = await run(world.event);
    expect(execution.status).toBe('SUCCEEDED');
    expect(execution.statesEntered.filter((s) => s === 'WaitForOtherRefresh').length).toBeGreaterThanOrEqual(
      2,
    );
    expect(execution.sdkCalls.some((c) => c.action === 'cancelInstanceRefresh')).toBe(false);
    expect(refreshes.started).toHaveLength(1);
    expect(await groupVersion()).toBe('2');
  });

  test('a refresh started between the check and ours (InstanceRefreshInProgress) is waited for too', async () => {
    refreshes.raceOnce(['Successful']);
    const execution = await run(world.event);
    expect([execution.status, execution.cause]).toEqual(['SUCCEEDED', undefined]);
    expect(execution.statesEntered).toContain('WaitForOtherRefresh');
    expect(refreshes.mock.commandCalls(StartInstanceRefreshCommand)).toHaveLength(2);
    expect(refreshes.started).toHaveLength(1);
    expect(await groupVersion()).toBe('2');
  });

  test('the same event twice starts one refresh', async () => {
    const first = await run(world.event);
    const second = await run(world.event);
    expect([first.status, second.status]).toEqual(['SUCCEEDED', 'SUCCEEDED']);
    expect(second.statesEntered).toContain('AlreadyRolledOut');
    expect(second.output).toMatchObject({ outcome: 'skipped' });
    expect(refreshes.started).toHaveLength(1);
    expect(second.sdkCalls.some((c) => c.action === 'createLaunchTemplateVersion')).toBe(false);
  });

  test('the same event while the first refresh still runs joins it instead of starting another', async () => {
    // The first delivery got as far as its refresh: version 2, marked on the AMI, refresh running.
    await world.ec2.send(
      new CreateLaunchTemplateVersionCommand({
        LaunchTemplateId: world.launchTemplateId,
        LaunchTemplateData: { ImageId: world.newAmi },
      }),
    );
    await world.ec2.send(
      new CreateTagsCommand({
        Resources: [world.newAmi],
        Tags: [{ Key: 'external-worker:launch-template-version', Value: '2' }],
      }),
    );
    refreshes.existing('InProgress', ['InProgress'], {
      LaunchTemplate: { LaunchTemplateId: world.launchTemplateId, Version: '2' },
    });
    const second = await run(world.event);
    expect(second.status).toBe('SUCCEEDED');
    expect(second.statesEntered).toContain('ReuseVersion');
    expect(second.statesEntered).toContain('AlreadyRefreshing');
    expect(refreshes.started).toHaveLength(0);
    expect(second.sdkCalls.some((c) => c.action === 'createLaunchTemplateVersion')).toBe(false);
  });
});
