import * as z from 'zod';

/**
 * Time to a working replacement, as a model: the flows' own waits (read from the synthesized state
 * machines and the boot script), the boot's phases as measured in the converge environment
 * (bench/boot-phases.json), and AWS's and Concourse's times where those exist, assumptions where
 * they do not (bench/replacement.ts states each). Deterministic: every input at its stated value.
 */

export const PHASES_FORMAT = 'external-worker boot phases v1';
export const BOOT_STEPS = [
  'settings',
  'metadata',
  'worker-key',
  'boot-play',
  'worker-start',
  'worker-health',
  'worker-registration',
] as const;
export type BootStep = (typeof BOOT_STEPS)[number];
/** What a prepared instance runs when it leaves the warm pool (/work contract: enter service). */
export const ENTER_SERVICE_STEPS: readonly BootStep[] = [
  'settings',
  'metadata',
  'worker-start',
  'worker-health',
  'worker-registration',
];
/** Steps whose converge timing is a stand-in's: the model replaces them with Concourse's behaviour. */
const MODELED_STEPS: readonly BootStep[] = ['worker-health', 'worker-registration'];

const bootPhasesFile = z.strictObject({
  format: z.string(),
  recorded: z.iso.datetime(),
  environment: z.strictObject({
    where: z.string(),
    root: z.string(),
    host: z.string(),
    ansible: z.string(),
    standIns: z.string(),
  }),
  phases: z.array(
    z.strictObject({
      step: z.enum(BOOT_STEPS),
      seconds: z.number().nonnegative(),
      measured: z.enum(['converge', 'stand-in']),
    }),
  ),
});
export type BootPhases = z.infer<typeof bootPhasesFile>;

export class BootPhasesError extends Error {
  override readonly name = 'BootPhasesError';
}

const REMEDY = 'run `npm run test:image` (as root) to record it again';

/** The phases file, parsed: one clear error naming what is wrong with it. */
export function readBootPhases(text: string | undefined, file: string): BootPhases {
  if (text === undefined) throw new BootPhasesError(`${file} is missing: ${REMEDY}`);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new BootPhasesError(`${file} is not JSON (${(error as Error).message}): ${REMEDY}`);
  }
  const format = (json as { format?: unknown } | null)?.format;
  if (format !== PHASES_FORMAT)
    throw new BootPhasesError(
      `${file} has format ${JSON.stringify(format)}, not "${PHASES_FORMAT}" (stale): ${REMEDY}`,
    );
  const parsed = bootPhasesFile.safeParse(json);
  if (!parsed.success)
    throw new BootPhasesError(`${file} is not a phases record: ${z.prettifyError(parsed.error)}; ${REMEDY}`);
  const steps = parsed.data.phases.map((p) => p.step);
  if (steps.join(' ') !== BOOT_STEPS.join(' '))
    throw new BootPhasesError(
      `${file} holds the steps ${steps.join(', ')}, not ${BOOT_STEPS.join(', ')}: ${REMEDY}`,
    );
  return parsed.data;
}

export function phaseSeconds(phases: BootPhases, step: BootStep): number {
  return phases.phases.find((p) => p.step === step)?.seconds ?? 0;
}

// ---- The state machines' waits ----

interface AslState {
  Type: string;
  Next?: string;
  Seconds?: number;
  SecondsPath?: string;
  Result?: unknown;
  Parameters?: Record<string, unknown>;
  ResultSelector?: Record<string, unknown>;
  Choices?: unknown[];
}
export interface Asl {
  States: Record<string, AslState>;
}

export interface GatePace {
  firstSeconds: number;
  pollSeconds: number;
  /** Between SendCommand and GetCommandInvocation, and between two reads of one command. */
  answerSeconds: number;
}
export interface GateWaits {
  /** A launch from EC2 (a first boot) and one out of the warm pool. */
  cold: GatePace;
  warm: GatePace;
  /** Reads of one command's invocation while it is not done, before a new look. */
  reads: number;
}

