import { AutoScalingClient, CreateAutoScalingGroupCommand } from '@aws-sdk/client-auto-scaling';
import {
  CreateLaunchTemplateCommand,
  CreateLaunchTemplateVersionCommand,
  DescribeSnapshotsCommand,
  EC2Client,
  RunInstancesCommand,
} from '@aws-sdk/client-ec2';
import {
  DeleteImageCommand,
  ImagebuilderClient,
  ResourceNotFoundException,
} from '@aws-sdk/client-imagebuilder';
import { PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import { applyRetention } from '../../../functions/ami-retention/retention';
import { deregisterWithSnapshots } from '../../support/deregister-with-snapshots';
import { type Moto, startMoto } from '../../support/moto';
import { type Built, buildImage, remainingImages } from '../../support/moto-fleet';
import { STACK as STACK_NAMES } from '../../support/stack-names';

const STACK = STACK_NAMES.name;
const CURRENT = STACK_NAMES.parameters.currentAmi;
const OURS = 220;
const THEIRS = 20;
/** Hundreds of moto calls: sized by that work, with no deadline a loaded machine could miss. */
const MOTO_WORK = 900_000;

let moto: Moto;
let ec2: EC2Client;
let ssm: SSMClient;
let autoscaling: AutoScalingClient;
beforeAll(async () => {
  moto = await startMoto();
  ec2 = deregisterWithSnapshots(new EC2Client({}));
  autoscaling = new AutoScalingClient({});
  ssm = new SSMClient({});
});
afterAll(async () => moto.stop());

const build = (stack: string, n: number) => buildImage(ec2, stack, n);

test(
  'keeps the newest and every referenced AMI, deletes the rest with snapshots and Image Builder images',
  async () => {
    const ours: Built[] = [];
    for (let n = 0; n < OURS; n += 1) {
      // moto dates AMIs to the second: the newest three are built in a later second than the rest.
      if (n === OURS - 3) await new Promise((resolve) => setTimeout(resolve, 1100));
      ours.push(await build(STACK, n));
    }
    const theirs: Built[] = [];
    for (let n = 0; n < THEIRS; n += 1) theirs.push(await build('someone-else', n));
    const at = (n: number) => ours[n] as Built;

    const { LaunchTemplate } = await ec2.send(
      new CreateLaunchTemplateCommand({
        LaunchTemplateName: `${STACK}-worker`,
        LaunchTemplateData: { ImageId: at(10).id },
        TagSpecifications: [
          { ResourceType: 'launch-template', Tags: [{ Key: 'external-worker:stack', Value: STACK }] },
        ],
      }),
    );
    await ec2.send(
      new CreateLaunchTemplateVersionCommand({
        LaunchTemplateName: `${STACK}-worker`,
        LaunchTemplateData: { ImageId: at(20).id },
      }),
    );
    // Another template, not of this stack, does not hold an AMI of the stack.
    await ec2.send(
      new CreateLaunchTemplateCommand({
        LaunchTemplateName: 'unrelated',
        LaunchTemplateData: { ImageId: at(25).id },
      }),
    );
    const launchTemplateId = LaunchTemplate?.LaunchTemplateId as string;
    await autoscaling.send(
      new CreateAutoScalingGroupCommand({
        AutoScalingGroupName: `${STACK}-workers`,
        MinSize: 0,
        MaxSize: 1,
        DesiredCapacity: 0,
        AvailabilityZones: ['eu-west-1a'],
        LaunchTemplate: { LaunchTemplateId: launchTemplateId, Version: '1' },
      }),
    );
    await ec2.send(
      new RunInstancesCommand({
        ImageId: at(30).id,
        MinCount: 1,
        MaxCount: 1,
        TagSpecifications: [
          { ResourceType: 'instance', Tags: [{ Key: 'external-worker:stack', Value: STACK }] },
        ],
      }),
    );
    await ssm.send(new PutParameterCommand({ Name: CURRENT, Value: at(40).id, Type: 'String' }));

    const imagebuilder = mockClient(ImagebuilderClient);
    imagebuilder.on(DeleteImageCommand).resolves({});
    imagebuilder
      .on(DeleteImageCommand, { imageBuildVersionArn: at(0).arn })
      .rejects(new ResourceNotFoundException({ message: 'gone', $metadata: {} }));
    try {
      const clients = { ec2, autoscaling, ssm, imagebuilder: new ImagebuilderClient({}) };
      const settings = {
        stackName: STACK,
        launchTemplateId,
        groupName: `${STACK}-workers`,
        keep: 3,
        currentAmiParameter: CURRENT,
        pinnedAmiId: at(50).id,
        protectAmis: [at(60).id],
      };
      const runtime = { sleep: async () => undefined, now: () => 0 };

      const dry = await applyRetention(clients, { ...settings, dryRun: true }, runtime);
      expect(await remainingImages(ec2, STACK)).toHaveLength(OURS);
      expect(imagebuilder.commandCalls(DeleteImageCommand)).toHaveLength(0);

      const result = await applyRetention(clients, { ...settings, dryRun: false }, runtime);
      expect(result.deleted).toEqual(dry.deleted);

      const reasons = Object.fromEntries(result.kept.map((k) => [k.imageId, k.reason]));
      expect(reasons).toEqual({
        [at(OURS - 1).id]: 'newest',
        [at(OURS - 2).id]: 'newest',
        [at(OURS - 3).id]: 'newest',
        [at(10).id]: 'launch-template',
        [at(20).id]: 'launch-template',
        [at(30).id]: 'instance',
        [at(40).id]: 'current',
        [at(50).id]: 'pinned',
        [at(60).id]: 'rollback',
      });
      const keptIds = Object.keys(reasons).sort();
      expect(await remainingImages(ec2, STACK)).toEqual(keptIds);
      expect(await remainingImages(ec2, 'someone-else')).toEqual(theirs.map((t) => t.id).sort());
      expect(result.deleted).toHaveLength(OURS - keptIds.length);

      const { Snapshots = [] } = await ec2.send(new DescribeSnapshotsCommand({ OwnerIds: ['self'] }));
      const left = new Set(Snapshots.map((s) => s.SnapshotId));
      const deletedIds = new Set(result.deleted.map((d) => d.imageId));
      for (const image of [...ours, ...theirs]) {
        expect(image.snapshots.length).toBeGreaterThan(0);
        for (const snapshot of image.snapshots) expect(left.has(snapshot)).toBe(!deletedIds.has(image.id));
        for (const snapshot of image.volumeSnapshots) expect(left.has(snapshot)).toBe(true);
      }
      const imageBuilderDeletes = imagebuilder
        .commandCalls(DeleteImageCommand)
        .map((c) => c.args[0].input.imageBuildVersionArn);
      expect(imageBuilderDeletes.sort()).toEqual(result.deleted.map((d) => d.imageBuilderImage).sort());

      // Two versions, both among the newest four: none is deleted.
      expect(result.prunedVersions).toEqual([]);
      expect(result.keptVersions).toEqual([
        { version: 2, imageId: at(20).id, reason: 'latest' },
        { version: 1, imageId: at(10).id, reason: 'default' },
      ]);

      const again = await applyRetention(clients, { ...settings, dryRun: false }, runtime);
      expect(again.deleted).toEqual([]);
    } finally {
      imagebuilder.restore();
    }
  },
  MOTO_WORK,
);

test(
  'snapshots a deregistration left behind are swept by the next run, those of kept AMIs never',
  async () => {
    // The stack's AMIs alone in moto, the first test's gone.
    await moto.reset();
    const stack = STACK;
    const built: Built[] = [];
    for (let n = 0; n < 4; n += 1) {
      if (n === 2) await new Promise((resolve) => setTimeout(resolve, 1100));
      built.push(await build(stack, n));
    }
    // moto ignores DeleteAssociatedSnapshots: a plain client leaves the snapshots, as a run stopped
    // half-way or a snapshot EC2 could not delete would. When moto models it, this test says so.
    const plain = new EC2Client({});
    const imagebuilder = mockClient(ImagebuilderClient);
    imagebuilder.on(DeleteImageCommand).resolves({});
    try {
      const clients = { ec2: plain, autoscaling, ssm, imagebuilder: new ImagebuilderClient({}) };
      const settings = {
        stackName: stack,
        launchTemplateId: 'lt-0000000000000000f',
        groupName: `${stack}-workers`,
        keep: 2,
        currentAmiParameter: CURRENT,
        dryRun: false,
        protectAmis: [],
      };
      const runtime = { sleep: async () => undefined, now: () => 0 };
      const first = await applyRetention(clients, settings, runtime);
      const old = built.slice(0, 2);
      expect(first.deleted.map((d) => d.imageId).sort()).toEqual(old.map((b) => b.id).sort());
      const orphans = old.flatMap((b) => b.snapshots).sort();
      const existing = async () =>
        new Set(
          ((await plain.send(new DescribeSnapshotsCommand({ OwnerIds: ['self'] }))).Snapshots ?? []).map(
            (s) => s.SnapshotId,
          ),
        );
      for (const snapshot of orphans) expect((await existing()).has(snapshot)).toBe(true);

      const dry = await applyRetention(clients, { ...settings, dryRun: true }, runtime);
      expect(dry.sweptSnapshots.sort()).toEqual(orphans);
      const second = await applyRetention(clients, settings, runtime);
      expect(second.deleted).toEqual([]);
      expect(second.sweptSnapshots.sort()).toEqual(orphans);
      const left = await existing();
      for (const snapshot of orphans) expect(left.has(snapshot)).toBe(false);
      for (const snapshot of built.slice(2).flatMap((b) => b.snapshots))
        expect(left.has(snapshot)).toBe(true);
      expect((await applyRetention(clients, settings, runtime)).sweptSnapshots).toEqual([]);
    } finally {
      imagebuilder.restore();
    }
  },
  MOTO_WORK,
);
