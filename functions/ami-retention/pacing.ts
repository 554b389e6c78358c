/**
 * EC2 meters requests with a token bucket per API action, account and region ("Request throttling
 * for the Amazon EC2 API", https://docs.aws.amazon.com/ec2/latest/devguide/ec2-api-throttling.html).
 * A clean-up of thousands of AMIs must keep each action under its bucket's refill, and leave part of
 * it to the account's other callers (the fleet's launches and tags, consoles).
 */

export type Sleep = (ms: number) => Promise<void>;

export const realSleep: Sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** A bucket as EC2 documents it: its size (the burst) and its refill per second. */
export interface RequestBucket {
  size: number;
  refillPerSecond: number;
}

/** EC2's documented bucket of a mutating action (each mutating action has a bucket of its own). */
export const MUTATING_BUCKET: RequestBucket = { size: 200, refillPerSecond: 5 };

/** The share of each bucket's refill a run allows itself unless configured otherwise. */
export const DEFAULT_REQUEST_SHARE = 0.8;

export interface PacerOptions {
  bucket: RequestBucket;
  /** Share (0-1] of the bucket's size and refill this caller may use. */
  share: number;
  sleep: Sleep;
  now: () => number;
  /** Attempts of one call before a throttling error surfaces. */
  attempts?: number;
}

/**
 * Paces the calls of one EC2 action. It sends at most `share` of the bucket's refill (after a burst
 * of `share` of its size): the most this caller may take. When EC2 answers RequestLimitExceeded
 * (others are taking more of the bucket than assumed), the rate is halved; each call that goes
 * through adds a small step back, up to the cap (AIMD). A throttled call is sent again through
 * the pacer, so its retry waits for the lowered rate too. Calls may be made concurrently.
 */
export class AdaptivePacer {
  private readonly cap: number;
  private readonly floor: number;
  private readonly step: number;
  private readonly burst: number;
  private rate: number;
  private tokens: number;
  private last: number;
  /** When the next call may go: calls waiting for a token queue behind each other. */
  private nextSlot = 0;
  /** Throttling answers seen; each lowered the rate. */
  throttles = 0;

  constructor(private readonly options: PacerOptions) {
    const { bucket, share } = options;
    if (!(share > 0 && share <= 1)) throw new Error(`request share must be in (0, 1], got ${share}`);
    this.cap = bucket.refillPerSecond * share;
    this.floor = this.cap / 64;
    this.step = this.cap / 32;
    this.burst = Math.max(1, Math.floor(bucket.size * share));
    this.rate = this.cap;
    this.tokens = this.burst;
    this.last = options.now();
  }

  /** The rate the pacer currently sends at, in calls per second. */
  get callsPerSecond(): number {
    return this.rate;
  }

  async call<T>(send: () => Promise<T>): Promise<T> {
    const attempts = this.options.attempts ?? 12;
    for (let attempt = 1; ; attempt += 1) {
      await this.take();
      try {
        const result = await send();
        this.rate = Math.min(this.cap, this.rate + this.step);
        return result;
      } catch (error) {
        if (!isThrottling(error) || attempt >= attempts) throw error;
        this.throttles += 1;
        this.rate = Math.max(this.floor, this.rate / 2);
        // The bucket is empty for now: no burst until it has had time to refill.
        this.tokens = 0;
      }
    }
  }

  private async take(): Promise<void> {
    const now = this.options.now();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) / 1000) * this.rate);
    this.last = now;
    if (this.tokens >= 1 && this.nextSlot <= now) {
      this.tokens -= 1;
      return;
    }
    // No token: queue for the next one at the current rate.
    const slot = Math.max(now, this.nextSlot) + 1000 / this.rate;
    this.nextSlot = slot;
    await this.options.sleep(slot - now);
    this.last = Math.max(this.last, this.options.now());
  }
}

const THROTTLING = new Set([
  'RequestLimitExceeded',
  'Throttling',
  'ThrottlingException',
  'TooManyRequestsException',
  'CallRateLimitExceededException',
  'ServiceUnavailableException',
  'ServiceUnavailable',
  'InternalError',
]);

export function isThrottling(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const code = (error as { Code?: string }).Code ?? error.name;
  return THROTTLING.has(code) || THROTTLING.has(error.name);
}

/**
 * Retries `call` on throttling with exponential backoff and full jitter: for the few reads of a
 * run, which no pacer meters. The SDK retries a few times on its own; this covers longer pauses.
 */
export async function withBackoff<T>(
  call: () => Promise<T>,
  options: { sleep: Sleep; attempts?: number; baseMs?: number; maxMs?: number; random?: () => number },
): Promise<T> {
  const attempts = options.attempts ?? 8;
  const base = options.baseMs ?? 500;
  const max = options.maxMs ?? 20_000;
  const random = options.random ?? Math.random;
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await call();
    } catch (error) {
      if (!isThrottling(error) || attempt >= attempts) throw error;
      await options.sleep(Math.round(random() * Math.min(max, base * 2 ** (attempt - 1))));
    }
  }
}
