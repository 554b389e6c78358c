import {
  ActiveInstanceRefreshNotFoundFault,
  AutoScalingClient,
  CancelInstanceRefreshCommand,
} from '@aws-sdk/client-auto-scaling';
import {
  CloudFormationClient,
  DeleteStackCommand,
  DescribeStacksCommand,
} from '@aws-sdk/client-cloudformation';
import { DeleteImageCommand, ImagebuilderClient } from '@aws-sdk/client-imagebuilder';
import { DescribeInstanceInformationCommand } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import * as destroyWorld from '../test/statemachines/destroy-world';
import * as rolloutWorld from '../test/statemachines/rollout-world';
import { type LambdaHandler, runStateMachine } from '../test/support/asl-harness';
import { type FakeInstance, fakeInstance } from '../test/support/lifecycle-fakes';
import {
  installAgent,
  type LifecycleEventName,
  lifecycleEvent,
  lifecycleWorld,
  runLifecycle,
  steppingClock,
} from '../test/support/lifecycle-run';
import { startMoto } from '../test/support/moto';
import { createGroup } from '../test/support/moto-fleet';
import { resetSdkClients } from '../test/support/sdk-adapter';

/**
 * State transitions per flow, counted by the local harness (every state entered is a billed
 * transition) against moto, with the calls moto lacks mocked at the client.
 */

export interface FlowCount {
  flow: string;
  transitions: number;
}

export interface TransitionResults {
  flows: FlowCount[];
  launch: number;
  launchAfterPolls: number;
  drain: number;
  rolloutFixed: number;
  rolloutPerMinute: number;
  destroy: number;
  lambdaPerLaunch: number;
  lambdaPerDrain: number;
  lambdaPerRollout: number;
}

const EVENT_TIME = '2026-01-10T08:00:00.000Z';
const EXTRA_REFRESH_POLLS = 10;
let groups = 0;

type Run = Awaited<ReturnType<typeof runStateMachine>>;

function transitions(flow: string, run: Run): number {
  if (process.env.BENCH_TRACE) process.stderr.write(`${flow}: ${run.statesEntered.join(' > ')}\n`);
  if (run.status !== 'SUCCEEDED')
    throw new Error(`${flow}: ${run.status} ${run.error ?? ''} ${run.cause ?? ''}`);
  return run.statesEntered.length;
}

/** One worker in a group of its own, its lifecycle action open, an agent answering as `instance`. */
async function lifecycle(kind: LifecycleEventName, instance: FakeInstance): Promise<Run> {
  groups += 1;
  const groupName = `bench-${groups}`;
  const {
    instanceIds: [instanceId = ''],
  } = await createGroup({ groupName, desired: 1, tags: { 'external-worker:stack': 'bench' } });
  const world = lifecycleWorld();
  try {
    const hookName = kind === 'launch' ? 'bench-launch' : 'bench-terminate';
    const token = `token-${groups}`;
    world.actions.open({ groupName, hookName, instanceId, token });
    world.ssm
      .on(DescribeInstanceInformationCommand as never)
      .resolves({ InstanceInformationList: [{ InstanceId: instanceId, PingStatus: 'Online' }] } as never);
    installAgent(world, instance);
    const event = lifecycleEvent(kind, { groupName, hookName, instanceId, token, time: EVENT_TIME });
    const substitutions: Record<string, string> =
      kind === 'launch'
        ? { GroupName: groupName, LaunchHookName: hookName, BootTimeoutSeconds: '900' }
        : { GroupName: groupName, TerminateHookName: hookName, DrainTimeoutSeconds: '1800' };
    return await runLifecycle(kind === 'launch' ? 'instance-launch' : 'instance-drain', event, {
      substitutions,
      clock: steppingClock(EVENT_TIME, 10),
    });
  } finally {
    world.restore();
  }
}

/** A successful rollout whose instance refresh is still in progress at `inProgressPolls` polls. */
async function rollout(retention: LambdaHandler, inProgressPolls: number): Promise<Run> {
  const world = await rolloutWorld.buildWorld(2);
  const refreshes = new rolloutWorld.RefreshService();
  refreshes.script = [...Array<string>(inProgressPolls).fill('InProgress'), 'Successful'];
  const imagebuilder = rolloutWorld.mockImageBuilder(world.newAmi);
  try {
    return await runStateMachine('image-rollout', world.event, {
      substitutions: world.substitutions,
      lambdas: { [rolloutWorld.RETENTION_ARN]: retention },
      executionName: `rollout-bench-${inProgressPolls}`,
    });
  } finally {
    refreshes.mock.restore();
    imagebuilder.restore();
  }
}

