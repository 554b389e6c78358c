import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { build } from 'esbuild';
import { BUNDLE_OPTIONS, FUNCTIONS_DIR, functionEntry } from '../infra/bundling';

export interface BundleResult {
  name: string;
  /** The function sends AWS SDK commands: the cold-start budget applies to it. */
  usesSdk: boolean;
  bytes: number;
  /** The same code built as Lambda's runtime SDK would serve it: `@aws-sdk/*` left to the runtime. */
  runtimeSdkBytes: number;
  coldMs: number;
  runtimeSdkColdMs: number;
}

const ROOT = path.join(__dirname, '..');

/**
 * The build that leaves the SDK to the nodejs24.x runtime (`external: ['@aws-sdk/*']`): in Lambda,
 * `require('@aws-sdk/client-ec2')` then loads the runtime's CommonJS build of the whole client,
 * which is what NODE_PATH reproduces here with the same versions.
 */
const RUNTIME_SDK_OPTIONS = { ...BUNDLE_OPTIONS, plugins: [], external: ['@aws-sdk/*', '@smithy/*'] };

/** Every function folder with a handler: the bundles the stack deploys. */
export function functionNames(): string[] {
  return fs
    .readdirSync(FUNCTIONS_DIR)
    .filter((name) => name !== 'lib' && fs.existsSync(functionEntry(name)))
    .sort();
}

async function bundle(
  name: string,
  outfile: string,
  options: typeof BUNDLE_OPTIONS | typeof RUNTIME_SDK_OPTIONS,
) {
  const result = await build({ ...options, entryPoints: [functionEntry(name)], outfile, metafile: true });
  const inputs = Object.keys(result.metafile.inputs);
  return {
    bytes: fs.statSync(outfile).size,
    usesSdk: inputs.some((input) => input.includes('node_modules/@aws-sdk/client-')),
  };
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

/**
 * What Lambda's Node.js runtime has loaded before it loads a handler: its Runtime API client,
 * created first, requires `node:http` (aws/aws-lambda-nodejs-runtime-interface-client: `index.mjs`
 * constructs `RAPIDClient` before `UserFunction.load`, and `RAPIDClient.js` / `client/rapid-client.ts`
 * require `http`). Preloaded here so that neither build is charged for it.
 */
const LOADED_BY_THE_RUNTIME = ['node:http'];

/**
 * One cold load and init of `file` in a fresh Node process: the CPU time the process spends on it
 * (user + system, all its threads), in milliseconds. Lambda allocates CPU in proportion to a
 * function's memory (https://docs.aws.amazon.com/lambda/latest/dg/configuration-memory.html): a
 * 256 MB function runs on a fraction of a vCPU, so its init lasts as long as the CPU it needs at
 * that share, which is what this counts. Wall-clock time on the bench's machine would also count
 * what other processes take from it: with both cores busy, spot-fallback's paired ratio read 0.42
 * by the clock and 0.31 in CPU time, as on an idle machine.
 */
function coldLoadMs(file: string, env: NodeJS.ProcessEnv): number {
  const preload = LOADED_BY_THE_RUNTIME.map((module) => `require(${JSON.stringify(module)});`).join('');
  const script = `${preload}const c=process.cpuUsage();require(${JSON.stringify(file)});const d=process.cpuUsage(c);process.stdout.write(String((d.user+d.system)/1000))`;
  const child = spawnSync(process.execPath, ['-e', script], {
    cwd: ROOT,
    env: { ...env, NODE_PATH: path.join(ROOT, 'node_modules') },
    encoding: 'utf8',
  });
  if (child.status !== 0) throw new Error(`loading ${file} failed: ${child.stderr.slice(0, 500)}`);
  return Number(child.stdout);
}

const median = (samples: number[]) =>
  [...samples].sort((a, b) => a - b)[Math.floor(samples.length / 2)] ?? Number.NaN;

/**
 * Sizes and cold starts of each function's bundle beside its runtime-SDK build. The two are loaded
 * in alternation, so that a change of the machine's load weighs on both alike.
 */
export async function benchBundles(
  outDir: string,
  runs: number,
  envByFunction: Record<string, NodeJS.ProcessEnv>,
): Promise<BundleResult[]> {
  const results: BundleResult[] = [];
  for (const name of functionNames()) {
    const bundledFile = path.join(outDir, name, 'index.js');
    const runtimeSdkFile = path.join(outDir, name, 'runtime-sdk.js');
    const bundled = await bundle(name, bundledFile, BUNDLE_OPTIONS);
    const runtimeSdk = await bundle(name, runtimeSdkFile, RUNTIME_SDK_OPTIONS);
    const env = { ...initEnvironment(), ...(envByFunction[name] ?? {}) };
    const cold: number[] = [];
    const runtimeCold: number[] = [];
    for (let i = 0; i < runs; i += 1) {
      cold.push(coldLoadMs(bundledFile, env));
      runtimeCold.push(coldLoadMs(runtimeSdkFile, env));
    }
    results.push({
      name,
      usesSdk: bundled.usesSdk,
      bytes: bundled.bytes,
      runtimeSdkBytes: runtimeSdk.bytes,
      coldMs: median(cold),
      runtimeSdkColdMs: median(runtimeCold),
    });
  }
  return results;
}
