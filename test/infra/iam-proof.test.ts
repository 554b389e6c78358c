import { parseConfig } from '../../infra/config';
import { describeDenials, evaluateCall, evaluateRequest } from '../support/iam/evaluate';
import { impliedRequests } from '../support/iam/implied';
import { principal, principals } from '../support/iam/principals';
import { type AwsCall, iamRequests } from '../support/iam/requests';
import { type Environment, LOCAL } from '../support/iam/resolve';
import { synthesizedTemplate } from '../support/iam/template';
import { ecrPulls, workerAwsCalls } from '../support/iam/worker';
import { featureFlags } from '../support/stack';

/** The playbook asset's object key, as the user data names it (`<sha256>.zip`). */
function playbookKey(template: unknown): string {
  const key = /\/([0-9a-f]{64}\.zip)/.exec(JSON.stringify(template))?.[1];
  if (!key) throw new Error('the template names no playbook asset object');
  return key;
}

const PARTITIONS: Array<[string, Environment]> = [
  ['aws', LOCAL],
  ['aws-cn', { account: '123456789012', region: 'cn-north-1', partition: 'aws-cn' }],
  ['aws-us-gov', { account: '123456789012', region: 'us-gov-west-1', partition: 'aws-us-gov' }],
];

describe.each(PARTITIONS)('the worker instance role, in %s', (_, env) => {
  const context = env.region === LOCAL.region ? {} : { region: env.region };
  const template = synthesizedTemplate(context);
  const config = parseConfig({ ...featureFlags, ...context });
  const worker = principal(principals(template, env), 'worker-instance');
  const bucket = `cdk-hnb659fds-assets-${env.account}-${env.region}`;

  test('allows every call the worker makes at boot, while serving and at retire', async () => {
    const verdicts = [];
    const calls = workerAwsCalls(config, env, bucket, playbookKey(template));
    for (const call of calls) {
      verdicts.push(...(await evaluateCall(worker, call, env, impliedRequests(template, new Map()))));
    }
    expect(describeDenials(verdicts)).toEqual([]);
    // Every call of the list the role is derived from was evaluated, each on its own resource.
    const evaluated = new Set(verdicts.map((v) => v.request?.action));
    expect([...evaluated].sort()).toEqual([...new Set(calls.map((c) => `${c.service}:${c.action}`))].sort());
  });

  test('builds cannot pull from ECR through the role unless buildsUseInstanceRole says so', async () => {
    for (const call of ecrPulls(env)) {
      const [verdict] = await evaluateCall(worker, call, env, () => []);
      expect([call.action, verdict?.result]).toEqual([call.action, 'ImplicitlyDenied']);
    }
  });

  test('reads no other parameter, and cannot touch the control plane', async () => {
    const denied = [
      { service: 'ec2', action: 'TerminateInstances', parameters: { InstanceIds: ['i-0123456789abcdef0'] } },
      {
        service: 'autoscaling',
        action: 'CompleteLifecycleAction',
        parameters: { AutoScalingGroupName: `${config.stackName}-workers` },
      },
      {
        service: 'sns',
        action: 'Publish',
        parameters: { TopicArn: `arn:${env.partition}:sns:${env.region}:${env.account}:x` },
      },
    ];
    for (const call of denied) {
      const [verdict] = await evaluateCall(
        worker,
        { ...call, principal: 'worker-instance', flow: 'probe' },
        env,
        () => [],
      );
      expect([call.action, verdict?.result]).toEqual([call.action, 'ImplicitlyDenied']);
    }
  });
});

describe('the evaluation is as strict as AWS', () => {
  const template = synthesizedTemplate();
  const all = principals(template, LOCAL);
  const retention = principal(all, 'function:ami-retention');
  const call = (
    service: string,
    action: string,
    parameters: Record<string, unknown>,
    tags = {},
  ): AwsCall => ({
    principal: 'function:ami-retention',
    service,
    action,
    parameters,
    resourceTags: tags,
    flow: 'probe',
  });

  test('snapshot ARNs carry no account: a grant written with one allows nothing', async () => {
    const [request] = await iamRequests(
      call(
        'ec2',
        'DeleteSnapshot',
        { SnapshotId: 'snap-0123456789abcdef0' },
        { 'snap-0123456789abcdef0': { 'external-worker:stack': 'external-worker-prod' } },
      ),
      LOCAL,
    );
    expect(request?.resource).toBe('arn:aws:ec2:eu-west-1::snapshot/snap-0123456789abcdef0');
    expect(await evaluateRequest(retention, request as never, LOCAL)).toBe('Allowed');
    const withAccount = {
      ...retention,
      policies: [
        {
          name: 'with-account',
          document: {
            Version: '2012-10-17',
            Statement: [
              {
                Effect: 'Allow' as const,
                Action: 'ec2:DeleteSnapshot',
                Resource: 'arn:aws:ec2:eu-west-1:123456789012:snapshot/*',
              },
            ],
          },
        },
      ],
    };
    expect(await evaluateRequest(withAccount, request as never, LOCAL)).toBe('ImplicitlyDenied');
  });

  test("tag conditions hold on the resource's real tags only", async () => {
    const image = { ImageId: 'ami-0123456789abcdef0' };
    const own = call('ec2', 'DeregisterImage', image, {
      'ami-0123456789abcdef0': { 'external-worker:stack': 'external-worker-prod' },
    });
    const other = call('ec2', 'DeregisterImage', image, {
      'ami-0123456789abcdef0': { 'external-worker:stack': 'someone-else' },
    });
    const untagged = call('ec2', 'DeregisterImage', image);
    const results = async (c: AwsCall) =>
      (await evaluateCall(retention, c, LOCAL, () => [])).map((v) => v.result);
    expect(await results(own)).toEqual(['Allowed']);
    expect(await results(other)).toEqual(['ImplicitlyDenied']);
    expect(await results(untagged)).toEqual(['ImplicitlyDenied']);
  });

  test('a call whose resource ARN cannot be formed fails, it is never allowed', async () => {
    const verdicts = await evaluateCall(retention, call('ec2', 'DeleteSnapshot', {}), LOCAL, () => []);
    expect(verdicts).toHaveLength(1);
    expect(verdicts[0]?.result).toMatch(/cannot form the snapshot ARN/);
    expect(describeDenials(verdicts)).toHaveLength(1);
  });

  test('publishing to the encrypted topic needs its key too', async () => {
    const topicArn = 'arn:aws:sns:eu-west-1:123456789012:external-worker-prod-notifications';
    const publish: AwsCall = {
      principal: 'x',
      service: 'sns',
      action: 'Publish',
      parameters: { TopicArn: topicArn },
      flow: 'probe',
    };
    const implied = impliedRequests(template, new Map())(publish, LOCAL).map((r) => r.action);
    expect(implied.sort()).toEqual(['kms:Decrypt', 'kms:GenerateDataKey']);
  });
});
