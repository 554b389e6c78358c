import { EC2Client, RunInstancesCommand } from '@aws-sdk/client-ec2';
import type { Context } from 'aws-lambda';
import { TAG } from '../../../functions/lib/contract';
import { type Moto, startMoto } from '../../support/moto';
import { output } from '../../support/output';

// EC2 in moto: two kept instances of the stack, both within their stay, and one of another stack.

const STACK = 'ew-kept-handler';
let moto: Moto;
let handler: (event: unknown, context: Context) => Promise<unknown>;

async function launch(tags: Record<string, string>): Promise<void> {
  await new EC2Client({}).send(
    new RunInstancesCommand({
      ImageId: 'ami-12c6146b',
      MinCount: 1,
      MaxCount: 1,
      TagSpecifications: [
        { ResourceType: 'instance', Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })) },
      ],
    }),
  );
}

beforeAll(async () => {
  moto = await startMoto();
  Object.assign(process.env, {
    STACK_NAME: STACK,
    TOPIC_ARN: 'arn:aws:sns:eu-west-1:123456789012:ew-kept-handler-notifications',
    KEPT_INSTANCE_TTL_SECONDS: String(24 * 3600),
  });
  handler = (await import('../../../functions/kept-expiry/handler')).handler as typeof handler;
});
afterAll(async () => moto.stop());

test("one record a run with the count of kept instances (the dashboard's), the alarm's metric beside it", async () => {
  const since = new Date().toISOString();
  await launch({ [TAG.stack]: STACK, [TAG.kept]: 'boot failed', [TAG.keptSince]: since });
  await launch({ [TAG.stack]: STACK, [TAG.kept]: 'keeprunning', [TAG.keptSince]: since });
  await launch({ [TAG.stack]: 'another-stack', [TAG.kept]: 'boot failed', [TAG.keptSince]: since });

  await handler({ source: 'schedule' }, { functionName: 'kept-expiry', awsRequestId: 'r-1' } as Context);

  expect(output).toHaveLogged({ message: 'kept instance expiry done', kept: 2, expired: 0 });
  expect(output.metrics()).toEqual({ KeptInstancesExpired: [0] });
});
