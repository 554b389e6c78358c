import { ArnFormat, Stack, Token, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as s3assets from 'aws-cdk-lib/aws-s3-assets';
import type { Construct } from 'constructs';
import type { WorkerConfig } from './config';
import { workerLogGroupName } from './names';
import { ECR_PULL_ACTIONS, LOG_SHIPPING_ACTIONS, SSM_AGENT_ACTIONS } from './worker-calls';

/**
 * The workers' instance role: exactly the calls of infra/worker-calls.ts. No AWS managed policy:
 * AmazonSSMManagedInstanceCore reads every parameter of the account. Builds cannot reach this role
 * (hop limit 1, host firewall) unless buildsUseInstanceRole says so; then they also pull from ECR.
 */
export function createWorkerRole(scope: Construct, config: WorkerConfig, playbook: s3assets.Asset): iam.Role {
  const stack = Stack.of(scope);
  const logGroupName = workerLogGroupName(config);
  const logGroupArn = (name: string) =>
    stack.formatArn({
      service: 'logs',
      resource: 'log-group',
      resourceName: name,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
  const [describeGroups, ...writeActions] = LOG_SHIPPING_ACTIONS;
  const statements = [
    new iam.PolicyStatement({
      sid: 'SsmAgentRunCommandAndSessions',
      actions: [...SSM_AGENT_ACTIONS],
      // No resource-level permissions for ssmmessages and ec2messages; the agent speaks for its own
      // instance only (its credentials name it).
      resources: ['*'],
    }),
    new iam.PolicyStatement({
      sid: 'ReadWorkerKey',
      actions: ['ssm:GetParameter'],
      resources: [
        stack.formatArn({
          service: 'ssm',
          resource: 'parameter',
          resourceName: config.workerKeyParameter.slice(1),
        }),
      ],
    }),
    new iam.PolicyStatement({
      sid: 'ReadPlaybook',
      actions: ['s3:GetObject'],
      resources: [playbook.bucket.arnForObjects(playbook.s3ObjectKey)],
    }),
    // Fluentd's CloudWatch plugin looks its group up before the first write.
    new iam.PolicyStatement({
      sid: 'FindWorkerLogGroup',
      actions: [describeGroups],
      resources: [logGroupArn('*')],
    }),
    new iam.PolicyStatement({
      sid: 'ShipWorkerLogs',
      actions: writeActions,
      resources: [logGroupArn(logGroupName), logGroupArn(`${logGroupName}:log-stream:*`)],
    }),
  ];
  if (config.buildsUseInstanceRole) {
    const [login, ...pull] = ECR_PULL_ACTIONS;
    statements.push(
      new iam.PolicyStatement({ sid: 'BuildsEcrLogin', actions: [login], resources: ['*'] }),
      new iam.PolicyStatement({
        sid: 'BuildsEcrPull',
        actions: pull,
        resources: [stack.formatArn({ service: 'ecr', resource: 'repository', resourceName: '*' })],
      }),
    );
  }
  // In the role itself: an instance never starts with the role but without its policy.
  const role = new iam.Role(scope, 'InstanceRole', {
    assumedBy: new iam.ServicePrincipal('ec2.amazonaws.com'),
    description: `Concourse workers of ${config.stackName}`,
    inlinePolicies: { Worker: new iam.PolicyDocument({ statements }) },
  });

  // As cdk-nag prints the ARNs: the partition is a literal when the region is known.
  const partition = Token.isUnresolved(stack.partition) ? '<AWS::Partition>' : stack.partition;
  const acknowledgements: Array<[string, string]> = [
    [
      'Resource::*',
      'ssmmessages, ec2messages and ecr:GetAuthorizationToken have no resource-level permissions; the SSM agent acts for its own instance only.',
    ],
    [
      `Resource::arn:${partition}:logs:${config.region}:<AWS::AccountId>:log-group:*`,
      'DescribeLogGroups takes only the log-group ARN pattern of the account; it reads names, no log data.',
    ],
    [
      `Resource::arn:${partition}:logs:${config.region}:<AWS::AccountId>:log-group:${logGroupName}:log-stream:*`,
      'One log stream per instance and file, named at boot; limited to the workers log group.',
    ],
    [
      `Resource::arn:${partition}:ecr:${config.region}:<AWS::AccountId>:repository/*`,
      'Only with buildsUseInstanceRole: builds pull images from the repositories of the account, as the original allowed.',
    ],
  ];
  for (const [finding, reason] of acknowledgements) {
    Validations.of(role).acknowledge({ id: `AwsSolutions-IAM5[${finding}]`, reason });
  }
  return role;
}
