import { App, Stack, Validations } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as events from 'aws-cdk-lib/aws-events';
import { AwsSolutionsChecks } from 'cdk-nag';
import { parseConfig } from '../../infra/config';
import { aslStringList, DestroyWorkflow, DRAIN_POLL_SECONDS, maxDrainPolls } from '../../infra/destroy';
import type { WorkerFleet } from '../../infra/fleet';
import { Notifications } from '../../infra/notifications';
import { allStates, readAsl } from '../support/asl-harness';
import { SDK_RESOURCE } from '../support/sdk-adapter';
import { featureFlags, synth } from '../support/stack';

type Statement = {
  Sid?: string;
  Action: string | string[];
  Resource: unknown;
  Condition?: Record<string, Record<string, unknown>>;
};
type Resource = { Type: string; Properties: Record<string, unknown>; DeletionPolicy?: string };

const { template, config } = synth();
const resources = template.toJSON().Resources as Record<string, Resource>;
const [machineId] = Object.entries(resources).find(
  ([, r]) =>
    r.Type === 'AWS::StepFunctions::StateMachine' &&
    JSON.stringify(r.Properties.DefinitionString).includes('CheckConfirmation'),
) ?? [''];
const machine = resources[machineId] as Resource;
const roleId = (machine.Properties.RoleArn as { 'Fn::GetAtt': string[] })['Fn::GetAtt'][0] as string;

function statementsOf(role: string, all: Record<string, Resource>): Statement[] {
  return Object.values(all)
    .filter((r) => r.Type === 'AWS::IAM::Policy' && JSON.stringify(r.Properties.Roles).includes(role))
    .flatMap((r) => (r.Properties.PolicyDocument as { Statement: Statement[] }).Statement);
}
const actionsOf = (s: Statement) => (Array.isArray(s.Action) ? s.Action : [s.Action]);
const text = (value: unknown) => JSON.stringify(value);

