import {
  ListImagePipelineImagesCommand,
  StartImagePipelineExecutionCommand,
} from '@aws-sdk/client-imagebuilder';
import { PublishCommand } from '@aws-sdk/client-sns';
import { metrics } from '../../../functions/lib/observability';
import { checkVersion, RETRY_INTERVAL_MS } from '../../../functions/version-check/check';
import { type Moto, startMoto } from '../../support/moto';
import { output } from '../../support/output';
import {
  BUILD_VERSION_PARAMETER,
  createClients,
  options,
  readParameter,
  readStateParameter,
  STATE_PARAMETER,
} from './harness';
import { type SchedulerServer, startSchedulerServer } from './scheduler-server';

let moto: Moto;
let server: SchedulerServer;
let clients: ReturnType<typeof createClients>;

beforeAll(async () => {
  moto = await startMoto();
  server = await startSchedulerServer();
  clients = createClients();
});
afterAll(async () => {
  await server.close();
  await moto.stop();
});
beforeEach(async () => {
  await moto.reset();
  clients.reset();
  server.answer = { kind: 'version', version: '7.11.2' };
  metrics.clearMetrics();
});

const T0 = new Date('2026-03-01T10:00:00Z');
const at = (ms: number) => new Date(T0.getTime() + ms);
const starts = () => clients.ib.commandCalls(StartImagePipelineExecutionCommand);
const check = (extra: Parameters<typeof options>[1] = {}) =>
  checkVersion(clients, options(server.address, { now: T0, ...extra }));
/** Flushes the stored metrics and returns what was printed. */
const printed = () => {
  metrics.publishStoredMetrics();
  return output;
};

