import { runStateMachine } from '../support/asl-harness';
import { resetSdkClients } from '../support/sdk-adapter';
import { OTHER, STACK, substitutions } from './destroy-world';

// A refused input must not make a single call: no emulator, and any call that slipped through would
// be recorded, then fail against a closed loopback port instead of leaving the machine.
beforeAll(() => {
  Object.assign(process.env, {
    AWS_ENDPOINT_URL: 'http://127.0.0.1:9',
    AWS_REGION: 'eu-west-1',
    AWS_ACCESS_KEY_ID: 'testing',
    AWS_SECRET_ACCESS_KEY: 'testing',
  });
  resetSdkClients();
});

describe('destroy state machine: the confirmation', () => {
  test.each([
    ['no input', {}, 'ConfirmationMissing'],
    ['an empty confirmation', { confirm: '' }, 'ConfirmationNotThisStack'],
    ['another stack name', { confirm: OTHER }, 'ConfirmationNotThisStack'],
    ['the name in another case', { confirm: STACK.toUpperCase() }, 'ConfirmationNotThisStack'],
    ['a confirmation of the wrong type', { confirm: true }, 'ConfirmationNotAString'],
    ['a confirmation as a list', { confirm: [STACK] }, 'ConfirmationNotAString'],
    ['a dry run of the wrong type', { confirm: STACK, dryRun: 'yes' }, 'DryRunNotABoolean'],
    ['an extra key', { confirm: STACK, force: true }, 'UnexpectedInputKeys'],
    ['an extra key and a dry run', { dryRun: true, confirm: STACK, also: 1 }, 'UnexpectedInputKeys'],
    ['an extra key set to null', { confirm: STACK, dryRun: false, extra: null }, 'UnexpectedInputKeys'],
    [
      'the confirmation repeated inside another key',
      { confirm: STACK, options: { confirm: STACK } },
      'UnexpectedInputKeys',
    ],
    ['a bare string', STACK, 'ConfirmationMissing'],
    ['a list', [STACK], 'ConfirmationMissing'],
  ])('%s fails at once, before any AWS call, saying what to pass', async (_, input, failState) => {
    const run = await runStateMachine('destroy', input, {
      substitutions: substitutions('arn:aws:sns:eu-west-1:123456789012:unused'),
    });
    expect(run.status).toBe('FAILED');
    expect(run.error).toBe('InvalidConfirmation');
    expect(run.cause).toContain(`{"confirm": "${STACK}"}`);
    expect(run.cause).toContain('"dryRun": true');
    expect(run.sdkCalls).toEqual([]);
    expect(run.statesEntered.at(-1)).toBe(failState);
  });
});
