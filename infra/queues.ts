import { Duration, Validations } from 'aws-cdk-lib';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { acknowledgeGuardRule } from './guard';

/**
 * A dead-letter queue for an asynchronous target (rule, schedule, async Lambda): encrypted, TLS only,
 * messages kept 14 days. The observability construct alarms when one is not empty.
 */
export function deadLetterQueue(scope: Construct, id: string): sqs.Queue {
  const queue = new sqs.Queue(scope, id, {
    encryption: sqs.QueueEncryption.SQS_MANAGED,
    enforceSSL: true,
    retentionPeriod: Duration.days(14),
  });
  Validations.of(queue).acknowledge({
    id: 'AwsSolutions-SQS3',
    reason: 'This queue is itself a dead-letter queue; its messages are inspected by hand after an alarm.',
  });
  acknowledgeGuardRule(
    queue,
    'sqs_dlq_check',
    'This queue is itself the dead-letter queue of a rule, schedule or function (not of an SQS queue): its messages wait here, alarmed on, until an operator reads them.',
  );
  return queue;
}
