import { Duration, Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { METRICS_NAMESPACE } from '../functions/lib/metric-names';
import { functionCode } from './bundling';
import { acknowledgeGuardRule } from './guard';

export interface WorkerFunctionProps {
  /** Folder under functions/ holding handler.ts. */
  name: string;
  description: string;
  environment?: Record<string, string>;
  timeout?: Duration;
  memorySize?: number;
  logRetention: logs.RetentionDays;
  /** Actions the function needs that have no resource-level permissions (granted on `*`). */
  unscopedActions?: string[];
  /**
   * For functions invoked asynchronously (rules, schedules): where an event goes once Lambda's own
   * retries are spent, instead of being dropped.
   */
  deadLetterQueue?: sqs.IQueue;
}

/** A control-plane Lambda: Node 24 on arm64, bundled by the local esbuild (bundling.ts), its own log group, X-Ray on. */
export class WorkerFunction extends Construct {
  readonly function: lambda.Function;
  readonly logGroup: logs.LogGroup;
  readonly role: iam.Role;

  constructor(scope: Construct, id: string, props: WorkerFunctionProps) {
    super(scope, id);
    const stackName = Stack.of(this).stackName;
    this.logGroup = new logs.LogGroup(this, 'Logs', { retention: props.logRetention });
    // Its own role with writes to its own log group only, instead of the broad AWSLambdaBasicExecutionRole.
    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `${props.name} function of ${stackName}`,
    });
    const role = this.role;
    role.addToPolicy(
      new iam.PolicyStatement({
        actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        resources: [this.logGroup.logGroupArn],
      }),
    );
    if (props.unscopedActions?.length) {
      role.addToPolicy(new iam.PolicyStatement({ actions: props.unscopedActions, resources: ['*'] }));
    }
    Validations.of(role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason: `No resource-level permissions exist for the X-Ray trace writes${
        props.unscopedActions?.length ? ` nor for ${props.unscopedActions.join(', ')}` : ''
      }.`,
    });
    acknowledgeGuardRule(
      this,
      'lambda_inside_vpc_check',
      'Control-plane functions call AWS APIs and the public scheduler API only, and reach nothing in a VPC: a VPC would only add NAT or endpoints to reach the same APIs.',
    );
    this.function = new lambda.Function(this, 'Function', {
      code: functionCode(props.name),
      handler: 'index.handler',
      description: props.description,
      runtime: lambda.Runtime.NODEJS_24_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: props.memorySize ?? 256,
      timeout: props.timeout ?? Duration.seconds(30),
      tracing: lambda.Tracing.ACTIVE,
      deadLetterQueue: props.deadLetterQueue,
      retryAttempts: props.deadLetterQueue ? 2 : undefined,
      logGroup: this.logGroup,
      role,
      loggingFormat: lambda.LoggingFormat.JSON,
      environment: {
        STACK_NAME: stackName,
        POWERTOOLS_SERVICE_NAME: props.name,
        POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
        ...props.environment,
      },
    });
  }
}
