const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600 };

/**
 * Seconds in a duration written as `90s`, `15m`, `1h30m`, or a bare number of minutes.
 * Returns undefined for anything else.
 */
export function parseDuration(value: string | number): number | undefined {
  if (typeof value === 'number') return Number.isInteger(value) && value > 0 ? value * 60 : undefined;
  const text = value.trim();
  if (/^[0-9]+$/.test(text)) return Number(text) * 60;
  if (!/^([0-9]+[smh])+$/.test(text)) return undefined;
  let total = 0;
  for (const [, amount, unit] of text.matchAll(/([0-9]+)([smh])/g)) {
    total += Number(amount) * (UNIT_SECONDS[unit as string] ?? 0);
  }
  return total > 0 ? total : undefined;
}
