import { Match } from 'aws-cdk-lib/assertions';
import { synth } from '../support/stack';

interface Statement {
  Sid?: string;
  Effect: string;
  Action: string | string[];
  Resource: unknown;
  Condition?: Record<string, Record<string, unknown>>;
}
interface Resource {
  Type: string;
  Properties: Record<string, unknown>;
}

const { template, config, stack } = synth();
const resources = template.toJSON().Resources as Record<string, Resource>;
const groupName = `${config.stackName}-workers`;

function ofType(type: string): Array<[string, Resource]> {
  return Object.entries(resources).filter(([, r]) => r.Type === type);
}

/** Statements of the policies attached to the role whose logical id starts with `rolePrefix`. */
function statementsOf(rolePrefix: string): Statement[] {
  return ofType('AWS::IAM::Policy')
    .filter(([, policy]) =>
      (policy.Properties.Roles as Array<{ Ref: string }>).some((role) => role.Ref.startsWith(rolePrefix)),
    )
    .flatMap(([, policy]) => (policy.Properties.PolicyDocument as { Statement: Statement[] }).Statement);
}

const actions = (s: Statement) => (Array.isArray(s.Action) ? s.Action : [s.Action]);
const resourcesOf = (s: Statement) => (Array.isArray(s.Resource) ? s.Resource : [s.Resource]);
const rolePrefixes = ['LifecycleLaunchRole', 'LifecycleDrainRole', 'LifecycleSpotInterruptionRole'];

