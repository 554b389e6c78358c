import type { WorkerConfig } from '../../infra/config';
import type { AwsCall } from '../support/iam/requests';

const INSTANCE = 'i-0123456789abcdef0';

/**
 * Every AWS call a worker instance makes with its role, at boot, while it serves and when it
 * retires, as the boot script, Fluentd, the build steps and the SSM agent make them. Data, so that
 * the proof holds whatever role infra/worker-role.ts synthesizes.
 */
export function workerCalls(config: WorkerConfig, playbookBucket: string, playbookKey: string): AwsCall[] {
  const call = (flow: string, service: string, action: string, parameters: Record<string, unknown> = {}) => ({
    principal: 'worker-instance',
    service,
    action,
    parameters,
    flow,
  });
  const logGroup = `/${config.project}/${config.env}/workers`;
  // The SSM agent: registering, and taking Run Command messages (boot checks, the retire signal).
  // https://docs.aws.amazon.com/systems-manager/latest/userguide/setup-instance-permissions.html
  const agent = (flow: string) => [
    call(flow, 'ssm', 'UpdateInstanceInformation', { InstanceId: INSTANCE }),
    call(flow, 'ec2messages', 'GetEndpoint'),
    call(flow, 'ec2messages', 'GetMessages'),
    call(flow, 'ec2messages', 'AcknowledgeMessage'),
    call(flow, 'ec2messages', 'SendReply'),
    call(flow, 'ec2messages', 'FailMessage'),
    call(flow, 'ec2messages', 'DeleteMessage'),
  ];
  return [
    // First deploy on a stock image: the bootstrap downloads the playbook asset.
    call('boot: bootstrap on a stock image', 's3', 'GetObject', {
      BucketName: playbookBucket,
      ObjectName: playbookKey,
    }),
    // The boot script reads the worker key once (SecureString). With the default aws/ssm key, the
    // key's own policy lets SSM decrypt for the account's principals: no kms permission is needed.
    // https://docs.aws.amazon.com/systems-manager/latest/userguide/sysman-paramstore-access.html
    call('boot: the worker key', 'ssm', 'GetParameter', { Name: config.workerKeyParameter }),
    ...agent('boot: boot health through Run Command'),
    // Session Manager for operators (no SSH by default).
    call('serve: Session Manager', 'ssmmessages', 'CreateControlChannel', { InstanceId: INSTANCE }),
    call('serve: Session Manager', 'ssmmessages', 'OpenControlChannel'),
    call('serve: Session Manager', 'ssmmessages', 'CreateDataChannel'),
    call('serve: Session Manager', 'ssmmessages', 'OpenDataChannel'),
    // Fluentd's CloudWatch Logs output.
    call('serve: log shipping', 'logs', 'DescribeLogGroups', { LogGroupName: '*' }),
    call('serve: log shipping', 'logs', 'DescribeLogStreams', { LogGroupName: logGroup }),
    call('serve: log shipping', 'logs', 'CreateLogStream', {
      LogGroupName: logGroup,
      LogStreamName: `${INSTANCE}/worker.log`,
    }),
    call('serve: log shipping', 'logs', 'PutLogEvents', {
      LogGroupName: logGroup,
      LogStreamName: `${INSTANCE}/worker.log`,
    }),
    // Build steps pull their images from the account's ECR, as the original allowed, when they may
    // use the instance role at all.
    ...(config.buildsUseInstanceRole ? ecrPulls(call) : []),
    ...agent('retire: the retire signal and its answer through Run Command'),
  ];
}

type Call = (flow: string, service: string, action: string, parameters?: Record<string, unknown>) => AwsCall;

/** A build step's image pull from the account's ECR, through the instance role. */
export function ecrPulls(call: Call): AwsCall[] {
  return [
    call('serve: build images from ECR', 'ecr', 'GetAuthorizationToken'),
    call('serve: build images from ECR', 'ecr', 'BatchCheckLayerAvailability', { RepositoryName: 'builds' }),
    call('serve: build images from ECR', 'ecr', 'GetDownloadUrlForLayer', { RepositoryName: 'builds' }),
    call('serve: build images from ECR', 'ecr', 'BatchGetImage', { RepositoryName: 'builds' }),
  ];
}
