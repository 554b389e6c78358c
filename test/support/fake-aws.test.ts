import {
  CreateTagsCommand,
  DeleteSnapshotCommand,
  DeregisterImageCommand,
  DescribeImagesCommand,
  DescribeSnapshotsCommand,
  EC2Client,
  RunInstancesCommand,
} from '@aws-sdk/client-ec2';
import { type Account, ec2Commands, emptyAccount } from './fake-account';
import { FakeAws } from './fake-aws';
import { VirtualClock } from './virtual-clock';

function account(images: number): Account {
  const ids = Array.from({ length: images }, (_, i) => `ami-${i}`);
  return {
    ...emptyAccount(),
    images: new Map(
      ids.map((ImageId, i) => [
        ImageId,
        {
          ImageId,
          State: 'available',
          Tags: [{ Key: 'external-worker:stack', Value: i % 2 ? 'a' : 'b' }],
          BlockDeviceMappings: [{ Ebs: { SnapshotId: `snap-${i}` } }],
        },
      ]),
    ),
    snapshots: new Map(ids.map((id, i) => [`snap-${i}`, id])),
  };
}

function world(images = 12) {
  const clock = new VirtualClock();
  const aws = new FakeAws(clock);
  const ec2 = aws.client(EC2Client, 'ec2', ec2Commands(account(images)));
  return { clock, aws, ec2 };
}

const filtered = { Owners: ['self'], Filters: [{ Name: 'tag:external-worker:stack', Values: ['a'] }] };

describe('in-memory EC2', () => {
  test('pages honor MaxResults, NextToken and tag filters', async () => {
    const { clock, ec2 } = world();
    const ids: string[] = [];
    let NextToken: string | undefined;
    let pages = 0;
    do {
      const page = await clock.run(
        ec2.send(new DescribeImagesCommand({ ...filtered, MaxResults: 5, NextToken })),
      );
      ids.push(...(page.Images ?? []).map((i) => i.ImageId ?? ''));
      NextToken = page.NextToken;
      pages += 1;
    } while (NextToken);
    expect(pages).toBe(2);
    expect(ids).toEqual(['ami-1', 'ami-3', 'ami-5', 'ami-7', 'ami-9', 'ami-11']);
    await expect(clock.run(ec2.send(new DescribeImagesCommand({ MaxResults: 4 })))).rejects.toMatchObject({
      name: 'InvalidParameterValue',
    });
  });

  test('a non-mutating action has a bucket of 100 refilled at 20/s', async () => {
    const { clock, aws, ec2 } = world();
    const burst = Array.from({ length: 101 }, () =>
      ec2.send(new DescribeImagesCommand({ ...filtered, MaxResults: 5 })).then(
        () => 'ok',
        (error: Error) => error.name,
      ),
    );
    const answers = await clock.run(Promise.all(burst));
    expect(answers.filter((a) => a === 'RequestLimitExceeded')).toHaveLength(1);
    // 1 s of simulated latency has passed: 20 tokens are back.
    const again = await clock.run(
      Promise.all(
        Array.from({ length: 20 }, () => ec2.send(new DescribeImagesCommand({ ...filtered, MaxResults: 5 }))),
      ),
    );
    expect(again).toHaveLength(20);
    expect(aws.totalThrottles()).toBe(1);
  });

  test('an unfiltered, unpaginated describe draws from the bucket of 50', async () => {
    const { clock, ec2 } = world();
    const burst = Array.from({ length: 51 }, () =>
      ec2.send(new DescribeImagesCommand({})).then(
        () => 'ok',
        (error: Error) => error.name,
      ),
    );
    const answers = await clock.run(Promise.all(burst));
    expect(answers.filter((a) => a === 'RequestLimitExceeded')).toHaveLength(1);
  });

  test('a snapshot of a registered AMI cannot be deleted; after deregistering it can', async () => {
    const { clock, ec2 } = world();
    await expect(
      clock.run(ec2.send(new DeleteSnapshotCommand({ SnapshotId: 'snap-0' }))),
    ).rejects.toMatchObject({
      name: 'InvalidSnapshot.InUse',
    });
    await clock.run(ec2.send(new DeregisterImageCommand({ ImageId: 'ami-0' })));
    await expect(clock.run(ec2.send(new DeleteSnapshotCommand({ SnapshotId: 'snap-0' })))).resolves.toEqual(
      {},
    );
  });

  test('DeleteAssociatedSnapshots deletes the snapshots no other AMI uses, and says so', async () => {
    const clock = new VirtualClock();
    const state = account(3);
    // ami-2 shares the snapshot of ami-1.
    state.images.set('ami-2', {
      ...(state.images.get('ami-2') as object),
      BlockDeviceMappings: [{ Ebs: { SnapshotId: 'snap-1' } }, { Ebs: { SnapshotId: 'snap-2' } }],
    });
    const ec2 = new FakeAws(clock).client(EC2Client, 'ec2', ec2Commands(state));
    const plain = await clock.run(ec2.send(new DeregisterImageCommand({ ImageId: 'ami-0' })));
    expect(plain.DeleteSnapshotResults).toBeUndefined();
    expect(state.snapshots.has('snap-0')).toBe(true);
    const withSnapshots = await clock.run(
      ec2.send(new DeregisterImageCommand({ ImageId: 'ami-2', DeleteAssociatedSnapshots: true })),
    );
    expect(withSnapshots.DeleteSnapshotResults).toEqual([
      { SnapshotId: 'snap-1', ReturnCode: 'skipped' },
      { SnapshotId: 'snap-2', ReturnCode: 'success' },
    ]);
    expect([...state.snapshots.keys()].sort()).toEqual(['snap-0', 'snap-1']);
    expect(state.log).toEqual(['deregister ami-0', 'deregister ami-2', 'delete-snapshot snap-2']);
  });

  test('snapshots are tagged and listed by tag', async () => {
    const { clock, ec2 } = world(4);
    await clock.run(
      ec2.send(
        new CreateTagsCommand({
          Resources: ['snap-1', 'snap-3'],
          Tags: [{ Key: 'external-worker:stack', Value: 'a' }],
        }),
      ),
    );
    const { Snapshots = [] } = await clock.run(
      ec2.send(
        new DescribeSnapshotsCommand({
          OwnerIds: ['self'],
          Filters: [{ Name: 'tag:external-worker:stack', Values: ['a'] }],
          MaxResults: 5,
        }),
      ),
    );
    expect(Snapshots.map((s) => s.SnapshotId)).toEqual(['snap-1', 'snap-3']);
    await expect(
      clock.run(ec2.send(new CreateTagsCommand({ Resources: ['snap-9'], Tags: [] }))),
    ).rejects.toMatchObject({ name: 'InvalidSnapshot.NotFound' });
  });

  test('a command without a handler fails loudly', async () => {
    const { clock, ec2 } = world();
    await expect(
      clock.run(ec2.send(new RunInstancesCommand({ ImageId: 'ami-0', MinCount: 1, MaxCount: 1 }))),
    ).rejects.toThrow('the in-memory ec2 does not implement RunInstances');
  });

  test('simulated time: a sleep of an hour takes no real time', async () => {
    const { clock } = world();
    await clock.run(clock.sleep(3_600_000));
    expect(clock.now()).toBe(3_600_000);
  });
});
