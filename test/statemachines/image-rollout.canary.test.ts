import { DescribeAutoScalingGroupsCommand } from '@aws-sdk/client-auto-scaling';
import { DescribeTagsCommand } from '@aws-sdk/client-ec2';
import type { ImagebuilderClient } from '@aws-sdk/client-imagebuilder';
import type { AwsClientStub } from 'aws-sdk-client-mock';
import { type Execution, type LambdaHandler, runStateMachine } from '../support/asl-harness';
import { type Moto, startMoto } from '../support/moto';
import { resetSdkClients } from '../support/sdk-adapter';
import {
  ALARMS,
  buildWorld,
  GROUP,
  mockImageBuilder,
  RETENTION_ARN,
  RETENTION_ENV,
  RefreshService,
  STACK,
  setAlarm,
  type World,
} from './rollout-world';

let moto: Moto;
let retention: LambdaHandler;
beforeAll(async () => {
  moto = await startMoto();
  resetSdkClients();
  Object.assign(process.env, RETENTION_ENV);
  retention = (await import('../../functions/ami-retention/handler')).handler as LambdaHandler;
});
afterAll(async () => moto.stop());

let world: World;
let refreshes: RefreshService;
let imagebuilder: AwsClientStub<ImagebuilderClient>;
beforeEach(async () => {
  await moto.reset();
  world = await buildWorld(4);
  refreshes = new RefreshService();
  imagebuilder = mockImageBuilder(world.newAmi);
});
afterEach(() => {
  refreshes.mock.restore();
  imagebuilder.restore();
});

const run = (substitutions: Record<string, string> = {}) =>
  runStateMachine('image-rollout', world.event, {
    substitutions: { ...world.substitutions, ...substitutions },
    lambdas: { [RETENTION_ARN]: retention },
    executionName: 'rollout-canary',
  });

const notification = (execution: Execution) => {
  const published = execution.sdkCalls.filter((c) => c.action === 'publish');
  expect(published).toHaveLength(1);
  return published[0]?.parameters as { Subject: string; Message: string };
};

async function badMark(ami: string): Promise<string | undefined> {
  const { Tags = [] } = await world.ec2.send(
    new DescribeTagsCommand({
      Filters: [
        { Name: 'resource-id', Values: [ami] },
        { Name: 'key', Values: ['external-worker:bad'] },
      ],
    }),
  );
  return Tags[0]?.Value;
}

async function groupVersion(): Promise<string | undefined> {
  const { AutoScalingGroups = [] } = await world.asg.send(
    new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [GROUP] }),
  );
  return AutoScalingGroups[0]?.LaunchTemplate?.Version;
}

describe('image-rollout: canary, bake and alarm rollback', () => {
  test('canary passes its checkpoint and bake, the rest follows: rolled out', async () => {
    // Checkpoint reached (10 %), its CheckpointDelay, the rest, BakeTime at the end.
    refreshes.script = ['InProgress', 'InProgress', 'InProgress', 'Baking', 'Successful'];
    const execution = await run();
    expect([execution.status, execution.error]).toEqual(['SUCCEEDED', undefined]);
    expect(refreshes.refused).toEqual([]);
    expect(refreshes.started[0]?.Preferences).toMatchObject({
      CheckpointPercentages: [10, 100],
      CheckpointDelay: 600,
      BakeTime: 600,
      AutoRollback: true,
      AlarmSpecification: { Alarms: [ALARMS.launchesAbandoned, ALARMS.fleetBelowDesired] },
    });
    expect(execution.statesEntered).toContain('ReadAlarmsBeforeStart');
    expect(await groupVersion()).toBe('2');
    expect(await badMark(world.newAmi)).toBeUndefined();
    expect(notification(execution).Subject).toBe(`${STACK}: new AMI rolled out`);
  });

  test('canary fails before its checkpoint: rolled back, AMI bad, the notification names the canary', async () => {
    refreshes.script = ['InProgress', 'RollbackInProgress', 'RollbackSuccessful'];
    refreshes.failure = {
      PercentageComplete: 0,
      StatusReason: 'Instance refresh failed: 1 instance failed to launch.',
      RollbackDetails: { RollbackReason: 'Instance refresh failed', PercentageCompleteOnRollback: 0 },
    };
    const execution = await run();
    expect([execution.status, execution.error]).toEqual(['FAILED', 'RolloutFailed']);
    expect(await badMark(world.newAmi)).toBe('true');
    expect(await groupVersion()).toBe('1');
    const { Subject, Message } = notification(execution);
    expect(Subject).toBe(`${STACK}: rollout failed, fleet rolled back`);
    expect(Message).toContain(
      'Failed check: the canary (10 % of the group, at least one instance) did not pass the launch gate and its bake',
    );
    expect(execution.lambdaCalls).toEqual([]);
  });

  test('an alarm fires during the refresh: Auto Scaling rolls back, the notification names the alarm', async () => {
    refreshes.script = ['InProgress', 'InProgress', 'InProgress', 'Successful'];
    // The first describe is the rollout's check for other refreshes; the third is its second poll.
    refreshes.during.set(3, () =>
      setAlarm(ALARMS.launchesAbandoned, 'ALARM', 'Threshold Crossed: 1 datapoint [1.0] >= 1.0'),
    );
    const execution = await run();
    expect([execution.status, execution.error]).toEqual(['FAILED', 'RolloutFailed']);
    expect(await badMark(world.newAmi)).toBe('true');
    expect(await groupVersion()).toBe('1');
    expect(notification(execution).Message).toContain(
      `Failed check: the alarm ${ALARMS.launchesAbandoned} went into ALARM: Threshold Crossed: 1 datapoint [1.0] >= 1.0`,
    );
  });

  test("a refresh failing past the canary gives the refresh's status reason", async () => {
    refreshes.script = ['InProgress', 'Failed'];
    refreshes.failure = { PercentageComplete: 50, StatusReason: 'Capacity not available in eu-west-1a.' };
    const execution = await run();
    expect(execution.error).toBe('RolloutFailed');
    expect(notification(execution).Message).toContain(
      'Failed check: the instance refresh itself (Failed): Capacity not available in eu-west-1a.',
    );
  });

  test('an alarm already in ALARM: the rollout waits for a quiet fleet, never marks the AMI bad for it', async () => {
    await setAlarm(ALARMS.fleetBelowDesired, 'ALARM', 'Threshold Crossed: 5 datapoints');
    refreshes.during.set(2, () => setAlarm(ALARMS.fleetBelowDesired, 'OK', 'Threshold no longer crossed'));
    const execution = await run();
    expect([execution.status, execution.error]).toEqual(['SUCCEEDED', undefined]);
    expect(execution.statesEntered.filter((s) => s === 'WaitForQuietAlarms')).toHaveLength(1);
    expect(refreshes.started).toHaveLength(1);
    expect(await badMark(world.newAmi)).toBeUndefined();
  });

  test('a request Auto Scaling would refuse fails the rollout here too (canary share of 100)', async () => {
    const execution = await run({ RolloutCanaryPercentage: '100' });
    expect(execution.error).toBe('RolloutError');
    // Refused as a ValidationError, Auto Scaling's base exception, which is retried like throttling.
    expect([...new Set(refreshes.refused)]).toEqual([
      'CheckpointPercentages must be unique and in ascending order',
    ]);
    expect(refreshes.started).toEqual([]);
  });
});
