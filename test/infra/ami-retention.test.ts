import { Match } from 'aws-cdk-lib/assertions';
import { synth } from '../support/stack';

type Statement = { Sid?: string; Action: string | string[]; Resource: unknown; Condition?: unknown };

const { template, stack } = synth();
const functionId = stack.getLogicalId(stack.retention.function.node.defaultChild as never);
const resolved = (value: unknown) => JSON.stringify(stack.resolve(value));
const launchTemplateId = stack.getLogicalId(stack.fleet.launchTemplate);

function roleStatements(): Statement[] {
  const roleId = stack.getLogicalId(stack.retention.function.role?.node.defaultChild as never);
  const policies = template.findResources('AWS::IAM::Policy', { Properties: { Roles: [{ Ref: roleId }] } });
  return Object.values(policies).flatMap(
    (p) =>
      (p as { Properties: { PolicyDocument: { Statement: Statement[] } } }).Properties.PolicyDocument
        .Statement,
  );
}

describe('AMI retention wiring', () => {
  test('runs daily, retries, and keeps what it could not deliver', () => {
    const rules = Object.values(template.findResources('AWS::Events::Rule')) as Array<{
      Properties: { ScheduleExpression?: string; Targets: Array<Record<string, unknown>> };
    }>;
    const daily = rules.find((r) => r.Properties.ScheduleExpression);
    expect(daily?.Properties.ScheduleExpression).toBe('cron(17 3 * * ? *)');
    expect(daily?.Properties.Targets[0]).toMatchObject({
      Arn: { 'Fn::GetAtt': [functionId, 'Arn'] },
      DeadLetterConfig: { Arn: { 'Fn::GetAtt': [expect.stringMatching(/^AmiRetentionDeadLetters/), 'Arn'] } },
      RetryPolicy: { MaximumRetryAttempts: 8, MaximumEventAgeInSeconds: 21600 },
    });
    template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      MaximumRetryAttempts: 2,
      DestinationConfig: {
        OnFailure: {
          Destination: { 'Fn::GetAtt': [Match.stringLikeRegexp('^AmiRetentionDeadLetters'), 'Arn'] },
        },
      },
    });
  });

  test('knows how many AMIs to keep and where the current one is recorded', () => {
    const fn = template.findResources('AWS::Lambda::Function')[functionId] as {
      Properties: { Timeout: number; Environment: { Variables: Record<string, unknown> } };
    };
    expect(fn.Properties.Timeout).toBe(900);
    expect(fn.Properties.Environment.Variables).toMatchObject({
      AMI_RETENTION: '3',
      EC2_REQUEST_SHARE: '0.8',
      CURRENT_AMI_PARAMETER: '/external-worker/prod/current-ami',
      STACK_NAME: 'external-worker-prod',
      GROUP_NAME: 'external-worker-prod-workers',
    });
    expect(fn.Properties.Environment.Variables.LAUNCH_TEMPLATE_ID).toEqual({ Ref: launchTemplateId });
    expect(fn.Properties.Environment.Variables.PINNED_AMI_ID).toBeUndefined();
  });

  test('deletes only AMIs tagged with this stack and Image Builder images of this stack', () => {
    const roleId = stack.getLogicalId(stack.retention.function.role?.node.defaultChild as never);
    const policies = template.findResources('AWS::IAM::Policy', { Properties: { Roles: [{ Ref: roleId }] } });
    const statements = Object.values(policies).flatMap(
      (p) =>
        (p as { Properties: { PolicyDocument: { Statement: Statement[] } } }).Properties.PolicyDocument
          .Statement,
    );
    const bySid = (sid: string) => statements.find((s) => s.Sid === sid) as Statement;
    expect(bySid('DeregisterOwnAmis').Condition).toEqual({
      StringEquals: { 'ec2:ResourceTag/external-worker:stack': 'external-worker-prod' },
    });
    // Snapshot ARNs carry no account (https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonec2.html).
    expect(resolved(bySid('DeleteOwnSnapshots').Resource)).toContain(':ec2:eu-west-1::snapshot/*');
    expect(bySid('DeleteOwnSnapshots').Condition).toEqual({
      StringEquals: { 'ec2:ResourceTag/external-worker:stack': 'external-worker-prod' },
    });
    // The only tag it may put on a snapshot is the stack's own.
    expect(bySid('TagSnapshotsOfAmisToDeregister').Action).toBe('ec2:CreateTags');
    expect(bySid('TagSnapshotsOfAmisToDeregister').Condition).toEqual({
      StringEquals: { 'aws:RequestTag/external-worker:stack': 'external-worker-prod' },
      'ForAllValues:StringEquals': { 'aws:TagKeys': ['external-worker:stack'] },
    });
    expect(resolved(bySid('DeleteOwnImageBuilderImages').Resource)).toContain(':imagebuilder:eu-west-1:');
    expect(resolved(bySid('DeleteOwnImageBuilderImages').Resource)).toContain(
      ':image/external-worker-prod-worker/*',
    );
    const mutating = statements.flatMap((s) => [s.Action].flat()).filter((a) => /Deregister|Delete/.test(a));
    expect(mutating.sort()).toEqual([
      'ec2:DeleteLaunchTemplateVersions',
      'ec2:DeleteSnapshot',
      'ec2:DeregisterImage',
      'imagebuilder:DeleteImage',
    ]);
  });

  test("deletes versions of the fleet's launch template only; reads the group", () => {
    const statements = roleStatements();
    const deletes = statements.find((s) => s.Sid === 'DeleteFleetLaunchTemplateVersions') as Statement;
    expect(deletes.Action).toBe('ec2:DeleteLaunchTemplateVersions');
    expect(stack.resolve(deletes.Resource)).toEqual({
      'Fn::Join': [
        '',
        ['arn:aws:ec2:eu-west-1:', { Ref: 'AWS::AccountId' }, ':launch-template/', { Ref: launchTemplateId }],
      ],
    });
    const unscoped = statements.filter((s) => s.Resource === '*').flatMap((s) => [s.Action].flat());
    expect(unscoped).toEqual(
      expect.arrayContaining(['autoscaling:DescribeAutoScalingGroups', 'ec2:DescribeLaunchTemplateVersions']),
    );
    expect(unscoped).not.toContain('ec2:DescribeLaunchTemplates');
  });

  test('the number of AMIs to keep comes from amiRetention', () => {
    const { template: t } = synth({ amiRetention: 5 });
    t.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ AMI_RETENTION: '5' }) },
    });
  });
});