describe('a new scheduler version', () => {
  test('starts exactly one build, then records the state', async () => {
    const seenAtStart: unknown[] = [];
    clients.ib.on(StartImagePipelineExecutionCommand).callsFake(async (input: { clientToken: string }) => {
      // The build reads its version at build time: it must already be there, the state not yet.
      seenAtStart.push(
        (await readParameter(clients.ssm, BUILD_VERSION_PARAMETER))?.value,
        await readParameter(clients.ssm, STATE_PARAMETER),
      );
      return {
        imageBuildVersionArn: 'arn:aws:imagebuilder:eu-west-1:1:image/w/1.0.0/1',
        clientToken: input.clientToken,
      };
    });

    const outcome = await check();

    expect(outcome).toMatchObject({ action: 'started', version: '7.11.2', attempt: 1 });
    expect(starts()).toHaveLength(1);
    expect(starts()[0]?.args[0].input).toMatchObject({ imagePipelineArn: options('').imagePipelineArn });
    expect(seenAtStart).toEqual(['7.11.2', undefined]);
    expect(await readStateParameter(clients.ssm)).toMatchObject({
      version: '7.11.2',
      attempt: 1,
      imageBuildVersionArn: 'arn:aws:imagebuilder:eu-west-1:1:image/w/1.0.0/1',
      startedAt: T0.toISOString(),
      build: 'building',
      failures: 0,
      notified: false,
    });
    // Only what an alarm reads is a metric; the poll's findings are its record.
    expect(Object.keys(printed().metrics())).toEqual(['FleetVersionBehind']);
    expect(output).toHaveLogged({
      message: 'version checked',
      scheduler: '7.11.2',
      answer: 'ok',
      built: '7.11.2',
      build: 'building',
      behind: true,
    });
  });

  test('the same version again changes nothing', async () => {
    await check();
    const written = await readParameter(clients.ssm, STATE_PARAMETER);
    const outcome = await check({ now: at(300_000) });
    expect(outcome).toEqual({ action: 'building', version: '7.11.2' });
    expect(starts()).toHaveLength(1);
    expect(await readParameter(clients.ssm, STATE_PARAMETER)).toEqual(written);
  });

  test('once built, the same version neither rebuilds nor asks Image Builder again', async () => {
    const started = await check();
    if (started.action !== 'started') throw new Error('expected a start');
    clients.statuses.set(started.imageBuildVersionArn, { status: 'AVAILABLE', created: T0.toISOString() });
    expect(await check({ now: at(60_000) })).toEqual({ action: 'built', version: '7.11.2' });
    const calls = clients.ib.calls().length;
    expect(await check({ now: at(120_000) })).toEqual({ action: 'unchanged', version: '7.11.2' });
    expect(clients.ib.calls()).toHaveLength(calls);
    expect(starts()).toHaveLength(1);
  });

  test('duplicate invocations start one build', async () => {
    const outcomes = await Promise.all([check(), check(), check()]);
    const tokens = new Set(starts().map((call) => call.args[0].input.clientToken));
    // Concurrent duplicates reach Image Builder with one client token: one build.
    expect(tokens.size).toBe(1);
    expect(
      new Set(outcomes.map((o) => (o.action === 'started' ? o.imageBuildVersionArn : o.action))).size,
    ).toBe(1);
    await check({ now: at(1000) });
    expect(new Set(starts().map((call) => call.args[0].input.clientToken)).size).toBe(1);
  });

  test('a build that did not start is not recorded, and the next check starts it', async () => {
    clients.ib.on(StartImagePipelineExecutionCommand).rejectsOnce(new Error('ThrottlingException'));
    await expect(check()).rejects.toMatchObject({ name: 'UpstreamError' });
    expect(await readParameter(clients.ssm, STATE_PARAMETER)).toBeUndefined();
    expect(output).toHaveLogged({ level: 'ERROR', message: expect.stringContaining('did not start') });

    clients.reset();
    const outcome = await check({ now: at(300_000) });
    expect(outcome).toMatchObject({ action: 'started', version: '7.11.2' });
    expect(starts()).toHaveLength(1);
    expect(await readStateParameter(clients.ssm)).toMatchObject({ version: '7.11.2', build: 'building' });
  });

  test('a later version starts a new build with a new client token', async () => {
    await check();
    server.answer = { kind: 'version', version: '7.12.0' };
    expect(await check({ now: at(300_000) })).toMatchObject({ action: 'started', version: '7.12.0' });
    expect(starts()).toHaveLength(2);
    const [first, second] = starts().map((call) => call.args[0].input.clientToken);
    expect(first).not.toBe(second);
    expect((await readParameter(clients.ssm, BUILD_VERSION_PARAMETER))?.value).toBe('7.12.0');
    expect(output).toHaveLogged({ message: 'new Concourse version to build', version: '7.12.0' });
  });
});

describe('a pinned version', () => {
  test('is built once, and drift is counted without a rebuild', async () => {
    const pinned = { workerVersion: '7.10.0' };
    expect(await check(pinned)).toMatchObject({ action: 'started', version: '7.10.0' });
    expect((await readParameter(clients.ssm, BUILD_VERSION_PARAMETER))?.value).toBe('7.10.0');
    output.clear();
    expect(await check({ ...pinned, now: at(300_000) })).toEqual({ action: 'building', version: '7.10.0' });
    expect(starts()).toHaveLength(1);
    expect(output).toHaveLogged({ level: 'WARN', message: expect.stringContaining('not rebuilding') });
  });
});

