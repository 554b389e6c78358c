import { ConfigError, parseConfig } from '../../infra/config';

/** What the configuration parser says is wrong with `context`; [] when it accepts it. */
export function problemsOrNone(context: Record<string, unknown>): string[] {
  try {
    parseConfig(context);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  return [];
}

/** The same, for a context that must be refused: its acceptance fails the test. */
export function problems(context: Record<string, unknown>): string[] {
  const found = problemsOrNone(context);
  if (found.length === 0) throw new Error('configuration was accepted');
  return found;
}
