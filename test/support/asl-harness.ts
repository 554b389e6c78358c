import * as fs from 'node:fs';
import * as path from 'node:path';
import { StateMachine } from 'aws-local-stepfunctions';
import { recordLambdaInvoke, registerExecution } from './iam/recorder';
import { type FaultInjector, performSdkTask, SDK_RESOURCE, type SdkCall } from './sdk-adapter';

/**
 * Runs a `statemachines/*.asl.json` file locally: the same `${Placeholder}` substitutions as the
 * stack, Lambda Tasks calling the real handler modules in-process, aws-sdk Tasks performed by the
 * SDK adapter, Wait states and Retry intervals instant.
 */

export const STATEMACHINES_DIR = path.join(__dirname, '..', '..', 'statemachines');

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type State = Record<string, unknown> & { Type: string; Resource?: string; Parameters?: unknown };
interface Definition {
  States: Record<string, State>;
}

/** A Lambda handler as its module exports it (the middy-wrapped one is fine). */
export type LambdaHandler = (event: unknown, context: unknown) => Promise<unknown>;

export interface RunOptions {
  /** Values of every `${Placeholder}` of the file: exactly those, no more, no fewer. */
  substitutions: Record<string, string>;
  /** Function ARN (as substituted) → handler invoked in-process. */
  lambdas?: Record<string, LambdaHandler>;
  /** State name → local function, for a Task the test wants to replace outright. */
  taskOverrides?: Record<string, (input: unknown) => unknown>;
  /** Execution name and id in the context object (`$$.Execution.Name`). */
  executionName?: string;
  /**
   * The time `$$.State.EnteredTime` reads (real time by default). A test of a deadline passes a
   * clock that moves on at each read, so a Wait loop reaches the deadline without waiting.
   */
  clock?: () => Date;
  /**
   * Makes chosen calls fail before they go out, as AWS would answer them: every aws-sdk Task and
   * Lambda invocation is offered (a Lambda one as service `lambda`, action `invoke`).
   */
  inject?: FaultInjector;
}

export interface Execution {
  status: 'SUCCEEDED' | 'FAILED';
  output?: unknown;
  error?: string;
  cause?: string;
  /** States entered, in order (nested states included): what a transition count bills. */
  statesEntered: string[];
  /** aws-sdk Task calls, in order. */
  sdkCalls: SdkCall[];
  /** Lambda invocations, in order. */
  lambdaCalls: Array<{ functionArn: string; payload: unknown }>;
  /** Wait states entered, in order, with the seconds each would wait in AWS (the harness waits none). */
  waits: Array<{ state: string; seconds: number }>;
}

/** A Wait's seconds: fixed, or read from its input by a `$.a.b` SecondsPath. */
function waitSeconds(state: { Seconds?: number; SecondsPath?: string }, input: unknown): number {
  if (state.Seconds !== undefined) return state.Seconds;
  let value = input;
  for (const key of (state.SecondsPath ?? '$').split('.').slice(1))
    value = (value as Record<string, unknown>)?.[key];
  return Number(value);
}

/** A state machine by name (`statemachines/<name>.asl.json`) or by path. */
export function readAsl(name: string): string {
  const file = name.endsWith('.json') ? name : path.join(STATEMACHINES_DIR, `${name}.asl.json`);
  return fs.readFileSync(file, 'utf8');
}

export function placeholdersOf(text: string): string[] {
  return [...new Set([...text.matchAll(/\$\{([A-Za-z0-9_]+)\}/g)].map((m) => m[1] as string))].sort();
}

export function substitute(text: string, given: Record<string, string>): string {
  const used = placeholdersOf(text);
  // The stack substitutes its partition into every Task resource; locally it is the commercial one.
  const substitutions = used.includes('Partition') ? { Partition: 'aws', ...given } : given;
  const keys = Object.keys(substitutions).sort();
  const missing = used.filter((key) => !keys.includes(key));
  const extra = keys.filter((key) => !used.includes(key));
  if (missing.length || extra.length) {
    throw new Error(`substitutions do not match the placeholders: missing [${missing}], unused [${extra}]`);
  }
  return text.replace(/\$\{([A-Za-z0-9_]+)\}/g, (_, key: string) => substitutions[key] as string);
}

