import { synth } from '../support/stack';

interface Resource {
  Type: string;
  Properties: Record<string, unknown>;
  DependsOn?: string[];
}
interface Target {
  Arn: unknown;
  RoleArn?: { 'Fn::GetAtt': [string, string] };
}

const { template } = synth();
const resources = template.toJSON().Resources as Record<string, Resource>;
const [groupId, group] =
  Object.entries(resources).find(([, r]) => r.Type === 'AWS::AutoScaling::AutoScalingGroup') ?? [];
const dependsOn = new Set(group?.DependsOn ?? []);

const hookNames = (
  (group?.Properties.LifecycleHookSpecificationList ?? []) as Array<{ LifecycleHookName: string }>
).map((hook) => hook.LifecycleHookName);
const hookRules = Object.entries(resources).filter(([, r]) => {
  const pattern = r.Properties?.EventPattern as { detail?: { LifecycleHookName?: string[] } } | undefined;
  return (
    r.Type === 'AWS::Events::Rule' &&
    hookNames.some((name) => pattern?.detail?.LifecycleHookName?.includes(name))
  );
});
const idOf = (ref: unknown): string | undefined => {
  const value = ref as { Ref?: string; 'Fn::GetAtt'?: [string, string] };
  return value?.Ref ?? value?.['Fn::GetAtt']?.[0];
};
/** The policies attached to a role, by the role's logical id. */
const policiesOf = (roleId: string) =>
  Object.entries(resources)
    .filter(
      ([, r]) =>
        r.Type === 'AWS::IAM::Policy' &&
        (r.Properties.Roles as Array<{ Ref: string }>).some((role) => role.Ref === roleId),
    )
    .map(([id]) => id);

describe('first deploy: the group is created after what its hooks start', () => {
  test('both hooks have a rule', () => {
    expect(groupId).toBeDefined();
    expect(hookNames).toHaveLength(2);
    expect(hookRules).toHaveLength(2);
  });

  test('the group depends on each hook rule, its target state machine and the roles that let them run', () => {
    for (const [ruleId, rule] of hookRules) {
      expect(dependsOn).toContain(ruleId);
      const targets = rule.Properties.Targets as Target[];
      expect(targets.length).toBeGreaterThan(0);
      for (const target of targets) {
        const machineId = idOf(target.Arn);
        expect(resources[machineId ?? '']?.Type).toBe('AWS::StepFunctions::StateMachine');
        expect(dependsOn).toContain(machineId);
        // The state machine's own role and policies: its first Task needs them.
        const machineRole = idOf(resources[machineId ?? '']?.Properties.RoleArn) ?? '';
        for (const id of [machineRole, ...policiesOf(machineRole)]) expect(dependsOn).toContain(id);
        // The role EventBridge starts the execution with, and its policy.
        const eventsRole = target.RoleArn?.['Fn::GetAtt'][0] ?? '';
        expect(resources[eventsRole]?.Type).toBe('AWS::IAM::Role');
        for (const id of [eventsRole, ...policiesOf(eventsRole)]) expect(dependsOn).toContain(id);
      }
    }
  });

  test('no dependency runs the other way (the template would not deploy)', () => {
    for (const id of dependsOn) expect(resources[id]?.DependsOn ?? []).not.toContain(groupId);
  });
});
