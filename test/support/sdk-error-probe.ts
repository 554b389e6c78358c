import { AutoScalingClient, DescribeAutoScalingGroupsCommand } from '@aws-sdk/client-auto-scaling';
import { GetImageCommand, ImagebuilderClient } from '@aws-sdk/client-imagebuilder';
import { GetTopicAttributesCommand, SNSClient } from '@aws-sdk/client-sns';
import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';

/** What a caller sees of an AWS error: the fields the functions and the SDK's retries read. */
export interface SeenError {
  call: string;
  name: string;
  message: string;
  fault: unknown;
  status: unknown;
}

/**
 * One call per protocol the functions use (awsJson, awsQuery, restJson), each answered with an error
 * by a stand-in at AWS_ENDPOINT_URL: run from the sources and from a bundle, the two must agree.
 */
export async function probeErrors(): Promise<SeenError[]> {
  const ssm = new SSMClient({});
  const sns = new SNSClient({});
  const autoscaling = new AutoScalingClient({});
  const imagebuilder = new ImagebuilderClient({});
  const calls: Array<[string, () => Promise<unknown>]> = [
    ['ssm GetParameter', () => ssm.send(new GetParameterCommand({ Name: '/missing' }))],
    [
      'sns GetTopicAttributes',
      () =>
        sns.send(new GetTopicAttributesCommand({ TopicArn: 'arn:aws:sns:eu-west-1:123456789012:missing' })),
    ],
    [
      'autoscaling DescribeAutoScalingGroups',
      () => autoscaling.send(new DescribeAutoScalingGroupsCommand({})),
    ],
    [
      'imagebuilder GetImage',
      () =>
        imagebuilder.send(
          new GetImageCommand({
            imageBuildVersionArn: 'arn:aws:imagebuilder:eu-west-1:123456789012:image/x/1.0.0/1',
          }),
        ),
    ],
  ];
  const seen: SeenError[] = [];
  for (const [call, send] of calls) {
    try {
      await send();
      seen.push({ call, name: 'no error', message: '', fault: undefined, status: undefined });
    } catch (error) {
      const e = error as Error & { $fault?: unknown; $metadata?: { httpStatusCode?: number } };
      seen.push({
        call,
        name: e.name,
        message: e.message,
        fault: e.$fault,
        status: e.$metadata?.httpStatusCode,
      });
    }
  }
  // Their keep-alive sockets would hold the process (and a test worker) open.
  for (const client of [ssm, sns, autoscaling, imagebuilder]) client.destroy();
  return seen;
}