/** Every state of the definition, including those nested in Parallel branches and Map processors. */
export function allStates(definition: Definition): Array<[string, State]> {
  const found: Array<[string, State]> = [];
  const visit = (states: Record<string, State>) => {
    for (const [name, state] of Object.entries(states)) {
      found.push([name, state]);
      for (const branch of (state.Branches as Definition[] | undefined) ?? []) visit(branch.States);
      const processor = (state.ItemProcessor ?? state.Iterator) as Definition | undefined;
      if (processor) visit(processor.States);
    }
  };
  visit(definition.States);
  return found;
}

const LAMBDA_CONTEXT = {
  functionName: 'local',
  functionVersion: '$LATEST',
  invokedFunctionArn: 'arn:aws:lambda:eu-west-1:123456789012:function:local',
  memoryLimitInMB: '256',
  awsRequestId: 'local-request',
  logGroupName: '/aws/lambda/local',
  logStreamName: 'local',
  callbackWaitsForEmptyEventLoop: true,
  getRemainingTimeInMillis: () => 30_000,
  done: () => undefined,
  fail: () => undefined,
  succeed: () => undefined,
};

/** The optimized Lambda integration, in any partition. */
const LAMBDA_INVOKE = /^arn:aws[a-z-]*:states:::lambda:invoke$/;

function lambdaTask(
  state: State,
  lambdas: Record<string, LambdaHandler>,
  calls: Execution['lambdaCalls'],
  injected: (payload: unknown) => Error | undefined,
  sdkCalls: SdkCall[],
): (input: unknown) => Promise<unknown> {
  const integration = LAMBDA_INVOKE.test(String(state.Resource));
  return async (input) => {
    const functionArn = integration
      ? String((input as { FunctionName?: string }).FunctionName)
      : String(state.Resource);
    const payload = integration ? (input as { Payload?: unknown }).Payload : input;
    const handler = lambdas[functionArn];
    if (!handler) throw new Error(`no local handler for the function ${functionArn}`);
    calls.push({ functionArn, payload });
    recordLambdaInvoke(sdkCalls, functionArn);
    const fault = injected(payload);
    if (fault) throw fault;
    // A Lambda error reaches Step Functions under the error's name, as Retry and Catch see it.
    const result = await handler(structuredClone(payload), LAMBDA_CONTEXT);
    const output = result === undefined ? null : JSON.parse(JSON.stringify(result));
    return integration ? { StatusCode: 200, Payload: output } : output;
  };
}

let ambientFaults: FaultInjector | undefined;

/**
 * Runs `body` with `inject` applied to every execution it starts that names no injector itself:
 * a test's own helpers that start executions need not pass it along.
 */
export async function withFaults<T>(inject: FaultInjector, body: () => Promise<T>): Promise<T> {
  ambientFaults = inject;
  try {
    return await body();
  } finally {
    ambientFaults = undefined;
  }
}

/** The Task states of an execution that ran at least once without having been failed by `inject`. */
export function tasksNeverFaulted(name: string, execution: Execution, faulted: string[]): string[] {
  const definition = JSON.parse(readAsl(name).replace(/\$\{[A-Za-z0-9_:]+\}/g, 'x')) as Definition;
  const tasks = new Set(
    allStates(definition)
      .filter(([, s]) => s.Type === 'Task')
      .map(([n]) => n),
  );
  const machine = path.basename(name).replace(/\.asl\.json$/, '');
  return [...new Set(execution.statesEntered)].filter(
    (state) => tasks.has(state) && !faulted.includes(`${machine}/${state}`),
  );
}

