import type { Template } from 'aws-cdk-lib/assertions';
import { ECR_PULL_ACTIONS, type WorkerWorld, workerCalls } from '../../infra/worker-calls';
import { synth } from '../support/stack';

type Json = Record<string, unknown>;
interface Statement {
  Sid?: string;
  Effect: string;
  Action: string | string[];
  Resource: unknown;
  Condition?: unknown;
}

const ACCOUNT = '123456789012';

/** Resolves the few intrinsics the role's ARNs use, for one account. */
function resolve(value: unknown): string {
  if (typeof value === 'string') return value;
  const v = value as Json;
  if (v.Ref === 'AWS::AccountId') return ACCOUNT;
  if (v.Ref === 'AWS::Partition') return 'aws';
  if (v.Ref === 'AWS::Region') return 'eu-west-1';
  if ('Fn::Sub' in v) return String(v['Fn::Sub']).replaceAll('${AWS::AccountId}', ACCOUNT);
  if ('Fn::Join' in v) {
    const [separator, parts] = v['Fn::Join'] as [string, unknown[]];
    return parts.map(resolve).join(separator);
  }
  throw new Error(`cannot resolve ${JSON.stringify(value)}`);
}

function instanceRole(template: Template): { managed: unknown; statements: Statement[] } {
  const roles = Object.values(
    template.findResources('AWS::IAM::Role', {
      Properties: { Description: 'Concourse workers of external-worker-prod' },
    }),
  ) as { Properties: Json }[];
  expect(roles).toHaveLength(1);
  const role = roles[0]?.Properties as Json;
  const policies = role.Policies as { PolicyDocument: { Statement: Statement[] } }[];
  const roleId = Object.keys(
    template.findResources('AWS::IAM::Role', { Properties: { Description: role.Description } }),
  )[0];
  // Nothing attached from outside the role: every permission is in the role's own policy.
  const attached = Object.values(template.findResources('AWS::IAM::Policy')).filter((p) =>
    JSON.stringify((p as { Properties: Json }).Properties.Roles ?? []).includes(`"${roleId}"`),
  );
  expect(attached).toEqual([]);
  return { managed: role.ManagedPolicyArns, statements: policies.flatMap((p) => p.PolicyDocument.Statement) };
}

/** IAM's wildcard match: `*` any run of characters, `?` one. */
const matches = (pattern: string, value: string) =>
  new RegExp(
    `^${pattern
      .split('')
      .map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[.+^${}()|[\]\\]/g, '\\$&')))
      .join('')}$`,
  ).test(value);

function allowed(statements: Statement[], action: string, resource: string): boolean {
  return statements.some(
    (s) =>
      s.Effect === 'Allow' &&
      s.Condition === undefined &&
      [s.Action].flat().some((a) => matches(a, action)) &&
      [s.Resource].flat().some((r) => matches(resolve(r), resource)),
  );
}

const defaults = synth();
const optedIn = synth({ buildsUseInstanceRole: true });
const { managed, statements } = instanceRole(defaults.template);

const playbookObject = (() => {
  const s = statements.find((st) => st.Sid === 'ReadPlaybook');
  return resolve(s?.Resource);
})();
const world: WorkerWorld = {
  partition: 'aws',
  region: 'eu-west-1',
  account: ACCOUNT,
  instanceId: 'i-0123456789abcdef0',
  logGroupName: '/external-worker/prod/workers',
  workerKeyParameter: '/external-worker/prod/worker-key',
  playbookBucket: playbookObject.replace(/^arn:aws:s3:::/, '').split('/')[0] ?? '',
  playbookKey: playbookObject.split('/').slice(1).join('/'),
};

