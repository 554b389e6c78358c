/** A markdown table; columns after the first are right-aligned (numbers). */
export function table(headers: string[], rows: Array<Array<string | number>>): string[] {
  return [
    `| ${headers.join(' | ')} |`,
    `|${headers.map((_, i) => (i === 0 ? '---' : '---:')).join('|')}|`,
    ...rows.map((row) => `| ${row.join(' | ')} |`),
  ];
}

export const usd = (value: number) => `$${value.toFixed(2)}`;

export function duration(seconds: number): string {
  const h = Math.floor(seconds / 3600);
  const min = Math.round((seconds % 3600) / 60);
  return `${Math.round(seconds).toLocaleString('en-US')} s (${h} h ${min} min)`;
}
