/**
 * What the functions print, for tests to assert on. The jest setup (test/support/setup.ts) runs
 * Powertools in dev mode, where the Logger and Metrics write through the global console: their
 * records land here instead of the test output, one parsed record per call, cleared before each
 * test. Anything else written to the console is printed as usual.
 */

export type PrintedRecord = Record<string, unknown>;

interface Printed {
  records: PrintedRecord[];
}

// On globalThis: jest.isolateModules() gives a cold start its own copy of this module, but the
// console it prints to, and so the records, are the test file's.
const KEY = Symbol.for('external-worker.test.printed');
const store = globalThis as unknown as Record<symbol, Printed | undefined>;
const printed: Printed = store[KEY] ?? { records: [] };
store[KEY] = printed;

const isEmf = (record: PrintedRecord) => '_aws' in record;

interface EmfDirective {
  Namespace: string;
  Dimensions: string[][];
  Metrics: Array<{ Name: string; Unit?: string }>;
}

export const output = {
  /** Log records and EMF documents, in the order printed since the test began (or clear()). */
  records: (): PrintedRecord[] => [...printed.records],
  logs: (): PrintedRecord[] => printed.records.filter((record) => !isEmf(record)),
  emf: (): PrintedRecord[] => printed.records.filter(isEmf),
  /** Metric name → values, from the EMF documents printed so far. */
  metrics: (): Record<string, number[]> => {
    const found: Record<string, number[]> = {};
    for (const doc of output.emf()) {
      const directives = (doc._aws as { CloudWatchMetrics: EmfDirective[] }).CloudWatchMetrics;
      for (const { Name } of directives.flatMap((d) => d.Metrics)) {
        found[Name] = [...(found[Name] ?? []), ...[doc[Name]].flat().map(Number)];
      }
    }
    return found;
  },
  clear: (): void => {
    printed.records.length = 0;
  },
};

export type Output = typeof output;

/** A Powertools record: a Logger line (level, message, timestamp) or an EMF document. */
function asRecord(args: unknown[]): PrintedRecord | undefined {
  if (args.length !== 1 || typeof args[0] !== 'string' || !args[0].trimStart().startsWith('{')) return;
  try {
    const parsed = JSON.parse(args[0]) as unknown;
    if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) return;
    const record = parsed as PrintedRecord;
    return isEmf(record) || ('level' in record && 'message' in record) ? record : undefined;
  } catch {
    return undefined;
  }
}

// Metrics warns through its console when a flush finds nothing to publish; a test asserts the
// metrics it expects, not their absence elsewhere.
const EMPTY_FLUSH = /^No application metrics to publish/;

const CONSOLE_METHODS = ['log', 'info', 'warn', 'error', 'debug', 'trace'] as const;

/** Routes Powertools' records from `target` into the captured output; the rest passes through. */
export function routePowertoolsOutput(target: Console): void {
  for (const method of CONSOLE_METHODS) {
    const original = target[method].bind(target);
    target[method] = (...args: unknown[]) => {
      const record = asRecord(args);
      if (record) printed.records.push(record);
      else if (!(typeof args[0] === 'string' && EMPTY_FLUSH.test(args[0]))) original(...args);
    };
  }
}

type MatcherResult = { pass: boolean; message: () => string };

function describeRecords(records: PrintedRecord[]): string {
  return records.length
    ? records.map((record) => `  ${JSON.stringify(record)}`).join('\n')
    : '  (nothing printed)';
}

function matchSome(
  context: jest.MatcherContext,
  records: PrintedRecord[],
  expected: unknown,
  what: string,
): MatcherResult {
  const asymmetric = typeof (expected as { asymmetricMatch?: unknown }).asymmetricMatch === 'function';
  const pattern = asymmetric ? expected : expect.objectContaining(expected as Record<string, unknown>);
  const pass = records.some((record) => context.equals(record, pattern));
  const shown = context.utils.printExpected(expected);
  return {
    pass,
    message: () =>
      pass
        ? `expected no ${what} matching ${shown}, got:\n${describeRecords(records)}`
        : `expected a ${what} matching ${shown}, got:\n${describeRecords(records)}`,
  };
}

export const outputMatchers = {
  /** Some log record contains these keys (nested values compared as toEqual does). */
  toHaveLogged(this: jest.MatcherContext, received: Output, expected: Record<string, unknown>) {
    return matchSome(this, received.logs(), expected, 'log record');
  },
  /** Some EMF document contains these keys. */
  toHaveEmittedEMFWith(this: jest.MatcherContext, received: Output, expected: Record<string, unknown>) {
    return matchSome(this, received.emf(), expected, 'EMF document');
  },
  /** The metric was emitted; with `value`, that value was among those emitted. */
  toHaveEmittedMetric(this: jest.MatcherContext, received: Output, name: string, value?: number) {
    const values = received.metrics()[name] ?? [];
    const pass = value === undefined ? values.length > 0 : values.includes(value);
    const shown = value === undefined ? name : `${name} = ${value}`;
    const emitted = JSON.stringify(received.metrics());
    return {
      pass,
      message: () =>
        pass
          ? `expected no metric ${shown}, emitted ${emitted}`
          : `expected metric ${shown}, emitted ${emitted}`,
    };
  },
};

declare global {
  namespace jest {
    interface Matchers<R> {
      toHaveLogged(expected: Record<string, unknown>): R;
      toHaveEmittedEMFWith(expected: Record<string, unknown>): R;
      toHaveEmittedMetric(name: string, value?: number): R;
    }
  }
}
