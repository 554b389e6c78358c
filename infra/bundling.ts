import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { AssetHashType, DockerImage } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import type { BuildOptions } from 'esbuild';
import {
  clientVersionPlugin,
  lambdaCredentialsPlugin,
  noEventStreamsPlugin,
  noSharedConfigFilesPlugin,
} from './sdk-lambda-plugins';
import { sdkSchemaPlugin } from './sdk-schema-plugin';

/** Folder of the Lambda sources, and the entry of each function. */
export const FUNCTIONS_DIR = path.join(__dirname, '..', 'functions');
export const functionEntry = (name: string): string => path.join(FUNCTIONS_DIR, name, 'handler.ts');

/**
 * esbuild options of every Lambda bundle. The stack and the benchmark build with exactly these, so
 * the sizes and cold starts the benchmark reports are the deployed ones.
 *
 * The AWS SDK is bundled, not taken from the runtime: the runtime's copy is each client's whole
 * CommonJS build (hundreds of milliseconds to load for EC2 alone) at a version we do not test
 * with. Its ES module builds (`module` before `main`) let esbuild keep only the commands a function
 * sends, once the schema plugin has made the generated schemas tree-shakable and dropped the error
 * registrations no error name depends on. What Lambda never uses of the SDK's Node.js build (the
 * credential chain beyond the environment, event streams, shared config files, the clients' manifests
 * but their version) stays out (sdk-lambda-plugins.ts).
 */
export const BUNDLE_OPTIONS = {
  bundle: true,
  platform: 'node',
  target: 'node24',
  format: 'cjs',
  minify: true,
  treeShaking: true,
  sourcemap: false,
  mainFields: ['module', 'main'],
  plugins: [
    sdkSchemaPlugin({ forLambda: true }),
    lambdaCredentialsPlugin,
    noEventStreamsPlugin,
    noSharedConfigFilesPlugin,
    clientVersionPlugin,
  ],
  logLevel: 'silent',
} satisfies BuildOptions;

/**
 * esbuild options of the operator CLI's bundle: it runs on an operator's machine, so it keeps the
 * SDK's whole credential chain (profiles, SSO), event streams and error classes; only the schemas
 * of the commands it never sends go.
 */
export const CLI_BUNDLE_OPTIONS = {
  ...BUNDLE_OPTIONS,
  minify: false,
  plugins: [sdkSchemaPlugin({ forLambda: false })],
} satisfies BuildOptions;

/** Bundles function `name` into `outfile`; returns the bundle's size in bytes. */
export async function bundleFunction(name: string, outfile: string, options: BuildOptions = BUNDLE_OPTIONS) {
  // Loaded when a bundle is built: the packaged construct ships its bundles and needs no esbuild.
  const { build } = await import('esbuild');
  const result = await build({ ...options, entryPoints: [functionEntry(name)], outfile, metafile: true });
  return Object.values(result.metafile.outputs).reduce((sum, output) => sum + output.bytes, 0);
}

/** The command line that bundles one function (bundle-function.ts), run by synthesis. */
const BUNDLE_SCRIPT = path.join(__dirname, 'bundle-function.ts');

/**
 * Where the package build (scripts/build-package.ts) puts each function's bundle, beside the
 * compiled entry: the packaged construct deploys those, byte for byte what a synthesis here builds.
 */
export const PREBUILT_FUNCTIONS_DIR = path.join(__dirname, 'functions');

/**
 * The code asset of function `name`: bundled by the local esbuild with BUNDLE_OPTIONS. esbuild's
 * plugins need its asynchronous API, which a construct cannot await, so a child process bundles.
 * The packaged construct has its bundles already: a folder of the same bytes, so the same asset hash.
 */
export function functionCode(name: string): lambda.Code {
  const prebuilt = path.join(PREBUILT_FUNCTIONS_DIR, name);
  if (fs.existsSync(path.join(prebuilt, 'index.js'))) return lambda.Code.fromAsset(prebuilt);
  return lambda.Code.fromAsset(path.join(FUNCTIONS_DIR, name), {
    assetHashType: AssetHashType.OUTPUT,
    bundling: {
      // Never pulled: the local bundling below either succeeds or stops the synthesis.
      image: DockerImage.fromRegistry('public.ecr.aws/docker/library/node:24'),
      local: {
        tryBundle(outputDir: string): boolean {
          const child = spawnSync(
            process.execPath,
            ['--import', 'tsx', BUNDLE_SCRIPT, name, path.join(outputDir, 'index.js')],
            { encoding: 'utf8', stdio: ['ignore', 'ignore', 'pipe'] },
          );
          if (child.status !== 0) throw new Error(`bundling ${name} failed: ${child.stderr || child.error}`);
          return true;
        },
      },
    },
  });
}
