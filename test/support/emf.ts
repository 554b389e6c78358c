/**
 * Captures what the functions print (Powertools writes JSON log lines and EMF documents to stdout)
 * so tests can assert on logs and metrics.
 */
export interface Captured {
  lines: () => Array<Record<string, unknown>>;
  /** Metric name → values, from the EMF documents printed so far. */
  metrics: () => Record<string, number[]>;
  logs: () => Array<Record<string, unknown>>;
  restore: () => void;
}

export function captureStdout(): Captured {
  const written: string[] = [];
  const original = process.stdout.write.bind(process.stdout);
  const spy = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    written.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
    return true;
  });
  const lines = () =>
    written
      .join('')
      .split('\n')
      .filter((line) => line.trim().startsWith('{'))
      .map((line) => {
        try {
          return JSON.parse(line) as Record<string, unknown>;
        } catch {
          return {};
        }
      });
  return {
    lines,
    logs: () => lines().filter((line) => !('_aws' in line)),
    metrics: () => {
      const found: Record<string, number[]> = {};
      for (const doc of lines().filter((line) => '_aws' in line)) {
        const directives = (doc._aws as { CloudWatchMetrics: Array<{ Metrics: Array<{ Name: string }> }> })
          .CloudWatchMetrics;
        for (const { Name } of directives.flatMap((d) => d.Metrics)) {
          found[Name] = [...(found[Name] ?? []), ...[doc[Name]].flat().map(Number)];
        }
      }
      return found;
    },
    restore: () => {
      spy.mockRestore();
      void original;
    },
  };
}
