import { type CloudFormationClient, DescribeStacksCommand, type Stack } from '@aws-sdk/client-cloudformation';
import { OUTPUT } from '../functions/lib/contract';
import { StackNotFoundError } from './errors';

/** Every resource the CLI acts on, found from the stack's outputs. */
export interface WorkerStack {
  name: string;
  status: string;
  groupName: string;
  launchTemplateId: string;
  imagePipelineArn: string;
  versionStateParameter: string;
  currentAmiParameter: string;
  schedulerApiAddress: string;
  retentionFunctionName: string;
  retentionLogGroup: string;
  topicArn: string;
  keptInstanceTag: string;
  stateMachines: { rollout: string; launch: string; drain: string; destroy: string };
  alarmNames: string[];
}

export const REQUIRED_OUTPUTS = [
  OUTPUT.groupName,
  OUTPUT.launchTemplateId,
  OUTPUT.imagePipelineArn,
  OUTPUT.versionStateParameter,
  OUTPUT.currentAmiParameter,
  OUTPUT.schedulerApiAddress,
  OUTPUT.retentionFunctionName,
  OUTPUT.retentionLogGroup,
  OUTPUT.topicArn,
  OUTPUT.keptInstanceTag,
  OUTPUT.rolloutStateMachineArn,
  OUTPUT.launchStateMachineArn,
  OUTPUT.drainStateMachineArn,
  OUTPUT.destroyStateMachineArn,
  OUTPUT.alarmNames,
] as const;

/** Reads the stack's outputs; a missing stack, or one without the outputs the CLI needs, is an error. */
export async function findStack(cfn: CloudFormationClient, name: string): Promise<WorkerStack> {
  let stack: Stack | undefined;
  try {
    const { Stacks = [] } = await cfn.send(new DescribeStacksCommand({ StackName: name }));
    stack = Stacks[0];
  } catch (error) {
    // CloudFormation answers an unknown stack with a ValidationError "Stack with id … does not exist".
    if ((error as Error).name === 'ValidationError' && /does not exist/.test((error as Error).message))
      throw new StackNotFoundError(`stack ${name} not found in this account and region`);
    throw error;
  }
  if (!stack) throw new StackNotFoundError(`stack ${name} not found in this account and region`);
  const outputs = new Map((stack.Outputs ?? []).map((o) => [o.OutputKey ?? '', o.OutputValue ?? '']));
  const missing = REQUIRED_OUTPUTS.filter((key) => !outputs.has(key));
  if (missing.length > 0)
    throw new StackNotFoundError(
      `stack ${name} is not an external-worker stack this CLI knows (missing outputs: ${missing.join(', ')}); deploy this version first`,
    );
  const out = (key: (typeof REQUIRED_OUTPUTS)[number]) => outputs.get(key) as string;
  return {
    name,
    status: stack.StackStatus ?? 'UNKNOWN',
    groupName: out(OUTPUT.groupName),
    launchTemplateId: out(OUTPUT.launchTemplateId),
    imagePipelineArn: out(OUTPUT.imagePipelineArn),
    versionStateParameter: out(OUTPUT.versionStateParameter),
    currentAmiParameter: out(OUTPUT.currentAmiParameter),
    schedulerApiAddress: out(OUTPUT.schedulerApiAddress),
    retentionFunctionName: out(OUTPUT.retentionFunctionName),
    retentionLogGroup: out(OUTPUT.retentionLogGroup),
    topicArn: out(OUTPUT.topicArn),
    keptInstanceTag: out(OUTPUT.keptInstanceTag),
    stateMachines: {
      rollout: out(OUTPUT.rolloutStateMachineArn),
      launch: out(OUTPUT.launchStateMachineArn),
      drain: out(OUTPUT.drainStateMachineArn),
      destroy: out(OUTPUT.destroyStateMachineArn),
    },
    alarmNames: out(OUTPUT.alarmNames)
      .split(',')
      .map((n) => n.trim())
      .filter(Boolean),
  };
}
