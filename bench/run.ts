import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { synth } from '../test/support/stack';
import { benchBundles } from './bundles';
import { functionEnvironments } from './function-env';

/**
 * `npm run bench`: sizes and cold starts of every Lambda bundle, state transitions per flow, AMI
 * retention at scale and the monthly cost of the control plane. Budgets on sizes and counts make it
 * exit non-zero; times are printed, never judged.
 */
const BUDGET = { bundleBytes: 350 * 1024 };
const RUNS = Number(process.env.BENCH_RUNS ?? 30);

async function main() {
  const failures: string[] = [];
  const lines: string[] = [];
  const { template } = synth({}, { bundle: false });
  const outDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ew-bench-'));

  const bundles = await benchBundles(outDir, RUNS, functionEnvironments(template));
  lines.push(
    '### Lambda bundles',
    '',
    `Median of ${RUNS} cold loads + init in fresh Node ${process.versions.node} processes.`,
    '',
  );
  lines.push('| function | bytes | unminified bytes | ratio | cold ms | unminified cold ms | ratio |');
  lines.push('|---|---:|---:|---:|---:|---:|---:|');
  for (const b of bundles) {
    lines.push(
      `| ${b.name} | ${b.bytes} | ${b.plainBytes} | ${(b.bytes / b.plainBytes).toFixed(2)} | ${b.coldMs.toFixed(1)} | ${b.plainColdMs.toFixed(1)} | ${(b.coldMs / b.plainColdMs).toFixed(2)} |`,
    );
    if (b.bytes > BUDGET.bundleBytes) failures.push(`${b.name}: ${b.bytes} bytes > ${BUDGET.bundleBytes}`);
  }

  process.stdout.write(`${lines.join('\n')}\n`);
  if (failures.length) {
    process.stderr.write(`budgets exceeded:\n${failures.map((f) => `  - ${f}`).join('\n')}\n`);
    process.exit(1);
  }
}

main().catch((error) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