export class AslShapeError extends Error {
  override readonly name = 'AslShapeError';
}

function state(asl: Asl, name: string, type: string): AslState {
  const found = asl.States[name];
  if (found?.Type !== type) throw new AslShapeError(`the state machine has no ${type} state ${name}`);
  return found;
}

function follows(asl: Asl, from: string, to: string) {
  if (asl.States[from]?.Next !== to) throw new AslShapeError(`${from} no longer leads to ${to}`);
}

/** A Wait's seconds: fixed, or a `$.<object>.<key>` read from the object the run carries. */
function waitSeconds(
  wait: AslState,
  carried: (object: string) => Record<string, unknown>,
  name: string,
): number {
  if (typeof wait.Seconds === 'number') return wait.Seconds;
  const match = /^\$\.(\w+)\.(\w+)$/.exec(wait.SecondsPath ?? '');
  const value = match ? carried(match[1] as string)[match[2] as string] : undefined;
  if (typeof value !== 'number')
    throw new AslShapeError(`${name} waits for ${wait.SecondsPath}, not a pace it sets`);
  return value;
}

/**
 * What the run carries under `$.<object>` for a first boot and for a warm start: set in Init, or by
 * a Pass state of each kind of launch (WarmPace overriding Init's; or IntoService and
 * OutOfWarmPool, one per transition).
 */
function carriedBy(asl: Asl, warm: boolean) {
  const result = (name: string) =>
    (asl.States[name]?.Result ?? undefined) as Record<string, unknown> | undefined;
  return (object: string): Record<string, unknown> => {
    const init = asl.States.Init?.Parameters?.[object];
    const base: Record<string, unknown> =
      (typeof init === 'object' && init !== null
        ? (init as Record<string, unknown>)
        : result('IntoService')) ?? {};
    return warm ? { ...base, ...(result('WarmPace') ?? result('OutOfWarmPool') ?? {}) } : base;
  };
}

/** The bound of ReadAgain's loop: `$.command.reads` below N, counted from SendCheck's first read. */
function readsOfACommand(asl: Asl): number {
  if (!asl.States.ReadAgain) return 1;
  follows(asl, 'ReadAgain', 'WaitForAnswer');
  const rules = JSON.stringify(state(asl, 'Answered?', 'Choice').Choices ?? []);
  const bound = /\{"Variable":"\$\.command\.reads","NumericLessThan":(\d+)\}/.exec(rules);
  const first = state(asl, 'SendCheck', 'Task').ResultSelector?.reads;
  if (!bound || first !== 1)
    throw new AslShapeError('Answered? no longer bounds the reads of a command counted from 1 at SendCheck');
  return Number(bound[1]);
}

/** The launch gate's waits: the first look, the answer's wait and the poll, for both kinds of launch. */
export function readGateWaits(asl: Asl): GateWaits {
  follows(asl, 'LetItBoot', 'SendCheck');
  follows(asl, 'SendCheck', 'WaitForAnswer');
  follows(asl, 'WaitForAnswer', 'GetAnswer');
  follows(asl, 'WaitToPoll', 'SendCheck');
  const first = state(asl, 'LetItBoot', 'Wait');
  const poll = state(asl, 'WaitToPoll', 'Wait');
  const answer = state(asl, 'WaitForAnswer', 'Wait');
  const pace = (warm: boolean, kind: string) => ({
    firstSeconds: waitSeconds(first, carriedBy(asl, warm), `LetItBoot (${kind})`),
    pollSeconds: waitSeconds(poll, carriedBy(asl, warm), `WaitToPoll (${kind})`),
    answerSeconds: waitSeconds(answer, carriedBy(asl, warm), `WaitForAnswer (${kind})`),
  });
  return {
    cold: pace(false, 'first boot'),
    // Without a pace of its own, a warm start is polled as a first boot.
    warm: pace(true, 'warm start'),
    reads: readsOfACommand(asl),
  };
}

