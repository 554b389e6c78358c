import {
  AutoScalingClient,
  DescribeTagsCommand as DescribeGroupTagsCommand,
} from '@aws-sdk/client-auto-scaling';
import { DescribeTagsCommand, EC2Client } from '@aws-sdk/client-ec2';
import { describeDenials, evaluateCall, type Verdict } from './evaluate';
import { impliedRequests } from './implied';
import { principal, principals } from './principals';
import type { AwsCall } from './requests';
import { LOCAL } from './resolve';
import { type Json, synthesizedTemplate } from './template';

/**
 * Collects the AWS calls a test file's local runs make against moto, with the caller and what AWS
 * would know of the resources at that moment (their tags), and checks them all once the file is
 * done: each call must be allowed by the synthesized identity policies of its caller.
 */

interface Run {
  principal: string;
  /** A state machine's placeholder values in this run: they bind the template's expressions. */
  substitutions: Record<string, string>;
  flow: string;
}

const runs = new WeakMap<object, Run>();
const recorded: Array<{ run: Run; call: AwsCall }> = [];

/**
 * Only runs against moto are proven (a mocked client's resources are not AWS's), and only when
 * IAM_PROOF=strict: the test worlds do not all use the stack's own names yet (a group named per
 * test is not the group the role names), which the proof rightly denies.
 */
const againstMoto = () => Boolean(process.env.AWS_ENDPOINT_URL) && process.env.IAM_PROOF === 'strict';

function currentTest(): string {
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

async function resourceTags(service: string, p: Record<string, unknown>) {
  const tags: Record<string, Record<string, string>> = {};
  if (service === 'ec2') {
    const resources = [p.InstanceId, p.InstanceIds, p.ImageId, p.SnapshotId, p.Resources, p.LaunchTemplateId]
      .flatMap(ids)
      .filter((id) => /^(i|ami|snap|vol|lt)-/.test(id));
    if (resources.length) {
      const { Tags = [] } = await new EC2Client({}).send(
        new DescribeTagsCommand({ Filters: [{ Name: 'resource-id', Values: resources }] }),
      );
      for (const tag of Tags) addTag(tags, tag.ResourceId, tag.Key, tag.Value);
    }
  }
  if (service === 'autoscaling' && typeof p.AutoScalingGroupName === 'string') {
    const { Tags = [] } = await new AutoScalingClient({}).send(
      new DescribeGroupTagsCommand({
        Filters: [{ Name: 'auto-scaling-group', Values: [p.AutoScalingGroupName] }],
      }),
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
    resourceTags: await resourceTags(service, p).catch(() => ({})),
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

export async function verdictsOf(entries: Array<{ run: Run; call: AwsCall }>): Promise<Verdict[]> {
  const verdicts: Verdict[] = [];
  for (const { run, call } of entries) {
    // The stack the run's world stands for: `<project>-<env>` when the run names it.
    const stackName = run.substitutions.StackName;
    const split = stackName?.lastIndexOf('-') ?? -1;
    const context =
      stackName && split > 0 ? { project: stackName.slice(0, split), env: stackName.slice(split + 1) } : {};
    const template = synthesizedTemplate(context);
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
    const all = principals(template, LOCAL, bindings);
    verdicts.push(
      ...(await evaluateCall(
        principal(all, call.principal),
        call,
        LOCAL,
        impliedRequests(template, bindings),
      )),
    );
  }
  return verdicts;
}

async function checkRecordedCalls(): Promise<void> {
  if (!recorded.length) return;
  const verdicts = await verdictsOf(recorded.splice(0));
  expect(describeDenials(verdicts)).toEqual([]);
}

// Registered as the file that imports the harness loads; a file with no recorded call checks nothing.
// The first file of a run synthesizes the stack, hence the time allowed.
afterAll(checkRecordedCalls, 600_000);
