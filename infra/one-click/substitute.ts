/**
 * The launch parameters take the place of the stand-in values the synthesis wrote: a string holding
 * one becomes a join of its text around the parameter's reference.
 */
export type Json = string | number | boolean | null | Json[] | { [key: string]: Json };

/** Every string holding a stand-in becomes a join of its text around the parameter. */
export function substitute(value: Json, substitutions: Array<[string, Json[]]>): Json {
  if (typeof value === 'string') {
    const parts = splitString(value, substitutions);
    return parts.length === 1 && typeof parts[0] === 'string' ? parts[0] : { 'Fn::Join': ['', parts] };
  }
  if (Array.isArray(value)) return value.map((item) => substitute(item, substitutions));
  if (value === null || typeof value !== 'object') return value;
  const join = value['Fn::Join'];
  if (Array.isArray(join) && join[0] === '' && Array.isArray(join[1])) {
    // Inside a join already: the pieces take the string's place in it.
    return {
      'Fn::Join': [
        '',
        join[1].flatMap((part) =>
          typeof part === 'string' ? splitString(part, substitutions) : [substitute(part, substitutions)],
        ),
      ],
    };
  }
  if (
    typeof value['Fn::Sub'] === 'string' &&
    substitutions.some(([standIn]) => (value['Fn::Sub'] as string).includes(standIn))
  ) {
    throw new Error('one-click template: a stand-in inside Fn::Sub');
  }
  return Object.fromEntries(
    Object.entries(value).map(([key, item]) => [key, substitute(item, substitutions)]),
  );
}

function splitString(text: string, substitutions: Array<[string, Json[]]>): Json[] {
  for (const [standIn, replacement] of substitutions) {
    const at = text.indexOf(standIn);
    if (at < 0) continue;
    return [
      ...splitString(text.slice(0, at), substitutions),
      ...replacement,
      ...splitString(text.slice(at + standIn.length), substitutions),
    ].filter((part) => part !== '');
  }
  return [text];
}
