import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { DescribeInstancesCommand } from '@aws-sdk/client-ec2';
import type { Clients } from '../../cli/clients';
import { run } from '../../cli/main';
import { type SchedulerServer, startSchedulerServer } from '../functions/version-check/scheduler-server';
import { type Moto, startMoto } from '../support/moto';
import {
  addDatedFacts,
  buildSampleFleet,
  capture,
  deployStack,
  motoClients,
  type SampleFleet,
  STACK,
} from './sample-fleet';

let moto: Moto;
let scheduler: SchedulerServer;
let clients: Clients;
let fleet: SampleFleet;
let now: Date;
let launchedAt: Map<string, number>;

beforeAll(async () => {
  moto = await startMoto();
  scheduler = await startSchedulerServer();
  scheduler.answer = { kind: 'version', version: '7.12.0' };
  clients = motoClients();
  fleet = await buildSampleFleet(clients, scheduler.address);
  const { Reservations = [] } = await clients.ec2.send(
    new DescribeInstancesCommand({ InstanceIds: fleet.instances }),
  );
  launchedAt = new Map(
    Reservations.flatMap((r) => r.Instances ?? []).map((i) => [
      i.InstanceId ?? '',
      i.LaunchTime?.getTime() ?? 0,
    ]),
  );
  // The youngest worker is 3h12m old at the time the status is read; moto may launch the others a second earlier.
  now = new Date(Math.max(...launchedAt.values()) + (3 * 60 + 12) * 60_000);
  await addDatedFacts(clients, fleet, now);
});

afterAll(async () => {
  await scheduler.close();
  await moto.stop();
});

/** Instance and AMI ids are moto's: the text is compared with them named. */
function named(lines: string[]): string[] {
  const names: Array<[string, string]> = [
    ...fleet.instances.map((id, i): [string, string] => [id, `i-worker${i + 1}`]),
    [fleet.kept, 'i-kept'],
    [fleet.amis.current, 'ami-current'],
    [fleet.amis.previous, 'ami-previous'],
  ];
  return lines.map((line) =>
    names.reduce((text, [id, name]) => text.replaceAll(id, name.padEnd(id.length)), line),
  );
}

async function status(...args: string[]) {
  const io = capture(now);
  const code = await run(['status', '--stack', STACK, ...args], { clients: () => clients, io });
  return { code, io };
}

