import { AdaptivePacer, withBackoff } from '../../../functions/ami-retention/pacing';
import { VirtualClock } from '../../support/virtual-clock';

const throttling = () =>
  Object.assign(new Error('Request limit exceeded.'), { name: 'RequestLimitExceeded' });

const pacer = (clock: VirtualClock, share = 0.8) =>
  new AdaptivePacer({ bucket: { size: 10, refillPerSecond: 5 }, share, sleep: clock.sleep, now: clock.now });

describe('adaptive pacing of one EC2 action', () => {
  test('a burst of the share of the bucket, then the share of its refill', async () => {
    const clock = new VirtualClock();
    const paced = pacer(clock);
    const sentAt: number[] = [];
    await clock.run(
      Promise.all(Array.from({ length: 48 }, () => paced.call(async () => sentAt.push(clock.now())))),
    );
    // 8 at once (80 % of 10), then 4 a second (80 % of 5): the last of 48 after 10 s.
    expect(sentAt.filter((t) => t === 0)).toHaveLength(8);
    expect(Math.max(...sentAt)).toBe(10_000);
    expect(paced.callsPerSecond).toBe(4);
  });

  test('halves its rate on throttling, retries the call through the pacer, then climbs back', async () => {
    const clock = new VirtualClock();
    const paced = pacer(clock);
    let calls = 0;
    const result = await clock.run(
      paced.call(async () => {
        calls += 1;
        if (calls <= 2) throw throttling();
        return 'sent';
      }),
    );
    expect(result).toBe('sent');
    expect(paced.throttles).toBe(2);
    // 4 → 2 → 1, then one step back up (4 / 32).
    expect(paced.callsPerSecond).toBeCloseTo(1.125);
    for (let i = 0; i < 40; i += 1) await clock.run(paced.call(async () => undefined));
    expect(paced.callsPerSecond).toBe(4);
  });

  test('a throttling error surfaces once the attempts are spent; other errors at once', async () => {
    const clock = new VirtualClock();
    const paced = new AdaptivePacer({
      bucket: { size: 10, refillPerSecond: 5 },
      share: 0.8,
      attempts: 3,
      sleep: clock.sleep,
      now: clock.now,
    });
    let throttled = 0;
    await expect(
      clock.run(
        paced.call(async () => {
          throttled += 1;
          throw throttling();
        }),
      ),
    ).rejects.toThrow('Request limit exceeded.');
    expect(throttled).toBe(3);
    let failed = 0;
    await expect(
      clock.run(
        paced.call(async () => {
          failed += 1;
          throw Object.assign(new Error('no such AMI'), { name: 'InvalidAMIID.Malformed' });
        }),
      ),
    ).rejects.toThrow('no such AMI');
    expect(failed).toBe(1);
  });

  test('the share must be in (0, 1]', () => {
    const clock = new VirtualClock();
    expect(() => pacer(clock, 0)).toThrow('request share must be in (0, 1]');
    expect(() => pacer(clock, 1.5)).toThrow('request share must be in (0, 1]');
  });
});

describe('backoff of the reads', () => {
  test('throttling is retried with growing pauses, other errors are not', async () => {
    const sleeps: number[] = [];
    const sleep = async (ms: number) => {
      sleeps.push(ms);
    };
    let calls = 0;
    const result = await withBackoff(
      async () => {
        calls += 1;
        if (calls < 4) throw throttling();
        return 'done';
      },
      { sleep, random: () => 1, baseMs: 100 },
    );
    expect(result).toBe('done');
    expect(sleeps).toEqual([100, 200, 400]);

    await expect(
      withBackoff(async () => Promise.reject(throttling()), { sleep, attempts: 2 }),
    ).rejects.toThrow('Request limit exceeded.');
    let other = 0;
    await expect(
      withBackoff(
        async () => {
          other += 1;
          throw new Error('InvalidAMIID.Malformed');
        },
        { sleep },
      ),
    ).rejects.toThrow('InvalidAMIID');
    expect(other).toBe(1);
  });
});
