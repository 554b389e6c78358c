import { TokenBucket, withBackoff } from '../../../functions/ami-retention/pacing';

const throttling = () =>
  Object.assign(new Error('Request limit exceeded.'), { name: 'RequestLimitExceeded' });

describe('pacing of deletions', () => {
  test('the bucket lets a burst through, then one call per refill interval', async () => {
    const sleeps: number[] = [];
    let clock = 0;
    const bucket = new TokenBucket({
      burst: 3,
      perSecond: 2,
      now: () => clock,
      sleep: async (ms) => {
        sleeps.push(ms);
        clock += ms;
      },
    });
    for (let i = 0; i < 7; i += 1) await bucket.take();
    expect(sleeps).toEqual([500, 500, 500, 500]);
  });

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
