/**
 * EC2 meters mutating calls with a token bucket per account and region; a clean-up of hundreds of
 * AMIs must stay well under it so that the fleet's own calls (launches, tags) are not throttled.
 */

export type Sleep = (ms: number) => Promise<void>;

export const realSleep: Sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

export interface PacingOptions {
  /** Calls allowed at once before pacing starts. */
  burst: number;
  /** Sustained calls per second. */
  perSecond: number;
  sleep: Sleep;
  now: () => number;
}

/** A token bucket: `take()` resolves when one more call may be made. Calls are sequential. */
export class TokenBucket {
  private tokens: number;
  private last: number;

  constructor(private readonly options: PacingOptions) {
    this.tokens = options.burst;
    this.last = options.now();
  }

  async take(): Promise<void> {
    this.refill();
    if (this.tokens < 1) {
      await this.options.sleep(Math.ceil(((1 - this.tokens) / this.options.perSecond) * 1000));
      this.refill();
      // A fake clock may not advance while sleeping: the wait itself earned the token.
      this.tokens = Math.max(this.tokens, 1);
    }
    this.tokens -= 1;
  }

  private refill(): void {
    const now = this.options.now();
    const earned = ((now - this.last) / 1000) * this.options.perSecond;
    this.tokens = Math.min(this.options.burst, this.tokens + earned);
    this.last = now;
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
 * Retries `call` on throttling with exponential backoff and full jitter. The SDK retries a few
 * times on its own; this covers the longer pauses a sustained burst of deletions can need.
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