export async function runStateMachine(name: string, input: unknown, options: RunOptions): Promise<Execution> {
  const inject = options.inject ?? ambientFaults;
  const text = substitute(readAsl(name), options.substitutions);
  const definition = JSON.parse(text) as Definition;
  const machineName = path.basename(name).replace(/\.asl\.json$/, '');
  const sdkCalls: SdkCall[] = [];
  const lambdaCalls: Execution['lambdaCalls'] = [];
  // Every AWS call of the run is checked against this state machine's synthesized role. A
  // definition given by path is a fixture of the harness's own tests: the stack has no role for it.
  if (!name.endsWith('.json')) registerExecution(sdkCalls, name, options.substitutions);
  const taskResourceLocalHandlers: Record<string, (input: Json) => Promise<Json>> = {};
  const waitTimeOverrides: Record<string, number> = {};
  const retryIntervalOverrides: Record<string, number> = {};

  for (const [stateName, state] of allStates(definition)) {
    if (state.Retry) retryIntervalOverrides[stateName] = 0;
    if (state.Type === 'Wait') waitTimeOverrides[stateName] = 0;
    if (state.Type !== 'Task') continue;
    const override = options.taskOverrides?.[stateName];
    const resource = String(state.Resource);
    let run: (input: unknown) => unknown;
    const context = { stateMachine: machineName, state: stateName, inject };
    if (override) run = override;
    else if (SDK_RESOURCE.test(resource)) run = (i) => performSdkTask(resource, i, sdkCalls, context);
    else if (/^arn:aws[a-z-]*:lambda:/.test(resource) || LAMBDA_INVOKE.test(resource)) {
      const injected = (parameters: unknown) =>
        inject?.({
          stateMachine: machineName,
          state: stateName,
          service: 'lambda',
          action: 'invoke',
          parameters,
        });
      run = lambdaTask(state, options.lambdas ?? {}, lambdaCalls, injected, sdkCalls);
    } else throw new Error(`state ${stateName}: no local way to run ${resource}`);
    taskResourceLocalHandlers[stateName] = async (taskInput) => (await run(taskInput)) as Json;
  }

  const machine = new StateMachine(definition as never, { validationOptions: { checkArn: false } });
  const executionName = options.executionName ?? `local-${Date.now()}`;
  const clock = options.clock ?? (() => new Date());
  const started = clock().toISOString();
  const execution = machine.run(input as Json, {
    overrides: { taskResourceLocalHandlers, waitTimeOverrides, retryIntervalOverrides },
    context: {
      Execution: {
        Id: `arn:aws:states:eu-west-1:123456789012:execution:${name}:${executionName}`,
        Name: executionName,
        Input: input,
        StartTime: started,
        RoleArn: 'arn:aws:iam::123456789012:role/local',
      },
      StateMachine: { Id: `arn:aws:states:eu-west-1:123456789012:stateMachine:${name}`, Name: name },
      // Read when a state reads it, which for a Choice or a parameter is when the state is entered.
      State: {
        get EnteredTime() {
          return clock().toISOString();
        },
      },
    } as never,
  });

  const statesEntered: string[] = [];
  const waits: Execution['waits'] = [];
  const states = Object.fromEntries(allStates(definition));
  const collect = (async () => {
    for await (const event of execution.eventLogs) {
      if (event.type !== 'StateEntered') continue;
      statesEntered.push(event.state.name);
      const state = states[event.state.name];
      if (state?.Type === 'Wait')
        waits.push({ state: event.state.name, seconds: waitSeconds(state as never, event.state.input) });
    }
  })();
  try {
    const output = await execution.result;
    await collect;
    return { status: 'SUCCEEDED', output, statesEntered, sdkCalls, lambdaCalls, waits };
  } catch (error) {
    await collect.catch(() => undefined);
    const failure = error as Error & { cause?: unknown };
    return {
      status: 'FAILED',
      error: failure.name === 'ExecutionError' ? executionErrorName(failure) : failure.name,
      cause: executionErrorCause(failure),
      statesEntered,
      sdkCalls,
      lambdaCalls,
      waits,
    };
  }
}

// aws-local-stepfunctions wraps the failure in an ExecutionError whose `cause` is the original error.
function executionErrorName(error: Error & { cause?: unknown }): string {
  const inner = error.cause as Error | undefined;
  return inner?.name ?? error.name;
}

function executionErrorCause(error: Error & { cause?: unknown }): string {
  const inner = error.cause as (Error & { cause?: unknown }) | undefined;
  if (!inner) return error.message;
  return typeof inner.cause === 'string' ? inner.cause : inner.message;
}
