import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  type Asl,
  AslShapeError,
  BOOT_STEPS,
  type BootPhases,
  BootPhasesError,
  checkScriptSteps,
  firstTick,
  gateCompletes,
  PHASES_FORMAT,
  readBootPhases,
  readDrainWaits,
  readGateWaits,
  replacement,
  scriptDefault,
  type Times,
  workerSteps,
} from '../../bench/replacement-model';

const ROOT = path.join(__dirname, '../..');
const FILE = 'bench/boot-phases.json';

const phasesRecord = (seconds: Partial<Record<string, number>> = {}) => ({
  format: PHASES_FORMAT,
  recorded: '2026-12-02T06:00:00Z',
  environment: {
    where: 'here',
    root: 'Debian 12.8',
    host: 'Linux',
    ansible: 'ansible 2.17',
    standIns: 'all',
  },
  phases: BOOT_STEPS.map((step) => ({
    step,
    seconds: seconds[step] ?? 0.5,
    measured: step.startsWith('worker-') && step !== 'worker-key' ? 'stand-in' : 'converge',
  })),
});

describe('the phases file', () => {
  test('a record of every step in order is read as it is', () => {
    const record = phasesRecord({ 'boot-play': 42.25 });
    expect(readBootPhases(JSON.stringify(record), FILE)).toEqual(record);
  });

  test('missing: the error names the file and how to record it', () => {
    expect(() => readBootPhases(undefined, FILE)).toThrow(
      new BootPhasesError(`${FILE} is missing: run \`npm run test:image\` (as root) to record it again`),
    );
  });

  test.each([
    [
      'another format',
      { ...phasesRecord(), format: 'external-worker boot phases v0' },
      /has format .*v0.*stale/,
    ],
    ['no format', { phases: [] }, /has format undefined, not .* \(stale\)/],
    ['an unknown key', { ...phasesRecord(), extra: 1 }, /not a phases record/],
    ['a negative duration', phasesRecord({ metadata: -1 }), /not a phases record/],
    [
      'a step missing',
      { ...phasesRecord(), phases: phasesRecord().phases.filter((p) => p.step !== 'boot-play') },
      /holds the steps settings, metadata, worker-key, worker-start/,
    ],
  ])('%s: refused, the remedy said', (_, record, message) => {
    expect(() => readBootPhases(JSON.stringify(record), FILE)).toThrow(message);
    expect(() => readBootPhases(JSON.stringify(record), FILE)).toThrow(/npm run test:image/);
  });

  test('not JSON: refused', () => {
    expect(() => readBootPhases('{', FILE)).toThrow(/is not JSON/);
  });

  test('the committed file is a current record', () => {
    const text = fs.readFileSync(path.join(ROOT, FILE), 'utf8');
    expect(readBootPhases(text, FILE).phases.map((p) => p.step)).toEqual([...BOOT_STEPS]);
  });
});

const chain = (first: object, poll: object, extra: Record<string, object> = {}, pace?: object): Asl => ({
  States: {
    Init: { Type: 'Pass', Parameters: pace ? { pace } : {}, Next: 'LetItBoot' },
    LetItBoot: { Type: 'Wait', ...first, Next: 'SendCheck' },
    SendCheck: { Type: 'Task', Next: 'WaitForAnswer' },
    WaitForAnswer: { Type: 'Wait', Seconds: 4, Next: 'GetAnswer' },
    GetAnswer: { Type: 'Task', Next: 'Answered?' },
    WaitToPoll: { Type: 'Wait', ...poll, Next: 'SendCheck' },
    ...extra,
  },
});