/** The drain's first look at a retiring worker: the retire, then its wait and the answer's. */
export function readDrainWaits(asl: Asl): { checkSeconds: number; answerSeconds: number } {
  follows(asl, 'SendRetire', 'WaitToCheck');
  follows(asl, 'WaitToCheck', 'SendCheck');
  return {
    checkSeconds: waitSeconds(state(asl, 'WaitToCheck', 'Wait'), carriedBy(asl, false), 'WaitToCheck'),
    answerSeconds: waitSeconds(state(asl, 'WaitForAnswer', 'Wait'), carriedBy(asl, false), 'WaitForAnswer'),
  };
}

/** A `NAME="${EW_NAME:-<seconds>}"` default of the boot script. */
export function scriptDefault(script: string, name: string): number {
  const match = new RegExp(`^${name}="\\$\\{EW_${name}:-(\\d+)\\}"$`, 'm').exec(script);
  if (!match) throw new AslShapeError(`the boot script sets no default for ${name}`);
  return Number(match[1]);
}

/** The boot script still runs the steps the phases file times (`begin <step> ...`). */
export function checkScriptSteps(script: string): void {
  const begun = new Set([...script.matchAll(/^\s*begin ([a-z-]+) /gm)].map((m) => m[1]));
  const missing = BOOT_STEPS.filter((step) => !begun.has(step));
  if (missing.length)
    throw new AslShapeError(
      `the boot script no longer begins the steps ${missing.join(', ')}: the model is stale`,
    );
}

// ---- The timeline ----

/** Every number the model takes that is not read from the project. */
export interface Times {
  /** EventBridge: an event to its target (rule to Lambda or Step Functions). */
  eventDelivery: number;
  /** One AWS API call from a function or a state machine. */
  apiCall: number;
  /** Auto Scaling: from the need (desired capacity raised, instance detached) to the launch or start. */
  groupReaction: number;
  /** A new instance: launch to running, then the first boot to the boot script (cloud-init's user data). */
  launchToRunning: number;
  firstBootToScript: number;
  /** A stopped instance: start to running, then its boot to the boot script (the systemd unit). */
  startToRunning: number;
  bootToScript: number;
  /** A hibernated instance: start to running, then its memory restored and the boot script started. */
  resumeToRunning: number;
  resumeToScript: number;
  /** SSM Run Command: SendCommand to the command running on an online agent. */
  commandDelivery: number;
  /** Concourse: `systemctl start` to the worker's health endpoint answering 200. */
  workerUp: number;
  /** Concourse: the worker up to the TSA's "registered" (SSH, its ping of garden and baggageclaim, the ATC's 200). */
  tsaRegistration: number;
  /** The Lambda functions' cold load + init, measured by the bench. */
  deadlineFunction: number;
  spotFunction: number;
  /** API calls the spot function makes before the group launches the replacement. */
  spotCallsBeforeReplacement: number;
}

export interface BootScript {
  healthInterval: number;
  registrationHold: number;
}

export type Start = 'launch' | 'stopped' | 'hibernated';

export interface Segment {
  label: string;
  seconds: number;
}

export interface Replacement {
  /** From the trigger: the worker registered with the TSA (builds can land on it). */
  registered: number;
  /** The boot status ok: the registration confirmed. */
  confirmed: number;
  /** The launch gate's CONTINUE: the instance InService. */
  inService: number;
  /** What the time to InService is made of, in order. */
  segments: Segment[];
}

/** The first tick of a loop that checks at 0, every, 2 × every, … at or after `at`. */
export function firstTick(at: number, every: number): number {
  if (at <= 0) return 0;
  return Math.ceil(at / every - 1e-9) * every;
}

/** The worker's own steps, from `systemctl start`: health, registration seen, hold over. */
export function workerSteps(start: number, t: Times, script: BootScript) {
  const up = start + t.workerUp;
  const healthy = start + firstTick(t.workerUp, script.healthInterval);
  const registered = up + t.tsaRegistration;
  const seen = healthy + firstTick(registered - healthy, script.healthInterval);
  const confirmed = seen + firstTick(script.registrationHold, script.healthInterval);
  return { healthy, registered, seen, confirmed };
}

