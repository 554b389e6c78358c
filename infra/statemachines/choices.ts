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

/** The end of an execution that says what it did under `$.outcome`. */
export function ended(result: string, comment?: string): State {
  return {
    Type: 'Pass',
    ...(comment ? { Comment: comment } : {}),
    Result: result,
    ResultPath: '$.outcome',
    End: true,
  };
}

/** A Fail state that passes on the error caught under `$.error`. */
export const failWithCaughtError = (): State => ({
  Type: 'Fail',
  ErrorPath: '$.error.Error',
  CausePath: '$.error.Cause',
});

/**
 * `variable` is there, then `test` on it (e.g. `{ StringEquals: 'x' }`), for an `And`: a
 * comparison on a path the input lacks is a runtime error, not a false.
 * https://docs.aws.amazon.com/step-functions/latest/dg/state-choice.html
 */
export function present(variable: string, test: Record<string, Json>): Json[] {
  return [
    { Variable: variable, IsPresent: true },
    { Variable: variable, ...test },
  ];
}

/** `variable` compared by `operator` with each of `values`, any one true. */
export function anyOf(
  variable: string,
  operator: 'StringEquals' | 'StringMatches',
  values: string[],
): { Or: Json[] } {
  return { Or: values.map((value) => ({ Variable: variable, [operator]: value })) };
}

/** Any of these glob patterns in the caught error's Cause (EC2's codes are only there). */
export function causeMatchesAny(patterns: string[]): { Or: Json[] } {
  return anyOf('$.error.Cause', 'StringMatches', patterns);
}
