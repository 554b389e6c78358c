import { Match } from 'aws-cdk-lib/assertions';
import { synth } from '../support/stack';

const { template } = synth();
interface Resource {
  Type: string;
  Properties: {
    Environment?: { Variables: Record<string, unknown> };
    Role?: { 'Fn::GetAtt': [string, string] };
    Roles?: unknown;
    PolicyDocument?: { Statement: Array<Record<string, unknown>> };
    AssumeRolePolicyDocument?: { Statement: unknown[] };
    SqsManagedSseEnabled?: boolean;
    EnableKeyRotation?: boolean;
  };
}
const resources = template.toJSON().Resources as Record<string, Resource>;
const idOf = (type: string, prefix: string) => {
  const ids = Object.keys(resources).filter((id) => resources[id]?.Type === type && id.startsWith(prefix));
  expect(ids).toHaveLength(1);
  return ids[0] as string;
};
const statementsOf = (roleId: string) =>
  Object.values(resources)
    .filter((r) => r.Type === 'AWS::IAM::Policy' && JSON.stringify(r.Properties.Roles).includes(roleId))
    .flatMap((r) => r.Properties.PolicyDocument?.Statement ?? []);
const ssmArn = (name: string) => ({
  'Fn::Join': ['', ['arn:aws:ssm:eu-west-1:', { Ref: 'AWS::AccountId' }, `:parameter${name}`]],
});

const functionId = idOf('AWS::Lambda::Function', 'VersionCheckFunction');
const pipelineArn = { 'Fn::GetAtt': [idOf('AWS::ImageBuilder::ImagePipeline', 'ImagePipeline'), 'Arn'] };
const topic = { Ref: idOf('AWS::SNS::Topic', 'NotificationsTopic') };

describe('the version-check schedule', () => {
  test('invokes the function every versionCheckInterval, with retries and a dead-letter queue', () => {
    const queueId = idOf('AWS::SQS::Queue', 'VersionCheckScheduleDeadLetters');
    const roleId = idOf('AWS::IAM::Role', 'VersionCheckScheduleRole');
    template.hasResourceProperties('AWS::Scheduler::Schedule', {
      ScheduleExpression: 'rate(5 minutes)',
      State: 'ENABLED',
      Target: {
        Arn: { 'Fn::GetAtt': [functionId, 'Arn'] },
        RoleArn: { 'Fn::GetAtt': [roleId, 'Arn'] },
        DeadLetterConfig: { Arn: { 'Fn::GetAtt': [queueId, 'Arn'] } },
        RetryPolicy: { MaximumRetryAttempts: 3, MaximumEventAgeInSeconds: 300 },
      },
    });
    synth({ versionCheckInterval: '15m' }).template.hasResourceProperties('AWS::Scheduler::Schedule', {
      ScheduleExpression: 'rate(15 minutes)',
    });
  });

  test('its dead-letter queue is encrypted and refuses plain HTTP', () => {
    const queueId = idOf('AWS::SQS::Queue', 'VersionCheckScheduleDeadLetters');
    expect(resources[queueId]?.Properties.SqsManagedSseEnabled).toBe(true);
    template.hasResourceProperties('AWS::SQS::QueuePolicy', {
      Queues: [{ Ref: queueId }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      },
    });
  });

  test('its role may invoke this function and write to its dead-letter queue, nothing else', () => {
    const roleId = idOf('AWS::IAM::Role', 'VersionCheckScheduleRole');
    const queueId = idOf('AWS::SQS::Queue', 'VersionCheckScheduleDeadLetters');
    expect(resources[roleId]?.Properties.AssumeRolePolicyDocument?.Statement[0]).toMatchObject({
      Principal: { Service: 'scheduler.amazonaws.com' },
      Condition: { StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } },
    });
    const statements = statementsOf(roleId);
    expect(statements).toEqual([
      expect.objectContaining({
        Action: 'lambda:InvokeFunction',
        Resource: [
          { 'Fn::GetAtt': [functionId, 'Arn'] },
          { 'Fn::Join': ['', [{ 'Fn::GetAtt': [functionId, 'Arn'] }, ':*']] },
        ],
      }),
      expect.objectContaining({ Action: 'sqs:SendMessage', Resource: { 'Fn::GetAtt': [queueId, 'Arn'] } }),
    ]);
  });
});

describe('the version-check function', () => {
  test('is configured from the stack', () => {
    expect(resources[functionId]?.Properties.Environment?.Variables).toMatchObject({
      SCHEDULER_API_ADDRESS: 'https://scheduler.cycloid.io',
      STATE_PARAMETER: '/external-worker/prod/version-state',
      BUILD_VERSION_PARAMETER: '/external-worker/prod/build-version',
      IMAGE_PIPELINE_ARN: pipelineArn,
      TOPIC_ARN: topic,
    });
    expect(resources[functionId]?.Properties.Environment?.Variables.WORKER_VERSION).toBeUndefined();
  });

  test('may act on this stack pipeline, parameters and topic only', () => {
    const roleId = resources[functionId]?.Properties.Role?.['Fn::GetAtt'][0] ?? '?';
    const statements = statementsOf(roleId);
    const byAction = (action: string) =>
      statements.filter((s) => ([] as unknown[]).concat(s.Action).includes(action)).map((s) => s.Resource);
    expect(byAction('ssm:PutParameter')).toEqual([
      [ssmArn('/external-worker/prod/build-version'), ssmArn('/external-worker/prod/version-state')],
    ]);
    // It reads the AMI the rollout recorded, to tell whether the fleet runs the version it should.
    expect(byAction('ssm:GetParameter')).toEqual([
      ...byAction('ssm:PutParameter'),
      ssmArn('/external-worker/prod/current-ami'),
    ]);
    expect(byAction('imagebuilder:StartImagePipelineExecution')).toEqual([pipelineArn]);
    expect(byAction('imagebuilder:ListImagePipelineImages')).toEqual([pipelineArn]);
    expect(byAction('imagebuilder:GetImage')).toEqual([
      {
        'Fn::Join': [
          '',
          [
            'arn:aws:imagebuilder:eu-west-1:',
            { Ref: 'AWS::AccountId' },
            ':image/external-worker-prod-worker/*',
          ],
        ],
      },
    ]);
    expect(byAction('sns:Publish')).toEqual([topic]);
    // Only what has no resource-level permissions is granted on every resource: X-Ray, and the read
    // of the fleet AMI's tags.
    expect(statements.filter((s) => s.Resource === '*').map((s) => s.Action)).toEqual([
      ['ec2:DescribeImages', 'xray:PutTelemetryRecords', 'xray:PutTraceSegments'],
    ]);
  });
});

describe('the notifications topic', () => {
  test('is encrypted with a rotated key of the stack and refuses plain HTTP', () => {
    const keyId = idOf('AWS::KMS::Key', 'NotificationsKey');
    expect(resources[keyId]?.Properties.EnableKeyRotation).toBe(true);
    template.hasResourceProperties('AWS::SNS::Topic', {
      TopicName: 'external-worker-prod-notifications',
      KmsMasterKeyId: { 'Fn::GetAtt': [keyId, 'Arn'] },
    });
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      Topics: [topic],
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      },
    });
    template.resourceCountIs('AWS::SNS::Subscription', 0);
  });

  test('sends e-mail when notificationEmail is set', () => {
    synth({ notificationEmail: 'ops@example.com' }).template.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: 'ops@example.com',
      TopicArn: topic,
    });
  });
});
