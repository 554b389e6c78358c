import type { State, States } from '../asl';

const HOW_TO =
  'To destroy this stack, start the execution with the input {"confirm": "${StackName}"} (add "dryRun": true to only list what would be removed). Nothing was changed.';

const refused = (why: string): State => ({
  Type: 'Fail',
  Error: 'InvalidConfirmation',
  Cause: `${why} ${HOW_TO}`,
});

/**
 * Nothing is touched unless the input is exactly `{"confirm": "<this stack>"}`, with an optional
 * boolean `dryRun`: a destroy started by accident, or by a typo, fails before any AWS call.
 */
export function confirmation(next: string): States {
  return {
    CheckConfirmation: {
      Type: 'Choice',
      Comment:
        'Rules run in order, so each one may assume the previous ones passed. No AWS call happens before the input is accepted.',
      Choices: [
        { Not: { Variable: '$.confirm', IsPresent: true }, Next: 'ConfirmationMissing' },
        { Not: { Variable: '$.confirm', IsString: true }, Next: 'ConfirmationNotAString' },
        { Not: { Variable: '$.confirm', StringEquals: '${StackName}' }, Next: 'ConfirmationNotThisStack' },
        { Not: { Variable: '$.dryRun', IsPresent: true }, Next: 'RebuildInput' },
        { Not: { Variable: '$.dryRun', IsBoolean: true }, Next: 'DryRunNotABoolean' },
      ],
      Default: 'RebuildInputWithDryRun',
    },
    RebuildInput: {
      Type: 'Pass',
      Comment:
        "JSONPath cannot list an object's keys: the input is rebuilt from the keys it may have, and compared serialized.",
      Parameters: {
        'request.$': '$',
        rebuilt: { 'confirm.$': '$.confirm' },
        rebuiltReversed: { 'confirm.$': '$.confirm' },
      },
      Next: 'SerializeInput',
    },
    RebuildInputWithDryRun: {
      Type: 'Pass',
      Comment: 'Both key orders: the serialized input keeps the order it was given in.',
      Parameters: {
        'request.$': '$',
        rebuilt: { 'confirm.$': '$.confirm', 'dryRun.$': '$.dryRun' },
        rebuiltReversed: { 'dryRun.$': '$.dryRun', 'confirm.$': '$.confirm' },
      },
      Next: 'SerializeInput',
    },
    SerializeInput: {
      Type: 'Pass',
      Parameters: {
        'request.$': '$.request',
        'given.$': 'States.JsonToString($.request)',
        'rebuilt.$': 'States.JsonToString($.rebuilt)',
        'rebuiltReversed.$': 'States.JsonToString($.rebuiltReversed)',
      },
      Next: 'CheckInputKeys',
    },
    CheckInputKeys: {
      Type: 'Choice',
      Choices: [
        {
          Or: [
            { Variable: '$.given', StringEqualsPath: '$.rebuilt' },
            { Variable: '$.given', StringEqualsPath: '$.rebuiltReversed' },
          ],
          Next: next,
        },
      ],
      Default: 'UnexpectedInputKeys',
    },
    ConfirmationMissing: refused('The input has no "confirm" key.'),
    ConfirmationNotAString: refused('"confirm" must be the stack name, as a string.'),
    ConfirmationNotThisStack: refused('"confirm" is not the name of this stack.'),
    DryRunNotABoolean: refused('"dryRun" must be true or false.'),
    UnexpectedInputKeys: refused('The input may hold only "confirm" and "dryRun".'),
  };
}
