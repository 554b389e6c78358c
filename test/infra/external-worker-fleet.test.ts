import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { parseConfig } from '../../infra/config';
import { ExternalWorkerFleet, ExternalWorkerStack, FLEET_PARTS } from '../../infra/stack';
import { featureFlags } from '../support/stack';

const newStack = () =>
  new Stack(
    new App({
      context: { ...featureFlags, 'aws:cdk:bundling-stacks': [] },
      builtinCloudFormationValidation: false,
    }),
    'ci-workers',
    {
      env: { region: 'eu-west-1' },
    },
  );

describe('ExternalWorkerFleet', () => {
  test('a second fleet in one stack is refused: names, outputs and the destroy workflow are the stack’s', () => {
    const stack = newStack();
    new ExternalWorkerFleet(stack, 'Workers', { teamId: 'ci', customer: 'acme' });
    expect(() => new ExternalWorkerFleet(stack, 'More', { teamId: 'ci', customer: 'acme' })).toThrow(
      'ci-workers already holds an ExternalWorkerFleet: one fleet per stack',
    );
  });

  test('operators get exactly the calls that start a rebuild or the destroy workflow', () => {
    const stack = newStack();
    const workers = new ExternalWorkerFleet(stack, 'Workers', { teamId: 'ci', customer: 'acme' });
    const operator = new iam.Role(stack, 'Operator', { assumedBy: new iam.AccountRootPrincipal() });
    workers.grantStartRebuild(operator);
    workers.grantStartDestroy(operator);
    const policies = Template.fromStack(stack).findResources('AWS::IAM::Policy', {
      Properties: { Roles: [{ Ref: stack.getLogicalId(operator.node.defaultChild as iam.CfnRole) }] },
    });
    const statements = Object.values(policies).flatMap(
      (policy) =>
        (policy as { Properties: { PolicyDocument: { Statement: unknown[] } } }).Properties.PolicyDocument
          .Statement,
    );
    expect(statements).toEqual([
      {
        Action: 'imagebuilder:StartImagePipelineExecution',
        Effect: 'Allow',
        Resource: { 'Fn::GetAtt': [expect.stringMatching(/^WorkersImagePipeline/), 'Arn'] },
      },
      {
        Action: 'states:StartExecution',
        Effect: 'Allow',
        Resource: { Ref: expect.stringMatching(/^WorkersDestroyStateMachine/) },
      },
    ]);
  });

  test("the app's stack shows each of the fleet's parts as its own, every one of them", () => {
    const config = parseConfig({ teamId: 'ci', customer: 'acme' });
    const app = new App({ context: { ...featureFlags, 'aws:cdk:bundling-stacks': [] } });
    const stack = new ExternalWorkerStack(app, config.stackName, { config, env: { region: 'eu-west-1' } });
    // The parts are the constructs the fleet holds as its own children.
    const parts = Object.entries(stack.workers)
      .filter(([, value]) => value instanceof Construct && value.node.scope === stack.workers)
      .map(([name]) => name);
    expect([...parts].sort()).toEqual([...FLEET_PARTS].sort());
    for (const part of FLEET_PARTS) expect(stack[part]).toBe(stack.workers[part]);
  });
});