describe('instance role', () => {
  test('no managed policy: AmazonSSMManagedInstanceCore reads every parameter of the account', () => {
    expect(managed).toBeUndefined();
  });

  test('allows every call the worker makes (infra/worker-calls.ts)', () => {
    const denied = workerCalls(world).filter((call) => !allowed(statements, call.action, call.resource));
    expect(denied).toEqual([]);
  });

  test('grants exactly the actions of those calls', () => {
    const granted = [...new Set(statements.flatMap((s) => [s.Action].flat()))].sort();
    expect(granted).toEqual([...new Set(workerCalls(world).map((c) => c.action))].sort());
    expect(granted.filter((a) => a.includes('*'))).toEqual([]);
  });

  test.each([
    [
      'another parameter of the stack',
      'ssm:GetParameter',
      `arn:aws:ssm:eu-west-1:${ACCOUNT}:parameter/external-worker/prod/version-state`,
    ],
    [
      'a parameter of the account',
      'ssm:GetParameter',
      `arn:aws:ssm:eu-west-1:${ACCOUNT}:parameter/db/password`,
    ],
    [
      'a key with a longer name',
      'ssm:GetParameter',
      `arn:aws:ssm:eu-west-1:${ACCOUNT}:parameter/external-worker/prod/worker-key2`,
    ],
    [
      'parameters by path',
      'ssm:GetParametersByPath',
      `arn:aws:ssm:eu-west-1:${ACCOUNT}:parameter/external-worker`,
    ],
    [
      'several parameters',
      'ssm:GetParameters',
      `arn:aws:ssm:eu-west-1:${ACCOUNT}:parameter/external-worker/prod/worker-key`,
    ],
    ['another CDK asset', 's3:GetObject', `arn:aws:s3:::${world.playbookBucket}/other.zip`],
    ['the asset bucket listing', 's3:ListBucket', `arn:aws:s3:::${world.playbookBucket}`],
    [
      'another log group',
      'logs:PutLogEvents',
      `arn:aws:logs:eu-west-1:${ACCOUNT}:log-group:/aws/lambda/x:log-stream:s`,
    ],
    [
      'a group of a longer name',
      'logs:PutLogEvents',
      `arn:aws:logs:eu-west-1:${ACCOUNT}:log-group:/external-worker/prod/workers2:log-stream:s`,
    ],
    [
      'log data',
      'logs:GetLogEvents',
      `arn:aws:logs:eu-west-1:${ACCOUNT}:log-group:/external-worker/prod/workers:log-stream:s`,
    ],
    ['ECR pull', 'ecr:BatchGetImage', `arn:aws:ecr:eu-west-1:${ACCOUNT}:repository/app`],
    ['ECR login', 'ecr:GetAuthorizationToken', '*'],
    ['Run Command itself', 'ssm:SendCommand', '*'],
    ['a document', 'ssm:GetDocument', `arn:aws:ssm:eu-west-1:${ACCOUNT}:document/AWS-RunShellScript`],
  ])('denies %s (%s)', (_what, action, resource) => {
    expect(allowed(statements, action, resource)).toBe(false);
  });

  test('with buildsUseInstanceRole, and only then, builds can pull from the account’s ECR', () => {
    const opted = instanceRole(optedIn.template).statements;
    for (const action of ECR_PULL_ACTIONS) {
      const resource =
        action === 'ecr:GetAuthorizationToken' ? '*' : `arn:aws:ecr:eu-west-1:${ACCOUNT}:repository/app`;
      expect(allowed(opted, action, resource)).toBe(true);
      expect(allowed(statements, action, resource)).toBe(false);
    }
  });

  test('a custom worker key parameter is the one readable', () => {
    const custom = instanceRole(synth({ workerKeyParameter: '/ci/secret/key' }).template).statements;
    expect(
      allowed(custom, 'ssm:GetParameter', `arn:aws:ssm:eu-west-1:${ACCOUNT}:parameter/ci/secret/key`),
    ).toBe(true);
    expect(
      allowed(
        custom,
        'ssm:GetParameter',
        `arn:aws:ssm:eu-west-1:${ACCOUNT}:parameter${world.workerKeyParameter}`,
      ),
    ).toBe(false);
  });
});
