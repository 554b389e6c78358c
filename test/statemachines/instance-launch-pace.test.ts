import * as fs from 'node:fs';
import * as path from 'node:path';
import { OUT_OF_WARM_POOL, openLaunchGate } from '../support/launch-gate';
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

/** The gate on an event of the given origin and destination, ready at the third look (prepared, for the pool). */
async function gateFrom(origin: string | undefined, destination: string | undefined) {
  const gate = await openLaunchGate();
  world = gate.world;
  const detail = gate.event.detail as Record<string, string | undefined>;
  detail.Origin = origin;
  detail.Destination = destination;
  if (origin === undefined) delete detail.Origin;
  if (destination === undefined) delete detail.Destination;
  const agent = installAgent(
    world,
    fakeInstance({
      bootStatus: (check) =>
        check < 3
          ? { status: 'running', step: 'boot-play' }
          : { status: destination === 'WarmPool' ? 'prepared' : 'ok' },
    }),
  );
  const run = await gate.run();
  expect(run.status).toBe('SUCCEEDED');
  expect(world.actions.resultOf(gate.token)).toBe('CONTINUE');
  expect(agent.commands).toHaveLength(3);
  // The first wait, then per look: the answer's wait, and the poll's until the third look.
  return { run, waits: run.waits.map((w) => `${w.state} ${w.seconds}`) };
}

describe('instance-launch: when the gate looks', () => {
  test('an instance leaving the warm pool is first looked at after 30 s, then every 5 s, its answer read after 2 s', async () => {
    const { run, waits } = await gateFrom('WarmPool', 'AutoScalingGroup');
    expect(waits).toEqual([
      'LetItBoot 30',
      'WaitForAnswer 2',
      'WaitToPoll 5',
      'WaitForAnswer 2',
      'WaitToPoll 5',
      'WaitForAnswer 2',
    ]);
    expect(run.statesEntered).toContain('OutOfWarmPool');
  });

  test.each([
    ['a first launch', 'EC2', 'AutoScalingGroup'],
    ['an event without origin and destination', undefined, undefined],
    // A launch into the warm pool waits for its preparation: a boot play's time.
    ['a launch into the warm pool', 'EC2', 'WarmPool'],
  ])('%s is first looked at after 60 s, then every 25 s', async (_, origin, destination) => {
    const { run, waits } = await gateFrom(origin, destination);
    expect(waits).toEqual([
      'LetItBoot 60',
      'WaitForAnswer 5',
      'WaitToPoll 25',
      'WaitForAnswer 5',
      'WaitToPoll 25',
      'WaitForAnswer 5',
    ]);
    expect(run.statesEntered).not.toContain('OutOfWarmPool');
  });

  test('the waits read the pace: no fixed number of seconds left in them', () => {
    const asl = JSON.parse(
      fs.readFileSync(path.join(__dirname, '../../statemachines/instance-launch.asl.json'), 'utf8'),
    ) as { States: Record<string, { Seconds?: number; SecondsPath?: string }> };
    expect(asl.States.LetItBoot).toMatchObject({ SecondsPath: '$.transition.firstSeconds' });
    expect(asl.States.WaitToPoll).toMatchObject({ SecondsPath: '$.transition.pollSeconds' });
    expect(asl.States.WaitForAnswer).toMatchObject({ SecondsPath: '$.transition.answerSeconds' });
    for (const name of ['LetItBoot', 'WaitToPoll', 'WaitForAnswer'])
      expect(asl.States[name]?.Seconds).toBeUndefined();
  });
});

describe('instance-launch: a command not done at its answer', () => {
  async function warmGate(inProgress: (command: number, read: number) => boolean) {
    const gate = await openLaunchGate({}, OUT_OF_WARM_POOL);
    world = gate.world;
    const agent = installAgent(world, fakeInstance({ inProgress }));
    const run = await gate.run();
    expect(run.output).toMatchObject({ outcome: 'healthy' });
    expect(world.actions.resultOf(gate.token)).toBe('CONTINUE');
    return { agent, run, waits: run.waits.map((w) => `${w.state} ${w.seconds}`) };
  }

  test("is read again after the answer's wait, not sent anew", async () => {
    const { agent, run, waits } = await warmGate((_, read) => read === 1);
    expect(agent.commands).toHaveLength(1);
    expect(waits).toEqual(['LetItBoot 30', 'WaitForAnswer 2', 'WaitForAnswer 2']);
    expect(run.statesEntered.filter((s) => s === 'ReadAgain')).toHaveLength(1);
    expect(run.statesEntered).not.toContain('CountPoll');
  });

  test('still not done at its third read: a new look, whose command is read in turn', async () => {
    const { agent, run, waits } = await warmGate((command) => command === 1);
    expect(agent.commands).toHaveLength(2);
    expect(waits).toEqual([
      'LetItBoot 30',
      'WaitForAnswer 2',
      'WaitForAnswer 2',
      'WaitForAnswer 2',
      'WaitToPoll 5',
      'WaitForAnswer 2',
    ]);
    expect(run.statesEntered.filter((s) => s === 'ReadAgain')).toHaveLength(2);
  });
});