describe("the launch gate's waits", () => {
  test('fixed waits: the same for a first boot and a warm start', () => {
    const waits = readGateWaits(chain({ Seconds: 30 }, { Seconds: 12 }));
    expect(waits).toEqual({
      cold: { firstSeconds: 30, pollSeconds: 12, answerSeconds: 4 },
      warm: { firstSeconds: 30, pollSeconds: 12, answerSeconds: 4 },
      reads: 1,
    });
  });

  test("paced waits: Init's pace for a first boot, WarmPace's for a warm start", () => {
    const asl = chain(
      { SecondsPath: '$.pace.firstSeconds' },
      { SecondsPath: '$.pace.pollSeconds' },
      { WarmPace: { Type: 'Pass', Result: { firstSeconds: 7, pollSeconds: 3 } } },
      { firstSeconds: 70, pollSeconds: 33 },
    );
    expect(readGateWaits(asl)).toMatchObject({
      cold: { firstSeconds: 70, pollSeconds: 33 },
      warm: { firstSeconds: 7, pollSeconds: 3 },
    });
  });

  test('paced by transition: IntoService for a first boot, OutOfWarmPool for a warm start', () => {
    const asl = chain(
      { SecondsPath: '$.transition.firstSeconds' },
      { SecondsPath: '$.transition.pollSeconds' },
      {
        IntoService: { Type: 'Pass', Result: { kind: 'launch', firstSeconds: 61, pollSeconds: 26 } },
        OutOfWarmPool: { Type: 'Pass', Result: { kind: 'enter-service', firstSeconds: 9, pollSeconds: 4 } },
      },
    );
    expect(readGateWaits(asl)).toMatchObject({
      cold: { firstSeconds: 61, pollSeconds: 26 },
      warm: { firstSeconds: 9, pollSeconds: 4 },
    });
  });

  test("an answer's wait paced by transition, and the reads of a command bounded in Answered?", () => {
    const asl = chain(
      { Seconds: 30 },
      { Seconds: 12 },
      {
        IntoService: { Type: 'Pass', Result: { kind: 'launch', answerSeconds: 5 } },
        OutOfWarmPool: { Type: 'Pass', Result: { kind: 'enter-service', answerSeconds: 2 } },
        'Answered?': {
          Type: 'Choice',
          Choices: [
            {
              And: [
                { Variable: '$.invocation.status', StringEquals: 'InProgress' },
                { Variable: '$.command.reads', NumericLessThan: 4 },
              ],
              Next: 'ReadAgain',
            },
          ],
        },
        ReadAgain: { Type: 'Pass', Next: 'WaitForAnswer' },
      },
    );
    asl.States.WaitForAnswer = { Type: 'Wait', SecondsPath: '$.transition.answerSeconds', Next: 'GetAnswer' };
    asl.States.SendCheck = { Type: 'Task', Next: 'WaitForAnswer', ResultSelector: { reads: 1 } };
    expect(readGateWaits(asl)).toMatchObject({
      cold: { answerSeconds: 5 },
      warm: { answerSeconds: 2 },
      reads: 4,
    });
    // A re-read whose count no longer starts at SendCheck cannot be read as a bound.
    asl.States.SendCheck = { Type: 'Task', Next: 'WaitForAnswer' };
    expect(() => readGateWaits(asl)).toThrow(/no longer bounds the reads/);
  });

  test('a wait on a path no pace sets, or a loop that no longer closes, is an error', () => {
    expect(() => readGateWaits(chain({ SecondsPath: '$.other' }, { Seconds: 1 }))).toThrow(AslShapeError);
    const broken = chain({ Seconds: 1 }, { Seconds: 1 });
    (broken.States.WaitToPoll as { Next: string }).Next = 'Elsewhere';
    expect(() => readGateWaits(broken)).toThrow('WaitToPoll no longer leads to SendCheck');
  });

  test('the synthesized gate polls a warm start sooner than a first boot', () => {
    const asl = JSON.parse(
      fs.readFileSync(path.join(ROOT, 'statemachines/instance-launch.asl.json'), 'utf8'),
    );
    const waits = readGateWaits(asl);
    expect(waits.warm.firstSeconds).toBeLessThan(waits.cold.firstSeconds);
    expect(waits.warm.pollSeconds).toBeLessThan(waits.cold.pollSeconds);
  });

  test("the synthesized drain's first look", () => {
    const asl = JSON.parse(fs.readFileSync(path.join(ROOT, 'statemachines/instance-drain.asl.json'), 'utf8'));
    const { checkSeconds, answerSeconds } = readDrainWaits(asl);
    expect(checkSeconds).toBe(asl.States.WaitToCheck.Seconds);
    expect(answerSeconds).toBe(asl.States.WaitForAnswer.Seconds);
  });
});

test("the boot script's steps: each one the phases file times is begun in it", () => {
  const script = fs.readFileSync(path.join(ROOT, 'ansible/roles/boot/files/external-worker-boot'), 'utf8');
  expect(() => checkScriptSteps(script)).not.toThrow();
  expect(() => checkScriptSteps(script.replace(/begin boot-play /, 'begin play '))).toThrow(
    'the boot script no longer begins the steps boot-play: the model is stale',
  );
});

test("the boot script's defaults", () => {
  expect(scriptDefault('A=1\nREGISTRATION_HOLD="${EW_REGISTRATION_HOLD:-12}"\n', 'REGISTRATION_HOLD')).toBe(
    12,
  );
  expect(() => scriptDefault('HOLD=12', 'REGISTRATION_HOLD')).toThrow(/no default for REGISTRATION_HOLD/);
});

const times = (over: Partial<Times> = {}): Times => ({
  eventDelivery: 0,
  apiCall: 0,
  groupReaction: 0,
  launchToRunning: 0,
  firstBootToScript: 0,
  startToRunning: 0,
  bootToScript: 0,
  resumeToRunning: 0,
  resumeToScript: 0,
  commandDelivery: 0,
  workerUp: 0,
  tsaRegistration: 0,
  deadlineFunction: 0,
  spotFunction: 0,
  spotCallsBeforeReplacement: 0,
  ...over,
});

