import * as ec2 from '@aws-sdk/client-ec2';
import * as sns from '@aws-sdk/client-sns';
import * as ssm from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import { throttling } from './rollout-world';

type Send = (this: object, command: object) => Promise<unknown>;
type CommandClass = new (input: never) => object;

// The SDK's own send, captured before any test replaces it: a throttled call then reaches moto.
const realSend = {
  ec2: ec2.EC2Client.prototype.send as Send,
  ssm: ssm.SSMClient.prototype.send as Send,
  sns: sns.SNSClient.prototype.send as Send,
};

const COMMANDS = {
  ec2: [
    ec2.DescribeImagesCommand,
    ec2.DescribeTagsCommand,
    ec2.DescribeLaunchTemplatesCommand,
    ec2.DescribeLaunchTemplateVersionsCommand,
    ec2.DescribeInstancesCommand,
    ec2.CreateTagsCommand,
    ec2.CreateLaunchTemplateVersionCommand,
    ec2.ModifyLaunchTemplateCommand,
    ec2.DeregisterImageCommand,
    ec2.DeleteSnapshotCommand,
  ],
  ssm: [ssm.PutParameterCommand, ssm.GetParameterCommand],
  sns: [sns.PublishCommand],
} as const;

/**
 * EC2, SSM and SNS as a busy account answers them: the first call of every command fails with the
 * service's throttling code, later calls reach moto.
 */
export function mockAllThrottledOnce(): Array<{ restore(): void }> {
  const setups = [
    { client: ec2.EC2Client, send: realSend.ec2, commands: COMMANDS.ec2, code: 'RequestLimitExceeded' },
    { client: ssm.SSMClient, send: realSend.ssm, commands: COMMANDS.ssm, code: 'ThrottlingException' },
    { client: sns.SNSClient, send: realSend.sns, commands: COMMANDS.sns, code: 'Throttling' },
  ];
  return setups.map(({ client, send, commands, code }) => {
    const real = new (client as unknown as new (config: object) => object)({});
    const mock = mockClient(client as never);
    for (const Command of commands as readonly CommandClass[]) {
      mock
        .on(Command as never)
        .rejectsOnce(throttling(code))
        .callsFake((input: object) => send.call(real, new Command(input as never)));
    }
    return mock;
  });
}
