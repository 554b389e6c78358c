import { Match } from 'aws-cdk-lib/assertions';
import { TAG } from '../../functions/lib/contract';
import { METRIC } from '../../functions/lib/metric-names';
import { ConfigError, parseConfig } from '../../infra/config';
import { synth } from '../support/stack';

interface Statement {
  Sid?: string;
  Action: string | string[];
  Resource: unknown;
  Condition?: Record<string, Record<string, unknown>>;
}
interface Resource {
  Type: string;
  Properties: Record<string, unknown>;
}

const { template, config } = synth({ keptInstanceTtl: '36h' });
const resources = template.toJSON().Resources as Record<string, Resource>;
const [functionId, fn] =
  Object.entries(resources).find(
    ([, r]) =>
      r.Type === 'AWS::Lambda::Function' &&
      (r.Properties.Environment as { Variables?: Record<string, string> })?.Variables
        ?.POWERTOOLS_SERVICE_NAME === 'kept-expiry',
  ) ?? [];
const roleId = (fn?.Properties.Role as { 'Fn::GetAtt'?: [string, string] } | undefined)?.['Fn::GetAtt']?.[0];
const statements = Object.values(resources)
  .filter(
    (r) =>
      r.Type === 'AWS::IAM::Policy' &&
      (r.Properties.Roles as Array<{ Ref: string }>).some((role) => role.Ref === roleId),
  )
  .flatMap((r) => (r.Properties.PolicyDocument as { Statement: Statement[] }).Statement);
const actionsOf = (s: Statement) => (Array.isArray(s.Action) ? s.Action : [s.Action]);

describe('kept instance expiry', () => {
  test('the function gets the TTL in seconds and the topic', () => {
    expect(fn?.Properties.Environment).toMatchObject({
      Variables: { KEPT_INSTANCE_TTL_SECONDS: String(36 * 3600), TOPIC_ARN: { Ref: expect.any(String) } },
    });
  });

  test('runs every 15 minutes, with retries and a dead-letter queue', () => {
    template.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(15 minutes)',
      Targets: [
        Match.objectLike({
          Arn: { 'Fn::GetAtt': [functionId, 'Arn'] },
          RetryPolicy: { MaximumRetryAttempts: 2, MaximumEventAgeInSeconds: 900 },
          DeadLetterConfig: Match.objectLike({ Arn: Match.anyValue() }),
        }),
      ],
    });
    template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      FunctionName: { Ref: functionId },
      MaximumRetryAttempts: 2,
      DestinationConfig: { OnFailure: { Destination: Match.anyValue() } },
    });
  });

  test('terminates and tags only kept instances of this stack, and only the expiry tags', () => {
    const terminate = statements.filter((s) => actionsOf(s).includes('ec2:TerminateInstances'));
    expect(terminate).toHaveLength(1);
    expect(terminate[0]?.Condition).toEqual({
      StringEquals: { 'aws:ResourceTag/external-worker:stack': config.stackName },
      Null: { [`aws:ResourceTag/${TAG.kept}`]: 'false' },
    });
    const tagging = statements.filter((s) => actionsOf(s).includes('ec2:CreateTags'));
    expect(tagging).toHaveLength(1);
    expect(tagging[0]?.Condition?.['ForAllValues:StringEquals']).toEqual({
      'aws:TagKeys': [TAG.keptSince, TAG.keptUntil, TAG.keptWarned],
    });
    const unscoped = statements.filter((s) => s.Resource === '*').flatMap(actionsOf);
    expect(unscoped.filter((a) => a.startsWith('ec2:'))).toEqual(['ec2:DescribeInstances']);
  });

  test('an alarm shows kept instances past their end, and is listed with the stack alarms', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: METRIC.keptInstancesExpired,
      Namespace: 'ExternalWorker',
      Dimensions: [
        { Name: 'Stack', Value: config.stackName },
        { Name: 'service', Value: 'external-worker' },
      ],
      Period: 900,
      EvaluationPeriods: 2,
      Threshold: 1,
      AlarmActions: [{ Ref: Match.stringLikeRegexp('^NotificationsTopic') }],
    });
    const names = JSON.stringify(template.toJSON().Outputs?.AlarmNames ?? {});
    expect(names).toContain('KeptExpiryExpired');
  });
});

describe('keptInstanceTtl', () => {
  test('24 h by default, any duration from 1 h to 30 days', () => {
    expect(parseConfig({}).keptInstanceTtl).toBe(86400);
    expect(parseConfig({ keptInstanceTtl: '1h' }).keptInstanceTtl).toBe(3600);
    expect(parseConfig({ keptInstanceTtl: '720h' }).keptInstanceTtl).toBe(2_592_000);
  });

  test.each(['30m', '721h', '1d', 'forever', '', -5])('%p is rejected, naming the key', (value) => {
    expect(() => parseConfig({ keptInstanceTtl: value })).toThrow(ConfigError);
    try {
      parseConfig({ keptInstanceTtl: value });
    } catch (error) {
      expect((error as ConfigError).problems).toEqual([
        expect.stringMatching(/^keptInstanceTtl: expected a duration from 1h to 720h \(30 days\)/),
      ]);
    }
  });
});
