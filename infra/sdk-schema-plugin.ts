import * as fs from 'node:fs';
import type { Plugin } from 'esbuild';
import { pruneErrorRegistrations, stringConstants } from './sdk-error-registrations';

/**
 * Makes the AWS SDK's generated schema modules tree-shakable.
 *
 * Each client's `dist-es/schemas/schemas_0.js` declares the schema of every shape and operation of
 * the service (EC2: 3,400 of them, 1.3 MB) as `export var X$ = [3, n0, _X, 0, [...], [[0, { [_xN]:
 * _x }]]]`, the member traits written as objects with computed keys (`[_xN]`) whose names are
 * string constants declared at the top of the module. esbuild cannot prove that a computed key is
 * free of side effects (a key's `toString` may run code), so it keeps every such declaration,
 * used or not: about 550 KB of EC2 schemas in any bundle that sends one EC2 command.
 *
 * The plugin writes each computed key whose name is one of those string constants as the string
 * itself. The schema is the same value; esbuild can then drop the declarations nothing imports.
 * Keys naming anything else are left as they are, so the worst an SDK change can do is make the
 * bundle bigger again, never wrong; the tests check that no computed key survives in the clients
 * we use, so such a change is seen.
 *
 * For a Lambda bundle, the same pass drops the error classes the errors' names do not need
 * (sdk-error-registrations.ts), and refuses a client with streaming members: the Lambda bundles
 * carry no event-stream support (sdk-lambda-plugins.ts).
 */

/** The schema modules of the SDK's clients, in their ES module builds. */
export const SCHEMA_MODULE = /[\\/]@aws-sdk[\\/]client-[^\\/]+[\\/]dist-es[\\/]schemas[\\/]schemas_\d+\.js$/;

/** A computed property key that is a bare identifier, where an object literal starts or continues. */
const COMPUTED_KEY = /([{,]\s*)\[(_\w+)\]:/g;

/** The module's source with every computed key naming a string constant written as that string. */
export function literalSchemaKeys(source: string): { source: string; replaced: number; left: number } {
  const constants = stringConstants(source);
  let replaced = 0;
  let left = 0;
  const result = source.replace(COMPUTED_KEY, (whole, before: string, name: string) => {
    const value = constants.get(name);
    if (value === undefined) {
      left += 1;
      return whole;
    }
    replaced += 1;
    return `${before}${value}:`;
  });
  return { source: result, replaced, left };
}

/** A streaming trait among the module's string constants: the client has streaming members. */
const STREAMING = /^const _\w+ = "streaming";$/m;

/**
 * The schema module as a bundle takes it; an error when the bundle cannot serve the client. A Lambda
 * bundle also loses the error classes and refuses streaming clients; a bundle that runs elsewhere
 * (the operator CLI) keeps both, only tree-shaken.
 */
export function bundledSchemaModule(
  file: string,
  original: string,
  forLambda: boolean,
): { source: string } | { error: string } {
  if (!forLambda) return { source: literalSchemaKeys(original).source };
  if (STREAMING.test(original))
    return {
      error: `${file} declares streaming members, and the Lambda bundles carry no event-stream support: take noEventStreamsPlugin out of BUNDLE_OPTIONS (infra/bundling.ts) to bundle this client`,
    };
  return { source: literalSchemaKeys(pruneErrorRegistrations(original).source).source };
}

export function sdkSchemaPlugin(options: { forLambda: boolean }): Plugin {
  return {
    name: 'sdk-schema-literal-keys',
    setup(build) {
      build.onLoad({ filter: SCHEMA_MODULE }, async (args) => {
        const original = await fs.promises.readFile(args.path, 'utf8');
        const result = bundledSchemaModule(args.path, original, options.forLambda);
        if ('error' in result) return { errors: [{ text: result.error }] };
        return { contents: result.source, loader: 'js' };
      });
    },
  };
}
