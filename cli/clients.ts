import { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import { EC2Client } from '@aws-sdk/client-ec2';
import { ImagebuilderClient } from '@aws-sdk/client-imagebuilder';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { SFNClient } from '@aws-sdk/client-sfn';
import { SSMClient } from '@aws-sdk/client-ssm';

/** The AWS clients the commands use; tests pass moto-backed or mocked ones. */
export interface Clients {
  cfn: CloudFormationClient;
  autoscaling: AutoScalingClient;
  ec2: EC2Client;
  ssm: SSMClient;
  sfn: SFNClient;
  lambda: LambdaClient;
  cloudwatch: CloudWatchClient;
  logs: CloudWatchLogsClient;
  imagebuilder: ImagebuilderClient;
}

/**
 * Region, credentials and profile come from the usual AWS environment (AWS_REGION, AWS_PROFILE,
 * ~/.aws/config…), as for the AWS CLI. The SDK's standard retry mode absorbs throttling.
 */
export function awsClients(): Clients {
  const config = { maxAttempts: 5 };
  return {
    cfn: new CloudFormationClient(config),
    autoscaling: new AutoScalingClient(config),
    ec2: new EC2Client(config),
    ssm: new SSMClient(config),
    sfn: new SFNClient(config),
    // An invocation of the retention may take minutes: no retry, which would run it twice.
    lambda: new LambdaClient({ maxAttempts: 1, requestHandler: { requestTimeout: 16 * 60_000 } }),
    cloudwatch: new CloudWatchClient(config),
    logs: new CloudWatchLogsClient(config),
    imagebuilder: new ImagebuilderClient(config),
  };
}
