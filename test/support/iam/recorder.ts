import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  AutoScalingClient,
  DescribeAutoScalingInstancesCommand,
  type DescribeAutoScalingInstancesCommandOutput,
  DescribeTagsCommand as DescribeGroupTagsCommand,
  type DescribeTagsCommandOutput as DescribeGroupTagsCommandOutput,
} from '@aws-sdk/client-auto-scaling';
import {
  DescribeLaunchTemplatesCommand,
  type DescribeLaunchTemplatesCommandOutput,
  DescribeTagsCommand,
  type DescribeTagsCommandOutput,
  EC2Client,
} from '@aws-sdk/client-ec2';
import { aroundEverySend, sendUnrecorded } from './aws-sends';
import type { ImpliedRequests, Verdict } from './evaluate';
import type { Principal } from './principals';
import type { AwsCall } from './requests';
import type { CfnTemplate, Json } from './template';

/**
 * Collects the AWS calls a test file's local runs make against moto, with the caller and what AWS
 * would know of the resources at that moment (their tags), and checks them all once the file is
 * done: each call must be allowed by the synthesized identity policies of its caller. The callers:
 * a state machine's Tasks (from the harness), a function's code (from the clients' send, every test
 * file: test/support/setup.ts). A call none of them makes is the test's own world.
 */

interface Run {
  principal: string;
  /** A state machine's placeholder values in this run: they bind the template's expressions. */
  substitutions: Record<string, string>;
  /** Launch templates of the world by name: the template's launch template is the one of its name. */
  launchTemplates?: Record<string, string>;
  /** Configuration of the stack the run stands for, beyond its name (IAM_PROOF_CONTEXT, JSON). */
  context?: Record<string, unknown>;
  flow: string;
}

const runs = new WeakMap<object, Run>();
const recorded: Array<{ run: Run; call: AwsCall }> = [];

/**
 * Runs against moto are proven: their resources, names and tags are those of the stack's world. A
 * run with no moto at all (mocked clients only, for an error path) names resources no AWS holds.
 */
const againstMoto = () => Boolean(process.env.AWS_ENDPOINT_URL);

function currentTest(): string {
  if (typeof expect === 'undefined') return 'outside jest';
  const state = (expect as unknown as { getState?: () => { currentTestName?: string } }).getState?.();
  return state?.currentTestName ?? 'setup';
}

/** Called by the state machine harness when an execution starts; `calls` is its list of SDK calls. */
export function registerExecution(
  calls: object,
  stateMachine: string,
  substitutions: Record<string, string>,
): void {
  if (!againstMoto()) return;
  runs.set(calls, {
    principal: `state-machine:${stateMachine}`,
    substitutions,
    flow: `${stateMachine}: ${currentTest()}`,
  });
}

const ids = (value: unknown): string[] =>
  value === undefined ? [] : (Array.isArray(value) ? value : [value]).map(String);

function addTag(tags: Record<string, Record<string, string>>, id?: string, key?: string, value?: string) {
  if (!id || !key) return;
  tags[id] = { ...tags[id], [key]: value ?? '' };
}

/** A lookup's answer, or nothing when it fails or a mocked client leaves it unanswered. */
async function answerOrNothing<T extends object>(lookup: () => Promise<T>): Promise<Partial<T>> {
  try {
    return (await lookup()) ?? {};
  } catch {
    return {};
  }
}

/**
 * The tags AWS would evaluate of the resources a call names, whichever service the call is of. A
 * lookup that fails (or a mocked client that does not answer it) leaves the resource untagged: a tag
 * condition then denies, as it should.
 */
async function resourceTags(p: Record<string, unknown>) {
  const tags: Record<string, Record<string, string>> = {};
  const resources = [
    p.InstanceId,
    p.InstanceIds,
    p.ImageId,
    p.ImageIds,
    p.SnapshotId,
    p.SnapshotIds,
    p.Resources,
    p.LaunchTemplateId,
  ]
    .flatMap(ids)
    .filter((id) => /^(i|ami|snap|vol|lt)-/.test(id));
  if (resources.length) {
    const { Tags = [] } = await answerOrNothing(() =>
      sendUnrecorded<DescribeTagsCommandOutput>(
        new EC2Client({}),
        new DescribeTagsCommand({ Filters: [{ Name: 'resource-id', Values: resources }] }),
      ),
    );
    for (const tag of Tags) addTag(tags, tag.ResourceId, tag.Key, tag.Value);
  }
  const group = p.AutoScalingGroupName;
  if (typeof group === 'string') {
    const { Tags = [] } = await answerOrNothing(() =>
      sendUnrecorded<DescribeGroupTagsCommandOutput>(
        new AutoScalingClient({}),
        new DescribeGroupTagsCommand({
          Filters: [{ Name: 'auto-scaling-group', Values: [group] }],
        }),
      ),
    );
    for (const tag of Tags) addTag(tags, tag.ResourceId, tag.Key, tag.Value);
  }
  return tags;
}

