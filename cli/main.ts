import { parseArgs } from 'node:util';
import type { Clients } from './clients';
import { destroy } from './destroy';
import { classify, EXIT, type ExitCode, UsageError } from './errors';
import { drain, keep, release } from './instances';
import type { Io } from './io';
import { rebuild } from './rebuild';
import { retention } from './retention';
import { rolloutStatus } from './rollout';
import { findStack } from './stack';
import { fleetStatus, type StatusOptions } from './status';
import { statusText } from './status-text';

export const USAGE = `usage: external-worker <command> --stack <name> [options]

commands:
  status [--json]                 versions, instances, kept instances, executions, alarms
  rebuild [--wait]                build the worker image again (same Concourse version)
  rollout status [--no-wait]      progress of the latest instance refresh, until it ends
  keep <instance-id>              keep a worker for debugging (out of the group, replaced)
  release <instance-id>           end a kept instance
  drain <instance-id> [--no-wait] retire one worker and replace it
  retention [--dry-run] [--json]  run the AMI retention (--dry-run: only say what it would delete)
  destroy [--dry-run] [--confirm <stack>]
                                  destroy the stack, after typing its name

Region, credentials and profile come from the AWS environment (AWS_REGION, AWS_PROFILE, …).
exit codes: 0 ok, 1 unexpected error, 2 usage, 3 stack not found, 4 instance not found or not
applicable, 5 operation failed, 6 destroy not confirmed, 7 AWS credentials or permissions`;

const OPTIONS = {
  stack: { type: 'string' },
  json: { type: 'boolean' },
  wait: { type: 'boolean' },
  'no-wait': { type: 'boolean' },
  'dry-run': { type: 'boolean' },
  confirm: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** Which options each command takes: any other is a usage error, never silently ignored. */
const ALLOWED: Record<string, string[]> = {
  status: ['json'],
  rebuild: ['wait'],
  'rollout status': ['no-wait'],
  keep: [],
  release: [],
  drain: ['no-wait'],
  retention: ['dry-run', 'json'],
  destroy: ['dry-run', 'confirm'],
};

const DRAIN_TIMEOUT_MS = 3 * 3600_000;

export interface Runtime {
  clients: () => Clients;
  io: Io;
  scheduler?: StatusOptions['scheduler'];
}

/** Runs one command line; returns its exit code. Expected errors are one line on stderr. */
export async function run(argv: string[], runtime: Runtime): Promise<ExitCode> {
  const { io } = runtime;
  try {
    await dispatch(argv, runtime);
    return EXIT.ok;
  } catch (error) {
    const { message, exitCode } = classify(error);
    io.err(`external-worker: ${message}`);
    if (exitCode === EXIT.usage) io.err('run external-worker --help for the commands');
    if (exitCode === EXIT.unexpected && process.env.EXTERNAL_WORKER_DEBUG)
      io.err(String((error as Error).stack));
    return exitCode;
  }
}

async function dispatch(argv: string[], runtime: Runtime): Promise<void> {
  const { io } = runtime;
  let parsed: ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true }>>;
  try {
    parsed = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
  } catch (error) {
    // node:util's message goes on with advice about '--' that does not apply here.
    throw new UsageError((error as Error).message.split(/\. |\n/)[0] ?? 'bad arguments');
  }
  const { values, positionals } = parsed;
  if (values.help || positionals[0] === 'help' || positionals.length === 0) {
    io.out(USAGE);
    if (positionals.length === 0 && !values.help) throw new UsageError('no command given');
    return;
  }
  const [word, ...rest] = positionals;
  const command = word === 'rollout' ? `rollout ${rest.shift() ?? ''}`.trim() : (word ?? '');
  const allowed = ALLOWED[command];
  if (!allowed) throw new UsageError(`unknown command: ${command}`);
  const given = Object.keys(values).filter((key) => key !== 'stack');
  const extra = given.filter((key) => !allowed.includes(key));
  if (extra.length > 0) throw new UsageError(`${command} does not take --${extra.join(', --')}`);
  const takesId = ['keep', 'release', 'drain'].includes(command);
  if (takesId && rest.length !== 1) throw new UsageError(`${command} needs one instance id`);
  if (!takesId && rest.length > 0)
    throw new UsageError(`${command} takes no argument (got ${rest.join(' ')})`);
  if (!values.stack) throw new UsageError('--stack <name> is required');

  const clients = runtime.clients();
  const stack = await findStack(clients.cfn, values.stack);
  const id = rest[0] ?? '';
  switch (command) {
    case 'status': {
      const status = await fleetStatus(clients, stack, { now: io.now(), scheduler: runtime.scheduler });
      io.out(...(values.json ? [JSON.stringify(status, null, 2)] : statusText(status, io.now())));
      return;
    }
    case 'rebuild':
      return rebuild(clients, stack, io, { wait: values.wait === true });
    case 'rollout status':
      return rolloutStatus(clients, stack, io, { wait: values['no-wait'] !== true });
    case 'keep':
      return keep(clients, stack, io, id);
    case 'release':
      return release(clients, stack, io, id);
    case 'drain':
      return drain(clients, stack, io, id, { wait: values['no-wait'] !== true, timeoutMs: DRAIN_TIMEOUT_MS });
    case 'retention':
      await retention(clients, stack, io, { dryRun: values['dry-run'] === true, json: values.json === true });
      return;
    case 'destroy':
      return destroy(clients, stack, io, {
        dryRun: values['dry-run'] === true,
        ...(values.confirm !== undefined ? { confirm: values.confirm } : {}),
      });
  }
}
