/**
 * Every AWS call a worker instance makes with its instance role, by the part of the worker that
 * makes it: the instance role (infra/worker-role.ts) allows these and nothing else. Resources are
 * the ARNs the calls name, for concrete values, so that a policy evaluation can replay them.
 */

export interface WorkerWorld {
  partition: string;
  region: string;
  account: string;
  instanceId: string;
  /** `/<project>/<env>/workers` */
  logGroupName: string;
  /** SSM parameter name, starting with `/`. */
  workerKeyParameter: string;
  playbookBucket: string;
  playbookKey: string;
}

export interface WorkerCall {
  /** Which part of the worker makes the call, and when. */
  caller: string;
  /** `<service>:<Action>` as IAM names it. */
  action: string;
  resource: string;
  /** The API parameters the call names its resources by, for an evaluation to form their ARNs. */
  parameters: Record<string, string>;
}

/** Calls whose resource is `*` for IAM: the action has no resource-level permissions. */
const ANY = '*';

/**
 * The SSM agent's calls for Run Command (boot health check, drain: `AWS-RunShellScript`) and
 * Session Manager, as the AmazonSSMManagedInstanceCore policy lists them, without State Manager,
 * inventory, patching or parameters (the stack uses none of them):
 * https://docs.aws.amazon.com/aws-managed-policy/latest/reference/AmazonSSMManagedInstanceCore.html
 * https://docs.aws.amazon.com/systems-manager/latest/userguide/getting-started-create-iam-instance-profile.html
 */
export const SSM_AGENT_ACTIONS = [
  'ssm:UpdateInstanceInformation',
  'ssmmessages:CreateControlChannel',
  'ssmmessages:CreateDataChannel',
  'ssmmessages:OpenControlChannel',
  'ssmmessages:OpenDataChannel',
  'ec2messages:AcknowledgeMessage',
  'ec2messages:DeleteMessage',
  'ec2messages:FailMessage',
  'ec2messages:GetEndpoint',
  'ec2messages:GetMessages',
  'ec2messages:SendReply',
] as const;

/** fluent-plugin-cloudwatch-logs with `auto_create_stream`: group lookup, stream lookup and creation, writes. */
export const LOG_SHIPPING_ACTIONS = [
  'logs:DescribeLogGroups',
  'logs:DescribeLogStreams',
  'logs:CreateLogStream',
  'logs:PutLogEvents',
] as const;

/** ECR pull for builds, granted only with buildsUseInstanceRole (they cannot reach the role otherwise). */
export const ECR_PULL_ACTIONS = [
  'ecr:GetAuthorizationToken',
  'ecr:BatchCheckLayerAvailability',
  'ecr:GetDownloadUrlForLayer',
  'ecr:BatchGetImage',
] as const;

/** ECR pulls of a build step's image, granted only with buildsUseInstanceRole. */
export function ecrPullCalls(w: Pick<WorkerWorld, 'partition' | 'region' | 'account'>): WorkerCall[] {
  const repository = 'builds';
  return ECR_PULL_ACTIONS.map(
    (action): WorkerCall => ({
      caller: 'build steps: image pulls from the account ECR',
      action,
      resource:
        action === 'ecr:GetAuthorizationToken'
          ? ANY
          : `arn:${w.partition}:ecr:${w.region}:${w.account}:repository/${repository}`,
      parameters: action === 'ecr:GetAuthorizationToken' ? {} : { RepositoryName: repository },
    }),
  );
}

/**
 * What the boot (first boot on a stock AMI, every boot, log shipping), the builds (when they may
 * use the role) and the retire paths call: the one list the role is derived from and proven against.
 */
export function workerCalls(w: WorkerWorld, options: { buildsUseInstanceRole?: boolean } = {}): WorkerCall[] {
  const logGroup = `arn:${w.partition}:logs:${w.region}:${w.account}:log-group:${w.logGroupName}`;
  const stream = `${w.instanceId}/user-data.log`;
  return [
    ...SSM_AGENT_ACTIONS.map(
      (action): WorkerCall => ({
        caller: 'amazon-ssm-agent (launch check, drain, Session Manager)',
        action,
        resource:
          action === 'ssm:UpdateInstanceInformation'
            ? `arn:${w.partition}:ec2:${w.region}:${w.account}:instance/${w.instanceId}`
            : ANY,
        parameters: /^(ssm:UpdateInstanceInformation|ssmmessages:Create)/.test(action)
          ? { InstanceId: w.instanceId }
          : {},
      }),
    ),
    {
      caller: 'bootstrap.sh on a stock AMI: aws s3 cp of the playbook',
      action: 's3:GetObject',
      resource: `arn:${w.partition}:s3:::${w.playbookBucket}/${w.playbookKey}`,
      parameters: { BucketName: w.playbookBucket, ObjectName: w.playbookKey },
    },
    {
      caller: 'external-worker-boot: aws ssm get-parameter --with-decryption of the worker key',
      action: 'ssm:GetParameter',
      resource: `arn:${w.partition}:ssm:${w.region}:${w.account}:parameter${w.workerKeyParameter}`,
      parameters: { Name: w.workerKeyParameter },
    },
    {
      caller: 'fluentd: does the log group exist',
      action: 'logs:DescribeLogGroups',
      resource: ANY,
      parameters: {},
    },
    ...(['logs:DescribeLogStreams', 'logs:CreateLogStream', 'logs:PutLogEvents'] as const).map(
      (action): WorkerCall => ({
        caller: 'fluentd: one stream per instance and file',
        action,
        resource: action === 'logs:DescribeLogStreams' ? logGroup : `${logGroup}:log-stream:${stream}`,
        parameters:
          action === 'logs:DescribeLogStreams'
            ? { LogGroupName: w.logGroupName }
            : { LogGroupName: w.logGroupName, LogStreamName: stream },
      }),
    ),
    ...(options.buildsUseInstanceRole ? ecrPullCalls(w) : []),
  ];
}
