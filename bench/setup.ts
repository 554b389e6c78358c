import { registerHooks } from 'node:module';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';

/**
 * Loaded first by run.ts. Handlers run in-process by the flows' harness stay quiet: no log lines,
 * no metrics output amid the tables.
 */
export const QUIET = { POWERTOOLS_LOG_LEVEL: 'SILENT', POWERTOOLS_METRICS_DISABLED: 'true' };
Object.assign(process.env, QUIET);

/**
 * The flows' harness records every call for the IAM proof, which a jest hook checks after each test
 * file (test/support/iam/recorder.ts registers it as it loads). The bench measures, it proves
 * nothing: outside jest the hook has nowhere to run, so registering it does nothing.
 */
const hooks = globalThis as { afterAll?: (fn: () => unknown, timeout?: number) => void };
hooks.afterAll ??= () => {};

/**
 * The handlers import middy, whose packages export an `import` condition only; tsx runs the bench
 * as CommonJS, whose resolver does not try that condition. Resolve them to their entry file as
 * jest.config.js does, and let Node load the ES module through require.
 */
const MIDDY = /^@middy\/(core|util)$/;

registerHooks({
  resolve(specifier, context, nextResolve) {
    const match = MIDDY.exec(specifier);
    if (!match) return nextResolve(specifier, context);
    const file = path.join(__dirname, '..', 'node_modules', '@middy', match[1] as string, 'index.js');
    return { url: pathToFileURL(file).href, format: 'module', shortCircuit: true };
  },
});
