import * as autoscaling from '@aws-sdk/client-auto-scaling';
import * as cloudformation from '@aws-sdk/client-cloudformation';
import * as cloudwatch from '@aws-sdk/client-cloudwatch';
import * as ec2 from '@aws-sdk/client-ec2';
import * as eventbridge from '@aws-sdk/client-eventbridge';
import * as imagebuilder from '@aws-sdk/client-imagebuilder';
import * as scheduler from '@aws-sdk/client-scheduler';
import * as sfn from '@aws-sdk/client-sfn';
import * as sns from '@aws-sdk/client-sns';
import * as ssm from '@aws-sdk/client-ssm';
import { recordSdkCall } from './iam/recorder';
import { withRegisteredArchitectures } from './image-architecture';

/**
 * Performs an `arn:<partition>:states:::aws-sdk:<service>:<action>` Task the way Step Functions does: the
 * real SDK v3 call (so it reaches moto, or aws-sdk-client-mock), parameters and results in
 * PascalCase, and SDK errors renamed to Step Functions error names so that Retry and Catch run.
 */

type ServiceModule = Record<string, unknown>;
interface Service {
  module: ServiceModule;
  client: string;
  /** Step Functions' prefix of this service's error names. */
  errorPrefix: string;
  /** The service's own JSON is camelCase: Step Functions speaks PascalCase to the state machine. */
  camelCase?: boolean;
}

const SERVICES: Record<string, Service> = {
  autoscaling: { module: autoscaling, client: 'AutoScalingClient', errorPrefix: 'AutoScaling' },
  cloudformation: { module: cloudformation, client: 'CloudFormationClient', errorPrefix: 'CloudFormation' },
  cloudwatch: { module: cloudwatch, client: 'CloudWatchClient', errorPrefix: 'CloudWatch' },
  ec2: { module: ec2, client: 'EC2Client', errorPrefix: 'Ec2' },
  eventbridge: { module: eventbridge, client: 'EventBridgeClient', errorPrefix: 'EventBridge' },
  imagebuilder: {
    module: imagebuilder,
    client: 'ImagebuilderClient',
    errorPrefix: 'Imagebuilder',
    camelCase: true,
  },
  scheduler: { module: scheduler, client: 'SchedulerClient', errorPrefix: 'Scheduler' },
  sfn: { module: sfn, client: 'SFNClient', errorPrefix: 'Sfn' },
  sns: { module: sns, client: 'SNSClient', errorPrefix: 'Sns' },
  ssm: { module: ssm, client: 'SSMClient', errorPrefix: 'Ssm' },
};

export interface SdkCall {
  /** The state machine whose Task made the call. */
  stateMachine: string;
  service: string;
  action: string;
  parameters: unknown;
}

interface SendingClient {
  send(command: unknown): Promise<Record<string, unknown>>;
}
type Constructor<T> = new (...args: never[]) => T;

const clients = new Map<string, SendingClient>();

function clientFor(service: string): { client: SendingClient; spec: Service } {
  const spec = serviceSpec(service);
  let client = clients.get(service);
  if (!client) {
    const ClientClass = spec.module[spec.client] as Constructor<SendingClient>;
    client = new (ClientClass as unknown as new (config: object) => SendingClient)({});
    clients.set(service, client);
  }
  return { client, spec };
}

/** Clients are made lazily and kept; a test that changes AWS_ENDPOINT_URL calls this first. */
export function resetSdkClients(): void {
  clients.clear();
}

const pascal = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);
const camel = (s: string) => s.charAt(0).toLowerCase() + s.slice(1);

// Maps whose keys are data (tag names), not field names: their keys are left as they are.
const DATA_MAPS = new Set(['tags', 'Tags', 'amiTags', 'AmiTags']);

function renameKeys(value: unknown, rename: (key: string) => string): unknown {
  if (Array.isArray(value)) return value.map((item) => renameKeys(item, rename));
  if (value === null || typeof value !== 'object' || value instanceof Date) return value;
  return Object.fromEntries(
    Object.entries(value).map(([key, inner]) => [
      rename(key),
      DATA_MAPS.has(key) ? inner : renameKeys(inner, rename),
    ]),
  );
}

