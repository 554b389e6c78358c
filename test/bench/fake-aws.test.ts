import {
  CreateTagsCommand,
  DeleteSnapshotCommand,
  DeregisterImageCommand,
  DescribeImagesCommand,
  EC2Client,
} from '@aws-sdk/client-ec2';
import { FakeAws } from '../../bench/fake-aws';
import { type Account, ec2Commands } from '../../bench/retention-world';
import { VirtualClock } from '../../bench/virtual-clock';

function account(images: number): Account {
  const ids = Array.from({ length: images }, (_, i) => `ami-${i}`);
  return {
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
    imageBuilderImages: new Set(),
    launchTemplates: [],
    instances: [],
    parameters: new Map(),
    groups: [],
    deregistered: [],
  };
}

function world(images = 12) {
  const clock = new VirtualClock();
  const aws = new FakeAws(clock);
  const ec2 = aws.client(EC2Client, 'ec2', ec2Commands(account(images)));
  return { clock, aws, ec2 };
}

const filtered = { Owners: ['self'], Filters: [{ Name: 'tag:external-worker:stack', Values: ['a'] }] };

describe('bench: in-memory EC2', () => {
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

  test('a command without a handler fails loudly', async () => {
    const { clock, ec2 } = world();
    await expect(clock.run(ec2.send(new CreateTagsCommand({ Resources: [], Tags: [] })))).rejects.toThrow(
      'the in-memory ec2 does not implement CreateTags',
    );
  });

  test('simulated time: a sleep of an hour takes no real time', async () => {
    const { clock } = world();
    await clock.run(clock.sleep(3_600_000));
    expect(clock.now()).toBe(3_600_000);
  });
});
