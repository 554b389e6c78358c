import { ArnFormat, type CfnElement, Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3assets from 'aws-cdk-lib/aws-s3-assets';
import type { Construct } from 'constructs';
import type { WorkerConfig } from './config';

/**
 * The workers' instance role: the SSM agent, log shipping to the workers' log group, the worker key
 * parameter, ECR pull as the original, and the playbook asset (first deploy on the stock AMI).
 */
export function createWorkerRole(
  scope: Construct,
  config: WorkerConfig,
  logGroup: logs.LogGroup,
  playbook: s3assets.Asset,
): iam.Role {
  const stack = Stack.of(scope);
  const role = new iam.Role(scope, 'InstanceRole', {
    assumedBy: new iam.ServicePrincipal('ec2.amazonaws.com'),
    description: `Concourse workers of ${config.stackName}`,
    managedPolicies: [iam.ManagedPolicy.fromAwsManagedPolicyName('AmazonSSMManagedInstanceCore')],
  });
  Validations.of(role).acknowledge({
    id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/AmazonSSMManagedInstanceCore]',
    reason:
      'The SSM agent needs exactly this AWS-maintained policy for Run Command (boot health, drain) and Session Manager.',
  });
  role.addToPolicy(
    new iam.PolicyStatement({
      sid: 'ShipWorkerLogs',
      actions: ['logs:CreateLogStream', 'logs:PutLogEvents', 'logs:DescribeLogStreams'],
      resources: [logGroup.logGroupArn, `${logGroup.logGroupArn}:log-stream:*`],
    }),
  );
  // Fluentd's CloudWatch plugin looks its group up before the first write.
  role.addToPolicy(
    new iam.PolicyStatement({
      sid: 'FindWorkerLogGroup',
      actions: ['logs:DescribeLogGroups'],
      resources: [
        stack.formatArn({
          service: 'logs',
          resource: 'log-group',
          resourceName: '*',
          arnFormat: ArnFormat.COLON_RESOURCE_NAME,
        }),
      ],
    }),
  );
  role.addToPolicy(
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
  );
  // The original let workers pull from ECR (build images); same here, without the ECS rights it carried.
  role.addToPolicy(
    new iam.PolicyStatement({ sid: 'EcrLogin', actions: ['ecr:GetAuthorizationToken'], resources: ['*'] }),
  );
  role.addToPolicy(
    new iam.PolicyStatement({
      sid: 'EcrPull',
      actions: ['ecr:BatchGetImage', 'ecr:GetDownloadUrlForLayer', 'ecr:BatchCheckLayerAvailability'],
      resources: [stack.formatArn({ service: 'ecr', resource: 'repository', resourceName: '*' })],
    }),
  );
  playbook.grantRead(role);
  const region = config.region;
  const logGroupId = stack.getLogicalId(logGroup.node.defaultChild as CfnElement);
  const acknowledgements: Array<[string, string]> = [
    ['Resource::*', 'ecr:GetAuthorizationToken has no resource-level permissions.'],
    [
      `Resource::arn:${stack.partition}:ecr:${region}:<AWS::AccountId>:repository/*`,
      'Build steps pull images from any repository of the account, as the original allowed.',
    ],
    [
      `Resource::arn:${stack.partition}:logs:${region}:<AWS::AccountId>:log-group:*`,
      'DescribeLogGroups takes only the log-group ARN pattern of the account; it reads names, no log data.',
    ],
    [
      `Resource::<${logGroupId}.Arn>:log-stream:*`,
      'One log stream per instance and file, named at boot; limited to the workers log group.',
    ],
    [
      `Resource::arn:${stack.partition}:s3:::cdk-hnb659fds-assets-<AWS::AccountId>-${region}/*`,
      'Read-only access to the playbook asset object, as granted by the asset itself.',
    ],
    ...['s3:GetObject*', 's3:GetBucket*', 's3:List*'].map((action): [string, string] => [
      `Action::${action}`,
      'Read-only access to the playbook asset, as granted by the asset itself.',
    ]),
  ];
  for (const [finding, reason] of acknowledgements) {
    Validations.of(role).acknowledge({ id: `AwsSolutions-IAM5[${finding}]`, reason });
  }
  return role;
}
