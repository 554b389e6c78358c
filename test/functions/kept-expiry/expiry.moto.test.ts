import { DescribeInstancesCommand, EC2Client, RunInstancesCommand } from '@aws-sdk/client-ec2';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import { expireKeptInstances } from '../../../functions/kept-expiry/expiry';
import { TAG } from '../../../functions/lib/contract';
import { logger } from '../../../functions/lib/observability';
import { type Moto, startMoto } from '../../support/moto';

// EC2 in moto, SNS recorded: two instances of this stack kept a day apart, one of another stack,
// one of this stack in service (not kept), driven through a day by the expiry's runs.

const STACK = 'external-worker-prod';
const HOUR = 3600_000;
const T0 = new Date('2026-03-01T10:00:00.000Z');
const at = (hours: number) => new Date(T0.getTime() + hours * HOUR);

let moto: Moto;
let ec2: EC2Client;
let sns: SNSClient;
const published = mockClient(SNSClient);

beforeAll(async () => {
  moto = await startMoto();
  ec2 = new EC2Client({});
  sns = new SNSClient({});
  logger.setLogLevel('SILENT');
});
afterAll(async () => moto.stop());
beforeEach(async () => {
  await moto.reset();
  published.reset();
  published.on(PublishCommand).resolves({ MessageId: '1' });
});

async function launch(tags: Record<string, string>): Promise<string> {
  const { Instances } = await ec2.send(
    new RunInstancesCommand({
      ImageId: 'ami-12c6146b',
      MinCount: 1,
      MaxCount: 1,
      TagSpecifications: [
        { ResourceType: 'instance', Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })) },
      ],
    }),
  );
  return Instances?.[0]?.InstanceId as string;
}

async function describe1(id: string) {
  const { Reservations } = await ec2.send(new DescribeInstancesCommand({ InstanceIds: [id] }));
  const instance = Reservations?.[0]?.Instances?.[0];
  return {
    state: instance?.State?.Name,
    tags: Object.fromEntries((instance?.Tags ?? []).map((t) => [t.Key, t.Value])),
  };
}

const run = (now: Date) =>
  expireKeptInstances(
    { ec2, sns },
    { stackName: STACK, topicArn: 'arn:aws:sns:eu-west-1:123456789012:t', ttlSeconds: 24 * 3600, now },
  );
const subjects = () => published.commandCalls(PublishCommand).map((c) => c.args[0].input.Subject);

test('kept instances are warned once, an hour before, and terminated at their end; nothing else is touched', async () => {
  const old = await launch({
    [TAG.stack]: STACK,
    [TAG.kept]: 'boot failed',
    [TAG.keptSince]: T0.toISOString(),
  });
  const recent = await launch({
    [TAG.stack]: STACK,
    [TAG.kept]: 'kept by hand',
    [TAG.keptSince]: at(12).toISOString(),
  });
  const otherStack = await launch({
    [TAG.stack]: 'other',
    [TAG.kept]: 'x',
    [TAG.keptSince]: T0.toISOString(),
  });
  const inService = await launch({ [TAG.stack]: STACK });

  // Every 15 minutes from the first to the 38th hour.
  for (let quarter = 4; quarter <= 38 * 4; quarter++) await run(at(quarter / 4));

  expect(subjects()).toEqual([
    `${STACK}: kept worker ${old} ends in an hour`,
    `${STACK}: kept worker ${old} terminated`,
    `${STACK}: kept worker ${recent} ends in an hour`,
    `${STACK}: kept worker ${recent} terminated`,
  ]);
  expect((await describe1(old)).state).toBe('terminated');
  expect((await describe1(recent)).state).toBe('terminated');
  expect((await describe1(otherStack)).state).toBe('running');
  expect((await describe1(inService)).state).toBe('running');
  expect((await describe1(otherStack)).tags[TAG.keptUntil]).toBeUndefined();
});

test('the warning comes at least an hour before the end, and the run right after ends nothing', async () => {
  const id = await launch({
    [TAG.stack]: STACK,
    [TAG.kept]: 'boot failed',
    [TAG.keptSince]: T0.toISOString(),
  });
  expect((await run(at(1))).instances[0]).toMatchObject({ action: 'waiting', until: at(24).toISOString() });
  expect((await describe1(id)).tags[TAG.keptUntil]).toBe(at(24).toISOString());
  expect((await run(at(23.25))).instances[0]).toMatchObject({
    action: 'warned',
    until: at(24.25).toISOString(),
  });
  // The same run again (a retry): no second warning.
  expect((await run(at(23.25))).instances[0]).toMatchObject({ action: 'waiting' });
  expect((await run(at(24.2))).instances[0]).toMatchObject({ action: 'waiting' });
  expect(subjects()).toHaveLength(1);
  const ended = await run(at(24.25));
  expect(ended).toMatchObject({ instances: [{ action: 'terminated' }], expired: 0 });
  expect((await run(at(24.5))).instances).toEqual([]);
});
