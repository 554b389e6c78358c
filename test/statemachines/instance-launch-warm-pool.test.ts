import { DetachInstancesCommand } from '@aws-sdk/client-auto-scaling';
import { DescribeTagsCommand } from '@aws-sdk/client-ec2';
import { BOOT_FAILURE_TAG } from '../../infra/statemachines/boot-storm';
import {
  INTO_WARM_POOL,
  LAUNCH_EVENT_TIME,
  OUT_OF_WARM_POOL,
  openLaunchGate,
  publishedOn,
} from '../support/launch-gate';
import { fakeInstance } from '../support/lifecycle-fakes';
import { installAgent, type LifecycleWorld } from '../support/lifecycle-run';
import { type Moto, startMoto } from '../support/moto';
import { resetSdkClients } from '../support/sdk-adapter';

let moto: Moto;
let world: LifecycleWorld;

beforeAll(async () => {
  moto = await startMoto();
  resetSdkClients();
});
afterAll(async () => moto.stop());
afterEach(() => world?.restore());

async function launching(route?: typeof INTO_WARM_POOL, tags: Record<string, string> = {}) {
  const gate = await openLaunchGate(tags, route);
  world = gate.world;
  return gate;
}

async function amiTagKeys(imageId: string): Promise<string[]> {
  const answer = (await world.viaMoto(DescribeTagsCommand)({
    Filters: [{ Name: 'resource-id', Values: [imageId] }],
  })) as { Tags?: Array<{ Key: string }> };
  return (answer.Tags ?? []).map((tag) => tag.Key);
}

const BEFORE_THE_EVENT = new Date(Date.parse(LAUNCH_EVENT_TIME) - 3_600_000).toISOString();

describe('instance-launch into the warm pool', () => {
  test('prepared: CONTINUE (the group then stops it), and the AMI is not taken as proven', async () => {
    const gate = await launching(INTO_WARM_POOL);
    installAgent(
      world,
      fakeInstance({
        bootStatus: (check) =>
          check < 3 ? { status: 'running', step: 'boot-play' } : { status: 'prepared', step: 'prepared' },
      }),
    );
    const run = await gate.run();
    expect(run.status).toBe('SUCCEEDED');
    expect(run.output).toMatchObject({ outcome: 'prepared', transition: 'prepare' });
    expect(world.actions.resultOf(gate.token)).toBe('CONTINUE');
    expect(publishedOn(world)).toEqual([]);
    expect(run.statesEntered).not.toContain('ReadHealthyImage');
  });

  test('an ok status is not a preparation: its worker registered, so it is abandoned, not stopped', async () => {
    const gate = await launching(INTO_WARM_POOL);
    installAgent(world, fakeInstance({ bootStatus: () => ({ status: 'ok', step: 'done' }) }));
    const run = await gate.run();
    expect(run.output).toMatchObject({ outcome: 'abandoned', transition: 'prepare' });
    expect(world.actions.resultOf(gate.token)).toBe('ABANDON');
    expect(publishedOn(world)[0]?.Message).toContain(
      'the launch gate (prepare): the worker registered while it was to be prepared for the warm pool',
    );
  });

  test.each([
    ['the keeprunning tag', { keeprunning: 'true' }, false],
    ['the keeprunning file', {}, true],
  ])('a failed preparation is counted and replaced, never kept, even with %s', async (_what, tags, file) => {
    const gate = await launching(INTO_WARM_POOL, tags);
    installAgent(
      world,
      fakeInstance({
        keeprunningFile: file,
        bootStatus: () => ({ status: 'failed', step: 'boot-play', message: 'the boot play failed' }),
      }),
    );
    const run = await gate.run();
    expect(run.output).toMatchObject({ outcome: 'abandoned' });
    expect(world.actions.resultOf(gate.token)).toBe('ABANDON');
    expect(world.autoscaling.commandCalls(DetachInstancesCommand as never)).toHaveLength(0);
    expect(await amiTagKeys(gate.imageId)).toContain(`${BOOT_FAILURE_TAG}${gate.instanceId}`);
    expect(publishedOn(world)[0]?.Message).toContain('boot-play');
  });
});

describe('instance-launch out of the warm pool', () => {
  test('the preparation status is not an answer: CONTINUE once the worker is ok', async () => {
    const gate = await launching(OUT_OF_WARM_POOL);
    const agent = installAgent(
      world,
      fakeInstance({
        bootStatus: (check) =>
          check < 3
            ? { status: 'prepared', step: 'prepared', written: BEFORE_THE_EVENT }
            : check < 5
              ? { status: 'running', step: 'worker-registration' }
              : { status: 'ok', step: 'done' },
      }),
    );
    const run = await gate.run();
    expect(run.output).toMatchObject({ outcome: 'healthy', transition: 'enter-service' });
    expect(world.actions.resultOf(gate.token)).toBe('CONTINUE');
    expect(agent.commands).toHaveLength(5);
    // a registered worker proves its AMI, out of the pool as at a cold launch
    expect(run.statesEntered).toContain('ReadHealthyImage');
  });

  test('a reused instance: the ok of its earlier service is no answer; the one written since is', async () => {
    const gate = await launching(OUT_OF_WARM_POOL);
    const agent = installAgent(
      world,
      fakeInstance({
        bootStatus: (check) =>
          check < 4
            ? { status: 'ok', step: 'done', written: BEFORE_THE_EVENT }
            : { status: 'ok', step: 'done' },
      }),
    );
    const run = await gate.run();
    expect(run.output).toMatchObject({ outcome: 'healthy' });
    expect(agent.commands).toHaveLength(4);
  });

  test('only an earlier status until the deadline: ABANDON, never CONTINUE on it', async () => {
    const gate = await launching(OUT_OF_WARM_POOL);
    installAgent(
      world,
      fakeInstance({ bootStatus: () => ({ status: 'ok', step: 'done', written: BEFORE_THE_EVENT }) }),
    );
    const run = await gate.run();
    expect(run.output).toMatchObject({ outcome: 'abandoned', transition: 'enter-service' });
    expect(world.actions.resultOf(gate.token)).toBe('ABANDON');
    expect(publishedOn(world)[0]?.Message).toContain('did not finish before the deadline');
  });

  test('a worker failing to start out of the pool is kept with keeprunning, as at a cold launch', async () => {
    const gate = await launching(OUT_OF_WARM_POOL, { keeprunning: 'true' });
    installAgent(
      world,
      fakeInstance({
        bootStatus: () => ({ status: 'failed', step: 'worker-health', message: 'not healthy' }),
      }),
    );
    const run = await gate.run();
    expect(run.output).toMatchObject({ outcome: 'kept' });
    expect(world.actions.resultOf(gate.token)).toBe('CONTINUE');
  });
});

describe('instance-launch straight into service', () => {
  test('a cold launch is told apart: it waits for ok, whatever the status file time', async () => {
    const gate = await launching({ Origin: 'EC2', Destination: 'AutoScalingGroup' });
    installAgent(world, fakeInstance({ bootStatus: () => ({ status: 'ok', written: BEFORE_THE_EVENT }) }));
    const run = await gate.run();
    expect(run.output).toMatchObject({ outcome: 'healthy', transition: 'launch' });
    expect(world.actions.resultOf(gate.token)).toBe('CONTINUE');
  });

  test('a prepared status at a cold launch is no answer: the deadline abandons it', async () => {
    const gate = await launching();
    installAgent(world, fakeInstance({ bootStatus: () => ({ status: 'prepared', step: 'prepared' }) }));
    const run = await gate.run();
    expect(run.output).toMatchObject({ outcome: 'abandoned', transition: 'launch' });
  });
});
