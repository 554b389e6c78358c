import * as fs from 'node:fs';
import * as path from 'node:path';
import { type Environment, resolveExpression } from './resolve';
import type { CfnTemplate, Json } from './template';

export interface Statement {
  Sid?: string;
  Effect: 'Allow' | 'Deny';
  Action: string | string[];
  Resource: string | string[];
  Condition?: Record<string, Record<string, string | string[]>>;
}
export interface PolicyDocument {
  Version: string;
  Statement: Statement[];
}

/** A role of the stack, as the calls name its holder. */
export interface Principal {
  /** `state-machine:<name>`, `function:<name>`, `worker-instance`, or the role's logical id. */
  name: string;
  logicalId: string;
  arn: string;
  policies: Array<{ name: string; document: PolicyDocument }>;
  /** AWS managed policies attached that we hold no copy of: any call of this principal fails. */
  unknownManagedPolicies: string[];
}

const MANAGED_DIR = path.join(__dirname, '..', '..', 'fixtures', 'iam', 'managed-policies');

/** An AWS managed policy, as AWS publishes it (test/fixtures/iam/managed-policies/<name>.json). */
function managedPolicy(arn: string): PolicyDocument | undefined {
  const file = path.join(MANAGED_DIR, `${arn.split('/').pop()}.json`);
  return fs.existsSync(file) ? (JSON.parse(fs.readFileSync(file, 'utf8')) as PolicyDocument) : undefined;
}

function principalName(description: string, logicalId: string): string {
  const stateMachine = /^(.+) state machine$/.exec(description);
  if (stateMachine) return `state-machine:${stateMachine[1]}`;
  const fn = /^(.+) function of /.exec(description);
  if (fn) return `function:${fn[1]}`;
  if (description.startsWith('Concourse workers of ')) return 'worker-instance';
  return logicalId;
}

/** Every role of the template with its identity policies, resolved in `env` under `bindings`. */
export function principals(
  template: CfnTemplate,
  env: Environment,
  bindings: Map<string, string> = new Map(),
): Principal[] {
  const resolve = (value: Json) => resolveExpression(value, template, env, bindings);
  const roles = Object.entries(template.Resources).filter(([, r]) => r.Type === 'AWS::IAM::Role');
  return roles.map(([logicalId, role]) => {
    const props = role.Properties ?? {};
    const policies: Principal['policies'] = [];
    const unknownManagedPolicies: string[] = [];
    for (const inline of (props.Policies as Array<{ PolicyName: string; PolicyDocument: Json }>) ?? []) {
      policies.push({ name: inline.PolicyName, document: resolve(inline.PolicyDocument) as never });
    }
    for (const managed of (props.ManagedPolicyArns as Json[]) ?? []) {
      const arn = String(resolve(managed));
      const document = managedPolicy(arn);
      if (document) policies.push({ name: arn, document });
      else unknownManagedPolicies.push(arn);
    }
    for (const [policyId, policy] of Object.entries(template.Resources)) {
      if (policy.Type !== 'AWS::IAM::Policy') continue;
      const attached = ((policy.Properties?.Roles ?? []) as Json[]).some(
        (r) => JSON.stringify(r) === JSON.stringify({ Ref: logicalId }),
      );
      if (attached) {
        policies.push({
          name: policyId,
          document: resolve(policy.Properties?.PolicyDocument as Json) as never,
        });
      }
    }
    return {
      name: principalName(String(props.Description ?? ''), logicalId),
      logicalId,
      arn: `arn:${env.partition}:iam::${env.account}:role/${logicalId}`,
      policies,
      unknownManagedPolicies,
    };
  });
}

export function principal(all: Principal[], name: string): Principal {
  const found = all.find((p) => p.name === name);
  if (!found) throw new Error(`no role of the stack is the principal ${name} (${all.map((p) => p.name)})`);
  return found;
}
