import { EC2Client } from '@aws-sdk/client-ec2';

/**
 * The SDK clients' one `send` (their shared base class's), as it was before any test mocked a client
 * (aws-sdk-client-mock stubs each client class's own prototype) or the proof wrapped it.
 */
type Send = (this: object, command: object, ...rest: unknown[]) => Promise<unknown>;
const base = Object.getPrototypeOf(EC2Client.prototype) as { send: Send };
const original = base.send;

/** What the proof itself asks moto (tags, names): straight to moto, past mocks, never recorded. */
export function sendUnrecorded<T>(client: object, command: object): Promise<T> {
  return original.call(client, command) as Promise<T>;
}

type Around = (client: object, command: object) => Promise<void>;
let installed: Around | undefined;
const emulation = new WeakSet<object>();

/** Has every call of every client go through `around` first (installed once per test file). */
export function aroundEverySend(around: Around): void {
  installed = around;
  base.send = async function send(this: object, command: object, ...rest: unknown[]) {
    if (!emulation.has(command)) await around(this, command);
    return original.call(this, command, ...rest);
  };
}

/**
 * For a test double that answers a call moto lacks: its own lookups (`lookup`, marked here) are
 * not the caller's calls, and the call it answers (`sendsInstead`) is, as if it had gone out.
 */
export const emulated = {
  lookup<T extends object>(command: T): T {
    emulation.add(command);
    return command;
  },
  async sendsInstead(client: object, command: object): Promise<void> {
    await installed?.(client, command);
  },
};