/** Called by the SDK adapter before it performs a Task's call. */
export async function recordSdkCall(calls: object, service: string, action: string, parameters: unknown) {
  const run = runs.get(calls);
  if (!run) return;
  const p = (parameters ?? {}) as Record<string, unknown>;
  const call: AwsCall = {
    principal: run.principal,
    service,
    action,
    parameters: p,
    resourceTags: await resourceTags(p),
    flow: run.flow,
  };
  recorded.push({ run, call });
}

/** Called by the harness for a Lambda Task: the state machine invokes the function. */
export function recordLambdaInvoke(calls: object, functionArn: string) {
  const run = runs.get(calls);
  if (!run) return;
  recorded.push({
    run,
    call: {
      principal: run.principal,
      service: 'lambda',
      action: 'InvokeFunction',
      parameters: { FunctionName: functionArn },
      flow: run.flow,
    },
  });
}

const FUNCTIONS = `${path.join(__dirname, '..', '..', '..', 'functions')}${path.sep}`;

/**
 * The function (its folder under functions/) whose code makes the call being sent, from the call's
 * stack: the handler's own modules, not functions/lib, name it. A call the test itself makes (its
 * world) has none.
 */
function callingFunction(): string | undefined {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 200;
  const stack = new Error().stack ?? '';
  Error.stackTraceLimit = limit;
  for (const [, file = ''] of stack.matchAll(/(\/[^\s():]+\.[cm]?[jt]s):\d+:\d+/g)) {
    if (!file.startsWith(FUNCTIONS)) continue;
    const name = file.slice(FUNCTIONS.length).split(path.sep)[0];
    if (name && name !== 'lib') return name;
  }
  return undefined;
}

const pascal = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);

/**
 * An Auto Scaling call that names an instance only (SetInstanceHealth) is authorized on the
 * instance's group, as the Service Authorization Reference gives its resource type: the group is
 * looked up before the call, so the evaluation can form its ARN.
 * https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonec2autoscaling.html
 */
async function withInstanceGroup(service: string, p: Record<string, unknown>) {
  if (service !== 'autoscaling' || p.AutoScalingGroupName !== undefined || !p.InstanceId) return p;
  const { AutoScalingInstances = [] } = await answerOrNothing(() =>
    sendUnrecorded<DescribeAutoScalingInstancesCommandOutput>(
      new AutoScalingClient({}),
      new DescribeAutoScalingInstancesCommand({ InstanceIds: ids(p.InstanceId) }),
    ),
  );
  const group = AutoScalingInstances[0]?.AutoScalingGroupName;
  return group ? { ...p, AutoScalingGroupName: group } : p;
}

/** The launch template a call names by id: itself, or in the group's (mixed instances) configuration. */
function launchTemplateIdsOf(p: Record<string, unknown>): string[] {
  const nested = p.MixedInstancesPolicy as
    | { LaunchTemplate?: { LaunchTemplateSpecification?: { LaunchTemplateId?: string } } }
    | undefined;
  const plain = p.LaunchTemplate as { LaunchTemplateId?: string } | undefined;
  return [
    ...ids(p.LaunchTemplateId),
    ...ids(plain?.LaunchTemplateId),
    ...ids(nested?.LaunchTemplate?.LaunchTemplateSpecification?.LaunchTemplateId),
  ];
}

/** The world's names of the launch templates a call names by id. */
async function launchTemplateNames(p: Record<string, unknown>): Promise<Record<string, string>> {
  const templateIds = launchTemplateIdsOf(p).filter((id) => id.startsWith('lt-'));
  if (!templateIds.length) return {};
  const { LaunchTemplates = [] } = await answerOrNothing(() =>
    sendUnrecorded<DescribeLaunchTemplatesCommandOutput>(
      new EC2Client({}),
      new DescribeLaunchTemplatesCommand({ LaunchTemplateIds: templateIds }),
    ),
  );
  return Object.fromEntries(LaunchTemplates.map((t) => [t.LaunchTemplateName, t.LaunchTemplateId]));
}

/**
 * Records every call a function's code sends to moto, as the function's role would make it in AWS:
 * the handler tests need no scenario of their own, whatever clients they hand the function.
 */
export function recordFunctionCalls(): void {
  aroundEverySend(async (client, command) => {
    if (!againstMoto()) return;
    const name = callingFunction();
    if (!name) return;
    const config = (client as { config?: { serviceId?: string } }).config;
    const service = String(config?.serviceId ?? 'unknown')
      .toLowerCase()
      .replace(/\s+/g, '');
    const action = command.constructor.name.replace(/Command$/, '');
    const input = ((command as { input?: Record<string, unknown> }).input ?? {}) as Record<string, unknown>;
    // The SDK's own input of a JSON service is camelCase: the IAM data speaks PascalCase.
    const given = Object.fromEntries(Object.entries(input).map(([key, value]) => [pascal(key), value]));
    const p = await withInstanceGroup(service, given);
    // The stack the function serves, as its environment names it (the default stack otherwise).
    const stackName = process.env.STACK_NAME;
    const context = process.env.IAM_PROOF_CONTEXT;
    const run: Run = {
      principal: `function:${name}`,
      substitutions: stackName ? { StackName: stackName } : {},
      context: context ? (JSON.parse(context) as Record<string, unknown>) : undefined,
      launchTemplates: await launchTemplateNames(p),
      flow: `${name}: ${currentTest()}`,
    };
    recorded.push({
      run,
      call: {
        principal: run.principal,
        service,
        action,
        parameters: p,
        resourceTags: await resourceTags(p),
        flow: run.flow,
      },
    });
  });
}