async function destroy(): Promise<Run> {
  const world = await destroyWorld.buildWorld();
  const cloudformation = mockClient(CloudFormationClient);
  const imagebuilder = mockClient(ImagebuilderClient);
  const autoscaling = mockClient(AutoScalingClient);
  autoscaling.send.callThrough();
  cloudformation.on(DescribeStacksCommand).resolves({
    Stacks: [
      {
        StackName: destroyWorld.STACK,
        StackStatus: 'UPDATE_COMPLETE',
        CreationTime: new Date(),
        RoleARN: 'arn:aws:iam::123456789012:role/cdk-hnb659fds-cfn-exec-role-123456789012-eu-west-1',
      },
    ],
  });
  cloudformation.on(DeleteStackCommand).resolves({});
  imagebuilder.on(DeleteImageCommand).resolves({});
  autoscaling.on(CancelInstanceRefreshCommand).rejects(
    new ActiveInstanceRefreshNotFoundFault({
      message: 'No in progress or pending Instance Refresh found',
      $metadata: {},
    }),
  );
  try {
    return await runStateMachine(
      'destroy',
      { confirm: destroyWorld.STACK },
      { substitutions: world.substitutions },
    );
  } finally {
    for (const stub of [cloudformation, imagebuilder, autoscaling]) stub.restore();
  }
}

export async function benchTransitions(): Promise<TransitionResults> {
  const savedEnv = { ...process.env };
  const moto = await startMoto();
  try {
    resetSdkClients();
    Object.assign(process.env, rolloutWorld.RETENTION_ENV);
    // The handler makes its clients when loaded: after moto is up.
    const retention = (await import('../functions/ami-retention/handler')).handler as LambdaHandler;

    const launchRun = await lifecycle('launch', fakeInstance());
    const launchAtOnce = transitions('launch', launchRun);
    // A baked worker boots in about 90 s: the gate's first poll (after a minute) finds it still
    // running, the next one healthy. That is the launch the budget is about.
    const launch = transitions(
      'launch',
      await lifecycle(
        'launch',
        fakeInstance({
          bootStatus: (check: number) =>
            check <= 1 ? { status: 'running', step: 'worker' } : { status: 'ok' },
        }),
      ),
    );
    const pending = (check: number) =>
      check <= 3 ? { status: 'running', step: 'worker' } : { status: 'ok' };
    const launchAfterPolls = transitions(
      'launch',
      await lifecycle('launch', fakeInstance({ bootStatus: pending })),
    );
    // A worker whose boot fails: abandoned, its failure counted on its AMI by the storm guard.
    const failedBoot = transitions(
      'launch',
      await lifecycle(
        'launch',
        fakeInstance({ bootStatus: () => ({ status: 'failed', step: 'worker', message: 'key refused' }) }),
      ),
    );
    const drainRun = await lifecycle('terminate', fakeInstance({ workerRunning: (n) => n <= 2 }));
    const drain = transitions('drain', drainRun);

    await moto.reset();
    const quickRun = await rollout(retention, 0);
    const quick = transitions('rollout', quickRun);
    await moto.reset();
    const slow = transitions('rollout', await rollout(retention, EXTRA_REFRESH_POLLS));
    // The rollout polls its refresh once a minute (WaitRefresh: 60 s).
    const rolloutPerMinute = (slow - quick) / EXTRA_REFRESH_POLLS;
    const rolloutFixed = quick - rolloutPerMinute;

    await moto.reset();
    const destroyed = transitions('destroy', await destroy());
    return {
      launch,
      launchAfterPolls,
      drain,
      rolloutFixed,
      rolloutPerMinute,
      destroy: destroyed,
      lambdaPerLaunch: launchRun.lambdaCalls.length,
      lambdaPerDrain: drainRun.lambdaCalls.length,
      lambdaPerRollout: quickRun.lambdaCalls.length,
      flows: [
        { flow: 'instance-launch: boot of ~90 s, healthy at the second poll', transitions: launch },
        { flow: 'instance-launch: healthy at the first poll', transitions: launchAtOnce },
        { flow: 'instance-launch: healthy after 3 pending polls', transitions: launchAfterPolls },
        { flow: 'instance-launch: boot failed, abandoned and counted', transitions: failedBoot },
        { flow: 'instance-drain: worker exits after 2 polls', transitions: drain },
        { flow: 'image-rollout: refresh done at the first poll', transitions: quick },
        { flow: `image-rollout: refresh done after ${EXTRA_REFRESH_POLLS + 1} polls`, transitions: slow },
        { flow: 'image-rollout: fixed part', transitions: rolloutFixed },
        { flow: 'image-rollout: per minute of refresh', transitions: rolloutPerMinute },
        { flow: 'destroy: 2 workers, 1 kept instance, 2 AMIs', transitions: destroyed },
      ],
    };
  } finally {
    await moto.stop();
    process.env = savedEnv;
  }
}
