import { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import { EC2Client, type Image } from '@aws-sdk/client-ec2';
import { ImagebuilderClient } from '@aws-sdk/client-imagebuilder';
import { SSMClient } from '@aws-sdk/client-ssm';
import { isThrottling } from '../functions/ami-retention/pacing';
import { applyRetention, IMAGE_BUILDER_TAG, STACK_TAG } from '../functions/ami-retention/retention';
import { type BucketClass, FakeAws } from './fake-aws';
import {
  type Account,
  autoScalingCommands,
  ec2Commands,
  imageBuilderCommands,
  ssmCommands,
} from './retention-world';
import { VirtualClock } from './virtual-clock';

/** AMI retention against an in-memory account of 10,000 AMIs of the stack, in simulated time. */

const STACK = 'external-worker-prod';
const OTHER_STACK = 'external-worker-staging';
const CURRENT_AMI_PARAMETER = '/external-worker/prod/current-ami';
export const AMIS = 10_000;
const KEEP = 3;
const LAUNCH_TEMPLATE_ID = 'lt-0123456789abcdef0';
const GROUP_NAME = `${STACK}-workers`;

const amiId = (i: number) => `ami-${i.toString(16).padStart(17, '0')}`;

function image(i: number, stack: string): Image {
  const id = amiId(i);
  const hex = i.toString(16).padStart(16, '0');
  // Half the AMIs have a second (data) volume.
  const snapshots = i % 2 ? [`snap-a${hex}`, `snap-b${hex}`] : [`snap-a${hex}`];
  return {
    ImageId: id,
    OwnerId: '123456789012',
    // One build an hour: creation order is index order.
    CreationDate: new Date(Date.UTC(2025, 0, 1) + i * 3_600_000).toISOString(),
    State: i === 5_000 ? 'pending' : i === 5_001 ? 'failed' : 'available',
    BlockDeviceMappings: snapshots.map((SnapshotId, n) => ({
      DeviceName: `/dev/xvd${'ab'[n]}`,
      Ebs: { SnapshotId },
    })),
    Tags: [
      { Key: STACK_TAG, Value: stack },
      {
        Key: IMAGE_BUILDER_TAG,
        Value: `arn:aws:imagebuilder:eu-west-1:123456789012:image/${stack}-worker/1.0.0/${i}`,
      },
    ],
  };
}

/** The stack's AMIs (and another stack's) with the references retention must respect. */
export function buildAccount(): { account: Account; referenced: string[] } {
  const images = new Map<string, Image>();
  for (let i = 0; i < AMIS; i += 1) images.set(amiId(i), image(i, STACK));
  for (let i = AMIS; i < AMIS + 200; i += 1) images.set(amiId(i), image(i, OTHER_STACK));
  const all = [...images.values()];
  const newest = amiId(AMIS - 1);
  const templateAmis = [1_200, 4_800, 9_990, 9_996].map(amiId);
  const instanceAmis = [7_000, 8_500].map(amiId);
  const account: Account = {
    images,
    snapshots: new Map(
      all.flatMap((i) =>
        (i.BlockDeviceMappings ?? []).map((m) => [m.Ebs?.SnapshotId ?? '', i.ImageId ?? '']),
      ),
    ),
    imageBuilderImages: new Set(
      all.map((i) => i.Tags?.find((t) => t.Key === IMAGE_BUILDER_TAG)?.Value ?? ''),
    ),
    launchTemplates: [
      {
        LaunchTemplateId: LAUNCH_TEMPLATE_ID,
        LaunchTemplateName: `${STACK}-worker`,
        Tags: [{ Key: STACK_TAG, Value: STACK }],
        DefaultVersionNumber: 1,
        versions: [...templateAmis, newest].map((ImageId, n) => ({ VersionNumber: n + 1, ImageId })),
      },
    ],
    instances: [
      ...Array.from({ length: 20 }, (_, n) => ({ InstanceId: `i-${n}`, ImageId: newest, State: 'running' })),
      { InstanceId: 'i-kept', ImageId: instanceAmis[0] as string, State: 'stopped' },
      { InstanceId: 'i-debug', ImageId: instanceAmis[1] as string, State: 'running' },
      { InstanceId: 'i-gone', ImageId: amiId(300), State: 'terminated' },
    ].map((instance) => ({ ...instance, Tags: [{ Key: STACK_TAG, Value: STACK }] })),
    parameters: new Map([[CURRENT_AMI_PARAMETER, amiId(9_980)]]),
    groups: [
      {
        AutoScalingGroupName: GROUP_NAME,
        LaunchTemplate: { LaunchTemplateId: LAUNCH_TEMPLATE_ID, Version: '5' },
      },
    ],
    deregistered: [],
  };
  const referenced = [...templateAmis, ...instanceAmis, amiId(9_980), amiId(5_000), amiId(5_001)];
  return { account, referenced };
}

export interface RetentionRun {
  scenario: string;
  listingCalls: number;
  otherReads: number;
  deregistered: number;
  snapshotsDeleted: number;
  imageBuilderDeleted: number;
  kept: number;
  throttlesHit: number;
  throttlingSurfaced: number;
  wrongDeletions: number;
  simulatedSeconds: number;
}

export async function benchRetention(
  scenario: string,
  background: Partial<Record<BucketClass, number>> = {},
): Promise<RetentionRun> {
  const { account, referenced } = buildAccount();
  const snapshotsBefore = account.snapshots.size;
  const imageBuilderBefore = account.imageBuilderImages.size;
  const clock = new VirtualClock();
  const aws = new FakeAws(clock, background);
  const clients = {
    ec2: aws.client(EC2Client, 'ec2', ec2Commands(account)),
    ssm: aws.client(SSMClient, 'ssm', ssmCommands(account)),
    imagebuilder: aws.client(ImagebuilderClient, 'imagebuilder', imageBuilderCommands(account)),
    autoscaling: aws.client(AutoScalingClient, 'autoscaling', autoScalingCommands(account)),
  };
  let surfaced = 0;
  let kept = 0;
  try {
    const result = await clock.run(
      applyRetention(
        clients,
        {
          stackName: STACK,
          keep: KEEP,
          currentAmiParameter: CURRENT_AMI_PARAMETER,
          launchTemplateId: LAUNCH_TEMPLATE_ID,
          groupName: GROUP_NAME,
          dryRun: false,
          protectAmis: [],
        },
        { sleep: clock.sleep, now: clock.now },
      ),
    );
    kept = result.kept.length;
  } catch (error) {
    if (!isThrottling(error)) throw error;
    surfaced += 1;
  }
  // Listings are the paginated scans of the account; single lookups (a parameter, the group) are not.
  const LISTINGS = ['ec2:DescribeImages', 'ec2:DescribeLaunchTemplateVersions', 'ec2:DescribeInstances'];
  const reads = [...aws.calls.entries()].filter(([key]) => /:(Describe|Get)/.test(key));
  const newest = Array.from({ length: KEEP }, (_, n) => amiId(AMIS - 1 - n));
  const mustStay = new Set([...referenced, ...newest]);
  const wrong = account.deregistered.filter(
    (id) => mustStay.has(id) || Number.parseInt(id.slice(4), 16) >= AMIS,
  );
  return {
    scenario,
    listingCalls: LISTINGS.reduce((sum, key) => sum + aws.count(key), 0),
    otherReads: reads.reduce((sum, [key, n]) => (LISTINGS.includes(key) ? sum : sum + n), 0),
    deregistered: account.deregistered.length,
    snapshotsDeleted: snapshotsBefore - account.snapshots.size,
    imageBuilderDeleted: imageBuilderBefore - account.imageBuilderImages.size,
    kept,
    throttlesHit: aws.totalThrottles(),
    throttlingSurfaced: surfaced,
    wrongDeletions: wrong.length,
    simulatedSeconds: clock.now() / 1000,
  };
}
