import type { Image } from '@aws-sdk/client-ec2';
import { DEFAULT_REQUEST_SHARE, isThrottling } from '../functions/ami-retention/pacing';
import { applyRetention, IMAGE_BUILDER_TAG, STACK_TAG } from '../functions/ami-retention/retention';
import { type Account, emptyAccount, retentionClients } from '../test/support/fake-account';
import { type BucketClass, EC2_BUCKETS, FakeAws } from '../test/support/fake-aws';
import { VirtualClock } from '../test/support/virtual-clock';

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
    ...emptyAccount(),
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
  // An earlier run stopped half-way: snapshots it tagged, whose AMIs are gone, for the sweep; and
  // snapshots of another stack's deregistered AMIs, untagged, that are not ours to delete.
  for (let n = 0; n < ORPHANS; n += 1) {
    const snapshot = `snap-orphan${n.toString(16).padStart(8, '0')}`;
    account.snapshots.set(snapshot, `ami-gone${n}`);
    account.snapshotTags.set(snapshot, [{ Key: STACK_TAG, Value: STACK }]);
    account.snapshots.set(`snap-others${n.toString(16).padStart(8, '0')}`, `ami-others-gone${n}`);
  }
  const referenced = [...templateAmis, ...instanceAmis, amiId(9_980), amiId(5_000), amiId(5_001)];
  return { account, referenced };
}

/** Snapshots left by an earlier run that stopped half-way (and as many of another stack). */
const ORPHANS = 50;

export interface RetentionRun {
  scenario: string;
  listingCalls: number;
  otherReads: number;
  deregistered: number;
  snapshotsDeleted: number;
  sweptSnapshots: number;
  imageBuilderDeleted: number;
  kept: number;
  /** Mutating calls that went through, by action. */
  mutations: Record<string, number>;
  throttlesHit: number;
  throttlingSurfaced: number;
  wrongDeletions: number;
  /** Snapshots whose AMI is gone left after the run, this stack's. */
  orphansLeft: number;
  simulatedSeconds: number;
  /** The least time EC2's buckets allow for the run's calls at the rate this caller may take. */
  floorSeconds: number;
  /** The same with the whole of each bucket's refill (nobody else calling, no share kept back). */
  wholeRefillFloorSeconds: number;
}

/**
 * The floor of a run: each EC2 action draws from a bucket of its own, so the actions proceed side
 * by side and the slowest bounds the run. An action of n successful calls needs at least
 * (n - bucket size) / rate seconds: the bucket starts full, then refills at `rate`, this caller's
 * share of the refill (or what other callers leave, if less).
 */
function floorSeconds(
  aws: FakeAws,
  background: Partial<Record<BucketClass, number>>,
  share: number,
): { floor: number; wholeRefill: number } {
  let floor = 0;
  let wholeRefill = 0;
  for (const [key, calls] of aws.calls) {
    const [service, action] = key.split(':') as [string, string];
    const meter = METERED[action];
    if (service !== 'ec2' || !meter) continue;
    const admitted = calls - (aws.throttles.get(key) ?? 0);
    const { size, refillPerSecond } = EC2_BUCKETS[meter];
    const rate = Math.min(share * refillPerSecond, refillPerSecond - (background[meter] ?? 0));
    floor = Math.max(floor, Math.max(0, admitted - size) / rate);
    wholeRefill = Math.max(wholeRefill, Math.max(0, admitted - size) / refillPerSecond);
  }
  return { floor, wholeRefill };
}

/** The bucket of each EC2 action the run sends many of (the few listings are far within theirs). */
const METERED: Record<string, BucketClass> = {
  DeregisterImage: 'mutating',
  DeleteSnapshot: 'mutating',
  CreateTags: 'mutating',
  DeleteLaunchTemplateVersions: 'mutating',
};

export async function benchRetention(
  scenario: string,
  background: Partial<Record<BucketClass, number>> = {},
): Promise<RetentionRun> {
  const { account, referenced } = buildAccount();
  const snapshotsBefore = account.snapshots.size;
  const imageBuilderBefore = account.imageBuilderImages.size;
  const clock = new VirtualClock();
  const aws = new FakeAws(clock, background);
  const clients = retentionClients(aws, account);
  let surfaced = 0;
  let kept = 0;
  let swept = 0;
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
    swept = result.sweptSnapshots.length;
  } catch (error) {
    if (!isThrottling(error)) throw error;
    surfaced += 1;
  }
  // Listings are the paginated scans of the account; single lookups (a parameter, the group) are not.
  const LISTINGS = [
    'ec2:DescribeImages',
    'ec2:DescribeLaunchTemplateVersions',
    'ec2:DescribeInstances',
    'ec2:DescribeSnapshots',
  ];
  const reads = [...aws.calls.entries()].filter(([key]) => /:(Describe|Get)/.test(key));
  const newest = Array.from({ length: KEEP }, (_, n) => amiId(AMIS - 1 - n));
  const mustStay = new Set([...referenced, ...newest]);
  const wrong = account.deregistered.filter(
    (id) => mustStay.has(id) || Number.parseInt(id.slice(4), 16) >= AMIS,
  );
  const orphansLeft = [...account.snapshots.entries()].filter(
    ([snapshot, image]) =>
      !account.images.has(image) &&
      (account.snapshotTags.get(snapshot) ?? []).some((t) => t.Key === STACK_TAG && t.Value === STACK),
  ).length;
  const othersLost =
    ORPHANS - [...account.snapshots.keys()].filter((s) => s.startsWith('snap-others')).length;
  const { floor, wholeRefill } = floorSeconds(aws, background, DEFAULT_REQUEST_SHARE);
  const mutations = Object.fromEntries(
    Object.keys(METERED).map((action) => [
      action,
      aws.count(`ec2:${action}`) - (aws.throttles.get(`ec2:${action}`) ?? 0),
    ]),
  );
  return {
    scenario,
    listingCalls: LISTINGS.reduce((sum, key) => sum + aws.count(key), 0),
    otherReads: reads.reduce((sum, [key, n]) => (LISTINGS.includes(key) ? sum : sum + n), 0),
    deregistered: account.deregistered.length,
    snapshotsDeleted: snapshotsBefore - account.snapshots.size,
    sweptSnapshots: swept,
    imageBuilderDeleted: imageBuilderBefore - account.imageBuilderImages.size,
    kept,
    mutations,
    throttlesHit: aws.totalThrottles(),
    throttlingSurfaced: surfaced,
    wrongDeletions: wrong.length + othersLost,
    orphansLeft,
    simulatedSeconds: clock.now() / 1000,
    floorSeconds: floor,
    wholeRefillFloorSeconds: wholeRefill,
  };
}