describe('failed builds', () => {
  const fail = async (outcome: Awaited<ReturnType<typeof check>>) => {
    if (outcome.action !== 'started') throw new Error(`expected a start, got ${outcome.action}`);
    clients.statuses.set(outcome.imageBuildVersionArn, { status: 'FAILED', created: T0.toISOString() });
  };

  test('are retried no sooner than an hour, and after three failures stop and notify once', async () => {
    await fail(await check());
    expect(await check({ now: at(60_000) })).toMatchObject({ action: 'waiting' });
    expect(await readStateParameter(clients.ssm)).toMatchObject({ failures: 1, build: 'failed' });
    expect(printed()).toHaveLogged({ message: 'image build failed' });
    expect(await check({ now: at(60_000 + RETRY_INTERVAL_MS - 1) })).toMatchObject({ action: 'waiting' });
    expect(starts()).toHaveLength(1);

    const second = await check({ now: at(60_000 + RETRY_INTERVAL_MS) });
    expect(second).toMatchObject({ action: 'started', attempt: 2 });
    await fail(second);
    expect(await check({ now: at(2 * RETRY_INTERVAL_MS) })).toMatchObject({ action: 'waiting' });
    const third = await check({ now: at(3 * RETRY_INTERVAL_MS + 60_000) });
    expect(third).toMatchObject({ action: 'started', attempt: 3 });
    expect(new Set(starts().map((call) => call.args[0].input.clientToken)).size).toBe(3);
    await fail(third);

    expect(await check({ now: at(4 * RETRY_INTERVAL_MS) })).toMatchObject({ action: 'stopped' });
    expect(await readStateParameter(clients.ssm)).toMatchObject({ failures: 3, notified: true });
    for (const hours of [5, 6, 48]) {
      expect(await check({ now: at(hours * RETRY_INTERVAL_MS) })).toMatchObject({ action: 'stopped' });
    }
    expect(starts()).toHaveLength(3);
    const published = clients.topic.commandCalls(PublishCommand);
    expect(published).toHaveLength(1);
    expect(published[0]?.args[0].input).toMatchObject({ TopicArn: options('').topicArn });
    expect(published[0]?.args[0].input.Message).toContain('7.11.2');
    expect(output).toHaveLogged({ level: 'ERROR', message: expect.stringContaining('retries exhausted') });
  });

  test('after the stop, a new scheduler version builds again', async () => {
    for (let i = 0; i < 3; i++) {
      await fail(await check({ now: at(i * 2 * RETRY_INTERVAL_MS + 1) }));
      await check({ now: at(i * 2 * RETRY_INTERVAL_MS + 2) });
    }
    expect(await check({ now: at(10 * RETRY_INTERVAL_MS) })).toMatchObject({ action: 'stopped' });
    server.answer = { kind: 'version', version: '7.12.0' };
    expect(await check({ now: at(11 * RETRY_INTERVAL_MS) })).toMatchObject({
      action: 'started',
      version: '7.12.0',
      attempt: 1,
    });
    expect(await readStateParameter(clients.ssm)).toMatchObject({ failures: 0, notified: false });
  });

  test('after the stop, a build started by hand is followed and resets the count', async () => {
    for (let i = 0; i < 3; i++) {
      await fail(await check({ now: at(i * 2 * RETRY_INTERVAL_MS + 1) }));
      await check({ now: at(i * 2 * RETRY_INTERVAL_MS + 2) });
    }
    const manual = 'arn:aws:imagebuilder:eu-west-1:123456789012:image/external-worker-prod-worker/1.0.0/9';
    clients.ib.on(ListImagePipelineImagesCommand).resolves({
      imageSummaryList: [{ arn: manual, dateCreated: '2026-03-02T00:00:00.000Z' }],
    });
    clients.statuses.set(manual, { status: 'BUILDING', created: '2026-03-02T00:00:00.000Z' });
    expect(await check({ now: at(12 * RETRY_INTERVAL_MS) })).toMatchObject({ action: 'adopted' });
    expect(await readStateParameter(clients.ssm)).toMatchObject({
      imageBuildVersionArn: manual,
      build: 'building',
      failures: 0,
      notified: false,
    });
    clients.statuses.set(manual, { status: 'AVAILABLE', created: '2026-03-02T00:00:00.000Z' });
    expect(await check({ now: at(13 * RETRY_INTERVAL_MS) })).toMatchObject({ action: 'built' });
    expect(starts()).toHaveLength(3);
  });
});