describe('lifecycle infrastructure', () => {
  test('rules match exactly this group, these hooks and these detail-types', () => {
    const patterns = ofType('AWS::Events::Rule').map(([, rule]) => rule.Properties.EventPattern);
    expect(patterns).toEqual(
      expect.arrayContaining([
        {
          source: ['aws.autoscaling'],
          'detail-type': ['EC2 Instance-launch Lifecycle Action'],
          detail: { AutoScalingGroupName: [groupName], LifecycleHookName: [`${config.stackName}-launch`] },
        },
        {
          source: ['aws.autoscaling'],
          'detail-type': ['EC2 Instance-terminate Lifecycle Action'],
          detail: { AutoScalingGroupName: [groupName], LifecycleHookName: [`${config.stackName}-terminate`] },
        },
        {
          source: ['aws.ec2'],
          'detail-type': ['EC2 Spot Instance Interruption Warning', 'EC2 Instance Rebalance Recommendation'],
        },
      ]),
    );
  });

  test('every rule target has a retry policy and a dead-letter queue; the Spot function an on-failure destination', () => {
    const lifecycleRules = ofType('AWS::Events::Rule').filter(([id]) => id.startsWith('Lifecycle'));
    expect(lifecycleRules).toHaveLength(3);
    for (const [, rule] of lifecycleRules) {
      for (const target of rule.Properties.Targets as Array<Record<string, unknown>>) {
        expect(target.RetryPolicy).toMatchObject({ MaximumRetryAttempts: expect.any(Number) });
        expect(target.DeadLetterConfig).toMatchObject({ Arn: expect.anything() });
      }
    }
    template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      MaximumRetryAttempts: 2,
      DestinationConfig: { OnFailure: { Destination: Match.anyValue() } },
    });
  });

  test('the dead-letter queue is encrypted and TLS only', () => {
    const queues = ofType('AWS::SQS::Queue').filter(([id]) => id.startsWith('LifecycleDeadLetters'));
    expect(queues).toHaveLength(1);
    expect(queues[0]?.[1].Properties.SqsManagedSseEnabled).toBe(true);
    const policies = JSON.stringify(ofType('AWS::SQS::QueuePolicy').map(([, p]) => p.Properties));
    expect(policies).toContain('"aws:SecureTransport":"false"');
  });

  test('Run Command is limited to this stack’s instances (tag condition) and to AWS-RunShellScript', () => {
    for (const prefix of rolePrefixes) {
      const sendCommand = statementsOf(prefix).filter((s) => actions(s).includes('ssm:SendCommand'));
      expect(sendCommand).toHaveLength(2);
      for (const statement of sendCommand) {
        const text = JSON.stringify(resourcesOf(statement));
        expect(text).not.toBe('["*"]');
        if (text.includes(':instance/')) {
          expect(statement.Condition).toEqual({
            StringEquals: { 'ssm:resourceTag/external-worker:stack': config.stackName },
          });
        } else {
          expect(text).toContain('::document/AWS-RunShellScript');
          expect(resourcesOf(statement)).toHaveLength(1);
        }
      }
    }
  });

  test('tags only on this stack’s instances; lifecycle actions only on this group', () => {
    for (const prefix of rolePrefixes) {
      for (const statement of statementsOf(prefix)) {
        const acts = actions(statement);
        const onAmis = JSON.stringify(statement.Resource).includes(':image/');
        if (acts.some((a) => /^ec2:(Create|Delete)Tags$/.test(a)) && onAmis) {
          // The storm guard's tags, on this stack's AMIs.
          expect(statement.Condition).toEqual({
            StringEquals: { 'ec2:ResourceTag/external-worker:stack': config.stackName },
            'ForAllValues:StringLike': { 'aws:TagKeys': expect.any(Array) },
          });
          for (const key of (statement.Condition?.['ForAllValues:StringLike']?.['aws:TagKeys'] ??
            []) as string[]) {
            expect(key).toMatch(/^external-worker:(boot-failure:\*|bad|rollback-version)$/);
          }
        } else if (acts.includes('ec2:CreateTags') && statement.Sid === 'TagWhatThisTemplateLaunches') {
          // Putting the group back on a version: only what RunInstances creates, with the stack's tag.
          expect(statement.Condition).toEqual({
            StringEquals: {
              'ec2:CreateAction': 'RunInstances',
              'aws:RequestTag/external-worker:stack': config.stackName,
            },
          });
        } else if (acts.includes('ec2:CreateTags')) {
          expect(statement.Condition).toEqual({
            StringEquals: { 'aws:ResourceTag/external-worker:stack': config.stackName },
            'ForAllValues:StringEquals': { 'aws:TagKeys': expect.any(Array) },
          });
          for (const key of (statement.Condition?.['ForAllValues:StringEquals']?.['aws:TagKeys'] ??
            []) as string[]) {
            expect(key).toMatch(/^external-worker:(kept|kept-since|interrupted)$/);
          }
        }
        if (acts.some((a) => /^autoscaling:(Complete|Record|Detach|SetInstanceHealth)/.test(a))) {
          expect(JSON.stringify(statement.Resource)).toContain(
            `:autoScalingGroup:*:autoScalingGroupName/${groupName}`,
          );
        }
      }
    }
    const launch = statementsOf('LifecycleLaunchRole').flatMap(actions);
    expect(launch).toEqual(
      expect.arrayContaining([
        'autoscaling:CompleteLifecycleAction',
        'autoscaling:RecordLifecycleActionHeartbeat',
        'autoscaling:DetachInstances',
        'ssm:GetCommandInvocation',
        'sns:Publish',
      ]),
    );
    // the drain never detaches nor tags
    const drain = statementsOf('LifecycleDrainRole').flatMap(actions);
    expect(drain).not.toContain('autoscaling:DetachInstances');
    expect(drain).not.toContain('ec2:CreateTags');
  });

  test('the state machines get the hooks, the timeouts and the deadline function', () => {
    const machines = ofType('AWS::StepFunctions::StateMachine').map(
      ([, m]) => m.Properties.DefinitionSubstitutions as Record<string, unknown>,
    );
    expect(machines).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          GroupName: groupName,
          LaunchHookName: `${config.stackName}-launch`,
          BootTimeoutSeconds: String(config.bootTimeout),
        }),
        expect.objectContaining({
          GroupName: groupName,
          TerminateHookName: `${config.stackName}-terminate`,
          DrainTimeoutSeconds: String(config.drainTimeout),
        }),
      ]),
    );
    expect(stack.lifecycle.launch.stateMachine).toBeDefined();
  });

  test('the Spot function knows its group and launch hook', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({
          GROUP_NAME: groupName,
          LAUNCH_HOOK_NAME: `${config.stackName}-launch`,
        }),
      },
    });
  });

  test('boot and drain timeouts from the configuration', () => {
    const custom = synth({ bootTimeout: '20m', drainTimeout: '3h' });
    const substitutions = Object.values(
      custom.template.findResources('AWS::StepFunctions::StateMachine'),
    ).map((m) => (m as Resource).Properties.DefinitionSubstitutions as Record<string, string>);
    expect(substitutions.map((s) => s.BootTimeoutSeconds ?? s.DrainTimeoutSeconds).sort()).toEqual([
      '10800',
      '1200',
    ]);
  });
});
