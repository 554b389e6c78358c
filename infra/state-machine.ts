import * as fs from 'node:fs';
import * as path from 'node:path';
import { type Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';

export const STATEMACHINES_DIR = path.join(__dirname, '..', 'statemachines');

export interface WorkerStateMachineProps {
  /** File name under statemachines/ without `.asl.json`. */
  name: string;
  /** Values of the file's `${Placeholder}`s (tokens allowed). */
  substitutions: Record<string, string>;
  timeout: Duration;
  logRetention: logs.RetentionDays;
}

/**
 * A Standard state machine from its ASL file, inline in the template (so the template shows the
 * definition and its substitutions), with full logging to its own log group and X-Ray tracing.
 * Callers grant its role exactly the calls its Tasks make.
 */
export class WorkerStateMachine extends Construct {
  readonly stateMachine: sfn.StateMachine;
  readonly role: iam.Role;
  readonly logGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: WorkerStateMachineProps) {
    super(scope, id);
    const definition = withTimeout(
      fs.readFileSync(path.join(STATEMACHINES_DIR, `${props.name}.asl.json`), 'utf8'),
      props.timeout,
      props.name,
    );
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
      definitionSubstitutions: props.substitutions,
      stateMachineType: sfn.StateMachineType.STANDARD,
      role: this.role,
      tracingEnabled: true,
      logs: { destination: this.logGroup, level: sfn.LogLevel.ALL, includeExecutionData: true },
    });
  }
}

/**
 * CDK applies `timeout` only to definitions it builds itself, not to a definition given as text:
 * the execution timeout is written into the definition, after the file's own text so that the
 * deployed definition still begins as the file does.
 */
function withTimeout(definition: string, timeout: Duration, name: string): string {
  if ((JSON.parse(definition) as { TimeoutSeconds?: unknown }).TimeoutSeconds !== undefined) {
    throw new Error(`${name}.asl.json sets TimeoutSeconds: give the timeout to WorkerStateMachine instead`);
  }
  return definition.replace(/\s*\}\s*$/, `,\n  "TimeoutSeconds": ${timeout.toSeconds()}\n}\n`);
}