export async function verdictsOf(entries: Array<{ run: Run; call: AwsCall }>): Promise<Verdict[]> {
  // Loaded when there is something to check: every test file loads this module.
  const { evaluateCall } = await import('./evaluate');
  const { impliedRequests } = await import('./implied');
  const { principal, principals } = await import('./principals');
  const { LOCAL } = await import('./resolve');
  const { synthesizedTemplate } = await import('./template');
  // A file's runs share few stacks and bindings, and repeat their calls (a poll loop sends the
  // same one each time): each template, role set and call is worked out once. The evaluation is a
  // function of the template, the bindings and the call alone, so a repeated call gets the same
  // verdicts, each reported under its own flow.
  const templates = new Map<string, CfnTemplate>();
  const evaluations = new Map<string, { all: Principal[]; implied: ImpliedRequests }>();
  const evaluated = new Map<string, Promise<Verdict[]>>();
  const verdicts: Verdict[] = [];
  for (const { run, call } of entries) {
    // The stack the run's world stands for: `<project>-<env>` when the run names it.
    const stackName = run.substitutions.StackName;
    const split = stackName?.lastIndexOf('-') ?? -1;
    const context = {
      ...(stackName && split > 0
        ? { project: stackName.slice(0, split), env: stackName.slice(split + 1) }
        : {}),
      ...run.context,
    };
    const contextKey = JSON.stringify(context);
    let template = templates.get(contextKey);
    if (!template) {
      template = synthesizedTemplate(context);
      templates.set(contextKey, template);
    }
    const stateMachines = Object.values(template.Resources).filter(
      (r) => r.Type === 'AWS::StepFunctions::StateMachine',
    );
    // The template's expression behind each placeholder is what the run gave it.
    const bindings = new Map<string, string>();
    for (const machine of stateMachines) {
      for (const [key, expression] of Object.entries(
        (machine.Properties?.DefinitionSubstitutions ?? {}) as Record<string, Json>,
      )) {
        const given = run.substitutions[key];
        if (given !== undefined && typeof expression === 'object')
          bindings.set(JSON.stringify(expression), given);
      }
    }
    for (const [logicalId, resource] of Object.entries(template.Resources)) {
      const name = resource.Properties?.LaunchTemplateName;
      const id = typeof name === 'string' ? run.launchTemplates?.[name] : undefined;
      if (resource.Type === 'AWS::EC2::LaunchTemplate' && id)
        bindings.set(JSON.stringify({ Ref: logicalId }), id);
    }
    const evaluationKey = JSON.stringify([contextKey, [...bindings]]);
    let evaluation = evaluations.get(evaluationKey);
    if (!evaluation) {
      evaluation = {
        all: principals(template, LOCAL, bindings),
        implied: impliedRequests(template, bindings),
      };
      evaluations.set(evaluationKey, evaluation);
    }
    const { flow, ...asked } = call;
    const callKey = JSON.stringify([evaluationKey, asked]);
    let answer = evaluated.get(callKey);
    if (!answer) {
      const { all, implied } = evaluation;
      answer = evaluateCall(principal(all, call.principal), call, LOCAL, implied);
      evaluated.set(callKey, answer);
    }
    verdicts.push(...(await answer).map((verdict) => ({ ...verdict, call })));
  }
  return verdicts;
}

/** IAM_PROOF_REPORT=<file>: every verdict is also appended there, one JSON line each, for counting. */
function report(verdicts: Verdict[]): void {
  const file = process.env.IAM_PROOF_REPORT;
  if (!file) return;
  const lines = verdicts.map((v) =>
    JSON.stringify({
      principal: v.call.principal,
      call: `${v.call.service}:${v.call.action}`,
      flow: v.call.flow,
      request: v.request ? `${v.request.action} ${v.request.resource}` : undefined,
      result: v.result,
    }),
  );
  fs.appendFileSync(file, `${lines.join('\n')}\n`);
}

async function checkRecordedCalls(): Promise<void> {
  if (!recorded.length) return;
  const { describeDenials } = await import('./evaluate');
  const verdicts = await verdictsOf(recorded.splice(0));
  report(verdicts);
  expect(describeDenials(verdicts)).toEqual([]);
}

// Registered as the file that imports the harness loads; a file with no recorded call checks nothing.
// The first file of a run synthesizes the stack, hence the time allowed.
// Outside jest (the benchmark runs the same worlds) there is no file to check at the end of.
if (typeof afterAll === 'function') afterAll(checkRecordedCalls, 600_000);
