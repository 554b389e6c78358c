import {
  CompleteLifecycleActionCommand,
  type CompleteLifecycleActionCommandInput,
  RecordLifecycleActionHeartbeatCommand,
  type RecordLifecycleActionHeartbeatCommandInput,
} from '@aws-sdk/client-auto-scaling';
import {
  GetCommandInvocationCommand,
  type GetCommandInvocationCommandInput,
  InvalidInstanceId,
  InvocationDoesNotExist,
  SendCommandCommand,
  type SendCommandCommandInput,
} from '@aws-sdk/client-ssm';
import type { MetadataBearer } from '@smithy/types';
import type { AwsStub } from 'aws-sdk-client-mock';

/** A client mock of any service. */
export type AnyStub = AwsStub<object, MetadataBearer, object>;
/** What a mocked command does instead of the call. */
export type Fake = Parameters<AnyStub['callsFake']>[0];

/** An unmodeled AWS error as the SDK raises it: a code as name, a plain Error as class. */
export function awsError(code: string, message: string): Error {
  return Object.assign(new Error(message), { name: code, Code: code });
}

export const throttled = (code = 'Throttling') => awsError(code, 'Rate exceeded');

type Sender = (this: unknown, command: unknown) => Promise<unknown>;
type CommandClass = new (input: never) => unknown;

/**
 * Sends `CommandClass` with the SDK's original `send`, past aws-sdk-client-mock: capture
 * `original` before mockClient(), then `stub.on(X).callsFake(forward(original, client, X))` routes
 * the calls moto implements to moto, while the others stay mocked.
 */
export function forward(original: Sender, client: object, CommandClass: CommandClass) {
  return (input: unknown) => original.call(client, new CommandClass(input as never));
}

/** Mocks `stub`'s client for every command but these, which reach moto. */
export function forwardToMoto(
  stub: AnyStub,
  original: Sender,
  client: object,
  commands: CommandClass[],
): void {
  for (const CommandClass of commands) {
    stub.on(CommandClass as never).callsFake(forward(original, client, CommandClass));
  }
}

interface LifecycleAction {
  groupName: string;
  hookName: string;
  instanceId: string;
  token: string;
  result?: string;
  heartbeats: number;
}

/**
 * Lifecycle actions as Auto Scaling keeps them (moto does not implement completing them): an
 * action is active until completed once; after that any completion or heartbeat gets
 * "No active Lifecycle Action found".
 */
export class FakeLifecycleActions {
  readonly actions: LifecycleAction[] = [];

  open(action: Omit<LifecycleAction, 'heartbeats'>): void {
    this.actions.push({ ...action, heartbeats: 0 });
  }

  resultOf(token: string): string | undefined {
    return this.actions.find((a) => a.token === token)?.result;
  }

  heartbeatsOf(token: string): number {
    return this.actions.find((a) => a.token === token)?.heartbeats ?? 0;
  }

  private active(input: {
    LifecycleActionToken?: string;
    InstanceId?: string;
    LifecycleHookName?: string;
    AutoScalingGroupName?: string;
  }): LifecycleAction {
    const action = this.actions.find(
      (a) =>
        a.result === undefined &&
        a.hookName === input.LifecycleHookName &&
        a.groupName === input.AutoScalingGroupName &&
        (input.LifecycleActionToken
          ? a.token === input.LifecycleActionToken
          : a.instanceId === input.InstanceId),
    );
    if (!action) {
      const by = input.LifecycleActionToken
        ? `token ${input.LifecycleActionToken}`
        : `instance ID ${input.InstanceId}`;
      throw awsError('ValidationError', `No active Lifecycle Action found with ${by}`);
    }
    return action;
  }

  complete = async (input: CompleteLifecycleActionCommandInput) => {
    this.active(input).result = input.LifecycleActionResult;
    return {};
  };

  heartbeat = async (input: RecordLifecycleActionHeartbeatCommandInput) => {
    this.active(input).heartbeats += 1;
    return {};
  };

  install(stub: AnyStub): void {
    stub.on(CompleteLifecycleActionCommand as never).callsFake(this.complete);
    stub.on(RecordLifecycleActionHeartbeatCommand as never).callsFake(this.heartbeat);
  }
}

