/**
 * Amazon States Language (JSONPath) as plain objects: states are literals, and Tasks are made by
 * `sdkTask`/`lambdaTask`, which also note what IAM scope each call needs (a symbol key, so it
 * never reaches the ASL). `${Name}` strings are definition substitutions, filled in by the stack.
 */

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type State = { Type: string } & { [key: string]: unknown };
export type States = Record<string, State>;

export interface Definition {
  Comment: string;
  StartAt: string;
  States: States;
}

export interface Retrier {
  ErrorEquals: string[];
  IntervalSeconds: number;
  MaxAttempts: number;
  BackoffRate: number;
  JitterStrategy?: 'FULL';
}

export interface Catcher {
  ErrorEquals: string[];
  ResultPath: string | null;
  Next: string;
}

/** Key under which a Task carries the name of the IAM scope its call needs. */
export const IAM_SCOPE = Symbol('iam scope');

/** A Task as the IAM derivation reads it. */
export type TaskState = State & { [IAM_SCOPE]?: string };

/** Step Functions' service names in aws-sdk Task resources, and IAM's prefix for each. */
export const IAM_PREFIX = {
  autoscaling: 'autoscaling',
  cloudformation: 'cloudformation',
  cloudwatch: 'cloudwatch',
  ec2: 'ec2',
  eventbridge: 'events',
  imagebuilder: 'imagebuilder',
  scheduler: 'scheduler',
  sns: 'sns',
  ssm: 'ssm',
} as const;
export type SdkService = keyof typeof IAM_PREFIX;

/** The resource of an AWS SDK integration, in the stack's partition (`${Partition}` is substituted). */
export const sdkResource = (service: SdkService, action: string): string =>
  `arn:\${Partition}:states:::aws-sdk:${service}:${action}`;

export const LAMBDA_INVOKE = 'arn:${Partition}:states:::lambda:invoke';

export interface TaskProps {
  Comment?: string;
  Parameters?: Json;
  ResultSelector?: Json;
  ResultPath?: string | null;
  Retry: Retrier[];
  Catch: Catcher[];
  Next?: string;
  End?: true;
  /** Name of the IAM scope (resources, conditions) the stack gives this call. */
  scope: string;
}

function task(resource: string, props: TaskProps): TaskState {
  const { scope, Comment, ...rest } = props;
  const state: TaskState = {
    Type: 'Task',
    ...(Comment ? { Comment } : {}),
    Resource: resource,
    ...rest,
  };
  Object.defineProperty(state, IAM_SCOPE, { value: scope, enumerable: false });
  return state;
}

export const sdkTask = (service: SdkService, action: string, props: TaskProps): TaskState =>
  task(sdkResource(service, action), props);

export const lambdaTask = (props: TaskProps): TaskState => task(LAMBDA_INVOKE, props);

/** Every state, those of Map processors included. */
export function allStates(states: States): Array<[string, State]> {
  return Object.entries(states).flatMap(([name, state]) => {
    const processor = state.ItemProcessor as unknown as { States: States } | undefined;
    return [[name, state] as [string, State], ...(processor ? allStates(processor.States) : [])];
  });
}

export interface TaskCall {
  state: string;
  /** IAM action, e.g. `autoscaling:CompleteLifecycleAction`. */
  action: string;
  scope: string;
}

/** The IAM action of every Task: what its role must be allowed, and on which scope. */
export function taskCalls(definition: Definition): TaskCall[] {
  return allStates(definition.States)
    .filter(([, state]) => state.Type === 'Task')
    .map(([name, state]) => {
      const scope = (state as TaskState)[IAM_SCOPE];
      if (!scope) throw new Error(`${name}: a Task without an IAM scope`);
      const resource = String(state.Resource);
      if (resource === LAMBDA_INVOKE) return { state: name, action: 'lambda:InvokeFunction', scope };
      const match = /:aws-sdk:([a-z0-9]+):([a-zA-Z0-9]+)$/.exec(resource);
      if (!match) throw new Error(`${name}: unknown Task resource ${resource}`);
      const [, service, action] = match as unknown as [string, SdkService, string];
      return {
        state: name,
        action: `${IAM_PREFIX[service]}:${action.charAt(0).toUpperCase()}${action.slice(1)}`,
        scope,
      };
    });
}

/** The ASL text the stack deploys and `statemachines/` shows. */
export function render(definition: Definition): string {
  return `${JSON.stringify(definition, null, 2)}\n`;
}
