import {
  AutoScalingClient,
  DescribeAutoScalingGroupsCommand,
  DescribeAutoScalingInstancesCommand,
  DetachInstancesCommand,
  SetInstanceHealthCommand,
  UpdateAutoScalingGroupCommand,
} from '@aws-sdk/client-auto-scaling';
import * as ec2Module from '@aws-sdk/client-ec2';
import {
  CreateTagsCommand,
  DeleteTagsCommand,
  DescribeInstancesCommand,
  DescribeTagsCommand,
  EC2Client,
} from '@aws-sdk/client-ec2';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { SSMClient } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import { handler as deadlineHandler } from '../../functions/lifecycle-deadline/handler';
import events from '../fixtures/events/lifecycle.json';
import { type LambdaHandler, runStateMachine } from './asl-harness';
import {
  type AnyStub,
  type Fake,
  type FakeInstance,
  FakeLifecycleActions,
  FakeRunCommand,
  forward,
  forwardToMoto,
} from './lifecycle-fakes';
import { STACK, stackSubstitutions } from './stack-names';

export const DEADLINE_ARN = 'arn:aws:lambda:eu-west-1:123456789012:function:lifecycle-deadline';
export const TOPIC_ARN = STACK.topicArn;
/** What AWS names at deploy, which the world gives: the storm guard acts on the group's template. */
const LAUNCH_DEFAULTS = { LaunchTemplateId: 'lt-0000000000000000a' };

/** Everything a lifecycle state machine talks to: moto for EC2 and Auto Scaling where it can, fakes elsewhere. */
export interface LifecycleWorld {
  autoscaling: AnyStub;
  ec2: AnyStub;
  ssm: AnyStub;
  sns: AnyStub;
  actions: FakeLifecycleActions;
  /** The call `CommandClass` makes to moto, past the mocks. */
  viaMoto(CommandClass: new (input: never) => unknown): (input: unknown) => Promise<unknown>;
  restore(): void;
}

/**
 * `CommandClass` fails `times` times with `error`, then does `then`. Declared last, it takes over
 * from the earlier behaviours of that command.
 */
export function failFirst(
  stub: AnyStub,
  CommandClass: new (input: never) => unknown,
  error: Error,
  then: Fake,
  times = 1,
): void {
  let behaviour = stub.on(CommandClass as never).rejectsOnce(error);
  for (let i = 1; i < times; i += 1) behaviour = behaviour.rejectsOnce(error);
  behaviour.callsFake(then);
}

const originalAutoScalingSend = AutoScalingClient.prototype.send as never;
const originalEc2Send = EC2Client.prototype.send as never;
const ec2Commands = ec2Module as Record<string, unknown>;

export function lifecycleWorld(): LifecycleWorld {
  const realAutoScaling = new AutoScalingClient({});
  const realEc2 = new EC2Client({});
  const autoscaling = mockClient(AutoScalingClient) as unknown as AnyStub;
  const ec2 = mockClient(EC2Client) as unknown as AnyStub;
  const ssm = mockClient(SSMClient) as unknown as AnyStub;
  const sns = mockClient(SNSClient) as unknown as AnyStub;
  forwardToMoto(autoscaling, originalAutoScalingSend, realAutoScaling, [
    DetachInstancesCommand,
    DescribeAutoScalingInstancesCommand,
    SetInstanceHealthCommand,
    DescribeAutoScalingGroupsCommand,
    UpdateAutoScalingGroupCommand,
  ]);
  forwardToMoto(ec2, originalEc2Send, realEc2, [
    DescribeInstancesCommand,
    DescribeTagsCommand,
    CreateTagsCommand,
    DeleteTagsCommand,
  ]);
  sns.on(PublishCommand as never).resolves({ MessageId: 'message-1' } as never);
  const actions = new FakeLifecycleActions();
  actions.install(autoscaling);
  return {
    autoscaling,
    ec2,
    ssm,
    sns,
    actions,
    viaMoto(CommandClass) {
      const isEc2 = Object.hasOwn(ec2Commands, CommandClass.name);
      return isEc2
        ? forward(originalEc2Send, realEc2, CommandClass)
        : forward(originalAutoScalingSend, realAutoScaling, CommandClass);
    },
    restore() {
      for (const stub of [autoscaling, ec2, ssm, sns]) stub.restore();
    },
  };
}

export function installAgent(world: LifecycleWorld, instance: FakeInstance): FakeRunCommand {
  const agent = new FakeRunCommand(instance);
  agent.install(world.ssm);
  return agent;
}

export type LifecycleEventName =
  | 'launch'
  | 'terminate'
  | 'terminateWarmPool'
  | 'terminateFromWarmPool'
  | 'terminateRootVolume';

/** A lifecycle event of the fixtures, for this group, hook, instance and token. */
export function lifecycleEvent(
  name: LifecycleEventName,
  target: { groupName: string; hookName: string; instanceId: string; token: string; time?: string },
) {
  const event = structuredClone(events[name]) as { time: string; detail: Record<string, string> };
  event.detail.AutoScalingGroupName = target.groupName;
  event.detail.LifecycleHookName = target.hookName;
  event.detail.EC2InstanceId = target.instanceId;
  event.detail.LifecycleActionToken = target.token;
  if (target.time) event.time = target.time;
  return event;
}

/** A clock that starts at `from` and moves `stepSeconds` on at each read: a Wait loop reaches any deadline. */
export function steppingClock(from: string, stepSeconds: number): () => Date {
  let now = Date.parse(from);
  return () => {
    now += stepSeconds * 1000;
    return new Date(now);
  };
}

export async function runLifecycle(
  name: 'instance-launch' | 'instance-drain',
  event: unknown,
  options: { substitutions: Record<string, string>; clock?: () => Date },
) {
  // The launch gate's storm guard acts on the group's launch template and counts per stack.
  const launch = name === 'instance-launch' ? LAUNCH_DEFAULTS : {};
  return runStateMachine(name, event, {
    substitutions: {
      ...stackSubstitutions(name),
      DeadlineFunctionArn: DEADLINE_ARN,
      ...launch,
      ...options.substitutions,
    },
    lambdas: { [DEADLINE_ARN]: deadlineHandler as LambdaHandler },
    clock: options.clock,
  });
}
