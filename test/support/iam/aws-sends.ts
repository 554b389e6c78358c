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

/** Has every call of every client go through `around` first (installed once per test file). */
export function aroundEverySend(around: (client: object, command: object) => Promise<void>): void {
  base.send = async function send(this: object, command: object, ...rest: unknown[]) {
    await around(this, command);
    return original.call(this, command, ...rest);
  };
}
