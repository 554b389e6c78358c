import * as fs from 'node:fs';
import * as path from 'node:path';
import { App, Validations } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { parseConfig, type WorkerConfig } from '../../infra/config';
import { guardValidator } from '../../infra/guard';
import { ExternalWorkerStack } from '../../infra/stack';

const cdkJson = JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', 'cdk.json'), 'utf8')) as {
  context: Record<string, unknown>;
};

/** The feature flags of cdk.json: `new App()` in a test does not read them by itself. */
export const featureFlags = cdkJson.context;

export interface Synthesized {
  app: App;
  stack: ExternalWorkerStack;
  template: Template;
  config: WorkerConfig;
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
  /** A synthesis of its own, not the one shared with the file's other tests of this configuration. */
  fresh?: boolean;
}

// One synthesis per configuration and test file: the tests only read what a synthesis gives.
const synthesized = new Map<string, Synthesized>();

/**
 * Synthesizes the stack for `context` (configuration keys as cdk.json or `-c` gives them), with the
 * AwsSolutions checks and AWS Control Tower's guard rules on: synthesis throws on any unacknowledged finding.
 */
export function synth(context: Record<string, unknown> = {}, options: SynthOptions = {}): Synthesized {
  const key = JSON.stringify([context, Boolean(options.bundle), Boolean(options.validate)]);
  const shared = synthesized.get(key);
  if (shared && !options.fresh) return shared;
  const app = new App({
    context: { ...featureFlags, ...(options.bundle ? {} : { 'aws:cdk:bundling-stacks': [] }) },
    builtinCloudFormationValidation: Boolean(options.validate),
  });
  const config = parseConfig({ ...featureFlags, ...context });
  // Bundles are built as the functions are constructed, announced on stderr by CDK.
  const build = () => {
    const stack = new ExternalWorkerStack(app, config.stackName, {
      stackName: config.stackName,
      env: { region: config.region },
      config,
    });
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app), guardValidator());
    app.synth();
    return stack;
  };
  const stack = options.bundle ? withStderrHeld(build) : build();
  const result = { app, stack, template: Template.fromStack(stack), config };
  if (!options.fresh) synthesized.set(key, result);
  return result;
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