test('status shows versions, instances, kept instances, executions, last outcomes and firing alarms', async () => {
  const { code, io } = await status();
  expect(io.stderr).toEqual([]);
  expect(code).toBe(0);
  const text = named(io.stdout).join('\n');
  // The two workers run in moto's default AZ order; the version of an AMI is known from the version check's state.
  expect(text).toMatch(/^Stack external-worker-prod \(CREATE_COMPLETE\)\n/);
  expect(text).toContain(
    [
      'Versions',
      `  scheduler    7.12.0 (${scheduler.address})`,
      '  built        7.11.2, available since 2026-11-30 08:00 UTC',
      '  rolled out   7.11.2',
      '  current AMI  ami-current           (7.11.2)',
    ].join('\n'),
  );
  expect(text).toContain(
    'Group external-worker-prod-workers: 2 in service of 2 desired (min 1, max 6), launch template version 1',
  );
  expect(text).toMatch(
    / {2}INSTANCE\s+AZ\s+STATE\s+BOOT\s+VERSION\s+LT\s+CAPACITY\s+AGE\n {2}i-worker\d\s+eu-west-1[ab]\s+InService\s+ok\s+7\.11\.2\s+1\s+on-demand\s+3h12m\n {2}i-worker\d\s+eu-west-1[ab]\s+InService\s+ok\s+7\.11\.2\s+1\s+on-demand\s+3h12m\n/,
  );
  expect(text).toContain(
    [
      'Kept instances (1, out of the group)',
      '  INSTANCE             AZ          STATE    VERSION        KEPT       EXPIRES    REASON',
      '  i-kept               eu-west-1b  running  build 1.0.0/2  5h00m ago  in 19h00m  boot failed: step concourse-worker: TSA refused the key',
    ].join('\n'),
  );
  expect(text).toContain('Executions running\n  image-rollout    none\n');
  expect(text).toMatch(/ {2}instance-launch {2}launch-i-0new \(since /);
  expect(text).toContain('  instance-drain   none\n  destroy          none');
  expect(text).toMatch(/Last rollout {4}ABORTED .* UTC, took \d+s \(image-1-0-0-3\)/);
  expect(text).toMatch(
    /Last retention {2}ok \(hour of .* UTC\): deleted 2 AMIs, 3 snapshots, 1 launch template version/,
  );
  expect(text).toMatch(
    /Alarms: 1 firing of 3\n {2}external-worker-prod-BelowDesired: The group stayed below its desired capacity for 30 minutes \(since .* UTC\)$/,
  );
});

test('status --json gives the same facts to scripts', async () => {
  const { code, io } = await status('--json');
  expect(code).toBe(0);
  const json = JSON.parse(io.stdout.join('\n'));
  expect(json).toMatchObject({
    stack: STACK,
    scheduler: { version: '7.12.0' },
    built: { version: '7.11.2', build: 'available' },
    currentAmi: { imageId: fleet.amis.current, version: '7.11.2' },
    group: { desired: 2, inService: 2 },
    kept: [{ id: fleet.kept, reason: 'boot failed: step concourse-worker: TSA refused the key' }],
    running: { rollout: [], launch: [{ name: 'launch-i-0new' }], drain: [], destroy: [] },
    lastRollout: { name: 'image-1-0-0-3', status: 'ABORTED' },
    lastRetention: { invocations: 1, errors: 0, amisDeleted: 2 },
    alarms: { total: 3, firing: [{ name: `${STACK}-BelowDesired` }] },
  });
  expect(json.instances.map((i: { id: string }) => i.id).sort()).toEqual([...fleet.instances].sort());
  for (const instance of json.instances) {
    expect(instance).toMatchObject({
      lifecycleState: 'InService',
      boot: 'ok',
      capacity: 'on-demand',
      ageSeconds: Math.round((now.getTime() - (launchedAt.get(instance.id) ?? 0)) / 1000),
    });
  }
  expect(Math.min(...json.instances.map((i: { ageSeconds: number }) => i.ageSeconds))).toBe(11520);
});

test('a scheduler that does not answer is shown, not fatal', async () => {
  scheduler.answer = { kind: 'status', status: 503 };
  try {
    const { code, io } = await status();
    expect(code).toBe(0);
    expect(io.stdout.join('\n')).toContain(
      `  scheduler    unknown: HTTP 503 from ${scheduler.address}/api/v1/info`,
    );
  } finally {
    scheduler.answer = { kind: 'version', version: '7.12.0' };
  }
});

test('a stack that does not exist: one line, exit code 3', async () => {
  const io = capture(now);
  const code = await run(['status', '--stack', 'nope'], { clients: () => clients, io });
  expect(code).toBe(3);
  expect(io.stderr).toEqual(['external-worker: stack nope not found in this account and region']);
  expect(io.stdout).toEqual([]);
});

test('a stack without the outputs the CLI needs: named, exit code 3', async () => {
  await deployStack(clients.cfn, { AutoScalingGroupName: 'other-workers' }, 'other-stack');
  const io = capture(now);
  const code = await run(['status', '--stack', 'other-stack'], { clients: () => clients, io });
  expect(code).toBe(3);
  expect(io.stderr).toHaveLength(1);
  expect(io.stderr[0]).toMatch(
    /^external-worker: stack other-stack is not an external-worker stack this CLI knows \(missing outputs: LaunchTemplateId, ImagePipelineArn, .*\); deploy this version first$/,
  );
});

test('the package bin runs as a process: region and credentials from the environment, exit code for scripts', () => {
  const bin = path.join(__dirname, '..', '..', 'bin', 'external-worker.js');
  const found = spawnSync(process.execPath, [bin, 'status', '--stack', STACK, '--json'], {
    encoding: 'utf8',
    env: process.env,
  });
  expect(found.stderr).toBe('');
  expect(found.status).toBe(0);
  expect(JSON.parse(found.stdout)).toMatchObject({ stack: STACK, group: { desired: 2 } });

  const missing = spawnSync(process.execPath, [bin, 'status', '--stack', 'nope'], {
    encoding: 'utf8',
    env: process.env,
  });
  expect({ status: missing.status, stdout: missing.stdout, stderr: missing.stderr }).toEqual({
    status: 3,
    stdout: '',
    stderr: 'external-worker: stack nope not found in this account and region\n',
  });
});
