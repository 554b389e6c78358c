import { RemovalPolicy } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';

export interface NotificationsProps {
  stackName: string;
  email?: string;
}

/**
 * Where everything that needs an operator lands: failed builds, rollouts and rollbacks, kept
 * instances, alarms. Encrypted with a key of the stack (CloudWatch alarms and EventBridge cannot
 * publish to a topic under the AWS managed key), reachable over TLS only.
 */
export class Notifications extends Construct {
  readonly topic: sns.Topic;
  readonly key: kms.Key;

  constructor(scope: Construct, id: string, props: NotificationsProps) {
    super(scope, id);
    this.key = new kms.Key(this, 'Key', {
      description: `Notifications of ${props.stackName}`,
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    for (const service of ['cloudwatch.amazonaws.com', 'events.amazonaws.com']) {
      this.key.addToResourcePolicy(
        new iam.PolicyStatement({
          actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
          principals: [new iam.ServicePrincipal(service)],
          resources: ['*'],
        }),
      );
    }
    this.topic = new sns.Topic(this, 'Topic', {
      displayName: `external-worker ${props.stackName}`,
      masterKey: this.key,
      enforceSSL: true,
    });
    if (props.email) this.topic.addSubscription(new subscriptions.EmailSubscription(props.email));
  }

  /** Lets `grantee` publish: the topic, and the key that encrypts it. */
  grantPublish(grantee: iam.IGrantable): void {
    this.topic.grantPublish(grantee);
    this.key.grant(grantee, 'kms:Decrypt', 'kms:GenerateDataKey*');
  }
}