/**
 * The launch gate's looks: the first after its first wait, then every poll after the look's last
 * read. A look reads its command's answer after the answer's wait, and again after each further
 * wait while the command has not run, `reads` times at most; the check itself takes no time. A
 * command sent before the agent is up is never answered within its reads (Pending until the agent
 * connects). A look sees `ok` when its command runs after the status was written. Returns when the
 * gate completes the action.
 */
export function gateCompletes(
  hook: number,
  confirmed: number,
  agentUp: number,
  pace: GatePace,
  reads: number,
  t: Times,
): number {
  let send = hook + t.deadlineFunction + t.apiCall + pace.firstSeconds;
  for (let look = 0; look < 1000; look++) {
    const runs = send + t.apiCall + t.commandDelivery;
    let read = send + t.apiCall;
    for (let n = 1; n <= reads; n++) {
      const asked = read + pace.answerSeconds;
      read = asked + t.apiCall;
      if (runs >= agentUp && asked >= runs) break;
    }
    if (runs >= agentUp && runs >= confirmed && read - t.apiCall >= runs) return read + t.apiCall;
    send = read + pace.pollSeconds;
  }
  throw new Error('the gate never sees the boot finish');
}

export interface PathInput {
  /** When Auto Scaling is asked for the instance, from the trigger. */
  request: number;
  requestSegments: Segment[];
  start: Start;
  phases: BootPhases;
  times: Times;
  script: BootScript;
  gate: GateWaits;
}

const START_TIMES: Record<Start, (t: Times) => [Segment, Segment]> = {
  launch: (t) => [
    { label: 'EC2: launch to running', seconds: t.launchToRunning },
    { label: 'first boot to the boot script (cloud-init user data)', seconds: t.firstBootToScript },
  ],
  stopped: (t) => [
    { label: 'EC2: start of the stopped instance to running', seconds: t.startToRunning },
    { label: 'boot to the boot script (its systemd unit)', seconds: t.bootToScript },
  ],
  hibernated: (t) => [
    { label: 'EC2: start of the hibernated instance to running', seconds: t.resumeToRunning },
    { label: 'memory restored to the boot script', seconds: t.resumeToScript },
  ],
};

/** One replacement: the instance asked for at `request`, booted cold or started out of the warm pool. */
export function replacement(input: PathInput): Replacement {
  const { times: t, script, phases } = input;
  const [toRunning, toScript] = START_TIMES[input.start](t);
  const scriptStarts = input.request + toRunning.seconds + toScript.seconds;
  const steps = input.start === 'launch' ? BOOT_STEPS : ENTER_SERVICE_STEPS;
  const measured = steps.filter((s) => !MODELED_STEPS.includes(s));
  const workerStart = scriptStarts + measured.reduce((sum, s) => sum + phaseSeconds(phases, s), 0);
  const worker = workerSteps(workerStart, t, script);
  const hook = input.request + t.eventDelivery;
  const pace = input.start === 'launch' ? input.gate.cold : input.gate.warm;
  const inService = gateCompletes(hook, worker.confirmed, scriptStarts, pace, input.gate.reads, t);
  const segments: Segment[] = [
    ...input.requestSegments,
    toRunning,
    toScript,
    ...measured.map((s) => ({ label: `boot step ${s} (measured)`, seconds: phaseSeconds(phases, s) })),
    { label: 'worker-health: the worker up, seen at the next check', seconds: worker.healthy - workerStart },
    {
      label: 'worker-registration: TSA registration, seen at the next check',
      seconds: worker.seen - worker.healthy,
    },
    { label: 'worker-registration: the hold', seconds: worker.confirmed - worker.seen },
    { label: "the launch gate's next look and its answer", seconds: inService - worker.confirmed },
  ];
  return { registered: worker.registered, confirmed: worker.confirmed, inService, segments };
}
