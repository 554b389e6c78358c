import type { Catcher, Retrier } from './asl';

/**
 * Retry policies by error class, per service, under the names Step Functions raises
 * (`<Prefix>.<Error>Exception` from the SDK models; the service's base exception for what it does
 * not model, its code then only in the Cause).
 * https://docs.aws.amazon.com/step-functions/latest/dg/supported-services-awssdk.html#use-awssdk-integ
 */

export type Service =
  | 'autoscaling'
  | 'cloudformation'
  | 'cloudwatch'
  | 'ec2'
  | 'eventbridge'
  | 'imagebuilder'
  | 'lambda'
  | 'scheduler'
  | 'sns'
  | 'ssm';

/**
 * Throttling and transient server errors. EC2, Auto Scaling and CloudFormation model none of
 * them (RequestLimitExceeded, Throttling, Unavailable…): their base exception is retried. Where a
 * model's name may differ from what Step Functions raises (SSM's throttling, SNS's KMS acronym),
 * every candidate is listed.
 */
const THROTTLING: Record<Service, string[]> = {
  autoscaling: ['AutoScaling.AutoScalingException'],
  cloudformation: ['CloudFormation.CloudFormationException'],
  // Throttling is unmodeled (the base exception); InternalServiceFault is modeled.
  cloudwatch: ['CloudWatch.InternalServiceException', 'CloudWatch.CloudWatchException'],
  ec2: ['Ec2.Ec2Exception'],
  eventbridge: [
    'EventBridge.ThrottlingException',
    'EventBridge.InternalException',
    'EventBridge.EventBridgeException',
  ],
  imagebuilder: [
    'Imagebuilder.CallRateLimitExceededException',
    'Imagebuilder.TooManyRequestsException',
    'Imagebuilder.ServiceUnavailableException',
    'Imagebuilder.ServiceException',
    'Imagebuilder.ImagebuilderException',
  ],
  // https://docs.aws.amazon.com/step-functions/latest/dg/bp-lambda-serviceexception.html
  lambda: [
    'Lambda.ServiceException',
    'Lambda.AWSLambdaException',
    'Lambda.SdkClientException',
    'Lambda.TooManyRequestsException',
  ],
  scheduler: [
    'Scheduler.ThrottlingException',
    'Scheduler.InternalServerException',
    'Scheduler.SchedulerException',
  ],
  sns: [
    'Sns.ThrottledException',
    'Sns.KmsThrottlingException',
    'Sns.KMSThrottlingException',
    'Sns.InternalErrorException',
    'Sns.SnsException',
  ],
  ssm: ['Ssm.ThrottlingException', 'Ssm.InternalServerErrorException', 'Ssm.SsmException'],
};

/** Another change of the same resource is under way: it ends by itself, a little later. */
const CONTENTION: Partial<Record<Service, string[]>> = {
  autoscaling: ['AutoScaling.ResourceContentionException', 'AutoScaling.ScalingActivityInProgressException'],
  eventbridge: ['EventBridge.ConcurrentModificationException'],
  scheduler: ['Scheduler.ConflictException'],
  ssm: ['Ssm.TooManyUpdatesException'],
};

const throttlingRetrier = (service: Service): Retrier => ({
  ErrorEquals: THROTTLING[service],
  IntervalSeconds: 2,
  MaxAttempts: 6,
  BackoffRate: 2,
  JitterStrategy: 'FULL',
});

const contentionRetrier = (errors: string[]): Retrier => ({
  ErrorEquals: errors,
  IntervalSeconds: 5,
  MaxAttempts: 6,
  BackoffRate: 2,
  JitterStrategy: 'FULL',
});

/**
 * The error classes of the functions (functions/lib/errors.ts), by their literal names: a
 * retryable one may clear by itself, a terminal one never does (a test keeps both lists equal to
 * the classes).
 */
export const FUNCTION_ERRORS = {
  retryable: ['UpstreamError'],
  terminal: ['InvalidInputError', 'ConfigurationError'],
};

/** What a Lambda Task retries: the Lambda service's transient errors, then the function's retryable ones. */
export function retryFunction(): Retrier[] {
  return [
    throttlingRetrier('lambda'),
    {
      ErrorEquals: FUNCTION_ERRORS.retryable,
      IntervalSeconds: 5,
      MaxAttempts: 3,
      BackoffRate: 2,
      JitterStrategy: 'FULL',
    },
  ];
}

/** A function's terminal error to `next` by its name (retrying cannot help), any other error too. */
export const catchFunction = (next: string, resultPath = '$.error'): Catcher[] => [
  { ErrorEquals: FUNCTION_ERRORS.terminal, ResultPath: resultPath, Next: next },
  ...catchAll(next, resultPath),
];

/** What every call of `service` retries: contention first (it waits longer), then throttling. */
export function retry(service: Service): Retrier[] {
  const contention = CONTENTION[service];
  return [...(contention ? [contentionRetrier(contention)] : []), throttlingRetrier(service)];
}

/** Something just created is not visible yet (SSM's invocation right after SendCommand). */
export function retryNotYet(errors: string[], then: Retrier[]): Retrier[] {
  return [{ ErrorEquals: errors, IntervalSeconds: 2, MaxAttempts: 3, BackoffRate: 2 }, ...then];
}

/** Any other error: to `next`, the error under `resultPath`. */
export const catchAll = (next: string, resultPath: string | null = '$.error'): Catcher[] => [
  { ErrorEquals: ['States.ALL'], ResultPath: resultPath, Next: next },
];

/** `errors` to `next` (a known answer, not a failure), anything else as `catchAll`. */
export const catchFirst = (
  errors: string[],
  next: string,
  otherwise: string,
  resultPath: string | null = '$.error',
): Catcher[] => [{ ErrorEquals: errors, ResultPath: resultPath, Next: next }, ...catchAll(otherwise)];
