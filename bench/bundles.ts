import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { build } from 'esbuild';
import { BUNDLE_OPTIONS, FUNCTIONS_DIR, functionEntry } from '../infra/bundling';

export interface BundleResult {
  name: string;
  bytes: number;
  plainBytes: number;
  coldMs: number;
  plainColdMs: number;
}

const ROOT = path.join(__dirname, '..');

/** Every function folder with a handler: the bundles the stack deploys. */
export function functionNames(): string[] {
  return fs
    .readdirSync(FUNCTIONS_DIR)
    .filter((name) => name !== 'lib' && fs.existsSync(functionEntry(name)))
    .sort();
}

async function bundle(name: string, outfile: string, optimized: boolean): Promise<number> {
  await build({
    entryPoints: [functionEntry(name)],
    outfile,
    bundle: true,
    platform: 'node',
    target: BUNDLE_OPTIONS.target,
    format: BUNDLE_OPTIONS.format,
    mainFields: [...BUNDLE_OPTIONS.mainFields],
    external: [...BUNDLE_OPTIONS.external],
    minify: optimized && BUNDLE_OPTIONS.minify,
    treeShaking: optimized && BUNDLE_OPTIONS.treeShaking,
    sourcemap: BUNDLE_OPTIONS.sourcemap,
    logLevel: 'silent',
  });
  return fs.statSync(outfile).size;
}

/**
 * Environment a function validates at cold start: plausible values of the right form, so that
 * init runs as in Lambda.
 */
function initEnvironment(): NodeJS.ProcessEnv {
  const arn = (service: string, resource: string) => `arn:aws:${service}:eu-west-1:123456789012:${resource}`;
  return {
    ...process.env,
    AWS_REGION: 'eu-west-1',
    AWS_ACCESS_KEY_ID: 'bench',
    AWS_SECRET_ACCESS_KEY: 'bench',
    STACK_NAME: 'external-worker-prod',
    POWERTOOLS_METRICS_NAMESPACE: 'ExternalWorker',
    FLOWS: '{}',
    BENCH_ARN_SAMPLE: arn('sns', 'topic'),
    ...JSON.parse(process.env.BENCH_FUNCTION_ENV ?? '{}'),
  };
}

/** Median over `runs` fresh Node processes of the time to load and initialize the bundle. */
function coldLoadMs(file: string, runs: number, env: NodeJS.ProcessEnv): number {
  const script = `const t=performance.now();require(${JSON.stringify(file)});process.stdout.write(String(performance.now()-t))`;
  const samples: number[] = [];
  for (let i = 0; i < runs; i += 1) {
    const child = spawnSync(process.execPath, ['-e', script], {
      cwd: ROOT,
      env: { ...env, NODE_PATH: path.join(ROOT, 'node_modules') },
      encoding: 'utf8',
    });
    if (child.status !== 0) throw new Error(`loading ${file} failed: ${child.stderr.slice(0, 500)}`);
    samples.push(Number(child.stdout));
  }
  samples.sort((a, b) => a - b);
  return samples[Math.floor(samples.length / 2)] ?? Number.NaN;
}

export async function benchBundles(
  outDir: string,
  runs: number,
  envByFunction: Record<string, NodeJS.ProcessEnv>,
) {
  const results: BundleResult[] = [];
  for (const name of functionNames()) {
    const optimizedFile = path.join(outDir, name, 'index.js');
    const plainFile = path.join(outDir, name, 'plain.js');
    const bytes = await bundle(name, optimizedFile, true);
    const plainBytes = await bundle(name, plainFile, false);
    const env = { ...initEnvironment(), ...(envByFunction[name] ?? {}) };
    results.push({
      name,
      bytes,
      plainBytes,
      coldMs: coldLoadMs(optimizedFile, runs, env),
      plainColdMs: coldLoadMs(plainFile, runs, env),
    });
  }
  return results;
}
