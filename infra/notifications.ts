import { RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';
import type { WorkerConfig } from './config';

export interface NotificationsProps {
  config: WorkerConfig;
}

/**
 * The topic where the control plane tells operators what needs them (a build that keeps failing, a
 * rollout rolled back, …), encrypted with a key of the stack and reachable over TLS only.
 */
export class Notifications extends Construct {
  readonly topic: sns.Topic;
  readonly key: kms.Key;

  constructor(scope: Construct, id: string, props: NotificationsProps) {
    super(scope, id);
    const { config } = props;
    // A key of the stack rather than alias/aws/sns: the AWS-managed key's policy cannot let
    // EventBridge rules or CloudWatch alarms publish to the topic.
    this.key = new kms.Key(this, 'Key', {
      description: `Notifications of ${config.stackName}`,
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.key.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'PublishFromEventsAndAlarms',
        principals: ['events.amazonaws.com', 'cloudwatch.amazonaws.com'].map(
          (s) => new iam.ServicePrincipal(s),
        ),
        actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        resources: ['*'],
        conditions: { StringEquals: { 'aws:SourceAccount': Stack.of(this).account } },
      }),
    );
    // Nothing of this stack creates grants on the key; only AWS services may, for their own resources.
    this.key.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'GrantsForAwsServicesOnly',
        effect: iam.Effect.DENY,
        principals: [new iam.AnyPrincipal()],
        actions: ['kms:CreateGrant'],
        resources: ['*'],
        conditions: {
          BoolIfExists: { 'kms:GrantIsForAWSResource': 'false', 'aws:PrincipalIsAWSService': 'false' },
        },
      }),
    );
    this.topic = new sns.Topic(this, 'Topic', {
      topicName: `${config.stackName}-notifications`,
      displayName: `external-worker ${config.stackName}`,
      masterKey: this.key,
      enforceSSL: true,
    });
    if (config.notificationEmail) {
      this.topic.addSubscription(new subscriptions.EmailSubscription(config.notificationEmail));
    }
  }
}
