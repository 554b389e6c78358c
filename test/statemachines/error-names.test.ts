import * as fs from 'node:fs';
import { readAsl, STATEMACHINES_DIR } from '../support/asl-harness';
import { SDK_RESOURCE, stepFunctionsErrorName, stepFunctionsErrorNames } from '../support/sdk-adapter';

/**
 * Every name in a Retry or Catch is one the state can really see: a Task's from its service's
 * SDK model (the Step Functions naming rule, test/support/sdk-adapter.ts), a Map's from the
 * Tasks inside it, and the States.* names of the language. A misspelled or invented name
 * (`AutoScaling.ResourceContentionFaultException`) would never match, and fails here.
 */

type State = Record<string, unknown> & { Type: string; Resource?: string };
type Rule = { ErrorEquals: string[] };
interface Definition {
  States: Record<string, State>;
}

// https://docs.aws.amazon.com/step-functions/latest/dg/concepts-error-handling.html#error-handling-error-representation
const LANGUAGE_ERRORS = [
  'States.ALL',
  'States.TaskFailed',
  'States.Timeout',
  'States.HeartbeatTimeout',
  'States.Permissions',
  'States.DataLimitExceeded',
  'States.ResultPathMatchFailure',
  'States.ParameterPathFailure',
  'States.IntrinsicFailure',
  'States.BranchFailed',
  'States.ItemReaderFailed',
  'States.ExceedToleratedFailureThreshold',
];

// The optimized Lambda integration: the service's errors, and an unhandled function error.
// https://docs.aws.amazon.com/step-functions/latest/dg/bp-lambda-serviceexception.html
const LAMBDA_ERRORS = [
  'Lambda.ServiceException',
  'Lambda.AWSLambdaException',
  'Lambda.SdkClientException',
  'Lambda.TooManyRequestsException',
  'Lambda.Unknown',
];

/** What a state can raise into its own Retry and Catch. */
function raisable(state: State): Set<string> {
  const names = new Set(LANGUAGE_ERRORS);
  const resource = String(state.Resource ?? '');
  const sdk = SDK_RESOURCE.exec(resource);
  if (state.Type === 'Task' && sdk)
    for (const name of stepFunctionsErrorNames(sdk[1] as string)) names.add(name);
  else if (state.Type === 'Task') for (const name of LAMBDA_ERRORS) names.add(name);
  const nested = [
    ...((state.Branches as Definition[] | undefined) ?? []),
    ...((state.ItemProcessor ?? state.Iterator)
      ? [(state.ItemProcessor ?? state.Iterator) as Definition]
      : []),
  ];
  // A Fail state inside a Map re-raises the error its Task caught.
  for (const inner of nested) {
    for (const child of Object.values(inner.States)) for (const name of raisable(child)) names.add(name);
  }
  return names;
}

interface Finding {
  state: string;
  name: string;
}

/** Names in the definition's Retry and Catch rules that its states can never raise; and the count checked. */
function unraisableNames(definition: Definition): { unknown: Finding[]; checked: number } {
  const unknown: Finding[] = [];
  let checked = 0;
  const visit = (states: Record<string, State>) => {
    for (const [name, state] of Object.entries(states)) {
      const can = raisable(state);
      const rules = [...((state.Retry as Rule[]) ?? []), ...((state.Catch as Rule[]) ?? [])];
      for (const error of rules.flatMap((rule) => rule.ErrorEquals)) {
        checked += 1;
        if (!can.has(error)) unknown.push({ state: name, name: error });
      }
      for (const inner of (state.Branches as Definition[] | undefined) ?? []) visit(inner.States);
      const processor = (state.ItemProcessor ?? state.Iterator) as Definition | undefined;
      if (processor) visit(processor.States);
    }
  };
  visit(definition.States);
  return { unknown, checked };
}

const machines = fs
  .readdirSync(STATEMACHINES_DIR)
  .filter((file) => file.endsWith('.asl.json'))
  .map((file) => file.replace(/\.asl\.json$/, ''));

const parse = (name: string): Definition => JSON.parse(readAsl(name).replace(/\$\{[A-Za-z0-9_:]+\}/g, 'x'));

describe('error names in Retry and Catch', () => {
  test.each(machines)('%s matches only errors its states can raise', (machine) => {
    const { unknown, checked } = unraisableNames(parse(machine));
    expect(unknown).toEqual([]);
    expect(checked).toBeGreaterThan(10);
  });

  test('a name the service never raises is found', () => {
    const definition: Definition = {
      States: {
        Complete: {
          Type: 'Task',
          Resource: 'arn:aws:states:::aws-sdk:autoscaling:completeLifecycleAction',
          Retry: [{ ErrorEquals: ['AutoScaling.ResourceContentionFaultException'] }],
          Catch: [{ ErrorEquals: ['Ssm.ThrottlingException', 'States.ALL'] }],
        },
      },
    };
    expect(unraisableNames(definition).unknown).toEqual([
      { state: 'Complete', name: 'AutoScaling.ResourceContentionFaultException' },
      { state: 'Complete', name: 'Ssm.ThrottlingException' },
    ]);
  });
});

describe('the Step Functions naming rule', () => {
  const error = (name: string) => Object.assign(new Error('message'), { name });

  test('Auto Scaling faults are named without Fault, with Exception', () => {
    expect(stepFunctionsErrorName('autoscaling', error('ResourceContentionFault'))).toBe(
      'AutoScaling.ResourceContentionException',
    );
    // The wire code, as an unmocked client receives it, names the same error.
    expect(stepFunctionsErrorName('autoscaling', error('ScalingActivityInProgress'))).toBe(
      'AutoScaling.ScalingActivityInProgressException',
    );
    expect(stepFunctionsErrorNames('autoscaling')).toEqual(
      expect.arrayContaining([
        'AutoScaling.ActiveInstanceRefreshNotFoundException',
        'AutoScaling.InstanceRefreshInProgressException',
        'AutoScaling.AutoScalingException',
      ]),
    );
    expect(stepFunctionsErrorNames('autoscaling').filter((name) => name.includes('Fault'))).toEqual([]);
  });

  test('an unmodeled code takes the service exception', () => {
    expect(stepFunctionsErrorName('ec2', error('RequestLimitExceeded'))).toBe('Ec2.Ec2Exception');
    expect(stepFunctionsErrorName('autoscaling', error('ValidationError'))).toBe(
      'AutoScaling.AutoScalingException',
    );
    expect(stepFunctionsErrorNames('ec2')).toEqual(['Ec2.Ec2Exception']);
  });

  test("modeled throttling keeps its own name (SSM's, SNS's)", () => {
    expect(stepFunctionsErrorName('ssm', error('ThrottlingException'))).toBe('Ssm.ThrottlingException');
    expect(stepFunctionsErrorName('ssm', error('InvalidInstanceId'))).toBe('Ssm.InvalidInstanceIdException');
    expect(stepFunctionsErrorName('sns', error('Throttled'))).toBe('Sns.ThrottledException');
    // Undocumented spelling of acronyms: both candidates count as raisable.
    expect(stepFunctionsErrorNames('sns')).toEqual(
      expect.arrayContaining(['Sns.KMSThrottlingException', 'Sns.KmsThrottlingException']),
    );
  });
});
