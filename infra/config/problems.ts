import { safeJson } from './parsers';

/** How a configuration is read from the context, and how its problems are told. */

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
}

/** Context keys that CDK itself sets or reads: feature flags (`@aws-cdk/...`) and `aws:cdk:*`, `cdk-*`. */
export function isCdkKey(key: string): boolean {
  return key.startsWith('@') || key.includes(':') || key.startsWith('cdk-') || key === 'assetOutputs';
}

/** Turns `schedule.start` style keys (as given with `-c`) into nested objects. */
export function nestDottedKeys(raw: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(raw)) {
    const dot = key.indexOf('.');
    if (dot < 0) {
      out[key] = value;
      continue;
    }
    const parent = key.slice(0, dot);
    const existing = out[parent];
    const base =
      typeof existing === 'string' ? safeJson(existing) : existing === undefined ? {} : (existing as unknown);
    out[parent] = { ...(typeof base === 'object' && base !== null ? base : {}), [key.slice(dot + 1)]: value };
  }
  return out;
}

export function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  const text = typeof value === 'string' ? JSON.stringify(value) : (JSON.stringify(value) ?? String(value));
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

export function valueAt(raw: Record<string, unknown>, path: PropertyKey[]): unknown {
  let current: unknown = raw;
  for (const key of path) {
    if (typeof current === 'string') current = safeJson(current);
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<PropertyKey, unknown>)[key as string];
  }
  return current;
}
