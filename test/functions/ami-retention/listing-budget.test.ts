import { applyRetention } from '../../../functions/ami-retention/retention';
import { type FakeAccount, fakeClients } from './fake-clients';

const STACK = 'ew-budget';
const TEMPLATE = 'lt-0123456789abcdef0';
const AMIS = 10_000;

/** Calls that list (paginated Describe*), as opposed to point reads and deletions. */
const LISTINGS = new Set(['DescribeImages', 'DescribeLaunchTemplateVersions', 'DescribeInstances']);

test('10,000 AMIs take at most 12 listing calls, whatever is deleted', async () => {
  const id = (n: number) => `ami-${n.toString(16).padStart(8, '0')}`;
  const account: FakeAccount = {
    images: Array.from({ length: AMIS }, (_, n) => ({
      id: id(n),
      stack: STACK,
      created: n,
      state: 'available' as const,
      snapshots: [`snap-${n}`],
    })),
    template: {
      id: TEMPLATE,
      defaultVersion: 150,
      versions: Array.from({ length: 150 }, (_, v) => ({
        number: v + 1,
        imageId: id(AMIS - 150 + v),
        created: v,
      })),
    },
    group: {
      name: `${STACK}-workers`,
      version: '150',
      mixed: false,
      instances: Array.from({ length: 20 }, (_, n) => ({ id: `i-g${n}`, version: '150' })),
    },
    instances: Array.from({ length: 400 }, (_, n) => ({
      id: `i-${n}`,
      imageId: id(AMIS - 1),
      stack: n % 2 ? STACK : 'someone-else',
      templateVersion: 150,
    })),
    parameters: {},
    log: [],
    calls: [],
    // Pages as large as each call asks: the budget holds with the real page sizes.
    pageSize: Number.POSITIVE_INFINITY,
    throttle: 0,
    random: Math.random,
  };
  const result = await applyRetention(
    fakeClients(account),
    {
      stackName: STACK,
      launchTemplateId: TEMPLATE,
      groupName: `${STACK}-workers`,
      keep: 3,
      currentAmiParameter: `/${STACK}/current-ami`,
      dryRun: false,
      protectAmis: [],
    },
    { sleep: async () => undefined, now: () => 0 },
  );
  expect(result.prunedVersions).toHaveLength(146);
  expect(result.deleted).toHaveLength(AMIS - 4);

  const calls = account.calls ?? [];
  const count = (name: string) => calls.filter((c) => c === name).length;
  expect(count('DescribeImages')).toBe(10);
  expect(count('DescribeLaunchTemplateVersions')).toBe(1);
  expect(count('DescribeInstances')).toBe(1);
  expect(calls.filter((c) => LISTINGS.has(c))).toHaveLength(12);
  // Point reads: the group and the current-AMI parameter, once each.
  expect(count('DescribeAutoScalingGroups')).toBe(1);
  expect(count('GetParameter')).toBe(1);
  expect(calls.filter((c) => c.startsWith('Describe') && !LISTINGS.has(c))).toEqual([
    'DescribeAutoScalingGroups',
  ]);
  expect(count('DeleteLaunchTemplateVersions')).toBe(1);
});

test('a backlog of versions is deleted 200 at a time, paced; a refused version is kept with its AMI', async () => {
  // Every ninth call is throttled once.
  let draws = 0;
  let throttles = 0;
  const random = () => {
    draws += 1;
    if (draws % 9) return 0.5;
    throttles += 1;
    return 0;
  };
  const account: FakeAccount = {
    images: Array.from({ length: 450 }, (_, n) => ({
      id: `ami-${n}`,
      stack: STACK,
      created: n,
      state: 'available' as const,
      snapshots: [],
    })),
    template: {
      id: TEMPLATE,
      defaultVersion: 450,
      versions: Array.from({ length: 450 }, (_, v) => ({ number: v + 1, imageId: `ami-${v}`, created: v })),
    },
    group: { name: `${STACK}-workers`, version: '450', mixed: true, instances: [] },
    instances: [],
    parameters: {},
    log: [],
    calls: [],
    undeletable: [7],
    throttle: 0.1,
    random,
  };
  const sleeps: number[] = [];
  let clock = 0;
  const result = await applyRetention(
    fakeClients(account),
    {
      stackName: STACK,
      launchTemplateId: TEMPLATE,
      groupName: `${STACK}-workers`,
      keep: 2,
      currentAmiParameter: `/${STACK}/current-ami`,
      dryRun: false,
      protectAmis: [],
    },
    {
      sleep: async (ms) => {
        sleeps.push(ms);
        clock += ms;
      },
      now: () => clock,
    },
  );
  expect(throttles).toBeGreaterThan(0);
  // The burst spent, most deletions wait for the bucket (500 ms per call at 2 per second; backoff
  // pauses earn a few tokens).
  expect(sleeps.filter((ms) => ms === 500).length).toBeGreaterThan(300);
  const batches = (account.calls ?? []).filter((c) => c === 'DeleteLaunchTemplateVersions');
  expect(batches).toHaveLength(3);
  expect(result.prunedVersions).toHaveLength(450 - 3 - 1);
  expect(result.prunedVersions[0]).toEqual({ version: 1, imageId: 'ami-0' });
  expect(result.keptVersions).toContainEqual({ version: 7, imageId: 'ami-6', reason: 'not-deleted' });
  expect(result.kept).toContainEqual({ imageId: 'ami-6', reason: 'launch-template' });
  expect(account.template?.versions.map((v) => v.number)).toEqual([7, 448, 449, 450]);
  expect(account.images.map((i) => i.id).sort()).toEqual(['ami-447', 'ami-448', 'ami-449', 'ami-6']);
});
