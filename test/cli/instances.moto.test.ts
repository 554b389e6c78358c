import { DescribeAutoScalingGroupsCommand } from '@aws-sdk/client-auto-scaling';
import { DescribeInstancesCommand, type Instance } from '@aws-sdk/client-ec2';
import { ListCommandsCommand } from '@aws-sdk/client-ssm';
import type { Clients } from '../../cli/clients';
import { run } from '../../cli/main';
import { RETIRE_COMMAND, TAG } from '../../functions/lib/contract';
import { type Moto, startMoto } from '../support/moto';
import { buildSampleFleet, capture, GROUP, motoClients, type SampleFleet, STACK } from './sample-fleet';

let moto: Moto;
let clients: Clients;
let fleet: SampleFleet;
const now = new Date('2026-12-01T12:00:00Z');

beforeAll(async () => {
  moto = await startMoto();
  clients = motoClients();
});

beforeEach(async () => {
  await moto.reset();
  fleet = await buildSampleFleet(clients, 'http://127.0.0.1:9');
});

afterAll(async () => {
  await moto.stop();
});

async function cli(...args: string[]) {
  const io = capture(now);
  const code = await run([...args, '--stack', STACK], { clients: () => clients, io });
  return { code, out: io.stdout, err: io.stderr };
}

async function groupMembers(): Promise<string[]> {
  const { AutoScalingGroups = [] } = await clients.autoscaling.send(
    new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [GROUP] }),
  );
  return (AutoScalingGroups[0]?.Instances ?? []).map((i) => i.InstanceId as string);
}

async function instance(id: string): Promise<Instance> {
  const { Reservations = [] } = await clients.ec2.send(new DescribeInstancesCommand({ InstanceIds: [id] }));
  return Reservations[0]?.Instances?.[0] as Instance;
}
const tagOf = (i: Instance, key: string) => i.Tags?.find((t) => t.Key === key)?.Value;

test('keep: an in-service worker is retired, marked kept and detached; a replacement takes its place', async () => {
  const [worker] = fleet.instances as [string];
  const { code, out, err } = await cli('keep', worker);
  expect({ code, err }).toEqual({ code: 0, err: [`  retire sent to the worker of ${worker}`] });
  expect(out).toEqual([
    `${worker} kept: its worker retired, out of the group (a replacement is launching). ` +
      `Inspect it with: aws ssm start-session --target ${worker}; end it with: external-worker release ${worker}`,
  ]);
  const { Commands = [] } = await clients.ssm.send(new ListCommandsCommand({}));
  expect(Commands.map((c) => [c.DocumentName, c.Parameters?.commands])).toEqual([
    ['AWS-RunShellScript', [RETIRE_COMMAND]],
  ]);
  // moto 5.2.1 adds every instance of the account to a command sent without Targets; AWS sends it to
  // InstanceIds only (https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_SendCommand.html).
  expect(Commands[0]?.InstanceIds).toContain(worker);
  const members = await groupMembers();
  expect(members).not.toContain(worker);
  expect(members).toHaveLength(2);
  const kept = await instance(worker);
  expect(tagOf(kept, TAG.kept)).toBe('kept by hand (external-worker keep)');
  expect(tagOf(kept, TAG.keptSince)).toBe(now.toISOString());

  // Kept already: nothing more happens.
  expect(await cli('keep', worker)).toEqual({
    code: 0,
    out: [`${worker} is kept already (kept by hand (external-worker keep))`],
    err: [],
  });
});

test('release: a kept instance is terminated', async () => {
  const { code, out, err } = await cli('release', fleet.kept);
  expect({ code, out, err }).toEqual({ code: 0, out: [`${fleet.kept} terminated`], err: [] });
  expect((await instance(fleet.kept)).State?.Name).toMatch(/shutting-down|terminated/);
});

test('release refuses an instance that is not kept, and touches nothing', async () => {
  const [worker] = fleet.instances as [string];
  const { code, out, err } = await cli('release', worker);
  expect({ code, out, err }).toEqual({
    code: 4,
    out: [],
    err: [`external-worker: ${worker} is not a kept instance of stack ${STACK}`],
  });
  expect((await instance(worker)).State?.Name).toBe('running');
});

test('drain: the worker leaves through the terminate hook and its replacement comes into service', async () => {
  const [worker] = fleet.instances as [string];
  const { code, out, err } = await cli('drain', worker);
  expect(code).toBe(0);
  expect(out).toEqual([
    `${worker} is draining: its worker retires, then the instance ends; a replacement is launching`,
    `${worker} drained and replaced`,
  ]);
  expect(err).toHaveLength(1);
  expect(err[0]).toMatch(new RegExp(`^ {6}0s {2}${worker} gone, replacement i-[0-9a-f]+ InService$`));
  expect(await groupMembers()).not.toContain(worker);
});

test('instances of other stacks, unknown ids and malformed ids are refused with their own exit codes', async () => {
  expect(await cli('drain', 'i-0123456789abcdef0')).toEqual({
    code: 4,
    out: [],
    err: [`external-worker: i-0123456789abcdef0 is not a running instance of stack ${STACK}`],
  });
  expect(await cli('keep', 'web-1')).toEqual({
    code: 2,
    out: [],
    err: [
      'external-worker: "web-1" is not an instance id (i-0123456789abcdef0)',
      'run external-worker --help for the commands',
    ],
  });
  expect(await cli('drain', fleet.kept)).toEqual({
    code: 4,
    out: [],
    err: [
      `external-worker: ${fleet.kept} is not in the group: only an in-service worker of ${GROUP} can be drained`,
    ],
  });
});
