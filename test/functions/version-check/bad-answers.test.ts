import { StartImagePipelineExecutionCommand } from '@aws-sdk/client-imagebuilder';
import { PublishCommand } from '@aws-sdk/client-sns';
import { metrics } from '../../../functions/lib/observability';
import { checkVersion } from '../../../functions/version-check/check';
import { type Moto, startMoto } from '../../support/moto';
import { output } from '../../support/output';
import {
  BUILD_VERSION_PARAMETER,
  createClients,
  options,
  readParameter,
  STATE_PARAMETER,
  seedState,
} from './harness';
import { type Answer, type SchedulerServer, startSchedulerServer } from './scheduler-server';

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
  metrics.clearMetrics();
});

const MiB = 1024 * 1024;
const cases: Array<[string, Answer, string]> = [
  ['an HTTP error', { kind: 'status', status: 500 }, 'HttpStatus'],
  ['a not-found page', { kind: 'status', status: 404 }, 'HttpStatus'],
  ['no answer in time', { kind: 'slow' }, 'Timeout'],
  ['a body that never ends', { kind: 'slow-body' }, 'Timeout'],
  ['a body that is not JSON', { kind: 'text', body: '<html>maintenance</html>' }, 'NotJson'],
  ['JSON without a version', { kind: 'json', body: { worker_version: '2.5' } }, 'NoVersion'],
  ['JSON that is not an object', { kind: 'json', body: [1, 2] }, 'NoVersion'],
  ['a malformed version', { kind: 'json', body: { version: '7.11.2; rm -rf /' } }, 'MalformedVersion'],
  // The version goes on to the image build and the first boot: one grammar, MAJOR.MINOR.PATCH.
  ...[
    '7.11.2-rc.1',
    "7.11.2'$(id)'",
    '`id`',
    "{{ lookup('pipe', 'id') }}",
    '{% raw %}7.11.2',
    '7.11.2\n$(id)',
    '7.11.2\u0000',
    ' 7.11.2',
  ].map((version): [string, Answer, string] => [
    `the version ${JSON.stringify(version)}`,
    { kind: 'json', body: { version } },
    'MalformedVersion',
  ]),
  ['a version that is not a string', { kind: 'json', body: { version: 7.11 } }, 'MalformedVersion'],
  ['an empty version', { kind: 'json', body: { version: '' } }, 'MalformedVersion'],
  ['a redirect loop', { kind: 'redirect-loop' }, 'RedirectLoop'],
  ['a body of megabytes', { kind: 'huge', bytes: 4 * MiB, announce: false }, 'BodyTooLarge'],
  ['an announced body of megabytes', { kind: 'huge', bytes: 4 * MiB, announce: true }, 'BodyTooLarge'],
];

describe('a bad answer from the scheduler', () => {
  test.each(cases)('%s changes nothing, is logged and counted', async (_name, answer, reason) => {
    await seedState(clients.ssm, {
      version: '7.10.0',
      attempt: 1,
      imageBuildVersionArn: 'arn:aws:imagebuilder:eu-west-1:123456789012:image/w/1.0.0/1',
      startedAt: '2026-03-01T09:00:00.000Z',
      build: 'available',
      failures: 0,
      notified: false,
    });
    const before = await readParameter(clients.ssm, STATE_PARAMETER);
    server.answer = answer;

    // Only the answers that never end wait for the timeout; the others get all the time a loaded
    // machine needs, so that the reason is never a slow machine's Timeout.
    const hangs = answer.kind === 'slow' || answer.kind === 'slow-body';
    const limits = { timeoutMs: hangs ? 300 : 60_000 };
    const outcome = await checkVersion(clients, options(server.address, { limits }));
    metrics.publishStoredMetrics();

    expect(outcome).toEqual({ action: 'bad-answer', reason });
    expect(await readParameter(clients.ssm, STATE_PARAMETER)).toEqual(before);
    expect(await readParameter(clients.ssm, BUILD_VERSION_PARAMETER)).toBeUndefined();
    expect(clients.ib.commandCalls(StartImagePipelineExecutionCommand)).toHaveLength(0);
    expect(clients.topic.commandCalls(PublishCommand)).toHaveLength(0);
    expect(output).toHaveLogged({
      level: 'WARN',
      message: expect.stringContaining('scheduler answer rejected'),
      reason,
    });
    // One count, without a reason dimension: what the alarm watches, and the only series billed.
    expect(output.emf().filter((doc) => doc.VersionCheckFailed === 1)).toHaveLength(1);
    expect(output.emf().some((doc) => 'Reason' in doc)).toBe(false);
  });

  test('a redirect within the limit is followed', async () => {
    server.answer = { kind: 'redirect-once', version: '7.11.2' };
    server.requests = 0;
    const outcome = await checkVersion(clients, options(`${server.address}/`));
    expect(outcome).toMatchObject({ action: 'started', version: '7.11.2' });
    expect(server.requests).toBe(2);
  });

  test('a scheduler that is not listening is a clean failure', async () => {
    const outcome = await checkVersion(clients, options('http://127.0.0.1:9'));
    expect(outcome).toEqual({ action: 'bad-answer', reason: 'Unreachable' });
  });

  test('with a pinned version, a bad answer is counted but the pinned build still happens', async () => {
    server.answer = { kind: 'status', status: 503 };
    const outcome = await checkVersion(clients, options(server.address, { workerVersion: '7.10.0' }));
    expect(outcome).toMatchObject({ action: 'started', version: '7.10.0' });
    metrics.publishStoredMetrics();
    expect(output).toHaveEmittedMetric('VersionCheckFailed');
  });
});
