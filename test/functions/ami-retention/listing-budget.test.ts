import { applyRetention, type RetentionSettings } from '../../../functions/ami-retention/retention';
import { logger } from '../../../functions/lib/observability';
import { type Account, emptyAccount, retentionClients } from '../../support/fake-account';
import { FakeAws } from '../../support/fake-aws';
import { VirtualClock } from '../../support/virtual-clock';

const STACK = 'ew-budget';
const TEMPLATE = 'lt-0123456789abcdef0';
const AMIS = 10_000;

beforeAll(() => logger.setLogLevel('SILENT'));

/** Calls that list (paginated Describe*), as opposed to point reads and deletions. */
const LISTINGS = [
  'ec2:DescribeImages',
  'ec2:DescribeLaunchTemplateVersions',
  'ec2:DescribeInstances',
  'ec2:DescribeSnapshots',
];

/** `images` AMIs of the stack, one snapshot each (or none), created in index order. */
function account(images: number, withSnapshots: boolean, versions: number, defaultVersion: number): Account {
  const id = (n: number) => `ami-${n.toString(16).padStart(8, '0')}`;
  const state = emptyAccount();
  for (let n = 0; n < images; n += 1) {
    const snapshots = withSnapshots ? [`snap-${n.toString(16).padStart(8, '0')}`] : [];
    state.images.set(id(n), {
      ImageId: id(n),
      State: 'available',
      CreationDate: new Date(n * 1000).toISOString(),
      BlockDeviceMappings: snapshots.map((SnapshotId) => ({ Ebs: { SnapshotId } })),
      Tags: [{ Key: 'external-worker:stack', Value: STACK }],
    });
    for (const snapshot of snapshots) state.snapshots.set(snapshot, id(n));
  }
  state.launchTemplates.push({
    LaunchTemplateId: TEMPLATE,
    LaunchTemplateName: `${STACK}-worker`,
    Tags: [],
    DefaultVersionNumber: defaultVersion,
    versions: Array.from({ length: versions }, (_, v) => ({
      VersionNumber: v + 1,
      ImageId: id(images - versions + v),
    })),
  });
  return state;
}

const settings = (keep: number): RetentionSettings => ({
  stackName: STACK,
  launchTemplateId: TEMPLATE,
  groupName: `${STACK}-workers`,
  keep,
  currentAmiParameter: `/${STACK}/current-ami`,
  dryRun: false,
  protectAmis: [],
});

test('10,000 AMIs take at most 13 listing calls, whatever is deleted', async () => {
  const state = account(AMIS, true, 150, 150);
  state.groups.push({
    AutoScalingGroupName: `${STACK}-workers`,
    LaunchTemplate: { LaunchTemplateId: TEMPLATE, Version: '150' },
    Instances: Array.from({ length: 20 }, (_, n) => ({
      InstanceId: `i-g${n}`,
      LaunchTemplate: { LaunchTemplateId: TEMPLATE, Version: '150' },
    })),
  });
  state.instances = Array.from({ length: 400 }, (_, n) => ({
    InstanceId: `i-${n}`,
    ImageId: `ami-${(AMIS - 1).toString(16).padStart(8, '0')}`,
    State: 'running',
    Tags: [
      { Key: 'external-worker:stack', Value: n % 2 ? STACK : 'someone-else' },
      { Key: 'aws:ec2launchtemplate:id', Value: TEMPLATE },
      { Key: 'aws:ec2launchtemplate:version', Value: '150' },
    ],
  }));
  const clock = new VirtualClock();
  const aws = new FakeAws(clock);
  const result = await clock.run(applyRetention(retentionClients(aws, state), settings(3), clock));
  expect(result.prunedVersions).toHaveLength(146);
  expect(result.deleted).toHaveLength(AMIS - 4);
  expect(state.snapshots.size).toBe(4);

  expect(aws.count('ec2:DescribeImages')).toBe(10);
  expect(aws.count('ec2:DescribeLaunchTemplateVersions')).toBe(1);
  expect(aws.count('ec2:DescribeInstances')).toBe(1);
  expect(aws.count('ec2:DescribeSnapshots')).toBe(1);
  expect(LISTINGS.reduce((sum, key) => sum + aws.count(key), 0)).toBe(13);
  // Point reads: the group and the current-AMI parameter, once each.
  expect(aws.count('autoscaling:DescribeAutoScalingGroups')).toBe(1);
  expect(aws.count('ssm:GetParameter')).toBe(1);
  expect(aws.count('ec2:DeleteLaunchTemplateVersions')).toBe(1);
  // One deregistration an AMI, its snapshots with it; snapshots tagged 500 at a time.
  expect(aws.count('ec2:DeregisterImage')).toBe(AMIS - 4);
  expect(aws.count('ec2:DeleteSnapshot')).toBe(0);
  expect(aws.count('ec2:CreateTags')).toBe(Math.ceil((AMIS - 4) / 500));
  expect(aws.totalThrottles()).toBe(0);
});

test('a backlog of versions is deleted 200 at a time, paced; a refused version is kept with its AMI', async () => {
  const state = account(450, false, 450, 450);
  (state.launchTemplates[0] as { undeletable?: number[] }).undeletable = [7];
  state.groups.push({
    AutoScalingGroupName: `${STACK}-workers`,
    MixedInstancesPolicy: {
      LaunchTemplate: { LaunchTemplateSpecification: { LaunchTemplateId: TEMPLATE, Version: '450' } },
    },
  });
  // Every ninth call is throttled once, besides EC2's buckets.
  let draws = 0;
  const clock = new VirtualClock();
  const random = () => {
    draws += 1;
    return draws % 9 ? 0.9 : 0;
  };
  const aws = new FakeAws(clock, {}, { probability: 0.5, random });
  const result = await clock.run(applyRetention(retentionClients(aws, state), settings(2), clock));

  expect(aws.totalThrottles()).toBeGreaterThan(0);
  const deletedVersions = state.log.filter((l) => l.startsWith('delete-version ')).length;
  expect(deletedVersions).toBe(450 - 3 - 1);
  expect(
    aws.count('ec2:DeleteLaunchTemplateVersions') -
      (aws.throttles.get('ec2:DeleteLaunchTemplateVersions') ?? 0),
  ).toBe(3);
  expect(result.prunedVersions).toHaveLength(450 - 3 - 1);
  expect(result.prunedVersions[0]).toEqual({ version: 1, imageId: 'ami-00000000' });
  expect(result.keptVersions).toContainEqual({ version: 7, imageId: 'ami-00000006', reason: 'not-deleted' });
  expect(result.kept).toContainEqual({ imageId: 'ami-00000006', reason: 'launch-template' });
  expect(state.launchTemplates[0]?.versions.map((v) => v.VersionNumber)).toEqual([7, 448, 449, 450]);
  expect([...state.images.keys()].sort()).toEqual([
    'ami-00000006',
    'ami-000001bf',
    'ami-000001c0',
    'ami-000001c1',
  ]);
  // Paced: after a burst of 160 (80 % of the bucket of 200), 4 deregistrations a second at most.
  expect(clock.now()).toBeGreaterThanOrEqual(((446 - 160) / 4) * 1000);
});
