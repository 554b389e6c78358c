import * as path from 'node:path';
import { PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import { UpstreamError } from '../../functions/lib/errors';
import { runStateMachine, substitute } from './asl-harness';
import { type Moto, startMoto } from './moto';
import { resetSdkClients, stepFunctionsErrorName } from './sdk-adapter';

const probe = path.join(__dirname, '..', 'fixtures', 'statemachines', 'harness-probe.asl.json');
const counterArn = 'arn:aws:lambda:eu-west-1:123456789012:function:counter';
const substitutions = { ParameterName: '/probe/marker', CounterFunctionArn: counterArn };

let moto: Moto;
beforeAll(async () => {
  moto = await startMoto();
  resetSdkClients();
});
afterAll(async () => moto.stop());

function counter(failFirst = 0) {
  let calls = 0;
  return async () => {
    calls += 1;
    if (calls <= failFirst) throw new UpstreamError('not yet');
    return calls - failFirst;
  };
}

describe('local state machine harness', () => {
  test('runs SDK tasks against moto, Lambda tasks in-process, and Wait loops instantly', async () => {
    const run = await runStateMachine(
      probe,
      { value: 'hello' },
      { substitutions, lambdas: { [counterArn]: counter() } },
    );
    expect(run.status).toBe('SUCCEEDED');
    expect(run.output).toMatchObject({ count: 3, marker: { value: 'hello' } });
    expect(run.statesEntered.filter((s) => s === 'Pause')).toHaveLength(2);
    expect(run.sdkCalls.map((c) => c.action)).toEqual(['putParameter', 'getParameter']);
  });

  test('a Lambda error keeps its name, so Retry matches it', async () => {
    const run = await runStateMachine(
      probe,
      { value: 'x' },
      { substitutions, lambdas: { [counterArn]: counter(2) } },
    );
    expect(run.status).toBe('SUCCEEDED');
    expect(run.lambdaCalls.length).toBe(5);
  });

  test('SDK errors get Step Functions names and reach Retry, then Catch', async () => {
    const ssm = mockClient(SSMClient);
    ssm
      .on(PutParameterCommand)
      .rejects(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }));
    try {
      const run = await runStateMachine(
        probe,
        { value: 'x' },
        { substitutions, lambdas: { [counterArn]: counter() } },
      );
      expect(run.status).toBe('FAILED');
      expect(run.error).toBe('ProbeFailed');
      expect(ssm.commandCalls(PutParameterCommand)).toHaveLength(3);
    } finally {
      ssm.restore();
    }
  });

  test('substitutions must match the placeholders exactly', () => {
    expect(() => substitute('{"a":"${A}"}', {})).toThrow('missing [A]');
    expect(() => substitute('{"a":"${A}"}', { A: '1', B: '2' })).toThrow('unused [B]');
  });

  test('error names follow Step Functions: modeled errors keep theirs, others take the service exception', () => {
    class ResourceContentionFault extends Error {
      override name = 'ResourceContentionFault';
    }
    expect(stepFunctionsErrorName('autoscaling', new ResourceContentionFault('busy'))).toBe(
      'AutoScaling.ResourceContentionException',
    );
    expect(
      stepFunctionsErrorName('ec2', Object.assign(new Error('x'), { name: 'RequestLimitExceeded' })),
    ).toBe('Ec2.Ec2Exception');
  });
});
