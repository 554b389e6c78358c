import type { VirtualClock } from './virtual-clock';

/**
 * SDK clients answered in memory from a table of handlers by command name, in simulated time,
 * metered like EC2 meters requests. A command missing from the table fails loudly. The tests and
 * the benchmark share it (fake-account.ts holds the account it serves).
 */

export type BucketClass = 'non-mutating' | 'unfiltered-non-mutating' | 'mutating';

/**
 * EC2 request-rate limits per account and Region, one bucket per API action ("Request throttling
 * for the Amazon EC2 API", https://docs.aws.amazon.com/ec2/latest/devguide/ec2-api-throttling.html,
 * request token bucket sizes and refill rates): non-mutating actions 100 tokens refilled at 20/s;
 * unfiltered and unpaginated non-mutating actions 50 at 10/s; mutating actions 200 at 5/s.
 */
export const EC2_BUCKETS: Record<BucketClass, { size: number; refillPerSecond: number }> = {
  'non-mutating': { size: 100, refillPerSecond: 20 },
  'unfiltered-non-mutating': { size: 50, refillPerSecond: 10 },
  mutating: { size: 200, refillPerSecond: 5 },
};

export interface FakeCommand {
  /** The EC2 bucket a request draws from; absent for calls EC2 does not meter (other services). */
  meter?: (input: Record<string, unknown>) => BucketClass;
  /** Simulated round trip. */
  latencyMs: number;
  handle: (input: Record<string, unknown>) => unknown;
}

export type CommandTable = Record<string, FakeCommand>;

/** A handler written against the SDK's input type. */
export function command<I>(spec: {
  meter?: (input: I) => BucketClass;
  latencyMs: number;
  handle: (input: I) => unknown;
}): FakeCommand {
  return spec as unknown as FakeCommand;
}

/** A non-mutating describe: the cheaper bucket applies only when it neither filters nor pages. */
export const describeMeter = (input: { Filters?: unknown[]; MaxResults?: number }): BucketClass =>
  input.Filters?.length || input.MaxResults ? 'non-mutating' : 'unfiltered-non-mutating';

/** An AWS error as the SDK raises an unmodeled one: the code as name. */
export function awsError(code: string, message: string, httpStatusCode = 400): Error {
  return Object.assign(new Error(message), { name: code, Code: code, $metadata: { httpStatusCode } });
}

interface Bucket {
  tokens: number;
  last: number;
}

export class FakeAws {
  readonly calls = new Map<string, number>();
  readonly throttles = new Map<string, number>();
  private readonly buckets = new Map<string, Bucket>();

  /**
   * `background`: tokens per second other callers of the account take from every bucket of a
   * class (the fleet's own launches, tags, consoles), so this caller only gets the rest.
   * `throttle`: besides the buckets, any call fails once with RequestLimitExceeded with this
   * probability (drawn from `random`), as EC2 does when others drain a bucket unseen.
   */
  constructor(
    private readonly clock: VirtualClock,
    private readonly background: Partial<Record<BucketClass, number>> = {},
    private readonly throttle: { probability: number; random: () => number } = {
      probability: 0,
      random: Math.random,
    },
  ) {}

  client<C extends object>(
    ClientClass: new (config: {
      region: string;
      credentials: { accessKeyId: string; secretAccessKey: string };
    }) => C,
    service: string,
    table: CommandTable,
  ): C {
    const client = new ClientClass({
      region: 'eu-west-1',
      credentials: { accessKeyId: 'bench', secretAccessKey: 'bench' },
    });
    const send = async (sent: { input: Record<string, unknown> }) => {
      const action = sent.constructor.name.replace(/Command$/, '');
      const spec = table[action];
      if (!spec) throw new Error(`the in-memory ${service} does not implement ${action}`);
      const key = `${service}:${action}`;
      this.calls.set(key, (this.calls.get(key) ?? 0) + 1);
      const admitted =
        (spec.meter ? this.take(action, spec.meter(sent.input)) : true) &&
        !(this.throttle.probability > 0 && this.throttle.random() < this.throttle.probability);
      await this.clock.sleep(spec.latencyMs);
      if (!admitted) {
        this.throttles.set(key, (this.throttles.get(key) ?? 0) + 1);
        throw awsError('RequestLimitExceeded', 'Request limit exceeded.', 503);
      }
      return structuredClone(spec.handle(sent.input));
    };
    Object.defineProperty(client, 'send', { value: send });
    return client;
  }

  /** Calls of `service:action`. */
  count(key: string): number {
    return this.calls.get(key) ?? 0;
  }

  totalThrottles(): number {
    return [...this.throttles.values()].reduce((sum, n) => sum + n, 0);
  }

  private take(action: string, meter: BucketClass): boolean {
    const { size, refillPerSecond } = EC2_BUCKETS[meter];
    const rate = Math.max(0, refillPerSecond - (this.background[meter] ?? 0));
    const key = `${action}/${meter}`;
    const now = this.clock.now();
    const bucket = this.buckets.get(key) ?? { tokens: size, last: now };
    bucket.tokens = Math.min(size, bucket.tokens + ((now - bucket.last) / 1000) * rate);
    bucket.last = now;
    this.buckets.set(key, bucket);
    if (bucket.tokens < 1) return false;
    bucket.tokens -= 1;
    return true;
  }
}
