import * as fs from 'node:fs';
import * as path from 'node:path';
import type { EnvironmentContext, JestEnvironmentConfig } from '@jest/environment';
import { TestEnvironment } from 'jest-environment-node';

/**
 * jest's node environment, measuring the CPU time of each test file for the benchmark
 * (bench/suite.ts passes it with --testEnvironment and EXTERNAL_WORKER_CPU_REPORT, a directory):
 * the worker's own CPU seconds and those of the child processes it ran and waited for (moto,
 * cfn-guard, esbuild, Ansible), from the file's setup to its teardown, after its last hook. Wall
 * time depends on how loaded the machine is, CPU time much less: with it the two-core budget can
 * be judged on a busy machine too.
 */
export default class CpuMeasuredEnvironment extends TestEnvironment {
  private readonly testPath: string;
  private start = cpuSeconds();
  private started = 0;

  constructor(config: JestEnvironmentConfig, context: EnvironmentContext) {
    super(config, context);
    this.testPath = context.testPath;
  }

  override async setup(): Promise<void> {
    await super.setup();
    this.start = cpuSeconds();
    this.started = performance.now();
  }

  override async teardown(): Promise<void> {
    const dir = process.env.EXTERNAL_WORKER_CPU_REPORT;
    if (dir) {
      const end = cpuSeconds();
      const entry = {
        file: this.testPath,
        ownSeconds: end.own - this.start.own,
        childrenSeconds: end.children - this.start.children,
        wallSeconds: (performance.now() - this.started) / 1000,
      };
      fs.mkdirSync(dir, { recursive: true });
      fs.appendFileSync(path.join(dir, `cpu-${process.pid}.jsonl`), `${JSON.stringify(entry)}\n`);
    }
    await super.teardown();
  }
}

/** This process's CPU seconds, and its waited-for children's from /proc (Linux; 0 elsewhere). */
function cpuSeconds(): { own: number; children: number } {
  const own = process.cpuUsage();
  let children = 0;
  try {
    // cutime and cstime, fields 16 and 17 of proc_pid_stat(5) (the 14th and 15th after the name), in clock ticks.
    const fields = fs.readFileSync('/proc/self/stat', 'utf8').split(') ')[1]?.split(' ') ?? [];
    children = (Number(fields[13]) + Number(fields[14])) / CLOCK_TICKS;
  } catch {
    // not Linux
  }
  return { own: (own.user + own.system) / 1e6, children };
}

// USER_HZ: 100 on every Linux architecture Node runs on (sysconf(_SC_CLK_TCK)).
const CLOCK_TICKS = 100;
