import { Match } from 'aws-cdk-lib/assertions';
import { synth } from '../support/stack';

type Resource = { Properties: Record<string, unknown> };
type Statement = { Sid?: string; Action: string | string[]; Resource: unknown; Condition?: unknown };

const { template, stack } = synth();
const rules = Object.values(template.findResources('AWS::Events::Rule')) as Resource[];
const ruleFrom = (source: string) =>
  rules.find((r) => (r.Properties.EventPattern as { source?: string[] } | undefined)?.source?.[0] === source)
    ?.Properties as Record<string, unknown> & {
    EventPattern: Record<string, unknown>;
    Targets: Array<Record<string, unknown>>;
  };
const machineId = stack.getLogicalId(stack.rollout.stateMachine.node.defaultChild as never);
const resolved = (value: unknown) => JSON.stringify(stack.resolve(value));

describe('image-rollout wiring', () => {
  test('only AVAILABLE and FAILED images of this stack pipeline start it', () => {
    const rule = ruleFrom('aws.imagebuilder');
    expect(rule.EventPattern['detail-type']).toEqual(['EC2 Image Builder Image State Change']);
    expect(rule.EventPattern.detail).toEqual({ state: { status: ['AVAILABLE', 'FAILED'] } });
    const resources = rule.EventPattern.resources as Array<{ prefix: unknown }>;
    expect(resources).toHaveLength(1);
    const prefix = JSON.stringify(resources[0]?.prefix);
    expect(prefix).toContain(':imagebuilder:eu-west-1:');
    expect(prefix).toContain(':image/external-worker-prod-worker/');
    expect(rule.Targets[0]).toMatchObject({ Arn: { Ref: machineId } });
  });

  test('a successful update of this stack starts it in config mode', () => {
    const rule = ruleFrom('aws.cloudformation');
    expect(rule.EventPattern).toEqual({
      source: ['aws.cloudformation'],
      'detail-type': ['CloudFormation Stack Status Change'],
      detail: { 'stack-id': [{ Ref: 'AWS::StackId' }], 'status-details': { status: ['UPDATE_COMPLETE'] } },
    });
    expect(rule.Targets[0]).toMatchObject({ Arn: { Ref: machineId }, Input: '{"source":"deploy"}' });
  });

  test('both rules retry for a day and keep undelivered events in an encrypted, TLS-only queue', () => {
    for (const rule of [ruleFrom('aws.imagebuilder'), ruleFrom('aws.cloudformation')]) {
      expect(rule.Targets[0]).toMatchObject({
        DeadLetterConfig: { Arn: { 'Fn::GetAtt': [expect.stringMatching(/^RolloutDeadLetters/), 'Arn'] } },
        RetryPolicy: { MaximumRetryAttempts: 185, MaximumEventAgeInSeconds: 86400 },
      });
    }
    template.hasResourceProperties('AWS::SQS::Queue', { SqsManagedSseEnabled: true });
    template.hasResourceProperties('AWS::SQS::QueuePolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      },
    });
  });

  test('the state machine logs everything, traces, and gets this group, template and topic', () => {
    const machine = template.findResources('AWS::StepFunctions::StateMachine')[machineId] as Resource;
    expect(machine.Properties).toMatchObject({
      TracingConfiguration: { Enabled: true },
      LoggingConfiguration: { Level: 'ALL', IncludeExecutionData: true },
      DefinitionSubstitutions: {
        GroupName: 'external-worker-prod-workers',
        LaunchTemplateId: { Ref: stack.getLogicalId(stack.fleet.launchTemplate) },
        TopicArn: { Ref: stack.getLogicalId(stack.notifications.topic.node.defaultChild as never) },
        Region: 'eu-west-1',
        CurrentAmiParameter: '/external-worker/prod/current-ami',
        PinnedAmiId: 'none',
        MinHealthyPercentage: '90',
        MaxHealthyPercentage: '190',
      },
    });
  });

  test('its role acts on this group, this launch template and this stack AMIs only', () => {
    const policies = template.findResources('AWS::IAM::Policy', {
      Properties: {
        Roles: [{ Ref: stack.getLogicalId(stack.rollout.stateMachine.role.node.defaultChild as never) }],
      },
    });
    const statements = Object.values(policies).flatMap(
      (p) =>
        (p as { Properties: { PolicyDocument: { Statement: Statement[] } } }).Properties.PolicyDocument
          .Statement,
    );
    const bySid = (sid: string) => statements.find((s) => s.Sid === sid) as Statement;
    expect(bySid('RefreshThisGroup').Action).toEqual([
      'autoscaling:StartInstanceRefresh',
      'autoscaling:UpdateAutoScalingGroup',
    ]);
    expect(resolved(bySid('RefreshThisGroup').Resource)).toMatch(
      /:autoscaling:eu-west-1:.*:autoScalingGroup:\*:autoScalingGroupName\/external-worker-prod-workers"/,
    );
    expect(resolved(bySid('VersionThisLaunchTemplate').Resource)).toContain(
      `:launch-template/",{"Ref":"${stack.getLogicalId(stack.fleet.launchTemplate)}"}`,
    );
    expect(resolved(bySid('LaunchFromThisTemplateOnly').Condition)).toContain(
      `:launch-template/",{"Ref":"${stack.getLogicalId(stack.fleet.launchTemplate)}"}`,
    );
    expect(resolved(bySid('ReadThisStacksImages').Resource)).toContain(
      ':image/external-worker-prod-worker/*',
    );
    expect(bySid('TagThisStacksAmis').Condition).toEqual({
      StringEquals: { 'ec2:ResourceTag/external-worker:stack': 'external-worker-prod' },
      'ForAllValues:StringEquals': {
        'aws:TagKeys': [
          'external-worker:image',
          'external-worker:rollout',
          'external-worker:launch-template-version',
          'external-worker:rollback-version',
          'external-worker:bad',
        ],
      },
    });
    expect(resolved(bySid('RecordCurrentAmi').Resource)).toContain(
      ':parameter/external-worker/prod/current-ami',
    );
    const publish = statements.find((s) => s.Action === 'sns:Publish') as Statement;
    expect(publish.Resource).toEqual({
      Ref: stack.getLogicalId(stack.notifications.topic.node.defaultChild as never),
    });
    const unscoped = statements
      .filter((s) => s.Resource === '*' && !s.Condition)
      .flatMap((s) => [s.Action].flat());
    // Besides the describes: X-Ray and the log delivery of Step Functions (no resource-level permissions).
    const allowed = /^(autoscaling|ec2):Describe|^xray:|^logs:\w+(Deliver|Deliveries|Polic|LogGroups)/;
    for (const action of unscoped) expect(action).toMatch(allowed);
  });
});