describe('whether the fleet runs the version it should', () => {
  /** The gauge of the last check (the output accumulates over the test). */
  const lag = () => printed().metrics().FleetVersionBehind?.at(-1);
  /** The record of the last check: what the dashboard's versions widget shows. */
  const record = () =>
    output
      .logs()
      .filter((r) => r.message === 'version checked')
      .at(-1);

  async function rolledOut(imageArn: string) {
    const { EC2Client, RegisterImageCommand, CreateTagsCommand } = await import('@aws-sdk/client-ec2');
    const { PutParameterCommand } = await import('@aws-sdk/client-ssm');
    const ec2 = new EC2Client({});
    const { ImageId } = await ec2.send(
      new RegisterImageCommand({
        Name: `worker-${imageArn.split('/').pop()}`,
        RootDeviceName: '/dev/xvda',
        BlockDeviceMappings: [{ DeviceName: '/dev/xvda', Ebs: { VolumeSize: 8 } }],
      }),
    );
    await ec2.send(
      new CreateTagsCommand({
        Resources: [ImageId as string],
        Tags: [{ Key: 'external-worker:image', Value: imageArn }],
      }),
    );
    await clients.ssm.send(
      new PutParameterCommand({
        Name: '/external-worker/prod/current-ami',
        Value: ImageId as string,
        Type: 'String',
        Overwrite: true,
      }),
    );
  }

  test('behind while the new version builds, then while the built image is not rolled out, then not', async () => {
    const started = await check();
    expect(started.action).toBe('started');
    expect(lag()).toBe(1);

    const imageArn = (await readStateParameter(clients.ssm))?.imageBuildVersionArn as string;
    clients.statuses.set(imageArn, { status: 'AVAILABLE', created: T0.toISOString() });
    expect((await check({ now: at(60_000) })).action).toBe('built');
    expect(lag()).toBe(1);
    // The fleet still runs whatever it ran (no rollout recorded yet).
    expect(record()).toMatchObject({ built: '7.11.2', build: 'available', fleet: 'unknown', behind: true });

    await rolledOut(imageArn);
    expect((await check({ now: at(120_000) })).action).toBe('unchanged');
    expect(lag()).toBe(0);
    expect(record()).toMatchObject({ scheduler: '7.11.2', built: '7.11.2', fleet: '7.11.2', behind: false });
  });

  test('behind again as soon as the scheduler moves on', async () => {
    await check();
    const imageArn = (await readStateParameter(clients.ssm))?.imageBuildVersionArn as string;
    clients.statuses.set(imageArn, { status: 'AVAILABLE', created: T0.toISOString() });
    await check({ now: at(60_000) });
    await rolledOut(imageArn);
    server.answer = { kind: 'version', version: '7.12.0' };
    await check({ now: at(120_000) });
    expect(lag()).toBe(1);
    // The fleet's image is not the build of 7.12.0: named by its image build.
    expect(record()).toMatchObject({ scheduler: '7.12.0', built: '7.12.0', build: 'building', behind: true });
    expect(record()?.fleet).toMatch(/^\d+\.\d+\.\d+\/\d+$/);
  });

  test('a bad scheduler answer keeps counting the lag instead of resetting it', async () => {
    await check();
    server.answer = { kind: 'status', status: 503 };
    expect((await check({ now: at(60_000) })).action).toBe('bad-answer');
    expect(lag()).toBe(1);
    expect(record()).toMatchObject({ answer: 'HttpStatus', built: '7.11.2', behind: true });
    expect(record()).not.toHaveProperty('scheduler');
    server.answer = { kind: 'text', body: 'maintenance' };
    expect((await check({ now: at(120_000) })).action).toBe('bad-answer');
    expect(lag()).toBe(1);
  });

  test('a bad answer once the fleet is current leaves it current (measured against the last known version)', async () => {
    await check();
    const imageArn = (await readStateParameter(clients.ssm))?.imageBuildVersionArn as string;
    clients.statuses.set(imageArn, { status: 'AVAILABLE', created: T0.toISOString() });
    await check({ now: at(60_000) });
    await rolledOut(imageArn);
    server.answer = { kind: 'status', status: 502 };
    expect((await check({ now: at(120_000) })).action).toBe('bad-answer');
    expect(lag()).toBe(0);
  });

  test('a build that does not start still counts the lag', async () => {
    clients.ib.on(StartImagePipelineExecutionCommand).rejects(new Error('ServiceUnavailableException'));
    await expect(check()).rejects.toThrow('did not start');
    expect(lag()).toBe(1);
  });
});
