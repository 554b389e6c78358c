import type { CfnTemplate, Json } from './template';

/** Where the template is evaluated: the account, region and partition of the local runs. */
export interface Environment {
  account: string;
  region: string;
  partition: string;
}

export const LOCAL: Environment = { account: '123456789012', region: 'eu-west-1', partition: 'aws' };

/**
 * A CloudFormation expression's value. `bindings` maps an expression (its JSON) to the value a local
 * run gave it (a state machine's substitution, a function's environment): the launch template the
 * run created is the template's launch template. Other references resolve to the name the template
 * gives the resource, or to a value that matches no real resource, so that nothing is allowed by
 * an unresolved reference.
 */
export function resolveExpression(
  value: Json,
  template: CfnTemplate,
  env: Environment,
  bindings: Map<string, string>,
): Json {
  const again = (inner: Json) => resolveExpression(inner, template, env, bindings);
  if (Array.isArray(value)) return value.map(again);
  if (value === null || typeof value !== 'object') return value;
  const bound = bindings.get(JSON.stringify(value));
  if (bound !== undefined) return bound;
  const keys = Object.keys(value);
  if (keys.length !== 1) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, again(v)]));
  const [fn] = keys as [string];
  const arg = value[fn] as Json;
  switch (fn) {
    case 'Ref':
      return reference(String(arg), 'Ref', template, env);
    case 'Fn::GetAtt': {
      const [id, attribute] = arg as [string, string];
      return reference(id, attribute, template, env);
    }
    case 'Fn::Join': {
      const [separator, parts] = arg as [string, Json[]];
      return (again(parts) as Json[]).map(String).join(separator);
    }
    case 'Fn::Select': {
      const [index, list] = arg as [number, Json];
      return (again(list) as Json[])[Number(index)] ?? null;
    }
    case 'Fn::Split': {
      const [separator, text] = arg as [string, Json];
      return String(again(text)).split(separator);
    }
    case 'Fn::Sub': {
      const [text, variables = {}] = (Array.isArray(arg) ? arg : [arg]) as [string, Record<string, Json>];
      return text.replace(/\$\{([^}]+)\}/g, (_, name: string) => {
        if (name in variables) return String(again(variables[name] as Json));
        const [id, attribute] = name.split('.');
        return String(reference(id as string, attribute ?? 'Ref', template, env));
      });
    }
    default:
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, again(v)]));
  }
}

function reference(id: string, attribute: string, template: CfnTemplate, env: Environment): Json {
  const { account, region, partition } = env;
  switch (id) {
    case 'AWS::AccountId':
      return account;
    case 'AWS::Region':
      return region;
    case 'AWS::Partition':
      return partition;
    case 'AWS::URLSuffix':
      return partition === 'aws-cn' ? 'amazonaws.com.cn' : 'amazonaws.com';
    case 'AWS::StackName':
      return 'external-worker-prod';
  }
  const parameter = template.Parameters?.[id];
  if (parameter) return parameter.Default ?? `unresolved-parameter-${id}`;
  const resource = template.Resources[id];
  if (!resource) return `unresolved-${id}`;
  const props = resource.Properties ?? {};
  const named = (key: string) =>
    typeof props[key] === 'string' ? (props[key] as string) : `unresolved-${id}`;
  const arn = (service: string, rest: string, inRegion = true) =>
    `arn:${partition}:${service}:${inRegion ? region : ''}:${account}:${rest}`;
  switch (resource.Type) {
    case 'AWS::SNS::Topic':
      return arn('sns', named('TopicName'));
    case 'AWS::Logs::LogGroup':
      return attribute === 'Arn'
        ? arn('logs', `log-group:${named('LogGroupName')}:*`)
        : named('LogGroupName');
    case 'AWS::Lambda::Function':
      return attribute === 'Arn' ? arn('lambda', `function:${named('FunctionName')}`) : named('FunctionName');
    case 'AWS::SQS::Queue':
      return attribute === 'Arn' ? arn('sqs', named('QueueName')) : `https://sqs/${named('QueueName')}`;
    case 'AWS::KMS::Key':
      return attribute === 'Arn' ? arn('kms', `key/unresolved-${id}`) : `unresolved-${id}`;
    case 'AWS::IAM::Role': {
      // A role the template leaves unnamed is named by AWS: the proof calls it by its logical id,
      // as principals.ts does (a world that passes the role uses that ARN).
      const name = typeof props.RoleName === 'string' ? props.RoleName : id;
      return attribute === 'Arn' ? arn('iam', `role/${name}`, false) : name;
    }
    case 'AWS::AutoScaling::AutoScalingGroup':
      return named('AutoScalingGroupName');
    case 'AWS::ImageBuilder::ImagePipeline':
      return arn('imagebuilder', `image-pipeline/${named('Name').toLowerCase()}`);
    default:
      return `unresolved-${id}`;
  }
}