describe('image-rollout and the instance types', () => {
  test("the rollout knows the instance types' architecture, as EC2 names it", () => {
    const architectureOf = (t: typeof template, id: string) =>
      (t.findResources('AWS::StepFunctions::StateMachine')[id] as Resource).Properties
        .DefinitionSubstitutions as Record<string, unknown>;
    expect(architectureOf(template, machineId).WorkerArchitecture).toBe('x86_64');
    const graviton = synth({ instanceType: 'c7g.2xlarge,m6g.2xlarge' });
    const gravitonId = graviton.stack.getLogicalId(
      graviton.stack.rollout.stateMachine.node.defaultChild as never,
    );
    expect(architectureOf(graviton.template, gravitonId).WorkerArchitecture).toBe('arm64');
  });
});

describe('image-rollout canary and alarms', () => {
  const alarms = template.findResources('AWS::CloudWatch::Alarm') as Record<string, Resource>;
  const alarmNamed = (name: string) =>
    Object.values(alarms).find((alarm) => alarm.Properties.AlarmName === name)?.Properties;

  test('the refresh gets the canary share, the bake time and the names of its alarms', () => {
    const machine = template.findResources('AWS::StepFunctions::StateMachine')[machineId] as Resource;
    expect(machine.Properties.DefinitionSubstitutions).toMatchObject({
      RolloutCanaryPercentage: '10',
      RolloutBakeSeconds: '600',
      LaunchesAbandonedAlarm: {
        Ref: stack.getLogicalId(stack.rollout.alarms.launchesAbandoned.node.defaultChild as never),
      },
      FleetBelowDesiredAlarm: {
        Ref: stack.getLogicalId(stack.rollout.alarms.fleetBelowDesired.node.defaultChild as never),
      },
    });
    const definition = JSON.parse(String(machine.Properties.DefinitionString)) as {
      States: Record<string, { Parameters: { preferences: Record<string, unknown> } }>;
    };
    expect(definition.States.PreferencesConfigured?.Parameters.preferences).toMatchObject({
      AutoRollback: true,
      'CheckpointPercentages.$': "States.Array(States.StringToJson('${RolloutCanaryPercentage}'), 100)",
      'CheckpointDelay.$': "States.StringToJson('${RolloutBakeSeconds}')",
      'BakeTime.$': "States.StringToJson('${RolloutBakeSeconds}')",
      AlarmSpecification: { Alarms: ['${LaunchesAbandonedAlarm}', '${FleetBelowDesiredAlarm}'] },
    });
  });

  test('one abandoned launch alarms within a minute and for 5 minutes after', () => {
    expect(alarmNamed('external-worker-prod-rollout-launches-abandoned')).toMatchObject({
      Namespace: 'ExternalWorker',
      MetricName: 'LaunchesAbandoned',
      Dimensions: expect.arrayContaining([
        { Name: 'service', Value: 'external-worker' },
        { Name: 'Stack', Value: 'external-worker-prod' },
      ]),
      Statistic: 'Sum',
      Period: 60,
      EvaluationPeriods: 5,
      DatapointsToAlarm: 1,
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      TreatMissingData: 'notBreaching',
    });
  });

  test('the group short of its desired capacity for longer than a boot (+5 min) alarms', () => {
    const short = alarmNamed('external-worker-prod-rollout-fleet-below-desired');
    expect(short).toMatchObject({ EvaluationPeriods: 20, DatapointsToAlarm: 20, Threshold: 1 });
    expect(JSON.stringify(short?.Metrics)).toContain('desired - inService');
    const { template: slow } = synth({ bootTimeout: '30m' });
    const slowAlarm = Object.values(
      slow.findResources('AWS::CloudWatch::Alarm') as Record<string, Resource>,
    ).find((alarm) => alarm.Properties.AlarmName === 'external-worker-prod-rollout-fleet-below-desired');
    expect(slowAlarm?.Properties).toMatchObject({ EvaluationPeriods: 35 });
  });

  test('its role reads only these two alarms', () => {
    const policies = Object.values(
      template.findResources('AWS::IAM::Policy', {
        Properties: {
          Roles: [{ Ref: stack.getLogicalId(stack.rollout.stateMachine.role.node.defaultChild as never) }],
        },
      }),
    ) as Resource[];
    const statements = policies.flatMap(
      (p) => (p.Properties.PolicyDocument as { Statement: Statement[] }).Statement,
    );
    const reads = statements.filter((s) => JSON.stringify(s.Action).includes('cloudwatch:DescribeAlarms'));
    expect(reads).toHaveLength(1);
    expect(reads[0]?.Resource).toEqual(
      [stack.rollout.alarms.fleetBelowDesired, stack.rollout.alarms.launchesAbandoned].map((alarm) => ({
        'Fn::GetAtt': [stack.getLogicalId(alarm.node.defaultChild as never), 'Arn'],
      })),
    );
  });
});

describe('image-rollout configuration', () => {
  test('a minimum of 100 % allows up to 200 % while replacing', () => {
    const { template: t } = synth({ minHealthyPercentage: 100 });
    t.hasResourceProperties('AWS::StepFunctions::StateMachine', {
      DefinitionSubstitutions: Match.objectLike({ MinHealthyPercentage: '100', MaxHealthyPercentage: '200' }),
    });
  });
});
