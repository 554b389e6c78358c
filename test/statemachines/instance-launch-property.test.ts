import fc from 'fast-check';
import { openLaunchGate } from '../support/launch-gate';
import { type BootStatus, fakeInstance } from '../support/lifecycle-fakes';
import { installAgent } from '../support/lifecycle-run';
import { type Moto, startMoto } from '../support/moto';
import { resetSdkClients } from '../support/sdk-adapter';

let moto: Moto;
beforeAll(async () => {
  moto = await startMoto();
  resetSdkClients();
});
afterAll(async () => moto.stop());

const answer = fc.constantFrom<BootStatus | undefined>(
  undefined,
  { status: 'running', step: 'packages' },
  { status: 'unreadable' },
  { status: 'ok' },
  { status: 'failed', step: 'worker', message: 'exit 1' },
);

describe('instance-launch, any boot story', () => {
  test('decides once: CONTINUE on the first ok, keep or ABANDON on the first failure or at the deadline', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(answer, { minLength: 0, maxLength: 60 }),
        fc.nat({ max: 6 }),
        fc.boolean(),
        fc.boolean(),
        async (answers, unregisteredPolls, tag, file) => {
          const gate = await openLaunchGate(tag ? { keeprunning: 'true' } : {});
          try {
            installAgent(
              gate.world,
              fakeInstance({
                registered: (attempt) => attempt > unregisteredPolls,
                // past the story, the boot stays where it was
                bootStatus: (check) => answers[Math.min(check, answers.length) - 1] ?? { status: 'running' },
                keeprunningFile: file,
              }),
            );
            const run = await gate.run();
            expect(run.status).toBe('SUCCEEDED');
            // The clock moves 10 s per read: the 900 s deadline leaves ~89 polls, more than any story
            // here, so the first decisive answer is always seen before it.
            const decisive = answers.find((a) => a?.status === 'ok' || a?.status === 'failed');
            const keep = tag || file;
            const expected = decisive?.status === 'ok' ? 'healthy' : keep ? 'kept' : 'abandoned';
            expect(run.output).toMatchObject({ outcome: expected });
            expect(gate.world.actions.resultOf(gate.token)).toBe(
              expected === 'abandoned' ? 'ABANDON' : 'CONTINUE',
            );
            if (!decisive) expect(run.statesEntered).toContain('TooLate');
          } finally {
            gate.world.restore();
          }
        },
      ),
      { numRuns: 25 },
    );
  });
});