export interface BootStatus {
  status: string;
  step?: string;
  message?: string;
  /** When the status file was written; by default right after the launch event of the gate tests. */
  written?: string;
}

/** A status written after the launch gate's event (test/support/launch-gate.ts LAUNCH_EVENT_TIME). */
export const WRITTEN_AFTER_LAUNCH = '2026-01-10T08:00:30Z';

/** What the simulated instance's SSM agent sees and answers. */
export interface FakeInstance {
  /** SSM agent registered? A function of the SendCommand attempt (1, 2, …). */
  registered: (attempt: number) => boolean;
  /** The boot status file at the n-th answered check; undefined = absent. */
  bootStatus: (check: number) => BootStatus | undefined;
  keeprunningFile: boolean;
  /** Is concourse-worker active at the n-th drain check? */
  workerRunning: (check: number) => boolean;
  /** Is the n-th command still InProgress at its r-th read (1, 2, …)? */
  inProgress?: (command: number, read: number) => boolean;
}

export function fakeInstance(overrides: Partial<FakeInstance> = {}): FakeInstance {
  return {
    registered: () => true,
    bootStatus: () => ({ status: 'ok', step: 'done', message: 'worker started' }),
    keeprunningFile: false,
    workerRunning: () => false,
    ...overrides,
  };
}

/** SSM Run Command as an agent on `instance` would answer it: the scripts the state machines send. */
export class FakeRunCommand {
  readonly commands: Array<{ id: string; instanceId: string; script: string }> = [];
  private attempts = 0;
  private bootChecks = 0;
  private drainChecks = 0;
  private readonly answers = new Map<string, string>();
  private readonly reads = new Map<string, number>();

  constructor(readonly instance: FakeInstance) {}

  send = async (input: SendCommandCommandInput) => {
    this.attempts += 1;
    if (!this.instance.registered(this.attempts)) {
      throw new InvalidInstanceId({ message: 'Instances not in a valid state for account', $metadata: {} });
    }
    const id = `cmd-${this.commands.length + 1}`;
    const script = (input.Parameters?.commands ?? []).join('\n');
    this.commands.push({ id, instanceId: input.InstanceIds?.[0] ?? '', script });
    return { Command: { CommandId: id, Status: 'Pending' } };
  };

  get = async (input: GetCommandInvocationCommandInput) => {
    const index = this.commands.findIndex((c) => c.id === input.CommandId);
    const command = this.commands[index];
    if (!command) throw new InvocationDoesNotExist({ message: 'no invocation', $metadata: {} });
    const read = (this.reads.get(command.id) ?? 0) + 1;
    this.reads.set(command.id, read);
    if (this.instance.inProgress?.(index + 1, read))
      return { Status: 'InProgress', StandardOutputContent: '' };
    let output = this.answers.get(command.id);
    if (output === undefined) {
      output = this.answer(command.script);
      this.answers.set(command.id, output);
    }
    return { Status: 'Success', ResponseCode: 0, StandardOutputContent: output };
  };

  private answer(script: string): string {
    if (script.includes('boot-status.json')) {
      this.bootChecks += 1;
      const boot = this.instance.bootStatus(this.bootChecks);
      return JSON.stringify({
        status: boot?.status ?? 'absent',
        step: boot?.step ?? '',
        message: boot ? (boot.message ?? '') : 'boot status file absent: boot not started yet',
        keeprunning: this.instance.keeprunningFile,
        written: boot ? (boot.written ?? WRITTEN_AFTER_LAUNCH) : '1970-01-01T00:00:00Z',
      });
    }
    if (script.includes('systemctl is-active')) {
      this.drainChecks += 1;
      return this.instance.workerRunning(this.drainChecks) ? 'running' : 'exited';
    }
    return '';
  }

  scripts(): string[] {
    return this.commands.map((c) => c.script);
  }

  install(stub: AnyStub): void {
    stub.on(SendCommandCommand as never).callsFake(this.send);
    stub.on(GetCommandInvocationCommand as never).callsFake(this.get);
  }
}
