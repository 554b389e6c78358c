import * as autoscaling from '@aws-sdk/client-auto-scaling';
import * as cloudformation from '@aws-sdk/client-cloudformation';
import * as ec2 from '@aws-sdk/client-ec2';
import * as eventbridge from '@aws-sdk/client-eventbridge';
import * as imagebuilder from '@aws-sdk/client-imagebuilder';
import * as scheduler from '@aws-sdk/client-scheduler';
import * as sfn from '@aws-sdk/client-sfn';
import * as sns from '@aws-sdk/client-sns';
import * as ssm from '@aws-sdk/client-ssm';
import { recordSdkCall } from './iam/recorder';

/**
 * Performs an `arn:aws:states:::aws-sdk:<service>:<action>` Task the way Step Functions does: the
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
  const spec = SERVICES[service];
  if (!spec) throw new Error(`the SDK adapter does not know the service "${service}"`);
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

/** `ResourceContentionFault` → `AutoScaling.ResourceContentionFaultException`; unmodeled codes → `AutoScaling.AutoScalingException`. */
export function stepFunctionsErrorName(service: string, error: Error): string {
  const spec = SERVICES[service];
  const prefix = spec?.errorPrefix ?? pascal(service);
  const modeled = error.constructor.name === error.name && error.name !== 'Error';
  const name = modeled ? error.name : `${prefix}`;
  return `${prefix}.${name}${name.endsWith('Exception') ? '' : 'Exception'}`;
}

export async function performSdkTask(
  resource: string,
  parameters: unknown,
  calls: SdkCall[],
): Promise<unknown> {
  const match = /^arn:aws:states:::aws-sdk:([a-z0-9]+):([a-zA-Z0-9]+)$/.exec(resource);
  if (!match) throw new Error(`not an aws-sdk Task resource: ${resource}`);
  const [, service = '', action = ''] = match;
  const { client, spec } = clientFor(service);
  const CommandClass = spec.module[`${pascal(action)}Command`] as Constructor<object> | undefined;
  if (!CommandClass) throw new Error(`${service} has no action ${action}`);
  const input = spec.camelCase ? renameKeys(parameters ?? {}, camel) : (parameters ?? {});
  calls.push({ service, action, parameters });
  await recordSdkCall(calls, service, action, parameters);
  try {
    const result = await client.send(new (CommandClass as unknown as new (input: unknown) => object)(input));
    const output = asStateOutput(result);
    return spec.camelCase ? renameKeys(output, pascal) : output;
  } catch (error) {
    if (!(error instanceof Error)) throw error;
    const code = (error as { Code?: string }).Code ?? error.name;
    throw new StepFunctionsTaskError(stepFunctionsErrorName(service, error), `${code}: ${error.message}`);
  }
}
