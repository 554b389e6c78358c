import {
  type AutoScalingInstanceDetails,
  DescribeAutoScalingInstancesCommand,
  DetachInstancesCommand,
  TerminateInstanceInAutoScalingGroupCommand,
} from '@aws-sdk/client-auto-scaling';
import {
  CreateTagsCommand,
  DeleteTagsCommand,
  type Instance,
  TerminateInstancesCommand,
} from '@aws-sdk/client-ec2';
import { SendCommandCommand } from '@aws-sdk/client-ssm';
import { RETIRE_COMMAND, TAG } from '../functions/lib/contract';
import type { Clients } from './clients';
import { NotFoundError, OperationFailedError, UsageError } from './errors';
import { describeGroup, describeInstances, LIVE_STATES, tag } from './fleet';
import type { Io } from './io';
import type { WorkerStack } from './stack';
import { duration, secondsSince } from './text';

const INSTANCE_ID = /^i-[0-9a-f]{8,17}$/;

interface Found {
  instance: Instance;
  /** Its membership of the stack's group; undefined when out of it. */
  member?: AutoScalingInstanceDetails;
  kept: boolean;
}

/** The instance, if it belongs to the stack (in its group, or carrying its tag); an error otherwise. */
async function findInstance(clients: Clients, stack: WorkerStack, id: string): Promise<Found> {
  if (!INSTANCE_ID.test(id))
    throw new UsageError(`${JSON.stringify(id)} is not an instance id (i-0123456789abcdef0)`);
  const [{ AutoScalingInstances = [] }, instances] = await Promise.all([
    clients.autoscaling.send(new DescribeAutoScalingInstancesCommand({ InstanceIds: [id] })),
    describeInstances(clients.ec2, {
      Filters: [
        { Name: 'instance-id', Values: [id] },
        { Name: 'instance-state-name', Values: LIVE_STATES },
      ],
    }),
  ]);
  const instance = instances[0];
  const member = AutoScalingInstances.find((m) => m.AutoScalingGroupName === stack.groupName);
  if (!instance || (!member && tag(instance, TAG.stack) !== stack.name))
    throw new NotFoundError(`${id} is not a running instance of stack ${stack.name}`);
  return {
    instance,
    ...(member ? { member } : {}),
    kept: tag(instance, stack.keptInstanceTag) !== undefined,
  };
}

/**
 * Keeps a worker for debugging. While it boots: tags it keeprunning=true, so that the launch gate
 * keeps it if its boot fails. In service: retires its Concourse worker, marks it kept and detaches
 * it from the group without lowering the desired capacity, so that a replacement launches at once.
 */
export async function keep(clients: Clients, stack: WorkerStack, io: Io, id: string): Promise<void> {
  const found = await findInstance(clients, stack, id);
  if (found.kept) {
    io.out(`${id} is kept already (${tag(found.instance, stack.keptInstanceTag)})`);
    return;
  }
  const state = found.member?.LifecycleState ?? '';
  if (state === 'Pending' || state === 'Pending:Wait') {
    await clients.ec2.send(
      new CreateTagsCommand({ Resources: [id], Tags: [{ Key: TAG.keepRunning, Value: 'true' }] }),
    );
    io.out(
      `${id} is still booting: tagged ${TAG.keepRunning}=true, the launch gate keeps it if its boot fails`,
    );
    return;
  }
  if (state !== 'InService')
    throw new NotFoundError(
      `${id} is ${state || 'out of the group'}: only a booting or in-service worker can be kept`,
    );
  // Retire first: a worker out of the group must not take builds any more.
  try {
    await clients.ssm.send(
      new SendCommandCommand({
        DocumentName: 'AWS-RunShellScript',
        InstanceIds: [id],
        Parameters: { commands: [RETIRE_COMMAND], executionTimeout: ['30'] },
        Comment: `external-worker keep ${id}`,
      }),
    );
  } catch (error) {
    throw new OperationFailedError(
      `cannot reach the worker of ${id} through SSM (${(error as Error).name}): nothing changed`,
    );
  }
  io.err(`  retire sent to the worker of ${id}`);
  await clients.ec2.send(
    new CreateTagsCommand({
      Resources: [id],
      Tags: [
        { Key: stack.keptInstanceTag, Value: 'kept by hand (external-worker keep)' },
        { Key: TAG.keptSince, Value: io.now().toISOString() },
      ],
    }),
  );
  await clients.autoscaling.send(
    new DetachInstancesCommand({
      AutoScalingGroupName: stack.groupName,
      InstanceIds: [id],
      ShouldDecrementDesiredCapacity: false,
    }),
  );
  io.out(
    `${id} kept: its worker retired, out of the group (a replacement is launching). ` +
      `Inspect it with: aws ssm start-session --target ${id}; end it with: external-worker release ${id}`,
  );
}

