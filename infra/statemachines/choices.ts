import type { Json, State } from './asl';

/** Dry runs list what a step would do: every acting step is behind one of these. */
export function ifDryRun(whenDry: string, otherwise: string): State {
  return {
    Type: 'Choice',
    Choices: [{ Variable: '$.dryRun', BooleanEquals: true, Next: whenDry }],
    Default: otherwise,
  };
}

/** The end of one item of a Map: the item's key and what happened to it. */
export function itemResult(key: string, result: string): State {
  return { Type: 'Pass', Parameters: { [`${key}.$`]: `$.${key}`, result }, End: true };
}

/** A Fail state that passes on the error caught under `$.error`. */
export const failWithCaughtError = (): State => ({
  Type: 'Fail',
  ErrorPath: '$.error.Error',
  CausePath: '$.error.Cause',
});

/** Any of these glob patterns in the caught error's Cause (EC2's codes are only there). */
export function causeMatchesAny(patterns: string[]): { Or: Json[] } {
  return { Or: patterns.map((pattern) => ({ Variable: '$.error.Cause', StringMatches: pattern })) };
}
