import { DescribeStacksCommand, type DescribeStacksCommandOutput } from '@aws-sdk/client-cloudformation';
import {
  DescribeExecutionCommand,
  GetExecutionHistoryCommand,
  type HistoryEvent,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import { cli, MACHINES, mockedClients, OUTPUTS, STACK } from './mocked';

const EXECUTION = `arn:aws:states:eu-west-1:123456789012:execution:${STACK}-destroy:run-1`;
let id = 0;
const entered = (type: string, name: string): HistoryEvent => ({
  id: ++id,
  type: type as HistoryEvent['type'],
  timestamp: new Date(),
  stateEnteredEventDetails: { name },
});
const steps = [
  entered('ChoiceStateEntered', 'CheckConfirmation'),
  entered('TaskStateEntered', 'DescribeStack'),
  entered('MapStateEntered', 'DisableSchedules'),
  entered('TaskStateEntered', 'ScaleToZero'),
  entered('WaitStateEntered', 'WaitForInstancesToGo'),
  entered('TaskStateEntered', 'CountInstances'),
];
const later = [
  entered('WaitStateEntered', 'WaitForInstancesToGo'),
  entered('TaskStateEntered', 'CountInstances'),
  entered('TaskStateEntered', 'FindImages'),
  entered('TaskStateEntered', 'DeleteStack'),
];
const summary = {
  outcome: 'destroyed',
  stackName: STACK,
  dryRun: false,
  group: { name: `${STACK}-workers`, instanceIds: ['i-0123456789abcdef0'], endedAtDeadline: [] },
  keptInstances: { instanceIds: [] },
  images: [{ imageId: 'ami-0123456789abcdef0', result: 'deregistered' }],
  stack: { result: 'deletion started' },
};

function destroyWorld() {
  const world = mockedClients();
  world.mocks.sfn.on(StartExecutionCommand).resolves({ executionArn: EXECUTION, startDate: new Date() });
  world.mocks.sfn
    .on(GetExecutionHistoryCommand)
    .resolvesOnce({ events: steps })
    .resolves({ events: [...steps, ...later] });
  world.mocks.sfn
    .on(DescribeExecutionCommand)
    .resolvesOnce({ status: 'RUNNING' })
    .resolves({ status: 'SUCCEEDED', output: JSON.stringify(summary) });
  return world;
}

test('destroy asks for the stack name, starts the workflow with it, shows each step, then follows the deletion', async () => {
  const { clients, mocks } = destroyWorld();
  const stackRead: DescribeStacksCommandOutput = {
    $metadata: {},
    Stacks: [
      {
        StackName: STACK,
        StackStatus: 'UPDATE_COMPLETE',
        CreationTime: new Date(),
        Outputs: Object.entries(OUTPUTS).map(([OutputKey, OutputValue]) => ({ OutputKey, OutputValue })),
      },
    ],
  };
  mocks.cfn
    .on(DescribeStacksCommand)
    .resolvesOnce(stackRead)
    .resolvesOnce({ Stacks: [{ ...stackRead.Stacks?.[0], StackStatus: 'DELETE_IN_PROGRESS' }] } as never)
    .rejects(Object.assign(new Error(`Stack with id ${STACK} does not exist`), { name: 'ValidationError' }));
  const { code, out, err } = await cli(clients, ['destroy', '--stack', STACK], { answers: [STACK] });
  expect(code).toBe(0);
  const start = mocks.sfn.commandCalls(StartExecutionCommand);
  expect(start).toHaveLength(1);
  expect(start[0]?.args[0].input).toEqual({
    stateMachineArn: MACHINES.destroy,
    input: JSON.stringify({ confirm: STACK }),
  });
  expect(err).toEqual([
    `This destroys ${STACK}: its workers are drained and ended, kept instances ended, every AMI, snapshot and image of the stack deleted, then the stack itself. Log groups and the worker key stay.`,
    `Type the stack name (${STACK}) to destroy it: `,
    `destroy execution ${EXECUTION}`,
    '      0s  DescribeStack',
    '      0s  DisableSchedules',
    '      0s  ScaleToZero',
    '      0s  WaitForInstancesToGo',
    '      0s  CountInstances',
    '     10s  FindImages',
    '     10s  DeleteStack',
    '     10s  stack DELETE_IN_PROGRESS',
    '     20s  stack DELETE_COMPLETE',
  ]);
  expect(out).toEqual([
    'Removed:',
    '  outcome: destroyed',
    `  stackName: ${STACK}`,
    '  dryRun: false',
    '  group:',
    `    name: ${STACK}-workers`,
    '    instanceIds:',
    '      - i-0123456789abcdef0',
    '    endedAtDeadline: none',
    '  keptInstances:',
    '    instanceIds: none',
    '  images:',
    '    -',
    '      imageId: ami-0123456789abcdef0',
    '      result: deregistered',
    '  stack:',
    '    result: deletion started',
    `stack ${STACK} deleted`,
  ]);
});

test('a name that is not the stack name starts nothing: exit code 6', async () => {
  for (const answers of [['external-worker-dev'], [], ['']]) {
    const { clients, mocks } = destroyWorld();
    const { code, out, err } = await cli(clients, ['destroy', '--stack', STACK], { answers: [...answers] });
    expect(code).toBe(6);
    expect(out).toEqual([]);
    expect(err.at(-1)).toBe(
      answers[0]
        ? `external-worker: "${answers[0]}" is not ${STACK}: nothing done`
        : 'external-worker: no name given: nothing done',
    );
    expect(mocks.sfn.commandCalls(StartExecutionCommand)).toHaveLength(0);
  }
});

test('--dry-run with --confirm (for scripts) lists what would go and deletes nothing', async () => {
  const { clients, mocks } = destroyWorld();
  const { code, out, err } = await cli(clients, [
    'destroy',
    '--dry-run',
    '--confirm',
    STACK,
    '--stack',
    STACK,
  ]);
  expect(code).toBe(0);
  expect(mocks.sfn.commandCalls(StartExecutionCommand)[0]?.args[0].input.input).toBe(
    JSON.stringify({ confirm: STACK, dryRun: true }),
  );
  expect(out[0]).toBe('Would remove:');
  expect(err.some((line) => line.startsWith('This destroys'))).toBe(false);
  expect(err.some((line) => line.includes('stack DELETE'))).toBe(false);
});

test('a failed run is one line with the error and cause, exit code 5', async () => {
  const { clients, mocks } = destroyWorld();
  mocks.sfn.on(DescribeExecutionCommand).resolves({
    status: 'FAILED',
    error: 'StackHasNoServiceRole',
    cause: `Everything but the CloudFormation stack ${STACK} was removed. aws cloudformation delete-stack --stack-name ${STACK}`,
  });
  const { code, out, err } = await cli(clients, ['destroy', '--confirm', STACK, '--stack', STACK]);
  expect({ code, out }).toEqual({ code: 5, out: [] });
  expect(err.at(-1)).toBe(
    `external-worker: destroy FAILED: StackHasNoServiceRole: Everything but the CloudFormation stack ${STACK} was removed. ` +
      `aws cloudformation delete-stack --stack-name ${STACK} (fix the cause, then run destroy again: it finishes what is left)`,
  );
});
