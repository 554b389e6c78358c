import {
  CreateLaunchTemplateCommand,
  CreateLaunchTemplateVersionCommand,
  CreateSnapshotCommand,
  CreateTagsCommand,
  CreateVolumeCommand,
  DescribeImagesCommand,
  DescribeSnapshotsCommand,
  EC2Client,
  RegisterImageCommand,
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
import { type Moto, startMoto } from '../../support/moto';

const STACK = 'ew-moto';
const CURRENT = '/ew/moto/current-ami';
const OURS = 220;
const THEIRS = 20;

let moto: Moto;
let ec2: EC2Client;
let ssm: SSMClient;
beforeAll(async () => {
  moto = await startMoto();
  ec2 = new EC2Client({});
  ssm = new SSMClient({});
});
afterAll(async () => moto.stop());

interface Built {
  id: string;
  /** Snapshots the AMI's block device mappings refer to. */
  snapshots: string[];
  arn: string;
  /** Snapshots of volumes given to RegisterImage (moto does not map them): never touched. */
  volumeSnapshots: string[];
}

async function buildImage(stack: string, n: number): Promise<Built> {
  const snapshots: string[] = [];
  for (let disk = 0; disk < 1 + (n % 2); disk += 1) {
    const volume = await ec2.send(new CreateVolumeCommand({ AvailabilityZone: 'eu-west-1a', Size: 8 }));
    const snapshot = await ec2.send(new CreateSnapshotCommand({ VolumeId: volume.VolumeId }));
    snapshots.push(snapshot.SnapshotId as string);
  }
  const arn = `arn:aws:imagebuilder:eu-west-1:123456789012:image/${stack}-worker/1.0.${n}/1`;
  const { ImageId } = await ec2.send(
    new RegisterImageCommand({
      Name: `${stack}-${n}`,
      RootDeviceName: '/dev/xvda',
      BlockDeviceMappings: snapshots.map((SnapshotId, i) => ({
        DeviceName: i === 0 ? '/dev/xvda' : `/dev/xvd${'fgh'[i - 1]}`,
        Ebs: { SnapshotId },
      })),
    }),
  );
  // moto ignores TagSpecifications on RegisterImage; Image Builder tags right after registering too.
  await ec2.send(
    new CreateTagsCommand({
      Resources: [ImageId as string],
      Tags: [
        { Key: 'external-worker:stack', Value: stack },
        { Key: 'Ec2ImageBuilderArn', Value: arn },
      ],
    }),
  );
  // moto keeps a snapshot of its own for a registered AMI: what DescribeImages reports is the truth.
  const { Images = [] } = await ec2.send(new DescribeImagesCommand({ ImageIds: [ImageId as string] }));
  const mapped = (Images[0]?.BlockDeviceMappings ?? []).flatMap((m) =>
    m.Ebs?.SnapshotId ? [m.Ebs.SnapshotId] : [],
  );
  return { id: ImageId as string, snapshots: mapped, arn, volumeSnapshots: snapshots };
}

async function remainingImages(stack: string): Promise<string[]> {
  const { Images = [] } = await ec2.send(
    new DescribeImagesCommand({
      Owners: ['self'],
      Filters: [{ Name: 'tag:external-worker:stack', Values: [stack] }],
    }),
  );
  return Images.map((i) => i.ImageId as string).sort();
}

test('keeps the newest and every referenced AMI, deletes the rest with snapshots and Image Builder images', async () => {
  const ours: Built[] = [];
  for (let n = 0; n < OURS; n += 1) {
    // moto dates AMIs to the second: the newest three are built in a later second than the rest.
    if (n === OURS - 3) await new Promise((resolve) => setTimeout(resolve, 1100));
    ours.push(await buildImage(STACK, n));
  }
  const theirs: Built[] = [];
  for (let n = 0; n < THEIRS; n += 1) theirs.push(await buildImage('someone-else', n));
  const at = (n: number) => ours[n] as Built;

  await ec2.send(
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
  await ec2.send(new RunInstancesCommand({ ImageId: at(30).id, MinCount: 1, MaxCount: 1 }));
  await ssm.send(new PutParameterCommand({ Name: CURRENT, Value: at(40).id, Type: 'String' }));

  const imagebuilder = mockClient(ImagebuilderClient);
  imagebuilder.on(DeleteImageCommand).resolves({});
  imagebuilder
    .on(DeleteImageCommand, { imageBuildVersionArn: at(0).arn })
    .rejects(new ResourceNotFoundException({ message: 'gone', $metadata: {} }));
  try {
    const clients = { ec2, ssm, imagebuilder: new ImagebuilderClient({}) };
    const settings = {
      stackName: STACK,
      keep: 3,
      currentAmiParameter: CURRENT,
      pinnedAmiId: at(50).id,
      protectAmis: [at(60).id],
    };
    const runtime = { sleep: async () => undefined, now: () => 0 };

    const dry = await applyRetention(clients, { ...settings, dryRun: true }, runtime);
    expect(await remainingImages(STACK)).toHaveLength(OURS);
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
    expect(await remainingImages(STACK)).toEqual(keptIds);
    expect(await remainingImages('someone-else')).toEqual(theirs.map((t) => t.id).sort());
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

    const again = await applyRetention(clients, { ...settings, dryRun: false }, runtime);
    expect(again.deleted).toEqual([]);
  } finally {
    imagebuilder.restore();
  }
});
