import { parseConfig } from '../../infra/config';
import { runtimeParameters, STACK_TAG } from '../../infra/names';
import { LOCAL, resolveExpression } from './iam/resolve';
import { type CfnTemplate, type Json, synthesizedTemplate } from './iam/template';
import { featureFlags } from './stack';

/**
 * The names the synthesized stack (the defaults of cdk.json) owns, for the worlds of the local runs:
 * its roles are scoped to these, so a run proven against them must act on these and no others.
 * Read from the template itself, where the stack gives a resource its name.
 */

let template: CfnTemplate | undefined;
const stackTemplate = () => {
  template ??= synthesizedTemplate();
  return template;
};

function resourceOfType(type: string): Record<string, Json> {
  const found = Object.values(stackTemplate().Resources).filter((r) => r.Type === type);
  if (found.length !== 1) throw new Error(`the stack has ${found.length} ${type}, not one`);
  return found[0]?.Properties ?? {};
}

const config = parseConfig(featureFlags);
const { account, region, partition } = LOCAL;

export const STACK = {
  name: config.stackName,
  /** The tag every resource of the stack carries, and the stack's instances are matched on. */
  tags: { [STACK_TAG]: config.stackName } as Record<string, string>,
  parameters: runtimeParameters(config),
  get groupName(): string {
    return String(resourceOfType('AWS::AutoScaling::AutoScalingGroup').AutoScalingGroupName);
  },
  get topicArn(): string {
    const name = String(resourceOfType('AWS::SNS::Topic').TopicName);
    return `arn:${partition}:sns:${region}:${account}:${name}`;
  },
  get launchTemplateName(): string {
    return String(resourceOfType('AWS::EC2::LaunchTemplate').LaunchTemplateName);
  },
};

/**
 * The substitutions the stack gives a state machine's definition, those that name something the
 * stack names (its group, hooks, topic, parameters, settings). What AWS names at deploy (a function
 * ARN, a launch template id) the world gives, and the proof binds the template's reference to it.
 */
export function stackSubstitutions(machine: string): Record<string, string> {
  const { Resources } = stackTemplate();
  const roleId = Object.entries(Resources).find(
    ([, r]) => r.Type === 'AWS::IAM::Role' && r.Properties?.Description === `${machine} state machine`,
  )?.[0];
  const stateMachine = Object.values(Resources).find(
    (r) =>
      r.Type === 'AWS::StepFunctions::StateMachine' &&
      JSON.stringify(r.Properties?.RoleArn) === JSON.stringify({ 'Fn::GetAtt': [roleId, 'Arn'] }),
  );
  if (!stateMachine) throw new Error(`the stack has no ${machine} state machine`);
  const substitutions: Record<string, string> = {};
  const given = (stateMachine.Properties?.DefinitionSubstitutions ?? {}) as Record<string, Json>;
  for (const [key, expression] of Object.entries(given)) {
    const value = String(resolveExpression(expression, stackTemplate(), LOCAL, new Map()));
    if (!value.includes('unresolved-')) substitutions[key] = value;
  }
  return substitutions;
}

/**
 * The ARN the proof gives a role of the stack that AWS names at deploy (by its logical id, as
 * test/support/iam/resolve.ts does), found by its description's start: a world that hands the role
 * on (a schedule's target) hands this one.
 */
export function stackRoleArn(description: string): string {
  const found = Object.entries(stackTemplate().Resources).filter(
    ([, r]) => r.Type === 'AWS::IAM::Role' && String(r.Properties?.Description ?? '').startsWith(description),
  );
  if (found.length !== 1) throw new Error(`the stack has ${found.length} roles described "${description}…"`);
  return String(
    resolveExpression({ 'Fn::GetAtt': [found[0]?.[0] as string, 'Arn'] }, stackTemplate(), LOCAL, new Map()),
  );
}
