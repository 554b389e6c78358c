import * as fs from 'node:fs';
import * as path from 'node:path';
import { App, Validations } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { parseConfig, type WorkerConfig } from '../../infra/config';
import { guardValidator } from '../../infra/guard';
import { ExternalWorkerStack } from '../../infra/stack';
import { SynthCache } from './synth-cache';

const cdkJson = JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', 'cdk.json'), 'utf8')) as {
  context: Record<string, unknown>;
};

/** The feature flags of cdk.json: `new App()` in a test does not read them by itself. */
export const featureFlags = cdkJson.context;

export interface Synthesized {
  /** The app and the stack are built when first read: a template from the cache needs neither. */
  readonly app: App;
  readonly stack: ExternalWorkerStack;
  template: Template;
  config: WorkerConfig;
  /** Whether this process synthesized the template, or read it from the cache (test/support/synth-cache.ts). */
  from: 'synthesis' | 'cache';
}

export interface SynthOptions {
  /** Build the Lambda bundles (esbuild); skipped by default, to keep the many variants fast. */
  bundle?: boolean;
  /**
   * Run CDK's built-in CloudFormation template validation, the slowest part of a synthesis. The
   * default and the fullest configurations are validated by test/infra/template-validation.test.ts
   * (and `cdk synth` validates what is deployed); the variants of the other tests skip it.
   */
  validate?: boolean;
  /**
   * Run AWS Control Tower's cfn-guard rules at synthesis too (a cfn-guard process, most of a
   * synthesis's time). Off by default: the configurations of test/support/checked-configs.ts are
   * guard-checked by test/infra/guard.test.ts, which also proves that they set every configuration
   * key and every value of each choice; the other tests' variants are synthesized without it.
   */
  guard?: boolean;
  /** A synthesis of its own, shared with no other test and read from no cache. */
  fresh?: boolean;
  /** Where synthesized templates are kept between test files and runs (the default one unless given). */
  cache?: SynthCache;
}

const defaultCache = new SynthCache();
// One result per configuration and test file: the tests only read what a synthesis gives.
const shared = new Map<string, Synthesized>();

type Checks = Pick<SynthOptions, 'validate' | 'guard'>;
/** The checks a template passed, the ones asked first: one that passed more serves a request for fewer. */
const CHECKS: Checks[] = [
  { validate: false, guard: false },
  { validate: false, guard: true },
  { validate: true, guard: false },
  { validate: true, guard: true },
];
const covers = (done: Checks, asked: Checks) =>
  (done.validate || !asked.validate) && (done.guard || !asked.guard);

/**
 * Synthesizes the stack for `context` (configuration keys as cdk.json or `-c` gives them), with the
 * AwsSolutions checks on (and with `guard`, AWS Control Tower's guard rules): synthesis throws on any
 * unacknowledged finding. The stack sees the configuration only, so contexts of one configuration
 * (`true` or `'true'`) share a synthesis. A template synthesized from the same sources and
 * configuration before, by this run or an earlier one, with the same checks or more, is read from
 * the cache: that synthesis passed them. With `bundle`, the bundles are built every time (their
 * build is what the caller tests).
 */
export function synth(context: Record<string, unknown> = {}, options: SynthOptions = {}): Synthesized {
  const cache = options.cache ?? defaultCache;
  const config = parseConfig({ ...featureFlags, ...context });
  const asked: Checks = { validate: Boolean(options.validate), guard: Boolean(options.guard) };
  const keyOf = (checks: Checks) => cache.key({ config, bundle: Boolean(options.bundle), ...checks });
  const key = keyOf(asked);
  const memoKey = `${cache.dir}/${key}`;
  if (!options.fresh) {
    const known = shared.get(memoKey);
    if (known) return known;
  }
  let stored: unknown;
  if (!options.fresh && !options.bundle) {
    for (const checks of CHECKS.filter((done) => covers(done, asked))) {
      stored = cache.read(keyOf(checks));
      if (stored) break;
    }
  }
  let built: { app: App; stack: ExternalWorkerStack } | undefined;
  // A template from the cache passed its checks: the app built for a caller that reads the stack
  // needs them no more (CDK's own validation still runs when asked: its report is what the caller reads).
  const build = () => {
    built ??= synthesize(config, options, !stored);
    return built;
  };
  let template: Template;
  if (stored) {
    template = Template.fromJSON(stored as Record<string, unknown>);
  } else {
    template = Template.fromStack(build().stack);
    if (!options.fresh) cache.write(key, template.toJSON());
  }
  const result: Synthesized = {
    get app() {
      return build().app;
    },
    get stack() {
      return build().stack;
    },
    template,
    config,
    from: stored ? 'cache' : 'synthesis',
  };
  if (!options.fresh) shared.set(memoKey, result);
  return result;
}

function synthesize(
  config: WorkerConfig,
  options: SynthOptions,
  checked: boolean,
): { app: App; stack: ExternalWorkerStack } {
  const app = new App({
    context: { ...featureFlags, ...(options.bundle ? {} : { 'aws:cdk:bundling-stacks': [] }) },
    builtinCloudFormationValidation: Boolean(options.validate),
  });
  // Bundles are built as the functions are constructed, announced on stderr by CDK.
  const build = () => {
    const stack = new ExternalWorkerStack(app, config.stackName, {
      stackName: config.stackName,
      env: { region: config.region },
      config,
    });
    if (checked) {
      Validations.of(app).addPlugins(
        new AwsSolutionsChecks(app),
        ...(options.guard ? [guardValidator()] : []),
      );
    }
    app.synth();
    return stack;
  };
  const stack = options.bundle ? withStderrHeld(build) : build();
  return { app, stack };
}

/** What `run` writes to stderr, shown only when it fails. */
function withStderrHeld<T>(run: () => T): T {
  const held: string[] = [];
  const write = process.stderr.write;
  process.stderr.write = ((chunk: string | Uint8Array) => {
    held.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
    return true;
  }) as typeof process.stderr.write;
  try {
    return run();
  } catch (error) {
    write.call(process.stderr, held.join(''));
    throw error;
  } finally {
    process.stderr.write = write;
  }
}
