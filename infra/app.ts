import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { ConfigError, parseConfig } from './config';
import { guardValidator } from './guard';
import { ExternalWorkerStack } from './stack';
import { summarize } from './summary';

const app = new App();

let config: ReturnType<typeof parseConfig>;
try {
  config = parseConfig(app.node.getAllContext());
} catch (error) {
  if (error instanceof ConfigError) {
    process.stderr.write(`${error.message}\n`);
    process.exit(1);
  }
  throw error;
}

const stack = new ExternalWorkerStack(app, config.stackName, {
  stackName: config.stackName,
  env: { region: config.region },
  description: `Cycloid CI workers (${config.project}/${config.env}) and their event-driven control plane`,
  config,
});
Validations.of(app).addPlugins(new AwsSolutionsChecks(app), guardValidator());

const artifact = app.synth().getStackArtifact(stack.artifactId);
process.stderr.write(summarize(artifact.template, artifact.templateFile, config));
