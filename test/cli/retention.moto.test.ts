import { DescribeImagesCommand } from '@aws-sdk/client-ec2';
import { InvokeCommand } from '@aws-sdk/client-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import type { Clients } from '../../cli/clients';
import { run } from '../../cli/main';
import type { RetentionResult } from '../../functions/ami-retention/retention';
import { logger } from '../../functions/lib/observability';
import type { LambdaHandler } from '../support/asl-harness';
import { type Moto, startMoto } from '../support/moto';
import { buildSampleFleet, capture, GROUP, motoClients, type SampleFleet, STACK } from './sample-fleet';

let moto: Moto;
let clients: Clients;
let fleet: SampleFleet;
let handler: LambdaHandler;
const payloads: unknown[] = [];
const results: RetentionResult[] = [];

beforeAll(async () => {
  moto = await startMoto();
  clients = motoClients();
  fleet = await buildSampleFleet(clients, 'http://127.0.0.1:9');
  Object.assign(process.env, {
    STACK_NAME: STACK,
    LAUNCH_TEMPLATE_ID: fleet.launchTemplateId,
    GROUP_NAME: GROUP,
    AMI_RETENTION: '1',
    CURRENT_AMI_PARAMETER: '/external-worker/prod/current-ami',
  });
  logger.setLogLevel('SILENT');
  handler = (await import('../../functions/ami-retention/handler')).handler as LambdaHandler;
  // Lambda itself is the one thing moto cannot run here: the invocation goes to the real handler,
  // which reads and (would) delete in moto. Its input is parsed by the function's own schema.
  mockClient(clients.lambda)
    .on(InvokeCommand)
    .callsFake(async (input: { Payload: Uint8Array }) => {
      const payload = JSON.parse(new TextDecoder().decode(input.Payload));
      payloads.push(payload);
      const result = (await handler(payload, {
        getRemainingTimeInMillis: () => 900_000,
        functionName: 'ami-retention',
        awsRequestId: 'cli',
      })) as RetentionResult;
      results.push(result);
      return { StatusCode: 200, Payload: new TextEncoder().encode(JSON.stringify(result)) };
    });
});

afterAll(async () => moto.stop());

test('retention --dry-run against the real function: what it says matches what the function decided, nothing deleted', async () => {
  const io = capture(new Date());
  const stderr = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
  let code: number;
  try {
    code = await run(['retention', '--dry-run', '--stack', STACK], { clients: () => clients, io });
  } finally {
    stderr.mockRestore();
  }
  expect(code).toBe(0);
  expect(payloads).toEqual([{ dryRun: true }]);
  const [result] = results as [RetentionResult];
  expect(result.dryRun).toBe(true);

  const reasons = new Map(result.kept.map((k) => [k.imageId, k.reason]));
  // The AMI the group's launch template and the current-AMI parameter name, and the one the kept instance runs, stay.
  expect(['current', 'newest', 'launch-template']).toContain(reasons.get(fleet.amis.current));
  expect(['instance', 'newest']).toContain(reasons.get(fleet.amis.previous));
  // The stock AMI is not the stack's: never listed.
  expect(io.stdout.join('\n')).not.toContain(fleet.amis.stock);

  const text = io.stdout;
  const would = result.deleted.length;
  expect(text[0]).toBe(`Would delete ${would} AMI${would === 1 ? '' : 's'}${would ? ':' : ''}`);
  for (const { imageId, reason } of result.kept)
    expect(text).toContainEqual(expect.stringMatching(new RegExp(`^  ${imageId}  ${reason} +\\S`)));
  for (const { imageId } of result.deleted)
    expect(text).toContainEqual(expect.stringMatching(new RegExp(`^  ${imageId}  `)));
  expect([...result.kept.map((k) => k.imageId), ...result.deleted.map((d) => d.imageId)].sort()).toEqual(
    [fleet.amis.old, fleet.amis.previous, fleet.amis.current].sort(),
  );

  const { Images = [] } = await clients.ec2.send(new DescribeImagesCommand({ Owners: ['self'] }));
  expect(Images.map((i) => i.ImageId).sort()).toEqual(Object.values(fleet.amis).sort());
});
