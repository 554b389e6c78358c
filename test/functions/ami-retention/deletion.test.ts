import { EC2Client } from '@aws-sdk/client-ec2';
import { applyRetention, type RetentionSettings } from '../../../functions/ami-retention/retention';
import { logger } from '../../../functions/lib/observability';
import { type Account, ec2Commands, emptyAccount, retentionClients } from '../../support/fake-account';
import { FakeAws, type FakeCommand } from '../../support/fake-aws';
import { VirtualClock } from '../../support/virtual-clock';

const STACK = 'ew-delete';
const STACK_TAG_VALUE = { Key: 'external-worker:stack', Value: STACK };

beforeAll(() => logger.setLogLevel('SILENT'));

/** `n` AMIs of the stack with two snapshots each, created in index order. */
function account(n: number): Account {
  const state = emptyAccount();
  for (let i = 0; i < n; i += 1) {
    const snapshots = [`snap-${i}a`, `snap-${i}b`];
    state.images.set(`ami-${i}`, {
      ImageId: `ami-${i}`,
      State: 'available',
      CreationDate: new Date(i * 1000).toISOString(),
      BlockDeviceMappings: snapshots.map((SnapshotId) => ({ Ebs: { SnapshotId } })),
      Tags: [{ Key: 'external-worker:stack', Value: STACK }],
    });
    for (const snapshot of snapshots) state.snapshots.set(snapshot, `ami-${i}`);
  }
  return state;
}

const settings: RetentionSettings = {
  stackName: STACK,
  launchTemplateId: 'lt-0123456789abcdef0',
  groupName: `${STACK}-workers`,
  keep: 1,
  currentAmiParameter: `/${STACK}/current-ami`,
  dryRun: false,
  protectAmis: [],
};

async function run(state: Account) {
  const clock = new VirtualClock();
  const aws = new FakeAws(clock);
  const result = await clock.run(applyRetention(retentionClients(aws, state), settings, clock));
  return { result, aws };
}

describe('AMI deletion', () => {
  test('where DeregisterImage lacks DeleteAssociatedSnapshots, the tagged snapshots are deleted one by one', async () => {
    const state = account(5);
    state.deleteAssociatedSnapshots = false;
    const { result, aws } = await run(state);
    expect(result.deleted.map((d) => d.imageId)).toEqual(['ami-0', 'ami-1', 'ami-2', 'ami-3']);
    expect([...state.snapshots.keys()].sort()).toEqual(['snap-4a', 'snap-4b']);
    // The parameter is dropped once refused: one refusal per call in flight at that moment at most.
    expect(aws.count('ec2:DeregisterImage')).toBeLessThanOrEqual(4 * 2);
    expect(aws.count('ec2:DeleteSnapshot')).toBe(8);
    for (const id of ['ami-0', 'ami-1', 'ami-2', 'ami-3']) {
      const at = state.log.indexOf(`deregister ${id}`);
      const n = id.slice(4);
      expect(state.log.indexOf(`tag snap-${n}a`)).toBeLessThan(at);
      expect(state.log.indexOf(`delete-snapshot snap-${n}a`)).toBeGreaterThan(at);
    }
  });

  test('a snapshot gone meanwhile (another run) does not stop the tagging of the others', async () => {
    const state = account(4);
    state.snapshots.delete('snap-1b');
    const { result } = await run(state);
    expect(result.deleted.map((d) => d.imageId)).toEqual(['ami-0', 'ami-1', 'ami-2']);
    expect([...state.snapshots.keys()].sort()).toEqual(['snap-3a', 'snap-3b']);
    expect(state.log).toContain('tag snap-0a');
    expect(state.log).toContain('tag snap-2b');
    expect(state.log).not.toContain('tag snap-1a');
  });

  test('a run that fails half-way leaves nothing orphaned: the next run finishes', async () => {
    const state = account(40);
    const clock = new VirtualClock();
    const aws = new FakeAws(clock);
    const table = ec2Commands(state);
    const deregister = table.DeregisterImage as FakeCommand;
    let deregistrations = 0;
    const failing: FakeCommand = {
      ...deregister,
      handle: (input) => {
        deregistrations += 1;
        if (deregistrations === 10) throw Object.assign(new Error('boom'), { name: 'InternalFailure' });
        return deregister.handle(input);
      },
    };
    const clients = {
      ...retentionClients(aws, state),
      ec2: aws.client(EC2Client, 'ec2', { ...table, DeregisterImage: failing }),
    };
    await expect(clock.run(applyRetention(clients, settings, clock))).rejects.toThrow('boom');
    expect(state.images.size).toBeGreaterThan(1);
    // Every snapshot still there belongs to an AMI still registered, or is tagged for the sweep.
    for (const [snapshot, image] of state.snapshots) {
      if (!state.images.has(image)) expect(state.snapshotTags.get(snapshot)).toContainEqual(STACK_TAG_VALUE);
    }
    await run(state);
    expect([...state.images.keys()]).toEqual(['ami-39']);
    expect([...state.snapshots.keys()].sort()).toEqual(['snap-39a', 'snap-39b']);
  });
});
