import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { stripVTControlCharacters } from 'node:util';
import { duration, table } from './markdown';

/**
 * The whole test suite as `npm test` runs it on a fresh clone (its prerequisites step, then jest
 * with the workers jest.config.js sets; no synthesis or transform cached by an earlier run), timed
 * here, never by the tests themselves. The target is its wall time on two cores; the output of a
 * passing run is held to a line budget.
 */
export const SUITE_TARGET_SECONDS = 6 * 60;
export const SUITE_LINE_BUDGET = 100;
/** The cores the target is set for. */
const TARGET_CORES = 2;
/** Below this 1-minute load average at the start, nothing else competed for the cores. */
const IDLE_LOAD = 1;

export interface SuiteFile {
  file: string;
  /** From the file's start to its end in its worker (files run in parallel). */
  wallSeconds: number;
  /** CPU seconds of its worker and of the processes it ran (moto, cfn-guard, esbuild, Ansible). */
  cpuSeconds?: number;
}

export interface SuiteRun {
  wallSeconds: number;
  /**
   * CPU seconds of the whole run, every process included, when the platform tells (Linux). Much
   * less sensitive than wall time to other work on the machine: divided by two, it is the least
   * wall time the suite can take on two cores.
   */
  cpuSeconds?: number;
  files: number;
  tests: number;
  failed: number;
  /** Each failed test: its file, its name and the first line of its failure. */
  failures: string[];
  /** Lines `npm test` printed (stdout and stderr). */
  lines: number;
  slowest: SuiteFile[];
  cores: number;
  /** The 1-minute load average when the run started and when it ended: a shared machine shows here. */
  loadAtStart: number;
  loadAtEnd: number;
  /** Whether the run is over its target: by its CPU time always, by its wall time on an idle machine. */
  verdict: 'within' | 'over' | 'not judged';
  reason: string;
}

interface JestReport {
  numTotalTests: number;
  numFailedTests: number;
  testResults: Array<{
    name: string;
    startTime: number;
    endTime: number;
    message?: string;
    assertionResults?: Array<{ fullName: string; status: string; failureMessages?: string[] }>;
  }>;
}

/** Each failed test, or a file that failed without a test failing (a suite that did not load). */
function failuresOf(json: JestReport, root: string): string[] {
  return json.testResults.flatMap((result) => {
    const file = path.relative(root, result.name);
    const failed = (result.assertionResults ?? []).filter((test) => test.status === 'failed');
    const firstLine = (text = '') =>
      stripVTControlCharacters(text)
        .split('\n')
        .map((line) => line.trim())
        .find(Boolean) ?? '';
    if (failed.length === 0) return result.message?.trim() ? [`${file}: ${firstLine(result.message)}`] : [];
    return failed.map((test) => `${file} › ${test.fullName}: ${firstLine(test.failureMessages?.[0])}`);
  });
}

/** CPU seconds of the processes this one ran and waited for (cutime + cstime), where /proc has them. */
function childrenCpuSeconds(): number | undefined {
  try {
    const fields = fs.readFileSync('/proc/self/stat', 'utf8').split(') ')[1]?.split(' ') ?? [];
    // cutime and cstime, fields 16 and 17 of proc_pid_stat(5), in clock ticks (USER_HZ, 100).
    return (Number(fields[13]) + Number(fields[14])) / 100;
  } catch {
    return undefined;
  }
}

/** Runs `npm test`; `only` (test path patterns) narrows it, for a quick look at this step. */
export function benchSuite(root: string, only: string[] = []): SuiteRun {
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'ew-suite-'));
  const report = path.join(scratch, 'jest.json');
  const cpuReport = path.join(scratch, 'cpu');
  const loadAtStart = os.loadavg()[0] ?? 0;
  const cpuBefore = childrenCpuSeconds();
  const started = performance.now();
  const jestArgs = [
    `--json`,
    `--outputFile=${report}`,
    // A fresh clone's run: jest's transform cache and the synthesis cache start empty.
    `--cacheDirectory=${path.join(scratch, 'jest-cache')}`,
    `--testEnvironment=${path.join(root, 'test', 'support', 'cpu-environment.ts')}`,
    ...only,
  ];
  const run = spawnSync('npm', ['test', '--', ...jestArgs], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'pipe'],
    encoding: 'utf8',
    maxBuffer: 256 * 1024 * 1024,
    env: {
      ...process.env,
      EXTERNAL_WORKER_SYNTH_CACHE: path.join(scratch, 'synth-cache'),
      EXTERNAL_WORKER_CPU_REPORT: cpuReport,
    },
  });
  const wallSeconds = (performance.now() - started) / 1000;
  const cpuAfter = childrenCpuSeconds();
  const loadAtEnd = os.loadavg()[0] ?? 0;
  if (!fs.existsSync(report)) {
    throw new Error(`jest wrote no report (exit ${run.status}):\n${run.stderr.slice(-4000)}`);
  }
  const json = JSON.parse(fs.readFileSync(report, 'utf8')) as JestReport;
  const cpuOf = new Map<string, number>();
  if (fs.existsSync(cpuReport)) {
    for (const name of fs.readdirSync(cpuReport)) {
      for (const line of fs.readFileSync(path.join(cpuReport, name), 'utf8').split('\n').filter(Boolean)) {
        const entry = JSON.parse(line) as { file: string; ownSeconds: number; childrenSeconds: number };
        cpuOf.set(entry.file, entry.ownSeconds + entry.childrenSeconds);
      }
    }
  }
  fs.rmSync(scratch, { recursive: true, force: true });
  const files = json.testResults.map((r) => ({
    file: path.relative(root, r.name),
    wallSeconds: (r.endTime - r.startTime) / 1000,
    cpuSeconds: cpuOf.get(r.name),
  }));
  const printed = `${run.stdout}${run.stderr}`;
  const cpuSeconds = cpuBefore !== undefined && cpuAfter !== undefined ? cpuAfter - cpuBefore : undefined;
  return {
    wallSeconds,
    cpuSeconds,
    files: files.length,
    tests: json.numTotalTests,
    failed: json.numFailedTests,
    failures: failuresOf(json, root),
    lines: printed.length ? printed.replace(/\n$/, '').split('\n').length : 0,
    slowest: files
      .sort((a, b) => (b.cpuSeconds ?? b.wallSeconds) - (a.cpuSeconds ?? a.wallSeconds))
      .slice(0, 8),
    cores: os.availableParallelism(),
    loadAtStart,
    loadAtEnd,
    ...judge(wallSeconds, cpuSeconds, loadAtStart),
  };
}

