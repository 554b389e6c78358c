import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

/**
 * The whole test suite's wall time, as `npm test` runs it (jest with its default workers). The
 * tests themselves never measure time: how long they take is tracked here, against the target.
 */
export const SUITE_TARGET_SECONDS = 6 * 60;

export interface SuiteRun {
  wallSeconds: number;
  files: number;
  tests: number;
  failed: number;
  /** The slowest test files, by their own wall time (files run in parallel). */
  slowest: Array<{ file: string; seconds: number }>;
  cores: number;
  /** The 1-minute load average when the run started: a shared machine shows here. */
  loadAtStart: number;
}

interface JestReport {
  numTotalTests: number;
  numFailedTests: number;
  testResults: Array<{ name: string; startTime: number; endTime: number }>;
}

/** Runs the whole suite; `only` (test path patterns) narrows it, for a quick look at this step. */
export function benchSuite(root: string, only: string[] = []): SuiteRun {
  const report = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'ew-suite-')), 'jest.json');
  const loadAtStart = os.loadavg()[0] ?? 0;
  const started = performance.now();
  const run = spawnSync('npx', ['jest', '--silent', '--json', `--outputFile=${report}`, ...only], {
    cwd: root,
    stdio: ['ignore', 'ignore', 'pipe'],
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  const wallSeconds = (performance.now() - started) / 1000;
  if (!fs.existsSync(report)) {
    throw new Error(`jest wrote no report (exit ${run.status}):\n${run.stderr.slice(-4000)}`);
  }
  const json = JSON.parse(fs.readFileSync(report, 'utf8')) as JestReport;
  fs.rmSync(path.dirname(report), { recursive: true, force: true });
  const files = json.testResults.map((r) => ({
    file: path.relative(root, r.name),
    seconds: (r.endTime - r.startTime) / 1000,
  }));
  return {
    wallSeconds,
    files: files.length,
    tests: json.numTotalTests,
    failed: json.numFailedTests,
    slowest: files.sort((a, b) => b.seconds - a.seconds).slice(0, 5),
    cores: os.availableParallelism(),
    loadAtStart,
  };
}
