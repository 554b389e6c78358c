import { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import { EC2Client } from '@aws-sdk/client-ec2';
import { ImagebuilderClient } from '@aws-sdk/client-imagebuilder';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { SFNClient } from '@aws-sdk/client-sfn';
import { SSMClient } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import type { Clients } from '../../cli/clients';
import { run } from '../../cli/main';
import { OUTPUT, TAG } from '../../functions/lib/contract';
import { capture } from './sample-fleet';

export const STACK = 'external-worker-prod';
export const GROUP = `${STACK}-workers`;
const ARN = 'arn:aws:states:eu-west-1:123456789012:stateMachine';
export const MACHINES = {
  rollout: `${ARN}:${STACK}-image-rollout`,
  launch: `${ARN}:${STACK}-instance-launch`,
  drain: `${ARN}:${STACK}-instance-drain`,
  destroy: `${ARN}:${STACK}-destroy`,
};
export const PIPELINE = `arn:aws:imagebuilder:eu-west-1:123456789012:image-pipeline/${STACK}-worker`;
export const RETENTION_FUNCTION = `${STACK}-AmiRetentionFunction`;
export const RETENTION_LOG_GROUP = `${STACK}-AmiRetentionFunctionLogs`;

export const OUTPUTS: Record<string, string> = {
  [OUTPUT.groupName]: GROUP,
  [OUTPUT.launchTemplateId]: 'lt-0123456789abcdef0',
  [OUTPUT.imagePipelineArn]: PIPELINE,
  [OUTPUT.versionStateParameter]: '/external-worker/prod/version-state',
  [OUTPUT.currentAmiParameter]: '/external-worker/prod/current-ami',
  [OUTPUT.schedulerApiAddress]: 'https://scheduler.cycloid.io',
  [OUTPUT.retentionFunctionName]: RETENTION_FUNCTION,
  [OUTPUT.retentionLogGroup]: RETENTION_LOG_GROUP,
  [OUTPUT.topicArn]: `arn:aws:sns:eu-west-1:123456789012:${STACK}-notifications`,
  [OUTPUT.keptInstanceTag]: TAG.kept,
  [OUTPUT.rolloutStateMachineArn]: MACHINES.rollout,
  [OUTPUT.launchStateMachineArn]: MACHINES.launch,
  [OUTPUT.drainStateMachineArn]: MACHINES.drain,
  [OUTPUT.destroyStateMachineArn]: MACHINES.destroy,
  [OUTPUT.alarmNames]: `${STACK}-RolloutExecutionsFailed,${STACK}-BelowDesired`,
};

/** Real SDK clients, each answered by aws-sdk-client-mock; the stack's outputs are set already. */
export function mockedClients() {
  const clients: Clients = {
    cfn: new CloudFormationClient({ region: 'eu-west-1' }),
    autoscaling: new AutoScalingClient({ region: 'eu-west-1' }),
    ec2: new EC2Client({ region: 'eu-west-1' }),
    ssm: new SSMClient({ region: 'eu-west-1' }),
    sfn: new SFNClient({ region: 'eu-west-1' }),
    lambda: new LambdaClient({ region: 'eu-west-1' }),
    cloudwatch: new CloudWatchClient({ region: 'eu-west-1' }),
    logs: new CloudWatchLogsClient({ region: 'eu-west-1' }),
    imagebuilder: new ImagebuilderClient({ region: 'eu-west-1' }),
  };
  const mocks = {
    cfn: mockClient(clients.cfn),
    autoscaling: mockClient(clients.autoscaling),
    ec2: mockClient(clients.ec2),
    ssm: mockClient(clients.ssm),
    sfn: mockClient(clients.sfn),
    lambda: mockClient(clients.lambda),
    cloudwatch: mockClient(clients.cloudwatch),
    logs: mockClient(clients.logs),
    imagebuilder: mockClient(clients.imagebuilder),
  };
  mocks.cfn.on(DescribeStacksCommand, { StackName: STACK }).resolves({
    Stacks: [
      {
        StackName: STACK,
        StackStatus: 'UPDATE_COMPLETE',
        CreationTime: new Date('2026-11-01T00:00:00Z'),
        Outputs: Object.entries(OUTPUTS).map(([OutputKey, OutputValue]) => ({ OutputKey, OutputValue })),
      },
    ],
  });
  return { clients, mocks };
}

/** Runs a command line on these clients; what it printed, its exit code, and the time it took. */
export async function cli(
  clients: Clients,
  args: string[],
  options: { now?: Date; answers?: string[] } = {},
) {
  const start = options.now ?? new Date('2026-12-01T12:00:00Z');
  const io = capture(start, options.answers ?? []);
  const code = await run(args, { clients: () => clients, io });
  return { code, out: io.stdout, err: io.stderr, waitedMs: io.now().getTime() - start.getTime() };
}
