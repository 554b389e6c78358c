import { Aws, type Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { type Definition, render } from './statemachines/asl';
import { grantTasks, type Scopes } from './statemachines/iam';
import { DEFINITIONS } from './statemachines/index';

export interface WorkerStateMachineProps {
  /** Name of the definition (infra/statemachines/), as its reviewable file `statemachines/<name>.asl.json`. */
  name: string;
  /** Values of the definition's `${Placeholder}`s (tokens allowed); `${Partition}` is the stack's. */
  substitutions: Record<string, string>;
  /**
   * What each IAM scope its Tasks name means here. The role is allowed exactly the calls its
   * Tasks make, each on its scope, and nothing else.
   */
  scopes: Scopes;
  timeout: Duration;
  logRetention: logs.RetentionDays;
}

/**
 * A Standard state machine from its definition, inline in the template (so the template shows the
 * definition and its substitutions), with full logging to its own log group and X-Ray tracing.
 * Its role's permissions follow from the Tasks of the definition.
 */
export class WorkerStateMachine extends Construct {
  readonly stateMachine: sfn.StateMachine;
  readonly role: iam.Role;
  readonly logGroup: logs.LogGroup;
  readonly definition: Definition;

  constructor(scope: Construct, id: string, props: WorkerStateMachineProps) {
    super(scope, id);
    const build = DEFINITIONS[props.name];
    if (!build) throw new Error(`no state machine definition named ${props.name}`);
    this.definition = build();
    const definition = withTimeout(render(this.definition), props.timeout, props.name);
    this.logGroup = new logs.LogGroup(this, 'Logs', {
      retention: props.logRetention,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('states.amazonaws.com'),
      description: `${props.name} state machine`,
    });
    this.stateMachine = new sfn.StateMachine(this, 'StateMachine', {
      definitionBody: sfn.DefinitionBody.fromString(definition),
      definitionSubstitutions: { Partition: Aws.PARTITION, ...props.substitutions },
      stateMachineType: sfn.StateMachineType.STANDARD,
      role: this.role,
      tracingEnabled: true,
      logs: { destination: this.logGroup, level: sfn.LogLevel.ALL, includeExecutionData: true },
    });
    grantTasks(this.role, this.definition, props.scopes);
  }
}

/**
 * CDK applies `timeout` only to definitions it builds itself, not to a definition given as text:
 * the execution timeout is written into the definition, after the rendered text so that the
 * deployed definition still begins as its reviewable file does.
 */
function withTimeout(definition: string, timeout: Duration, name: string): string {
  if ((JSON.parse(definition) as { TimeoutSeconds?: unknown }).TimeoutSeconds !== undefined) {
    throw new Error(`${name} sets TimeoutSeconds: give the timeout to WorkerStateMachine instead`);
  }
  return definition.replace(/\s*\}\s*$/, `,\n  "TimeoutSeconds": ${timeout.toSeconds()}\n}\n`);
}
