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

/**
 * Synthesizes the stack for `context` (configuration keys as cdk.json or `-c` gives them), with the
 * AwsSolutions checks and AWS Control Tower's guard rules on: synthesis throws on any unacknowledged finding. Lambda bundling is
 * skipped unless asked, to keep the many variants fast.
 */
export function synth(
  context: Record<string, unknown> = {},
  options: { bundle?: boolean } = {},
): Synthesized {
  const app = new App({
    context: { ...featureFlags, ...(options.bundle ? {} : { 'aws:cdk:bundling-stacks': [] }) },
  });
  const config = parseConfig({ ...featureFlags, ...context });
  const stack = new ExternalWorkerStack(app, config.stackName, {
    stackName: config.stackName,
    env: { region: config.region },
    config,
  });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app), guardValidator());
  app.synth();
  return { app, stack, template: Template.fromStack(stack), config };
}
