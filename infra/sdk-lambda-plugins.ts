import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Plugin } from 'esbuild';

/**
 * What a Lambda bundle need not carry of the SDK's Node.js build.
 *
 * Credentials: Lambda hands the execution role's credentials to every function in its environment
 * (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN: "Defined runtime environment
 * variables", https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars.html#configuration-envvars-runtime),
 * and the default chain of @aws-sdk/credential-provider-node reads the environment first, so in
 * Lambda it never goes further. The rest of that chain (SSO, INI files, process, web identity,
 * container and instance metadata, with the STS and SSO clients they bring) is 120 KB to compile at
 * each cold start for nothing. The bundles take the environment provider alone, from the same
 * package the chain would have used.
 */
export const LAMBDA_CREDENTIALS_NAMESPACE = 'lambda-credentials';

export const lambdaCredentialsPlugin: Plugin = {
  name: 'lambda-credentials',
  setup(build) {
    build.onResolve({ filter: /^@aws-sdk\/credential-provider-node$/ }, async (args) => {
      if (args.namespace === LAMBDA_CREDENTIALS_NAMESPACE) return undefined;
      const chain = await build.resolve(args.path, {
        kind: args.kind,
        resolveDir: args.resolveDir,
        namespace: LAMBDA_CREDENTIALS_NAMESPACE,
      });
      if (chain.errors.length > 0) return { errors: chain.errors };
      return { path: chain.path, namespace: LAMBDA_CREDENTIALS_NAMESPACE };
    });
    build.onLoad({ filter: /.*/, namespace: LAMBDA_CREDENTIALS_NAMESPACE }, (args) => ({
      // Resolved beside the chain's own files: its copy of the environment provider.
      contents: "export { fromEnv as defaultProvider } from '@aws-sdk/credential-provider-env';",
      resolveDir: path.dirname(args.path),
      loader: 'js',
    }));
  },
};

/**
 * Event streams: @smithy/core's HTTP protocols load `@smithy/core/event-streams` (30 KB with its
 * codecs) for any operation whose input or output is one. The bundles replace it with a module that
 * throws; the schema plugin (sdk-schema-plugin.ts) stops the build if a bundled client has any
 * streaming member, so no operation that would reach the stand-in can be bundled.
 */
export const EVENT_STREAMS_NAMESPACE = 'no-event-streams';
export const EVENT_STREAMS_ERROR = 'EventStreamsNotBundled';

export const noEventStreamsPlugin: Plugin = {
  name: 'no-event-streams',
  setup(build) {
    build.onResolve({ filter: /^@smithy\/core\/event-streams$/ }, () => ({
      path: 'event-streams',
      namespace: EVENT_STREAMS_NAMESPACE,
    }));
    build.onLoad({ filter: /.*/, namespace: EVENT_STREAMS_NAMESPACE }, () => ({
      contents: [
        'function notBundled() {',
        `  const error = new Error('event streams are not in this bundle (infra/sdk-lambda-plugins.ts)');`,
        `  error.name = ${JSON.stringify(EVENT_STREAMS_ERROR)};`,
        '  throw error;',
        '}',
        'export class EventStreamSerde { constructor() { notBundled(); } }',
        'export const eventStreamSerdeProvider = notBundled;',
      ].join('\n'),
      loader: 'js',
    }));
  },
};

/**
 * Package manifests: each client imports its whole package.json (2 KB of dependencies and scripts)
 * to read `version` for the User-Agent header. The bundles carry that field alone; a test checks
 * that the clients read no other.
 */
export const CLIENT_PACKAGE_JSON = /[\\/]@aws-sdk[\\/]client-[^\\/]+[\\/]package\.json$/;

export const clientVersionPlugin: Plugin = {
  name: 'sdk-client-version',
  setup(build) {
    build.onLoad({ filter: CLIENT_PACKAGE_JSON }, async (args) => {
      const { version } = JSON.parse(await fs.promises.readFile(args.path, 'utf8')) as { version: string };
      return { contents: JSON.stringify({ version }), loader: 'json' };
    });
  },
};

/**
 * Shared config and credentials files: for every setting the environment does not give, the SDK
 * reads ~/.aws/config and ~/.aws/credentials (or AWS_CONFIG_FILE, AWS_SHARED_CREDENTIALS_FILE). A
 * Lambda execution environment holds the function's code, its layers, the runtime, a writable /tmp
 * and a minimal Linux user space ("Lambda isolation technologies",
 * https://docs.aws.amazon.com/whitepapers/latest/security-overview-aws-lambda/lambda-isolation-technologies.html);
 * the stack deploys each bundle alone, with no layer, and sets none of those variables (a test
 * checks it), so those reads never find a file. The bundles answer "no files" without reading,
 * which keeps node:fs/promises (a millisecond at each cold start) and the INI parser out.
 */
export const SHARED_CONFIG_LOADER =
  /[\\/]@smithy[\\/]core[\\/]dist-es[\\/]submodules[\\/]config[\\/]shared-ini-file-loader[\\/]loadSharedConfigFiles\.js$/;
/** What the loader module exports: the stand-in exports the same, or the build stops. */
export const SHARED_CONFIG_LOADER_EXPORTS = ['CONFIG_PREFIX_SEPARATOR', 'loadSharedConfigFiles'];

export function exportedNames(source: string): string[] {
  const names = new Set<string>();
  for (const [, list] of source.matchAll(/^export \{([^}]*)\}/gm))
    for (const item of (list as string).split(','))
      if (item.trim())
        names.add(
          item
            .trim()
            .split(/\s+as\s+/)
            .pop() as string,
        );
  for (const [, name] of source.matchAll(/^export (?:const|let|var|function|async function|class) (\w+)/gm))
    names.add(name as string);
  return [...names].sort();
}

export const noSharedConfigFilesPlugin: Plugin = {
  name: 'no-shared-config-files',
  setup(build) {
    build.onLoad({ filter: SHARED_CONFIG_LOADER }, async (args) => {
      const exported = exportedNames(await fs.promises.readFile(args.path, 'utf8'));
      if (exported.join() !== [...SHARED_CONFIG_LOADER_EXPORTS].sort().join())
        return {
          errors: [
            {
              text: `${args.path} exports ${exported.join(', ')}, the stand-in ${SHARED_CONFIG_LOADER_EXPORTS.join(', ')}: review noSharedConfigFilesPlugin (infra/sdk-lambda-plugins.ts)`,
            },
          ],
        };
      return {
        contents: [
          'export { CONFIG_PREFIX_SEPARATOR } from "./constants";',
          'export const loadSharedConfigFiles = async () => ({ configFile: {}, credentialsFile: {} });',
        ].join('\n'),
        resolveDir: path.dirname(args.path),
        loader: 'js',
      };
    });
  },
};
