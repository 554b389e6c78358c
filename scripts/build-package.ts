/**
 * Builds what the package ships (`npm pack` runs it as `prepack`): the construct compiled into
 * lib/index.js with its declarations in lib/types/, the operator CLI in lib/cli.js, each Lambda
 * function's bundle in
 * lib/functions/<name>/ (so a consuming app needs neither esbuild nor the functions' sources), and
 * the files the construct reads at synth beside the entry, where it looks for them.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { build } from 'esbuild';
import { bundleFunction, CLI_BUNDLE_OPTIONS, FUNCTIONS_DIR } from '../infra/bundling';

const ROOT = path.join(__dirname, '..');
const LIB = path.join(ROOT, 'lib');

/** Provided by the consuming app (peer dependencies), or loaded only by this project's own checks. */
const EXTERNAL = ['aws-cdk-lib', 'constructs', '@cdklabs/cdk-validator-cfnguard', 'esbuild', 'cdk-nag'];

async function main(): Promise<void> {
  fs.rmSync(LIB, { recursive: true, force: true });
  await build({
    entryPoints: [path.join(ROOT, 'infra', 'index.ts')],
    outfile: path.join(LIB, 'index.js'),
    bundle: true,
    platform: 'node',
    target: 'node24',
    format: 'cjs',
    external: EXTERNAL.flatMap((name) => [name, `${name}/*`]),
    logLevel: 'warning',
  });
  // The operator CLI, whole (its AWS SDK clients included): what the package's bin runs.
  await build({
    ...CLI_BUNDLE_OPTIONS,
    entryPoints: [path.join(ROOT, 'cli', 'entry.ts')],
    outfile: path.join(LIB, 'cli.js'),
  });
  // Read at synth relative to the entry, as infra/ reads them relative to itself.
  for (const folder of ['userdata', 'image']) {
    fs.cpSync(path.join(ROOT, 'infra', folder), path.join(LIB, folder), { recursive: true });
  }
  const functions = fs
    .readdirSync(FUNCTIONS_DIR)
    // functions/lib is what the functions share, not a function.
    .filter((name) => name !== 'lib' && fs.existsSync(path.join(FUNCTIONS_DIR, name, 'handler.ts')));
  for (const name of functions) await bundleFunction(name, path.join(LIB, 'functions', name, 'index.js'));

  const tsc = spawnSync(
    process.execPath,
    [
      path.join(path.dirname(require.resolve('typescript/package.json')), 'bin', 'tsc'),
      '-p',
      path.join(ROOT, 'tsconfig.package.json'),
    ],
    { stdio: 'inherit' },
  );
  if (tsc.status !== 0) throw new Error('the declarations did not compile');
  process.stderr.write(`lib/: the construct, its declarations and ${functions.length} function bundles\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
