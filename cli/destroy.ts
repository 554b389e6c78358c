import { DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import {
  DescribeExecutionCommand,
  GetExecutionHistoryCommand,
  type HistoryEvent,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import type { Clients } from './clients';
import { NotConfirmedError, OperationFailedError } from './errors';
import type { Io } from './io';
import type { WorkerStack } from './stack';
import { duration, outline } from './text';

const POLL_MS = 10_000;

/** State entries worth a line: the steps that act or wait, not the checks between them. */
const STEP_EVENTS = new Set([
  'TaskStateEntered',
  'MapStateEntered',
  'ParallelStateEntered',
  'WaitStateEntered',
]);

async function history(clients: Pick<Clients, 'sfn'>, executionArn: string): Promise<HistoryEvent[]> {
  const events: HistoryEvent[] = [];
  let nextToken: string | undefined;
  do {
    const page = await clients.sfn.send(
      new GetExecutionHistoryCommand({ executionArn, maxResults: 1000, nextToken }),
    );
    events.push(...(page.events ?? []));
    nextToken = page.nextToken;
  } while (nextToken);
  return events;
}

/**
 * Destroys the stack through its `destroy` state machine (docs/destroy.md), which drains the
 * workers, ends the kept instances, deletes the AMIs and snapshots and then the stack. The user
 * types the stack name, which is also the state machine's confirmation. Shows each step as the
 * execution enters it, then follows the stack deletion until the stack is gone.
 */
export async function destroy(
  clients: Pick<Clients, 'sfn' | 'cfn'>,
  stack: WorkerStack,
  io: Io,
  options: { dryRun: boolean; confirm?: string },
): Promise<void> {
  if (!options.dryRun)
    io.err(
      `This destroys ${stack.name}: its workers are drained and ended, kept instances ended, every AMI, ` +
        'snapshot and image of the stack deleted, then the stack itself. Log groups and the worker key stay.',
    );
  const typed =
    options.confirm ??
    (await io.ask(
      `Type the stack name (${stack.name}) to ${options.dryRun ? 'list what would go' : 'destroy it'}: `,
    ));
  if (typed?.trim() !== stack.name)
    throw new NotConfirmedError(
      `${typed === undefined || typed.trim() === '' ? 'no name given' : `"${typed.trim()}" is not ${stack.name}`}: nothing done`,
    );

  const input = { confirm: stack.name, ...(options.dryRun ? { dryRun: true } : {}) };
  const { executionArn } = await clients.sfn.send(
    new StartExecutionCommand({ stateMachineArn: stack.stateMachines.destroy, input: JSON.stringify(input) }),
  );
  if (!executionArn) throw new OperationFailedError('Step Functions started no execution');
  io.err(`destroy execution ${executionArn}`);

  const started = io.now().getTime();
  const shown = new Set<string>();
  const elapsed = () => duration((io.now().getTime() - started) / 1000).padStart(6);
  for (;;) {
    const [events, execution] = await Promise.all([
      history(clients, executionArn),
      clients.sfn.send(new DescribeExecutionCommand({ executionArn })),
    ]);
    for (const event of events) {
      const name = event.stateEnteredEventDetails?.name;
      if (!name || !STEP_EVENTS.has(event.type ?? '') || shown.has(name)) continue;
      shown.add(name);
      io.err(`  ${elapsed()}  ${name}`);
    }
    const status = execution.status ?? 'RUNNING';
    if (status === 'SUCCEEDED') {
      let output: unknown = execution.output;
      try {
        output = JSON.parse(execution.output ?? 'null');
      } catch {
        // shown as text
      }
      io.out(options.dryRun ? 'Would remove:' : 'Removed:', ...outline(output));
      break;
    }
    if (status !== 'RUNNING')
      throw new OperationFailedError(
        `destroy ${status}: ${execution.error ?? ''}${execution.cause ? `: ${execution.cause}` : ''} ` +
          '(fix the cause, then run destroy again: it finishes what is left)',
      );
    await io.sleep(POLL_MS);
  }
  if (options.dryRun) return;
  await followDeletion(clients, stack, io, elapsed);
}

/** The stack deletion the state machine started, until the stack is gone. */
async function followDeletion(
  clients: Pick<Clients, 'cfn'>,
  stack: WorkerStack,
  io: Io,
  elapsed: () => string,
): Promise<void> {
  let last = '';
  for (;;) {
    let status: string;
    try {
      const { Stacks = [] } = await clients.cfn.send(new DescribeStacksCommand({ StackName: stack.name }));
      status = Stacks[0]?.StackStatus ?? 'DELETE_COMPLETE';
    } catch (error) {
      if ((error as Error).name !== 'ValidationError') throw error;
      status = 'DELETE_COMPLETE';
    }
    if (status !== last) {
      io.err(`  ${elapsed()}  stack ${status}`);
      last = status;
    }
    if (status === 'DELETE_COMPLETE') {
      io.out(`stack ${stack.name} deleted`);
      return;
    }
    if (status === 'DELETE_FAILED')
      throw new OperationFailedError(
        `the deletion of ${stack.name} failed: aws cloudformation describe-stack-events --stack-name ${stack.name}`,
      );
    await io.sleep(POLL_MS);
  }
}
