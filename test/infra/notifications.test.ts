import { Match } from 'aws-cdk-lib/assertions';
import { synth } from '../support/stack';

describe('notifications topic', () => {
  test('encrypted with a key of the stack that alarms and EventBridge may use, TLS only', () => {
    const { template } = synth();
    template.hasResourceProperties('AWS::SNS::Topic', {
      KmsMasterKeyId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^NotificationsKey'), 'Arn'] },
    });
    template.hasResourceProperties('AWS::KMS::Key', {
      EnableKeyRotation: true,
      KeyPolicy: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Principal: { Service: ['cloudwatch.amazonaws.com', 'events.amazonaws.com'] },
            Action: ['kms:Decrypt', 'kms:GenerateDataKey*'],
          }),
        ]),
      },
    });
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      },
    });
  });

  test('an e-mail subscription only when notificationEmail is set', () => {
    synth().template.resourceCountIs('AWS::SNS::Subscription', 0);
    synth({ notificationEmail: 'ops@example.com' }).template.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: 'ops@example.com',
    });
  });

  test('the topic ARN is an output', () => {
    expect(Object.keys(synth().template.toJSON().Outputs)).toContain('NotificationTopicArn');
  });
});
