import { PublishCommand, type SNSClient } from '@aws-sdk/client-sns';
import type { FallbackSettings } from './fallback';
import type { FallbackState } from './state';

/** The one notice of an episode's start, or of its end. */
export async function publishNotice(
  sns: Pick<SNSClient, 'send'>,
  settings: FallbackSettings,
  state: FallbackState,
  notice: 'started' | 'restored',
): Promise<void> {
  const { stackName, groupName, configuredPercentage, cooldownSeconds } = settings;
  const cooldown = `${Math.round(cooldownSeconds / 60)} minutes`;
  const message =
    notice === 'started'
      ? {
          Subject: `${stackName}: no Spot capacity, workers launch on-demand`,
          Message: [
            `Auto Scaling could not launch a Spot instance for ${groupName}: ${state.reason ?? 'Spot capacity'}.`,
            `The on-demand share above the base is raised from ${configuredPercentage}% to 100% so that the team keeps its workers; on-demand instances cost more.`,
            `Spot is tried again ${cooldown} after the last Spot launch failure, and this episode ends (one more message) once Spot has launched for ${cooldown} without failing.`,
            `Since: ${state.since ?? 'now'}.`,
          ].join('\n'),
        }
      : {
          Subject: `${stackName}: Spot capacity back, on-demand share ${configuredPercentage}% again`,
          Message: [
            `The on-demand share of ${groupName} is back at the configured ${configuredPercentage}%, and no Spot launch has failed for ${cooldown}.`,
            `The episode started ${state.since ?? 'earlier'}: ${state.failures} Spot launch failures, the share raised ${state.raises} times.`,
            'Auto Scaling replaces the on-demand instances above the share with Spot ones gradually, launching before it terminates.',
          ].join('\n'),
        };
  await sns.send(
    new PublishCommand({
      TopicArn: settings.topicArn,
      Subject: message.Subject.slice(0, 100),
      Message: message.Message,
    }),
  );
}
