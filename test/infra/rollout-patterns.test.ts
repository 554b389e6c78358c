import {
  EventBridgeClient,
  PutEventsCommand,
  PutRuleCommand,
  PutTargetsCommand,
} from '@aws-sdk/client-eventbridge';
import { type Moto, startMoto } from '../support/moto';
import { synth } from '../support/stack';

/**
 * The rules' patterns, as the template deploys them, matched by an EventBridge emulator against the
 * events that must and must not start a rollout.
 */

const ACCOUNT = '123456789012';
const STACK_ID = `arn:aws:cloudformation:eu-west-1:${ACCOUNT}:stack/external-worker-prod/0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b`;

const { stack, template } = synth();
const tokens: Array<[string, string]> = [
  ['{"Ref":"AWS::Partition"}', 'aws'],
  ['{"Ref":"AWS::AccountId"}', ACCOUNT],
  ['{"Ref":"AWS::StackId"}', STACK_ID],
];
/** A pattern with its pseudo parameters replaced, as CloudFormation would. */
function concrete(pattern: unknown): unknown {
  let text = JSON.stringify(pattern);
  for (const [token, value] of tokens) text = text.split(token).join(JSON.stringify(value));
  return JSON.parse(
    text.replace(/\{"Fn::Join":\["",\[((?:"[^"]*",?)+)\]\]\}/g, (_, parts: string) => {
      return JSON.stringify((JSON.parse(`[${parts}]`) as string[]).join(''));
    }),
  );
}
// The rules that start rollouts: the others (lifecycle, Spot, flow metrics) have tests of their own.
const ROLLOUT_RULES = ['external-worker-prod-image-state-change', 'external-worker-prod-stack-updated'];
const patterns = Object.values(template.findResources('AWS::Events::Rule'))
  .map((r) => (r as { Properties: { Name?: string; EventPattern?: unknown } }).Properties)
  .filter((rule) => ROLLOUT_RULES.includes(rule.Name ?? ''))
  .map((rule) => rule.EventPattern)
  .map(concrete);

const imageEvent = (image: string, status: string) => ({
  Source: 'aws.imagebuilder',
  DetailType: 'EC2 Image Builder Image State Change',
  Resources: [`arn:aws:imagebuilder:eu-west-1:${ACCOUNT}:image/${image}/1.0.0/3`],
  Detail: JSON.stringify({ 'previous-state': { status: 'TESTING' }, state: { status } }),
});
const stackEvent = (stackId: string, status: string) => ({
  Source: 'aws.cloudformation',
  DetailType: 'CloudFormation Stack Status Change',
  Resources: [stackId],
  Detail: JSON.stringify({ 'stack-id': stackId, 'status-details': { status, 'status-reason': '' } }),
});

let moto: Moto;
beforeAll(async () => {
  moto = await startMoto();
});
afterAll(async () => moto.stop());

const QUEUE_ARN = `arn:aws:sqs:eu-west-1:${ACCOUNT}:matched`;

/** The SQS query API of the emulator, spoken directly (no SQS client in the project). */
async function sqs(params: Record<string, string>): Promise<string> {
  const response = await fetch(moto.endpoint, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      // The emulator routes a request by the service named in its credential scope.
      authorization:
        'AWS4-HMAC-SHA256 Credential=testing/20260101/eu-west-1/sqs/aws4_request, SignedHeaders=host, Signature=0',
    },
    body: new URLSearchParams({ Version: '2012-11-05', ...params }).toString(),
  });
  return response.text();
}

async function matches(entry: Record<string, unknown>): Promise<boolean> {
  await moto.reset();
  const events = new EventBridgeClient({});
  const created = await sqs({ Action: 'CreateQueue', QueueName: 'matched' });
  const queueUrl = /<QueueUrl>([^<]+)<\/QueueUrl>/.exec(created)?.[1] as string;
  for (const [n, pattern] of patterns.entries()) {
    await events.send(new PutRuleCommand({ Name: `rule-${n}`, EventPattern: JSON.stringify(pattern) }));
    await events.send(
      new PutTargetsCommand({ Rule: `rule-${n}`, Targets: [{ Id: 'queue', Arn: QUEUE_ARN }] }),
    );
  }
  await events.send(new PutEventsCommand({ Entries: [entry] }));
  const received = await sqs({ Action: 'ReceiveMessage', QueueUrl: queueUrl, MaxNumberOfMessages: '10' });
  return received.includes('<Message>');
}

describe('what starts a rollout', () => {
  test('the patterns are those of the stack', () => {
    expect(patterns).toHaveLength(2);
    expect(stack.stackName).toBe('external-worker-prod');
  });

  test.each([
    ['an AVAILABLE image of this stack', imageEvent('external-worker-prod-worker', 'AVAILABLE'), true],
    ['a FAILED image of this stack', imageEvent('external-worker-prod-worker', 'FAILED'), true],
    ['a BUILDING image of this stack', imageEvent('external-worker-prod-worker', 'BUILDING'), false],
    ['a DEPRECATED image of this stack', imageEvent('external-worker-prod-worker', 'DEPRECATED'), false],
    ['an image of another pipeline', imageEvent('concourse-worker', 'AVAILABLE'), false],
    [
      'an image of a stack whose name extends this one',
      imageEvent('external-worker-prod-worker-2', 'AVAILABLE'),
      false,
    ],
    ['an update of this stack', stackEvent(STACK_ID, 'UPDATE_COMPLETE'), true],
    ['a rolled back update of this stack', stackEvent(STACK_ID, 'UPDATE_ROLLBACK_COMPLETE'), false],
    [
      'an update of another stack',
      stackEvent(STACK_ID.replace('external-worker-prod', 'other'), 'UPDATE_COMPLETE'),
      false,
    ],
  ])('%s', async (_what, entry, expected) => {
    expect(await matches(entry)).toBe(expected);
  });
});