describe('the arithmetic', () => {
  test.each([
    [0, 5, 0],
    [3, 5, 5],
    [5, 5, 5],
    [5.1, 5, 10],
    [45, 5, 45],
  ])('a check every %s s … at %s s: the check at %s s', (at, every, tick) => {
    expect(firstTick(at, every)).toBe(tick);
  });

  test("the worker's steps: health at the check after it is up, the hold counted from the check that saw the registration", () => {
    const t = times({ workerUp: 3, tsaRegistration: 1.5 });
    expect(workerSteps(100, t, { healthInterval: 5, registrationHold: 10 })).toEqual({
      healthy: 105,
      registered: 104.5,
      seen: 105,
      confirmed: 115,
    });
    // A registration after the health check is seen at the next check of the registration.
    const late = workerSteps(0, times({ workerUp: 3, tsaRegistration: 4 }), {
      healthInterval: 5,
      registrationHold: 45,
    });
    expect(late).toEqual({ healthy: 5, registered: 7, seen: 10, confirmed: 55 });
  });

  test("the gate: looks at 20, 30, 40 s; the third one's command runs after the status was written", () => {
    const pace = { firstSeconds: 20, pollSeconds: 5, answerSeconds: 5 };
    expect(gateCompletes(0, 31, 0, pace, 1, times())).toBe(45);
    // Every round trip counts: the Lambda, SendCommand, the answer and CompleteLifecycleAction.
    const t = times({ apiCall: 0.5, deadlineFunction: 1, commandDelivery: 1 });
    // Sends at 21.5, 32.5, 43.5; the third runs at 45 ≥ 45: read at 43.5 + 0.5 + 5 + 0.5, completed 0.5 later.
    expect(gateCompletes(0, 45, 0, pace, 1, t)).toBeCloseTo(50, 6);
    // An agent not up yet answers nothing, however early the status.
    expect(gateCompletes(0, 0, 31, pace, 1, times())).toBe(45);
  });

  test('a command not run at its answer is read again, up to the reads, before a new look', () => {
    const pace = { firstSeconds: 10, pollSeconds: 5, answerSeconds: 1 };
    // Sent at 10, runs at 13: read at 11 and 12 (not run), 13 (run): ok, completed then.
    expect(gateCompletes(0, 0, 0, pace, 3, times({ commandDelivery: 3 }))).toBe(13);
    // One read only: each look's command runs after it was read, and no look ever sees it.
    expect(() => gateCompletes(0, 0, 0, pace, 1, times({ commandDelivery: 3 }))).toThrow(/never sees/);
    // Before the agent is up every read finds the command pending: sent at 10, looked at again at 18.
    expect(gateCompletes(0, 0, 12, pace, 3, times())).toBe(19);
  });
});

describe('a replacement', () => {
  const gate = {
    cold: { firstSeconds: 60, pollSeconds: 25, answerSeconds: 5 },
    warm: { firstSeconds: 20, pollSeconds: 5, answerSeconds: 5 },
    reads: 1,
  };
  const script = { healthInterval: 5, registrationHold: 10 };
  const t = times({
    startToRunning: 10,
    bootToScript: 10,
    launchToRunning: 15,
    firstBootToScript: 25,
    workerUp: 3,
  });
  const input = (phases: BootPhases, start: 'launch' | 'stopped') => ({
    request: 5,
    requestSegments: [{ label: 'asked', seconds: 5 }],
    start,
    phases,
    times: t,
    script,
    gate,
  });
  const phases = (bootPlay: number) =>
    readBootPhases(JSON.stringify(phasesRecord({ 'boot-play': bootPlay })), FILE);

  test('its parts add up to the time to InService', () => {
    for (const start of ['launch', 'stopped'] as const) {
      const r = replacement(input(phases(30), start));
      expect(r.segments.reduce((sum, x) => sum + x.seconds, 0)).toBeCloseTo(r.inService, 6);
      expect(r.registered).toBeLessThanOrEqual(r.confirmed);
      expect(r.confirmed).toBeLessThanOrEqual(r.inService);
    }
  });

  test('a warm start runs no worker-key and no boot play; a cold launch runs them', () => {
    const warm = [phases(30), phases(90)].map((p) => replacement(input(p, 'stopped')));
    expect(warm[1]?.confirmed).toBe(warm[0]?.confirmed);
    const cold = [phases(30), phases(90)].map((p) => replacement(input(p, 'launch')));
    expect((cold[1]?.confirmed ?? 0) - (cold[0]?.confirmed ?? 0)).toBeCloseTo(60, 6);
    // settings 0.5 + metadata 0.5 + worker-start 0.5, then health at 5 s, the hold 10 s: after 5 + 20.
    expect(warm[0]?.confirmed).toBeCloseTo(5 + 20 + 1.5 + 5 + 10, 6);
  });
});