/** JSON as Step Functions would hand it to the next state (dates as ISO strings, no metadata). */
function asStateOutput(result: Record<string, unknown>): unknown {
  const { $metadata: _metadata, ...rest } = result;
  return JSON.parse(JSON.stringify(rest));
}

export class StepFunctionsTaskError extends Error {
  constructor(name: string, cause: string) {
    super(cause);
    this.name = name;
  }
}

/** `ResourceContentionFault` → `ResourceContention`: the name of the error without its kind. */
function bareName(name: string): string {
  return name.replace(/(Fault|Exception)$/, '');
}

/**
 * Acronyms as the Java SDK Step Functions runs on spells them in class names (`KMSThrottling` →
 * `KmsThrottling`, `EC2` → `Ec2`).
 */
function pascalWords(name: string): string {
  return name.replace(/[A-Z]+(?=[A-Z][a-z]|[0-9]|$)/g, (run) => run.charAt(0) + run.slice(1).toLowerCase());
}

function serviceSpec(service: string): Service {
  const spec = SERVICES[service];
  if (!spec) throw new Error(`the SDK adapter does not know the service "${service}"`);
  return spec;
}

const modeled = new Map<string, string[]>();

/** The classes of the errors the service's SDK client models: its ServiceException subclasses. */
function modeledClasses(service: string): string[] {
  const known = modeled.get(service);
  if (known) return known;
  const spec = serviceSpec(service);
  const base = spec.module[`${spec.client.replace(/Client$/, '')}ServiceException`] as
    | (new (
        ...args: never[]
      ) => Error)
    | undefined;
  if (!base) throw new Error(`${service}: no ServiceException class in its SDK client`);
  const names = Object.entries(spec.module)
    .filter(([, value]) => typeof value === 'function' && value.prototype instanceof base)
    .map(([name]) => name);
  modeled.set(service, names);
  return names;
}

/**
 * Step Functions names an SDK integration error `<Prefix>.<Error>Exception`: the modeled error's
 * name with its `Fault`/`Exception` normalised and `Exception` appended, even where the API
 * reference's name has no suffix; an error the service does not model takes the service's base
 * exception, `<Prefix>.<Prefix>Exception`, its code only in the Cause.
 * https://docs.aws.amazon.com/step-functions/latest/dg/supported-services-awssdk.html#use-awssdk-integ
 *
 * Whether acronyms keep their capitals (`Sns.KMSThrottlingException`) or are Pascal-cased as in
 * the Java SDK's class names (`Sns.KmsThrottlingException`) is not documented: both are names the
 * service can raise, and the harness raises the Java SDK's.
 */
export function stepFunctionsErrorNames(service: string): string[] {
  const { errorPrefix } = serviceSpec(service);
  const names = new Set([`${errorPrefix}.${errorPrefix}Exception`]);
  for (const modeled of modeledClasses(service)) {
    names.add(`${errorPrefix}.${bareName(modeled)}Exception`);
    names.add(`${errorPrefix}.${pascalWords(bareName(modeled))}Exception`);
  }
  return [...names].sort();
}

/** The name Step Functions gives an SDK error: from its code, which also names modeled classes. */
export function stepFunctionsErrorName(service: string, error: Error): string {
  const { errorPrefix } = serviceSpec(service);
  const code = bareName((error as { Code?: string }).Code ?? error.name);
  const modeled = modeledClasses(service).find((name) => bareName(name) === code);
  return modeled
    ? `${errorPrefix}.${pascalWords(bareName(modeled))}Exception`
    : `${errorPrefix}.${errorPrefix}Exception`;
}

/**
 * The Cause Step Functions gives: the service's message and, from the SDK's error details, its
 * service, status and code. State machines look for a code or a message anywhere in it, never at
 * its start.
 */