/** Ends a kept instance, or takes back the keeprunning tag of one still booting. */
export async function release(clients: Clients, stack: WorkerStack, io: Io, id: string): Promise<void> {
  const found = await findInstance(clients, stack, id);
  if (found.kept) {
    await clients.ec2.send(new TerminateInstancesCommand({ InstanceIds: [id] }));
    const since = tag(found.instance, TAG.keptSince);
    io.out(`${id} terminated${since ? ` (kept for ${duration(secondsSince(since, io.now()))})` : ''}`);
    return;
  }
  if (found.member && tag(found.instance, TAG.keepRunning) === 'true') {
    await clients.ec2.send(new DeleteTagsCommand({ Resources: [id], Tags: [{ Key: TAG.keepRunning }] }));
    io.out(`${id}: ${TAG.keepRunning} removed, a failed boot is no longer kept`);
    return;
  }
  throw new NotFoundError(`${id} is not a kept instance of stack ${stack.name}`);
}

const POLL_MS = 15_000;

/**
 * Replaces one worker: terminates it in the group without lowering the desired capacity, so the
 * terminate hook's drain retires its worker (builds finish) while a replacement launches. Waits
 * until the instance has left and its replacement is in service.
 */
export async function drain(
  clients: Clients,
  stack: WorkerStack,
  io: Io,
  id: string,
  options: { wait: boolean; timeoutMs: number },
): Promise<void> {
  const found = await findInstance(clients, stack, id);
  if (found.member?.LifecycleState !== 'InService')
    throw new NotFoundError(
      `${id} is ${found.member?.LifecycleState ?? 'not in the group'}: only an in-service worker of ${stack.groupName} can be drained`,
    );
  const before = new Set(
    (await describeGroup(clients.autoscaling, stack.groupName)).Instances?.map((i) => i.InstanceId),
  );
  await clients.autoscaling.send(
    new TerminateInstanceInAutoScalingGroupCommand({ InstanceId: id, ShouldDecrementDesiredCapacity: false }),
  );
  io.out(`${id} is draining: its worker retires, then the instance ends; a replacement is launching`);
  if (!options.wait) return;
  const started = io.now().getTime();
  let last = '';
  for (;;) {
    const group = await describeGroup(clients.autoscaling, stack.groupName);
    const members = group.Instances ?? [];
    const old = members.find((m) => m.InstanceId === id);
    const fresh = members.filter((m) => !before.has(m.InstanceId));
    const line = [
      `${id} ${old?.LifecycleState ?? 'gone'}`,
      ...fresh.map((m) => `replacement ${m.InstanceId} ${m.LifecycleState}`),
    ].join(', ');
    const elapsed = io.now().getTime() - started;
    if (line !== last) {
      io.err(`  ${duration(elapsed / 1000).padStart(6)}  ${line}`);
      last = line;
    }
    if (!old && fresh.some((m) => m.LifecycleState === 'InService')) {
      io.out(`${id} drained and replaced`);
      return;
    }
    if (elapsed >= options.timeoutMs)
      throw new OperationFailedError(`still draining after ${duration(elapsed / 1000)}: ${line}`);
    await io.sleep(POLL_MS);
  }
}
