import { PublishCommand, type SNSClient } from '@aws-sdk/client-sns';
import { logger } from '../lib/observability';
import type { VersionState } from './state';

/** Tells the operators that a version is no longer built automatically, and how to resume. */
export async function notifyExhausted(
  sns: SNSClient,
  options: { topicArn: string; imagePipelineArn: string; stackName?: string },
  state: VersionState,
): Promise<void> {
  const stack = options.stackName ?? 'external-worker';
  await sns.send(
    new PublishCommand({
      TopicArn: options.topicArn,
      Subject: `${stack}: worker image for Concourse ${state.version} failed ${state.failures} times`.slice(
        0,
        100,
      ),
      Message: [
        `The worker image for Concourse ${state.version} failed to build ${state.failures} times in a row.`,
        'No further build is started automatically for this version.',
        `Last build: ${state.imageBuildVersionArn}`,
        'Builds resume when the scheduler reports another version, or after a build started by hand:',
        `  aws imagebuilder start-image-pipeline-execution --image-pipeline-arn ${options.imagePipelineArn}`,
      ].join('\n'),
    }),
  );
  logger.error('image build retries exhausted; operator notified', {
    version: state.version,
    failures: state.failures,
  });
}