/**
 * Over the target if even a perfect split over two cores of its CPU time would be; otherwise by its
 * wall time when nothing else ran on the machine; on a busy machine, not judged by wall time.
 */
function judge(
  wallSeconds: number,
  cpuSeconds: number | undefined,
  loadAtStart: number,
): Pick<SuiteRun, 'verdict' | 'reason'> {
  const target = `${SUITE_TARGET_SECONDS / 60} min`;
  if (cpuSeconds !== undefined && cpuSeconds / TARGET_CORES > SUITE_TARGET_SECONDS) {
    return {
      verdict: 'over',
      reason: `its CPU time over ${TARGET_CORES} cores alone is more than ${target}`,
    };
  }
  if (loadAtStart < IDLE_LOAD) {
    return wallSeconds <= SUITE_TARGET_SECONDS
      ? { verdict: 'within', reason: `wall time ≤ ${target} on an idle machine` }
      : { verdict: 'over', reason: `wall time > ${target} on an idle machine` };
  }
  return {
    verdict: 'not judged',
    reason: `CPU time within ${target} on ${TARGET_CORES} cores; wall time not judged, the machine was busy (load ${loadAtStart.toFixed(1)})`,
  };
}

/** The suite's section of bench/results.md. */
export function suiteSection(suite: SuiteRun): string[] {
  const cpu = (seconds: number | undefined) => (seconds === undefined ? 'n/a' : duration(seconds));
  return [
    '### Test suite',
    '',
    `\`npm test\` as on a fresh clone (empty jest and synthesis caches), on ${suite.cores} cores; 1-minute load average ${suite.loadAtStart.toFixed(1)} at the start, ${suite.loadAtEnd.toFixed(1)} at the end. Target: ≤ ${SUITE_TARGET_SECONDS / 60} min on two cores, judged by the CPU time always and by the wall time when the machine was otherwise idle (load < ${IDLE_LOAD}); a passing run prints < ${SUITE_LINE_BUDGET} lines.`,
    '',
    ...table(
      ['', 'value'],
      [
        ['wall time', duration(suite.wallSeconds)],
        ['CPU time, all processes', cpu(suite.cpuSeconds)],
        [
          `least wall time on ${TARGET_CORES} cores (CPU time / ${TARGET_CORES})`,
          cpu(suite.cpuSeconds === undefined ? undefined : suite.cpuSeconds / TARGET_CORES),
        ],
        ['verdict', `${suite.verdict}: ${suite.reason}`],
        ['test files, tests, failed (budget 0)', `${suite.files}, ${suite.tests}, ${suite.failed}`],
        ...suite.failures.map((failure) => ['failed', failure]),
        [`lines printed (budget < ${SUITE_LINE_BUDGET})`, suite.lines],
        ...suite.slowest.map((s) => [
          `costliest file: ${s.file} (CPU, wall)`,
          `${cpu(s.cpuSeconds)}, ${duration(s.wallSeconds)}`,
        ]),
      ],
    ),
  ];
}

// `npx tsx bench/suite.ts [test path patterns]`: this step of the benchmark alone.
if (require.main === module) {
  const suite = benchSuite(path.join(__dirname, '..'), process.argv.slice(2));
  process.stdout.write(`${suiteSection(suite).join('\n')}\n`);
  if (suite.failed > 0 || suite.verdict === 'over' || suite.lines >= SUITE_LINE_BUDGET) process.exit(1);
}
