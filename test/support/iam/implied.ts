import type { AwsCall, IamRequest } from './requests';
import { type Environment, resolveExpression } from './resolve';
import type { CfnTemplate, Json } from './template';

type Parameters = Record<string, unknown>;

function resourcesOfType(template: CfnTemplate, type: string) {
  return Object.entries(template.Resources).filter(([, resource]) => resource.Type === type);
}

/** The launch template a group update or an instance refresh points the group at, if any. */
function launchTemplateOf(p: Parameters): string | undefined {
  const spec = (value: unknown) => (value as { LaunchTemplateId?: string } | undefined)?.LaunchTemplateId;
  const mixed = (value: unknown) =>
    spec(
      (value as { LaunchTemplate?: { LaunchTemplateSpecification?: unknown } } | undefined)?.LaunchTemplate
        ?.LaunchTemplateSpecification,
    );
  const desired = p.DesiredConfiguration as Parameters | undefined;
  return (
    spec(p.LaunchTemplate) ??
    mixed(p.MixedInstancesPolicy) ??
    spec(desired?.LaunchTemplate) ??
    mixed(desired?.MixedInstancesPolicy)
  );
}

/**
 * What AWS authorizes against the caller inside a call, as each service documents it, from the
 * synthesized template (the topic's key, the launch template's role and tags).
 */
export function impliedRequests(template: CfnTemplate, bindings: Map<string, string>) {
  return (call: AwsCall, env: Environment): IamRequest[] => {
    const resolve = (value: Json) => resolveExpression(value, template, env, bindings);
    const p = call.parameters;
    const requests: IamRequest[] = [];
    const { partition, region, account } = env;

    // Publishing to an encrypted topic: the publisher needs kms:GenerateDataKey* and kms:Decrypt on
    // the topic's key. https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html#sns-what-permissions-for-sse
    if (call.service === 'sns' && /^publish$/i.test(call.action)) {
      for (const [topicId, topic] of resourcesOfType(template, 'AWS::SNS::Topic')) {
        const props = topic.Properties ?? {};
        // The topic's ARN as the run knows it (bound), or as the template names it.
        if (resolve({ Ref: topicId }) === p.TopicArn && props.KmsMasterKeyId) {
          const key = String(resolve(props.KmsMasterKeyId));
          // KMS evaluates the key policy as well: identity policies count only where it lets them.
          // https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-default.html
          const keyId = (props.KmsMasterKeyId as { 'Fn::GetAtt'?: [string, string] })['Fn::GetAtt']?.[0];
          const keyPolicy = keyId ? resolve(template.Resources[keyId]?.Properties?.KeyPolicy ?? null) : null;
          for (const action of ['kms:GenerateDataKey', 'kms:Decrypt']) {
            requests.push({
              action,
              resource: key,
              context: {},
              ...(keyPolicy ? { resourcePolicy: keyPolicy } : {}),
            });
          }
        }
      }
    }

    // Sending to a queue encrypted with a KMS key: the producer needs kms:GenerateDataKey and
    // kms:Decrypt on it. A queue with SQS-managed encryption (the stack's dead-letter queues) needs none.
    // https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-key-management.html#send-to-encrypted-queue
    if (call.service === 'sqs' && /^sendMessage(Batch)?$/i.test(call.action)) {
      for (const [queueId, queue] of resourcesOfType(template, 'AWS::SQS::Queue')) {
        const key = queue.Properties?.KmsMasterKeyId;
        if (!key || resolve({ Ref: queueId }) !== p.QueueUrl) continue;
        for (const action of ['kms:GenerateDataKey', 'kms:Decrypt']) {
          requests.push({ action, resource: String(resolve(key)), context: {} });
        }
      }
    }

    // A group pointed at a launch template: Auto Scaling checks that the caller may run instances
    // from it, pass its instance profile's role, and tag what it launches.
    // https://docs.aws.amazon.com/autoscaling/ec2/userguide/ec2-auto-scaling-launch-template-permissions.html
    if (
      call.service === 'autoscaling' &&
      /^(updateAutoScalingGroup|startInstanceRefresh)$/i.test(call.action)
    ) {
      const templateId = launchTemplateOf(p);
      if (templateId) {
        const templateArn = `arn:${partition}:ec2:${region}:${account}:launch-template/${templateId}`;
        const launchContext = { 'ec2:LaunchTemplate': templateArn, 'ec2:IsLaunchTemplateResource': 'true' };
        requests.push({ action: 'ec2:RunInstances', resource: templateArn, context: launchContext });
        requests.push({
          action: 'ec2:RunInstances',
          resource: `arn:${partition}:ec2:${region}:${account}:instance/*`,
          context: launchContext,
        });
        for (const [, launchTemplate] of resourcesOfType(template, 'AWS::EC2::LaunchTemplate')) {
          const data = (launchTemplate.Properties?.LaunchTemplateData ?? {}) as Record<string, Json>;
          const profileArn = String(resolve((data.IamInstanceProfile as Record<string, Json>)?.Arn ?? null));
          for (const [profileId, profile] of resourcesOfType(template, 'AWS::IAM::InstanceProfile')) {
            if (profileArn !== String(resolve({ 'Fn::GetAtt': [profileId, 'Arn'] }))) continue;
            for (const role of (profile.Properties?.Roles as Json[]) ?? []) {
              const roleId = (role as { Ref: string }).Ref;
              requests.push({
                action: 'iam:PassRole',
                resource: String(resolve({ 'Fn::GetAtt': [roleId, 'Arn'] })),
                context: { 'iam:PassedToService': 'ec2.amazonaws.com' },
              });
            }
          }
          const specifications =
            (data.TagSpecifications as Array<{ ResourceType: string; Tags: Json }>) ?? [];
          for (const specification of specifications) {
            const tags = resolve(specification.Tags) as Array<{ Key: string; Value: string }>;
            const context: Record<string, string | string[]> = { 'ec2:CreateAction': 'RunInstances' };
            for (const tag of tags) context[`aws:RequestTag/${tag.Key}`] = tag.Value;
            context['aws:TagKeys'] = tags.map((tag) => tag.Key);
            requests.push({
              action: 'ec2:CreateTags',
              resource: `arn:${partition}:ec2:${region}:${account}:${specification.ResourceType}/*`,
              context,
            });
          }
        }
      }
    }

    // A schedule's target role is handed back to Scheduler with every update.
    // https://docs.aws.amazon.com/scheduler/latest/UserGuide/setting-up.html#setting-up-execution-role
    if (call.service === 'scheduler' && /^(createSchedule|updateSchedule)$/i.test(call.action)) {
      const roleArn = (p.Target as { RoleArn?: string } | undefined)?.RoleArn;
      if (roleArn) {
        requests.push({
          action: 'iam:PassRole',
          resource: roleArn,
          context: { 'iam:PassedToService': 'scheduler.amazonaws.com' },
        });
      }
    }
    return requests;
  };
}
