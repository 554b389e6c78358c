import { InvokeCommand } from '@aws-sdk/client-lambda';
import type { RetentionResult } from '../../functions/ami-retention/retention';
import { cli, mockedClients, RETENTION_FUNCTION, STACK } from './mocked';

const bytes = (value: unknown) => new TextEncoder().encode(JSON.stringify(value));
const sent = (payload: Uint8Array | string | undefined) =>
  typeof payload === 'string' ? payload : new TextDecoder().decode(payload);

const dryRun: RetentionResult = {
  dryRun: true,
  kept: [
    { imageId: 'ami-0000000000000000c', reason: 'newest' },
    { imageId: 'ami-0000000000000000b', reason: 'current' },
    { imageId: 'ami-0000000000000000a', reason: 'instance' },
  ],
  deleted: [
    {
      imageId: 'ami-00000000000000009',
      snapshots: ['snap-00000000000000091', 'snap-00000000000000092'],
      imageBuilderImage: `arn:aws:imagebuilder:eu-west-1:123456789012:image/${STACK}-worker/1.0.0/1`,
    },
  ],
  keptVersions: [
    { version: 7, imageId: 'ami-0000000000000000c', reason: 'default' },
    { version: 6, imageId: 'ami-0000000000000000b', reason: 'newest' },
  ],
  prunedVersions: [
    { version: 1, imageId: 'ami-00000000000000009' },
    { version: 2, imageId: 'ami-00000000000000009' },
  ],
  sweptSnapshots: ['snap-0000000000000000f'],
};

test('retention --dry-run sends exactly {"dryRun":true} and says what would go and why the rest stays', async () => {
  const { clients, mocks } = mockedClients();
  mocks.lambda.on(InvokeCommand).resolves({ StatusCode: 200, Payload: bytes(dryRun) as never });
  const { code, out, err } = await cli(clients, ['retention', '--dry-run', '--stack', STACK]);
  expect(code).toBe(0);
  const calls = mocks.lambda.commandCalls(InvokeCommand);
  expect(calls).toHaveLength(1);
  expect(calls[0]?.args[0].input.FunctionName).toBe(RETENTION_FUNCTION);
  // The function refuses any key its schema does not define.
  expect(sent(calls[0]?.args[0].input.Payload as Uint8Array)).toBe('{"dryRun":true}');
  expect(err).toEqual([`dry run of the AMI retention of ${STACK} (nothing is deleted)…`]);
  expect(out).toEqual([
    'Would delete 1 AMI:',
    '  ami-00000000000000009  snapshots snap-00000000000000091, snap-00000000000000092  image external-worker-prod-worker/1.0.0/1',
    'Would delete 1 orphaned snapshot of AMIs already gone: snap-0000000000000000f',
    'Would delete 2 launch template versions: 1, 2',
    'Keeps 3 AMIs:',
    '  ami-0000000000000000c  newest    one of the newest AMIs the stack keeps (amiRetention)',
    '  ami-0000000000000000b  current   the current AMI (recorded by the last rollout)',
    '  ami-0000000000000000a  instance  an instance of the stack runs it',
    'Keeps 2 launch template versions:',
    '  7  ami-0000000000000000c  default  the default version',
    '  6  ami-0000000000000000b  newest   one of the newest versions kept (amiRetention + 1)',
  ]);
});

test('retention without --dry-run runs it for real with {}; --json gives the function result', async () => {
  const { clients, mocks } = mockedClients();
  const real = { ...dryRun, dryRun: false };
  mocks.lambda.on(InvokeCommand).resolves({ StatusCode: 200, Payload: bytes(real) as never });
  const { code, out } = await cli(clients, ['retention', '--json', '--stack', STACK]);
  expect(code).toBe(0);
  expect(sent(mocks.lambda.commandCalls(InvokeCommand)[0]?.args[0].input.Payload as Uint8Array)).toBe('{}');
  expect(JSON.parse(out.join('\n'))).toEqual(real);
});

test('a failing function is one line and exit code 5', async () => {
  const { clients, mocks } = mockedClients();
  mocks.lambda.on(InvokeCommand).resolves({
    StatusCode: 200,
    FunctionError: 'Unhandled',
    Payload: bytes({
      errorType: 'InvalidInputError',
      errorMessage: 'invalid retention input: dryRun: expected boolean',
      stackTrace: ['at x', 'at y'],
    }) as never,
  });
  const { code, out, err } = await cli(clients, ['retention', '--dry-run', '--stack', STACK]);
  expect({ code, out }).toEqual({ code: 5, out: [] });
  expect(err.at(-1)).toBe(
    'external-worker: the retention function failed: InvalidInputError: invalid retention input: dryRun: expected boolean',
  );
});
