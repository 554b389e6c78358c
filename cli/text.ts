/** `45s`, `12m`, `3h05m`, `2d04h`: how long, at a glance. */
export function duration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h}h${String(m % 60).padStart(2, '0')}m`;
  return `${Math.floor(h / 24)}d${String(h % 24).padStart(2, '0')}h`;
}

/** `2026-12-01 10:02 UTC`. */
export function when(isoTime: string | undefined): string {
  if (!isoTime) return '-';
  const date = new Date(isoTime);
  if (Number.isNaN(date.getTime())) return isoTime;
  return `${date.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

/** Seconds from `isoTime` to `now` (negative when in the future). */
export function secondsSince(isoTime: string, now: Date): number {
  return (now.getTime() - new Date(isoTime).getTime()) / 1000;
}

/** Left-aligned columns, two spaces apart, each line indented. */
export function table(rows: string[][], indent = '  '): string[] {
  const widths: number[] = [];
  for (const row of rows)
    row.forEach((cell, i) => {
      widths[i] = Math.max(widths[i] ?? 0, cell.length);
    });
  return rows.map(
    (row) =>
      indent +
      row
        .map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i] ?? 0)))
        .join('  ')
        .trimEnd(),
  );
}

export const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

/** A JSON value as indented `key: value` lines, for results whose shape the CLI does not own. */
export function outline(value: unknown, indent = '  '): string[] {
  if (value === null || typeof value !== 'object') return [`${indent}${String(value)}`];
  const lines: string[] = [];
  const entries = Array.isArray(value) ? value.map((v) => ['-', v] as const) : Object.entries(value);
  for (const [key, item] of entries) {
    const label = key === '-' ? '-' : `${key}:`;
    if (item !== null && typeof item === 'object' && Object.keys(item).length > 0) {
      lines.push(`${indent}${label}`);
      lines.push(...outline(item, `${indent}  `));
    } else {
      const text =
        item !== null && typeof item === 'object' ? (Array.isArray(item) ? 'none' : '{}') : String(item);
      lines.push(`${indent}${label} ${text}`);
    }
  }
  return lines;
}
