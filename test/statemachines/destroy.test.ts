import {
  ActiveInstanceRefreshNotFoundFault,
  AutoScalingClient,
  CancelInstanceRefreshCommand,
  DeleteAutoScalingGroupCommand,
  ScalingActivityInProgressFault,
  UpdateAutoScalingGroupCommand,
} from '@aws-sdk/client-auto-scaling';
import {
  CloudFormationClient,
  DeleteStackCommand,
  DescribeStacksCommand,
} from '@aws-sdk/client-cloudformation';
import {
  CreateSnapshotCommand,
  CreateTagsCommand,
  CreateVolumeCommand,
  DeleteSnapshotCommand,
  DescribeImagesCommand,
  DescribeSnapshotsCommand,
  EC2Client,
} from '@aws-sdk/client-ec2';
import { DeleteImageCommand, ImagebuilderClient } from '@aws-sdk/client-imagebuilder';
import { mockClient } from 'aws-sdk-client-mock';
import { runStateMachine, tasksNeverFaulted, withFaults } from '../support/asl-harness';
import { type Moto, startMoto } from '../support/moto';
import { resetSdkClients, throttleFirstCallOfEveryState } from '../support/sdk-adapter';
import {
  buildWorld,
  ec2,
  GROUP,
  IMAGE_BUILDER_ARN,
  leftOf,
  OTHER,
  RULE,
  RUNTIME_PARAMETERS,
  SCHEDULE,
  STACK,
  stopWorkState,
  WORKER_KEY,
  type World,
} from './destroy-world';

// Captured before any mock: a call let through reaches moto.
const realAutoScalingSend = AutoScalingClient.prototype.send as (
  this: object,
  command: object,
) => Promise<unknown>;

// moto has no CloudFormation service roles, Image Builder or instance refresh: those calls are mocked.
function mocks() {
  const autoscaling = mockClient(AutoScalingClient);
  autoscaling.send.callThrough();
  return {
    cloudformation: mockClient(CloudFormationClient),
    imagebuilder: mockClient(ImagebuilderClient),
    autoscaling,
  };
}

let moto: Moto;
let world: World;
let stubs: ReturnType<typeof mocks>;

beforeAll(async () => {
  moto = await startMoto();
  resetSdkClients();
});
afterAll(async () => moto.stop());

async function snapshotsOf(imageId: string): Promise<string[]> {
  const { Images = [] } = await ec2().send(new DescribeImagesCommand({ ImageIds: [imageId] }));
  return Images.flatMap((i) => (i.BlockDeviceMappings ?? []).map((m) => m.Ebs?.SnapshotId as string));
}

const destroy = (input: unknown) => runStateMachine('destroy', input, { substitutions: world.substitutions });
const MUTATING = /^(update|disable|cancel|suspend|terminate|create|deregister|delete)/;

