import type { Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import { STACK_TAG, TAGGED_AT_LAUNCH } from '../names';
import { type Definition, taskCalls } from './asl';

/** Where the calls of one scope may act: resources, under conditions. */
export interface Grant {
  resources: string[];
  conditions?: Record<string, unknown>;
}

/**
 * What a scope named by the Tasks means in this stack: one or more grants for every call made in
 * it, and what AWS itself checks on the call's behalf (a KMS key the topic encrypts with, the role
 * a launch template passes), which no Task names.
 */
export interface Scope {
  grants: Grant[];
  implied?: (grantee: iam.IGrantable) => void;
}

export type Scopes = Record<string, Scope>;

/** Calls without resource-level permissions (Describe…, GetCommandInvocation): any resource. */
export const ANY_RESOURCE: Scope = { grants: [{ resources: ['*'] }] };

const sidOf = (scope: string, index: number) =>
  `${scope.charAt(0).toUpperCase()}${scope.slice(1)}${index ? index + 1 : ''}`;

/**
 * Allows the role exactly the IAM action of every Task of the definition, each on the scope its
 * Task names. A Task whose scope is not given, or a scope no Task uses, is an error: the policy
 * cannot drift from the definition.
 */
export function grantTasks(role: iam.IRole, definition: Definition, scopes: Scopes): void {
  const actionsByScope = new Map<string, Set<string>>();
  for (const call of taskCalls(definition)) {
    if (!scopes[call.scope]) throw new Error(`state ${call.state}: no IAM scope "${call.scope}" given`);
    const actions = actionsByScope.get(call.scope) ?? new Set<string>();
    actions.add(call.action);
    actionsByScope.set(call.scope, actions);
  }
  const unused = Object.keys(scopes).filter((name) => !actionsByScope.has(name));
  if (unused.length) throw new Error(`IAM scopes no Task uses: ${unused.join(', ')}`);
  for (const [name, actions] of [...actionsByScope].sort(([a], [b]) => a.localeCompare(b))) {
    const scope = scopes[name] as Scope;
    // A scope of no resources (no schedules to disable, say): its Tasks iterate over nothing.
    if (scope.grants.every((grant) => grant.resources.length === 0)) continue;
    scope.grants.forEach((grant, index) => {
      role.addToPrincipalPolicy(
        new iam.PolicyStatement({
          sid: sidOf(name, index),
          actions: [...actions].sort(),
          resources: grant.resources,
          conditions: grant.conditions,
        }),
      );
    });
    scope.implied?.(role);
  }
}

/** Publishing to the stack's topic, encrypted with its own key: SNS uses the key for the caller. */
export function notificationScope(notifications: { topic: { topicArn: string }; key: kms.IKey }): Scope {
  return {
    grants: [{ resources: [notifications.topic.topicArn] }],
    implied: (grantee) => notifications.key.grant(grantee, 'kms:Decrypt', 'kms:GenerateDataKey*'),
  };
}

/**
 * Pointing the group at a launch template version: Auto Scaling checks that the caller may itself
 * launch from that template (only it), pass the workers' role, and tag what the template tags at
 * launch (its instances and volumes, with the stack's tag).
 * https://docs.aws.amazon.com/autoscaling/ec2/userguide/ec2-auto-scaling-launch-template-permissions.html
 */
export function groupUpdateScope(group: {
  groupArn: string;
  templateArn: string;
  roleArn: string;
  stack: Stack;
}): Scope {
  return {
    grants: [{ resources: [group.groupArn] }],
    implied: (grantee) => {
      grantee.grantPrincipal.addToPrincipalPolicy(
        new iam.PolicyStatement({
          sid: 'LaunchFromThisTemplateOnly',
          actions: ['ec2:RunInstances'],
          resources: ['*'],
          conditions: {
            ArnLike: { 'ec2:LaunchTemplate': group.templateArn },
            Bool: { 'ec2:IsLaunchTemplateResource': 'true' },
          },
        }),
      );
      grantee.grantPrincipal.addToPrincipalPolicy(
        new iam.PolicyStatement({
          sid: 'PassWorkerRole',
          actions: ['iam:PassRole'],
          resources: [group.roleArn],
          conditions: { StringEquals: { 'iam:PassedToService': 'ec2.amazonaws.com' } },
        }),
      );
      const { stack } = group;
      grantee.grantPrincipal.addToPrincipalPolicy(
        new iam.PolicyStatement({
          sid: 'TagWhatThisTemplateLaunches',
          actions: ['ec2:CreateTags'],
          resources: TAGGED_AT_LAUNCH.map((resource) =>
            stack.formatArn({ service: 'ec2', resource, resourceName: '*' }),
          ),
          conditions: {
            StringEquals: {
              'ec2:CreateAction': 'RunInstances',
              [`aws:RequestTag/${STACK_TAG}`]: stack.stackName,
            },
          },
        }),
      );
    },
  };
}