describe('destroy workflow in the stack', () => {
  test('is deployed with its placeholders, a bounded timeout and an output giving its ARN', () => {
    expect(machine).toBeDefined();
    expect(machine.Properties.DefinitionSubstitutions).toMatchObject({
      StackName: config.stackName,
      GroupName: `${config.stackName}-workers`,
      MaxDrainPolls: String(maxDrainPolls(config)),
      RuntimeParameterNames: `[\\"${config.parameterPrefix}/current-ami\\",\\"${config.parameterPrefix}/version-state\\",\\"${config.parameterPrefix}/build-version\\",\\"${config.parameterPrefix}/spot-fallback\\"]`,
    });
    expect(machine.Properties.DefinitionSubstitutions).not.toHaveProperty(
      'RuntimeParameterNames',
      expect.stringContaining('worker-key'),
    );
    const definition = JSON.parse(machine.Properties.DefinitionString as string) as {
      TimeoutSeconds: number;
    };
    expect(definition.TimeoutSeconds).toBe(maxDrainPolls(config) * DRAIN_POLL_SECONDS + 3600);
    // The drain deadline counts polls: it holds only while the ASL waits as long as infra assumes.
    const wait = (JSON.parse(readAsl('destroy')) as { States: Record<string, { Seconds?: number }> }).States
      .WaitForInstancesToGo;
    expect(wait?.Seconds).toBe(DRAIN_POLL_SECONDS);
    expect(maxDrainPolls(config) * DRAIN_POLL_SECONDS).toBeGreaterThanOrEqual(config.drainTimeout + 120);
    template.hasOutput('DestroyStateMachineArn', { Value: { Ref: machineId } });
  });

  test('nothing in the stack can start it: no rule, schedule or pipe targets it, no grant lets one start it', () => {
    // Only observers may name it: the metrics of its executions, their alarm and the dashboard.
    const referrers = Object.entries(resources).filter(
      ([id, r]) => id !== machineId && text(r).includes(`"${machineId}"`),
    );
    for (const [, r] of referrers) {
      expect([
        'AWS::Lambda::Function',
        'AWS::Events::Rule',
        'AWS::CloudWatch::Alarm',
        'AWS::CloudWatch::Dashboard',
      ]).toContain(r.Type);
    }
    for (const rule of Object.values(template.findResources('AWS::Events::Rule'))) {
      expect(text((rule as Resource).Properties.Targets)).not.toContain(machineId);
    }
    for (const type of ['AWS::Scheduler::Schedule', 'AWS::Pipes::Pipe']) {
      for (const schedule of Object.values(template.findResources(type))) {
        expect(text(schedule)).not.toContain(machineId);
      }
    }
    const starters = Object.values(resources)
      .filter((r) => r.Type === 'AWS::IAM::Policy')
      .flatMap((r) => (r.Properties.PolicyDocument as { Statement: Statement[] }).Statement)
      .filter((s) => actionsOf(s).some((a) => a.startsWith('states:Start')));
    for (const s of starters) expect(text(s.Resource)).not.toMatch(new RegExp(`${machineId}|"\\*"`));
  });

  test('its log group outlives the stack, as the record of the destroy', () => {
    const logGroupId = text(machine.Properties.LoggingConfiguration).match(/"(\w+)","Arn"/)?.[1] as string;
    expect(resources[logGroupId]).toMatchObject({ Type: 'AWS::Logs::LogGroup', DeletionPolicy: 'Retain' });
  });

  test('its role changes only what belongs to this stack: by name, by ARN prefix or by the stack tag', () => {
    const statements = statementsOf(roleId, resources);
    // Reads, and the plumbing of Step Functions logging and tracing, have no resource-level permissions.
    const unscoped = /^(autoscaling:Describe|ec2:Describe|xray:|logs:)/;
    const notify = /^(sns:Publish|kms:Decrypt|kms:GenerateDataKey\*)$/;
    for (const s of statements) {
      const changes = actionsOf(s).filter((a) => !unscoped.test(a));
      if (changes.length === 0) continue;
      if (changes.every((a) => notify.test(a))) {
        expect(text(s.Resource)).toMatch(/"Notifications(Topic|Key)/);
        continue;
      }
      const scopedByName =
        text(s.Resource).includes(config.stackName) ||
        text(s.Resource).includes(`:parameter${config.parameterPrefix}/`);
      const scopedByTag = text(s.Condition ?? {}).includes(`external-worker:stack":"${config.stackName}"`);
      // A resource of this very template (the schedule's role), named by its ARN.
      const scopedByReference = /^\{"Fn::GetAtt":\["\w+","Arn"\]\}$/.test(text(s.Resource));
      expect({ sid: s.Sid, changes, scoped: scopedByName || scopedByTag || scopedByReference }).toEqual({
        sid: s.Sid,
        changes,
        scoped: true,
      });
      expect(text(s.Resource)).not.toBe('"*"');
    }
    const byAction = (action: string) => statements.find((s) => actionsOf(s).includes(action)) as Statement;
    for (const action of ['ec2:TerminateInstances', 'ec2:DeregisterImage', 'ec2:DeleteSnapshot']) {
      expect(byAction(action).Condition).toEqual({
        StringEquals: { 'aws:ResourceTag/external-worker:stack': config.stackName },
      });
    }
    expect(byAction('ec2:CreateTags').Condition).toEqual({
      StringEquals: { 'aws:RequestTag/external-worker:stack': config.stackName },
      'ForAllValues:StringEquals': { 'aws:TagKeys': ['external-worker:stack'] },
      StringEqualsIfExists: { 'aws:ResourceTag/external-worker:stack': config.stackName },
    });
    // Names end with a delimiter: another stack whose name starts with this one's gets nothing.
    expect(text(byAction('imagebuilder:DeleteImage').Resource)).toContain(
      `:image/${config.stackName}-worker/*`,
    );
    expect(text(byAction('cloudformation:DeleteStack').Resource)).toContain(`:stack/${config.stackName}/*`);
    expect(text(byAction('ssm:DeleteParameters').Resource)).not.toContain('worker-key');
    // CloudFormation deletes with the stack's service role: the workflow passes no role of its own,
    // only the version-check schedule's target role back to Scheduler when disabling it.
    const passRole = statements.filter((s) => actionsOf(s).includes('iam:PassRole'));
    expect(passRole).toHaveLength(1);
    for (const s of passRole) {
      expect(text(s.Resource)).toContain('VersionCheckScheduleRole');
      expect(text(s.Resource)).not.toContain('*');
      expect(s.Condition).toEqual({ StringEquals: { 'iam:PassedToService': 'scheduler.amazonaws.com' } });
    }
  });
});

describe('destroy workflow with the schedules and rules that start work', () => {
  const app = new App({ context: { ...featureFlags, 'aws:cdk:bundling-stacks': [] } });
  const stack = new Stack(app, 'Probe', { env: { region: 'eu-west-1' } });
  const probeConfig = parseConfig(featureFlags);
  const rule = new events.Rule(stack, 'Generated', { eventPattern: { source: ['aws.imagebuilder'] } });
  new DestroyWorkflow(stack, 'Destroy', {
    config: probeConfig,
    fleet: { groupName: `${probeConfig.stackName}-workers` } as WorkerFleet,
    notifications: new Notifications(stack, 'Notifications', { config: probeConfig }),
    scheduleNames: [`${probeConfig.stackName}-version-check`],
    scheduleRoleArns: [`arn:aws:iam::123456789012:role/${probeConfig.stackName}-schedule`],
    ruleNames: [`${probeConfig.stackName}-image-available`, rule.ruleName],
  });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  app.synth();
  const probe = Template.fromStack(stack).toJSON().Resources as Record<string, Resource>;
  const probeMachine = Object.values(probe).find(
    (r) => r.Type === 'AWS::StepFunctions::StateMachine',
  ) as Resource;
  const probeRole = (probeMachine.Properties.RoleArn as { 'Fn::GetAtt': string[] })['Fn::GetAtt'][0];

  test('passes them as JSON lists the ASL can read, generated names included', () => {
    const substitutions = probeMachine.Properties.DefinitionSubstitutions as Record<string, unknown>;
    expect(substitutions.ScheduleNames).toBe(`[\\"${probeConfig.stackName}-version-check\\"]`);
    expect(text(substitutions.RuleNames)).toContain(`${probeConfig.stackName}-image-available`);
    expect(text(substitutions.RuleNames)).toContain('"Ref":"Generated');
  });

  test('may disable exactly those, and pass only this stack roles back to Scheduler', () => {
    const statements = statementsOf(probeRole as string, probe);
    const find = (sid: string) => statements.find((s) => s.Sid === sid) as Statement;
    expect(text(find('DisableSchedules').Resource)).toContain(
      `:schedule/default/${probeConfig.stackName}-version-check`,
    );
    expect(text(find('DisableRules').Resource)).toContain(`:rule/${probeConfig.stackName}-image-available`);
    expect(text(find('DisableRules').Resource)).toContain('"Ref":"Generated');
    expect(find('KeepScheduleTargetRoles')).toMatchObject({
      Action: 'iam:PassRole',
      Condition: { StringEquals: { 'iam:PassedToService': 'scheduler.amazonaws.com' } },
    });
    expect(find('KeepScheduleTargetRoles').Resource).toBe(
      `arn:aws:iam::123456789012:role/${probeConfig.stackName}-schedule`,
    );
  });

  test('its role allows every call the ASL makes', () => {
    const iamService: Record<string, string> = { eventbridge: 'events' };
    const definition = JSON.parse(readAsl('destroy').replaceAll('${Partition}', 'aws'));
    const calls = allStates(definition)
      .map(([, state]) => String(state.Resource ?? ''))
      .filter((resource) => SDK_RESOURCE.test(resource))
      .map((resource) => {
        const [service = '', action = ''] = resource.split(':').slice(-2);
        return `${iamService[service] ?? service}:${action.charAt(0).toUpperCase()}${action.slice(1)}`;
      });
    const allowed = statementsOf(probeRole as string, probe).flatMap(actionsOf);
    expect([...new Set(calls)].filter((call) => !allowed.includes(call))).toEqual([]);
  });

  test('refuses names the ASL could not carry', () => {
    expect(() => aslStringList(["it's"])).toThrow('not a schedule, rule or parameter name');
    expect(aslStringList([])).toBe('[]');
  });
});