describe('destroy state machine', () => {
  beforeEach(async () => {
    await moto.reset();
    world = await buildWorld();
    stubs = mocks();
    stubs.cloudformation.on(DescribeStacksCommand).resolves({
      Stacks: [
        {
          StackName: STACK,
          StackStatus: 'UPDATE_COMPLETE',
          CreationTime: new Date(),
          RoleARN: 'arn:aws:iam::123456789012:role/cdk-hnb659fds-cfn-exec-role-123456789012-eu-west-1',
        },
      ],
    });
    stubs.cloudformation.on(DeleteStackCommand).resolves({});
    stubs.imagebuilder.on(DeleteImageCommand).resolves({});
    stubs.autoscaling.on(CancelInstanceRefreshCommand).rejects(
      new ActiveInstanceRefreshNotFoundFault({
        message: 'No in progress or pending Instance Refresh found',
        $metadata: {},
      }),
    );
  });
  afterEach(() => {
    for (const stub of Object.values(stubs)) stub.restore();
  });

  test('removes everything of the stack, keeps the rest, then deletes the stack', async () => {
    expect(world.groupInstanceIds).toHaveLength(2);
    expect(world.imageSnapshotIds).toHaveLength(2);
    const run = await destroy({ confirm: STACK });
    expect(run.error).toBeUndefined();
    expect(run.status).toBe('SUCCEEDED');

    const left = await leftOf(STACK);
    expect(left.instances).toEqual([]);
    expect(left.images).toEqual([]);
    expect(left.snapshots).toEqual(expect.not.arrayContaining(world.imageSnapshotIds));
    expect(left.parameters).toEqual([WORKER_KEY]);
    expect((await leftOf(OTHER)).instances).toEqual([world.otherInstanceId]);
    expect((await leftOf(OTHER)).images).toEqual([world.otherImageId]);
    expect(await stopWorkState()).toEqual({
      schedule: 'DISABLED',
      scheduleTarget: 'arn:aws:lambda:eu-west-1:123456789012:function:version-check',
      rule: 'DISABLED',
    });

    expect(stubs.imagebuilder.commandCalls(DeleteImageCommand).map((c) => c.args[0].input)).toEqual([
      { imageBuildVersionArn: IMAGE_BUILDER_ARN },
    ]);
    // No RoleARN: CloudFormation deletes with the service role the stack was deployed with.
    expect(stubs.cloudformation.commandCalls(DeleteStackCommand).map((c) => c.args[0].input)).toEqual([
      { StackName: STACK },
    ]);
    expect(run.sdkCalls.at(-1)?.action).toBe('deleteStack');

    const steps = [
      'DescribeStack',
      'DisableSchedules',
      'DisableRules',
      'CancelInstanceRefresh',
      'ScaleToZero',
      'EndKeptInstances',
      'DeleteImages',
      'DeleteSnapshots',
      'DeleteRuntimeParameters',
      'NotifyStackDeletion',
      'DeleteStack',
    ];
    expect(run.statesEntered.filter((s) => steps.includes(s))).toEqual(steps);

    expect(run.output).toMatchObject({
      stackName: STACK,
      dryRun: false,
      schedules: [{ name: SCHEDULE, result: 'disabled' }],
      rules: [{ name: RULE, result: 'disabled' }],
      instanceRefresh: { result: 'none in progress' },
      group: {
        name: GROUP,
        instanceIds: expect.arrayContaining(world.groupInstanceIds),
        endedAtDeadline: [],
      },
      keptInstances: { instanceIds: [world.keptInstanceId] },
      parameters: { names: expect.arrayContaining(RUNTIME_PARAMETERS) },
      stack: { name: STACK, result: 'deletion started' },
    });
    const output = run.output as {
      images: Array<Record<string, unknown>>;
      snapshots: Array<Record<string, unknown>>;
    };
    expect(output.images).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          imageId: world.imageIds[0],
          imageBuilderImage: IMAGE_BUILDER_ARN,
          result: 'deregistered',
        }),
        expect.objectContaining({
          imageId: world.imageIds[1],
          imageBuilderImage: 'none',
          result: 'deregistered',
        }),
      ]),
    );
    // Each AMI's own snapshots, deleted with it; none was left tagged by an earlier run.
    const ownSnapshots = output.images.flatMap((image) =>
      (image.snapshots as Array<{ snapshotId: string; result: string }>).map((s) => s.snapshotId),
    );
    expect(ownSnapshots.sort()).toEqual([...world.imageSnapshotIds].sort());
    expect(output.snapshots).toEqual([]);
  });

  test('deletes only snapshots of its AMIs or tagged with the stack before it began', async () => {
    const client = ec2();
    const volume = await client.send(new CreateVolumeCommand({ AvailabilityZone: 'eu-west-1a', Size: 1 }));
    const snapshot = (description: string) =>
      client.send(
        new CreateSnapshotCommand({ VolumeId: volume.VolumeId as string, Description: description }),
      );
    const unrelated = (await snapshot('an operator backup')).SnapshotId as string;
    const leftover = (await snapshot('left by an earlier destroy')).SnapshotId as string;
    await client.send(
      new CreateTagsCommand({
        Resources: [leftover],
        Tags: [{ Key: 'external-worker:stack', Value: STACK }],
      }),
    );
    const otherSnapshots = await snapshotsOf(world.otherImageId);

    const run = await destroy({ confirm: STACK });
    expect(run.status).toBe('SUCCEEDED');
    const left = (await leftOf(STACK)).snapshots;
    expect(left).toEqual(expect.arrayContaining([unrelated, ...otherSnapshots]));
    expect(left).not.toContain(leftover);
    expect(run.output).toMatchObject({ snapshots: [{ snapshotId: leftover, result: 'deleted' }] });
    // Nothing but this stack's AMIs' snapshots was tagged on the way.
    const tagged = run.sdkCalls
      .filter((c) => c.action === 'createTags')
      .flatMap((c) => (c.parameters as { Resources: string[] }).Resources);
    expect(tagged.sort()).toEqual([...world.imageSnapshotIds].sort());
  });

  test.each([
    ['dryRun first', { dryRun: true, confirm: STACK }],
    ['dryRun last', { confirm: STACK, dryRun: true }],
  ])('a dry run (%s) removes nothing and lists everything', async (_, input) => {
    const before = await leftOf(STACK);
    const run = await destroy(input);
    expect(run.status).toBe('SUCCEEDED');
    expect(run.sdkCalls.filter((c) => MUTATING.test(c.action))).toEqual([]);
    expect(await leftOf(STACK)).toEqual(before);
    expect(await stopWorkState()).toMatchObject({ schedule: 'ENABLED', rule: 'ENABLED' });

    expect(run.output).toMatchObject({
      dryRun: true,
      instanceRefresh: { result: 'would be cancelled, if one is in progress' },
      schedules: [{ name: SCHEDULE, result: 'would be disabled' }],
      rules: [{ name: RULE, result: 'would be disabled' }],
      group: { name: GROUP, instanceIds: expect.arrayContaining(world.groupInstanceIds) },
      keptInstances: { instanceIds: [world.keptInstanceId] },
      parameters: { names: expect.arrayContaining(RUNTIME_PARAMETERS) },
      stack: { name: STACK, result: 'would be deleted' },
    });
    const output = run.output as { images: Array<Record<string, unknown>> };
    expect(output.images).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          imageId: world.imageIds[0],
          snapshotIds: [expect.stringMatching(/^snap-/)],
          imageBuilderImage: IMAGE_BUILDER_ARN,
          result: 'would be deregistered',
        }),
        expect.objectContaining({ imageId: world.imageIds[1], result: 'would be deregistered' }),
      ]),
    );
  });

  test('with no instance refresh running (the usual case), nothing to cancel is not an error', async () => {
    const run = await destroy({ confirm: STACK });
    expect([run.status, run.error]).toEqual(['SUCCEEDED', undefined]);
    expect(stubs.autoscaling.commandCalls(CancelInstanceRefreshCommand)).toHaveLength(1);
    expect(run.statesEntered).toContain('NoRefreshInProgress');
    expect(run.output).toMatchObject({ instanceRefresh: { result: 'none in progress' } });
  });

  test('run twice: the second run finds nothing left and still succeeds', async () => {
    const first = await destroy({ confirm: STACK });
    const second = await destroy({ confirm: STACK });
    expect([first.status, second.status]).toEqual(['SUCCEEDED', 'SUCCEEDED']);
    expect(second.output).toMatchObject({
      schedules: [{ name: SCHEDULE, result: 'already disabled' }],
      rules: [{ name: RULE, result: 'already disabled' }],
      instanceRefresh: { result: 'none in progress' },
      keptInstances: { instanceIds: [] },
      images: [],
      snapshots: [],
      parameters: { names: [] },
    });
    expect(await leftOf(STACK)).toMatchObject({ instances: [], images: [], parameters: [WORKER_KEY] });
    expect((await leftOf(OTHER)).images).toEqual([world.otherImageId]);
  });

  test('ScalingActivityInProgress on the scale to zero is retried', async () => {
    const group = new AutoScalingClient({ region: 'eu-west-1' });
    stubs.autoscaling
      .on(UpdateAutoScalingGroupCommand)
      .rejectsOnce(
        new ScalingActivityInProgressFault({
          message: 'Scaling activity 1234 is in progress and blocks this action.',
          $metadata: {},
        }),
      )
      .callsFake((input) => realAutoScalingSend.call(group, new UpdateAutoScalingGroupCommand(input)));
    const run = await destroy({ confirm: STACK });
    expect([run.status, run.error]).toEqual(['SUCCEEDED', undefined]);
    expect(stubs.autoscaling.commandCalls(UpdateAutoScalingGroupCommand)).toHaveLength(2);
    expect((await leftOf(STACK)).instances).toEqual([]);
  });

  test('throttling at the first call of every Task: the same destroy', async () => {
    const throttle = throttleFirstCallOfEveryState();
    const run = await withFaults(throttle, () => destroy({ confirm: STACK }));
    expect([run.status, run.error, run.cause]).toEqual(['SUCCEEDED', undefined, undefined]);
    expect(tasksNeverFaulted('destroy', run, throttle.throttled)).toEqual([]);
    expect(throttle.throttled.length).toBeGreaterThan(15);
    const left = await leftOf(STACK);
    expect(left).toMatchObject({ instances: [], images: [], parameters: [WORKER_KEY] });
    expect(left.snapshots).toEqual(expect.not.arrayContaining(world.imageSnapshotIds));
    expect(stubs.cloudformation.commandCalls(DeleteStackCommand)).toHaveLength(1);
  });

  test('"dryRun": false is a real run', async () => {
    const run = await destroy({ confirm: STACK, dryRun: false });
    expect(run.status).toBe('SUCCEEDED');
    expect(run.output).toMatchObject({ dryRun: false, stack: { result: 'deletion started' } });
  });

  test('a run that failed half way is finished by running it again', async () => {
    const ec2 = mockClient(EC2Client);
    ec2.send.callThrough();
    ec2
      .on(DeleteSnapshotCommand)
      .rejects(Object.assign(new Error('You are not authorized'), { name: 'UnauthorizedOperation' }));
    let first: Awaited<ReturnType<typeof destroy>>;
    try {
      first = await destroy({ confirm: STACK });
    } finally {
      ec2.restore();
    }
    expect(first.status).toBe('FAILED');
    expect(first.error).toBe('Ec2.Ec2Exception');
    expect(first.cause).toContain('Error Code: UnauthorizedOperation');
    // The AMIs are handled 4 at a time: a failing one stops the Map, but calls of the others already
    // sent still land (as in AWS), so the failure is told after the first refused deletion, not
    // necessarily as the very last call.
    const refused = first.sdkCalls.findIndex((c) => c.service === 'ec2' && c.action === 'deleteSnapshot');
    const told = first.sdkCalls.findIndex((c) => c.service === 'sns' && c.action === 'publish');
    expect(refused).toBeGreaterThanOrEqual(0);
    expect(told).toBeGreaterThan(refused);
    expect(stubs.cloudformation.commandCalls(DeleteStackCommand)).toHaveLength(0);
    // An AMI deregistered, its snapshots not deleted: the stack tag, put on them first, leads to them.
    const half = await leftOf(STACK);
    expect(half.images.length).toBeLessThan(world.imageIds.length);
    const ec2Client = new EC2Client({});
    const { Images = [] } = half.images.length
      ? await ec2Client.send(new DescribeImagesCommand({ ImageIds: half.images as string[] }))
      : {};
    const ofRegistered = Images.flatMap((i) => (i.BlockDeviceMappings ?? []).map((m) => m.Ebs?.SnapshotId));
    const orphanable = world.imageSnapshotIds.filter(
      (id) => !ofRegistered.includes(id) && half.snapshots.includes(id),
    );
    const { Snapshots = [] } = await ec2Client.send(
      new DescribeSnapshotsCommand({ OwnerIds: ['self'], SnapshotIds: orphanable }),
    );
    for (const snapshot of Snapshots) {
      expect(snapshot.Tags).toEqual(expect.arrayContaining([{ Key: 'external-worker:stack', Value: STACK }]));
    }

    const second = await destroy({ confirm: STACK });
    expect(second.status).toBe('SUCCEEDED');
    const left = await leftOf(STACK);
    expect(left.snapshots).toEqual(expect.not.arrayContaining(world.imageSnapshotIds));
    expect(left).toMatchObject({ instances: [], images: [], parameters: [WORKER_KEY] });
    expect(second.output).toMatchObject({
      schedules: [{ name: SCHEDULE, result: 'already disabled' }],
      rules: [{ name: RULE, result: 'already disabled' }],
      keptInstances: { instanceIds: [] },
      images: [],
      stack: { result: 'deletion started' },
    });
    expect(stubs.cloudformation.commandCalls(DeleteStackCommand)).toHaveLength(1);
  });

  test('a group already deleted is skipped, and the rest still removed', async () => {
    await new AutoScalingClient({ region: 'eu-west-1' }).send(
      new DeleteAutoScalingGroupCommand({ AutoScalingGroupName: GROUP, ForceDelete: true }),
    );
    const run = await destroy({ confirm: STACK });
    expect(run.status).toBe('SUCCEEDED');
    expect(run.statesEntered).not.toContain('ScaleToZero');
    expect(run.output).toMatchObject({ instanceRefresh: { result: 'no group' }, group: { instanceIds: [] } });
    expect(await leftOf(STACK)).toMatchObject({ images: [], parameters: [WORKER_KEY] });
  });

  test('workers still there past the drain deadline are ended', async () => {
    const stuck = [{ InstanceId: world.groupInstanceIds[0], LifecycleState: 'Terminating:Wait' }];
    const run = await runStateMachine(
      'destroy',
      { confirm: STACK },
      {
        substitutions: world.substitutions,
        taskOverrides: { CountInstances: () => ({ AutoScalingGroups: [{ Instances: stuck }] }) },
      },
    );
    expect(run.status).toBe('SUCCEEDED');
    expect(run.statesEntered.filter((s) => s === 'CountInstances')).toHaveLength(4);
    expect(run.output).toMatchObject({ group: { endedAtDeadline: [world.groupInstanceIds[0]] } });
  });

  test('a stack without a service role is left to the operator, after everything else is removed', async () => {
    stubs.cloudformation.on(DescribeStacksCommand).resolves({
      Stacks: [{ StackName: STACK, StackStatus: 'CREATE_COMPLETE', CreationTime: new Date() }],
    });
    const dryRun = await destroy({ confirm: STACK, dryRun: true });
    expect(dryRun.output).toMatchObject({ stack: { result: expect.stringMatching(/^would be left: /) } });

    const run = await destroy({ confirm: STACK });
    expect(run.status).toBe('FAILED');
    expect(run.error).toBe('StackHasNoServiceRole');
    expect(run.cause).toContain(`aws cloudformation delete-stack --stack-name ${STACK}`);
    expect(stubs.cloudformation.commandCalls(DeleteStackCommand)).toHaveLength(0);
    expect(await leftOf(STACK)).toMatchObject({ instances: [], images: [], parameters: [WORKER_KEY] });
  });
});
