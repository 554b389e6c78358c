import type { WorkerConfig } from '../../../infra/config';
import { workerLogGroupName } from '../../../infra/names';
import { ecrPullCalls, type WorkerCall, workerCalls } from '../../../infra/worker-calls';
import type { AwsCall } from './requests';
import type { Environment } from './resolve';

const INSTANCE = 'i-0123456789abcdef0';

/** A worker call of infra/worker-calls.ts (the list the role is derived from) as the proof replays it. */
export function asAwsCall(call: WorkerCall): AwsCall {
  const [service = '', action = ''] = call.action.split(':');
  return { principal: 'worker-instance', service, action, parameters: call.parameters, flow: call.caller };
}

/** Every call a worker of `config` makes with its role in `env`, at boot, while serving, at retire. */
export function workerAwsCalls(
  config: WorkerConfig,
  env: Environment,
  playbookBucket: string,
  playbookKey: string,
): AwsCall[] {
  const world = {
    ...env,
    instanceId: INSTANCE,
    logGroupName: workerLogGroupName(config),
    workerKeyParameter: config.workerKeyParameter,
    playbookBucket,
    playbookKey,
  };
  return workerCalls(world, { buildsUseInstanceRole: config.buildsUseInstanceRole }).map(asAwsCall);
}

/** The ECR pulls a build would make through the role. */
export const ecrPulls = (env: Environment): AwsCall[] => ecrPullCalls(env).map(asAwsCall);
