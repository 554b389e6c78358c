import { openLaunchGate, publishedOn } from '../support/launch-gate';
import { fakeInstance } from '../support/lifecycle-fakes';
import { installAgent, type LifecycleWorld } from '../support/lifecycle-run';
import { type Moto, startMoto } from '../support/moto';
import { resetSdkClients } from '../support/sdk-adapter';

// The boot statuses the boot script writes about the registration (test/ansible/boot.bats makes
// them from the worker log lines of test/fixtures/worker-logs): the gate passes them on unchanged.
const KEY_REFUSED =
  'not registered with the TSA after 600s: worker key refused by the TSA (failed to establish SSH connection with gateway: ssh: handshake failed: ssh: unable to authenticate, attempted methods [none publickey], no supported methods remain)';
const WAITING_FOR_TSA =
  'waiting for the TSA registration: TSA unreachable: dial tcp 203.0.113.10:32223: i/o timeout';

let moto: Moto;
let world: LifecycleWorld;

beforeAll(async () => {
  moto = await startMoto();
  resetSdkClients();
});
afterAll(async () => moto.stop());
afterEach(() => world?.restore());

async function launching() {
  const gate = await openLaunchGate();
  world = gate.world;
  return gate;
}

describe('instance-launch: ready means registered', () => {
  test('registered: CONTINUE', async () => {
    const gate = await launching();
    installAgent(
      world,
      fakeInstance({
        bootStatus: (check) =>
          check < 4
            ? { status: 'running', step: 'worker-registration', message: WAITING_FOR_TSA }
            : { status: 'ok', step: 'done', message: 'worker registered with the TSA' },
      }),
    );
    const run = await gate.run();
    expect(run.output).toMatchObject({ outcome: 'healthy', boot: { status: 'ok' } });
    expect(world.actions.resultOf(gate.token)).toBe('CONTINUE');
  });

  test('not registered by the boot script: ABANDON, the cause in the notification as written', async () => {
    const gate = await launching();
    installAgent(
      world,
      fakeInstance({
        bootStatus: () => ({ status: 'failed', step: 'worker-registration', message: KEY_REFUSED }),
      }),
    );
    const run = await gate.run();
    expect(run.output).toMatchObject({ outcome: 'abandoned' });
    expect(world.actions.resultOf(gate.token)).toBe('ABANDON');
    const message = publishedOn(world)[0]?.Message ?? '';
    expect(message).toContain('worker-registration');
    expect(message).toContain(KEY_REFUSED);
  });

  test('still waiting at the gate deadline: ABANDON, the last cause the boot script knew in the notification', async () => {
    const gate = await launching();
    installAgent(
      world,
      fakeInstance({
        bootStatus: () => ({ status: 'running', step: 'worker-registration', message: WAITING_FOR_TSA }),
      }),
    );
    const run = await gate.run();
    expect(run.output).toMatchObject({ outcome: 'abandoned' });
    const message = publishedOn(world)[0]?.Message ?? '';
    expect(message).toContain('did not finish before the deadline');
    expect(message).toContain(WAITING_FOR_TSA);
  });
});