function stepFunctionsCause(service: string, error: Error): string {
  const { errorPrefix } = serviceSpec(service);
  const code = (error as { Code?: string }).Code ?? error.name;
  const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode ?? 400;
  return `${error.message} (Service: ${errorPrefix}, Status Code: ${status}, Error Code: ${code}, Request ID: local)`;
}

/** The error a busy account answers, as each service's SDK raises it (modeled where it is). */
const THROTTLING_CODES: Record<string, string> = {
  autoscaling: 'Throttling',
  cloudformation: 'Throttling',
  cloudwatch: 'Throttling',
  ec2: 'RequestLimitExceeded',
  eventbridge: 'ThrottlingException',
  imagebuilder: 'CallRateLimitExceededException',
  scheduler: 'ThrottlingException',
  sfn: 'ThrottlingException',
  sns: 'Throttled',
  ssm: 'ThrottlingException',
};

export function throttlingError(service: string): Error {
  const code = THROTTLING_CODES[service];
  if (!code) throw new Error(`no throttling error known for ${service}`);
  return Object.assign(new Error('Rate exceeded'), {
    name: code,
    Code: code,
    $metadata: { httpStatusCode: 400 },
  });
}

/** The aws-sdk Task resource, in any partition: `arn:<partition>:states:::aws-sdk:<service>:<action>`. */
export const SDK_RESOURCE = /^arn:aws[a-z-]*:states:::aws-sdk:([a-z0-9]+):([a-zA-Z0-9]+)$/;

/** Decides, before a call goes out, whether it fails instead (a throttling answer, say). */
export type FaultInjector = (call: SdkCall & { state: string }) => Error | undefined;

export async function performSdkTask(
  resource: string,
  parameters: unknown,
  calls: SdkCall[],
  context: { stateMachine: string; state: string; inject?: FaultInjector } = {
    stateMachine: 'unknown',
    state: 'unknown',
  },
): Promise<unknown> {
  const match = SDK_RESOURCE.exec(resource);
  if (!match) throw new Error(`not an aws-sdk Task resource: ${resource}`);
  const [, service = '', action = ''] = match;
  const { client, spec } = clientFor(service);
  const CommandClass = spec.module[`${pascal(action)}Command`] as Constructor<object> | undefined;
  if (!CommandClass) throw new Error(`${service} has no action ${action}`);
  const input = spec.camelCase ? renameKeys(parameters ?? {}, camel) : (parameters ?? {});
  const call: SdkCall = { stateMachine: context.stateMachine, service, action, parameters };
  calls.push(call);
  await recordSdkCall(calls, service, action, parameters);
  try {
    const injected = context.inject?.({ ...call, state: context.state });
    if (injected) throw injected;
    const answer = await client.send(new (CommandClass as unknown as new (input: unknown) => object)(input));
    // moto's gap, filled as EC2 answers (image-architecture.ts).
    const result =
      service === 'ec2' && action === 'describeImages' ? withRegisteredArchitectures(answer) : answer;
    const output = asStateOutput(result as Record<string, unknown>);
    return spec.camelCase ? renameKeys(output, pascal) : output;
  } catch (error) {
    if (!(error instanceof Error)) throw error;
    throw new StepFunctionsTaskError(
      stepFunctionsErrorName(service, error),
      stepFunctionsCause(service, error),
    );
  }
}

/**
 * The first call of every Task state is answered with its service's throttling error (a Lambda
 * invocation with Lambda's), as a busy account answers; `throttled` lists the states it hit.
 */
export function throttleFirstCallOfEveryState(): FaultInjector & { throttled: string[] } {
  const throttled: string[] = [];
  const inject: FaultInjector = (call) => {
    const key = `${call.stateMachine}/${call.state}`;
    if (throttled.includes(key)) return undefined;
    throttled.push(key);
    if (call.service === 'lambda') {
      return Object.assign(new Error('Rate exceeded'), { name: 'Lambda.TooManyRequestsException' });
    }
    return throttlingError(call.service);
  };
  return Object.assign(inject, { throttled });
}
