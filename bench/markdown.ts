/** A markdown table, columns padded to their width; columns after the first are right-aligned (numbers). */
export function table(headers: string[], rows: Array<Array<string | number>>): string[] {
  const cells = [headers, ...rows].map((row) => row.map(String));
  const widths = headers.map((_, i) => Math.max(3, ...cells.map((row) => (row[i] ?? '').length)));
  const line = (row: string[]) =>
    `| ${widths.map((w, i) => (i === 0 ? (row[i] ?? '').padEnd(w) : (row[i] ?? '').padStart(w))).join(' | ')} |`;
  const rule = `| ${widths.map((w, i) => (i === 0 ? '-'.repeat(w) : `${'-'.repeat(w - 1)}:`)).join(' | ')} |`;
  return [line(cells[0] ?? []), rule, ...cells.slice(1).map(line)];
}

export const usd = (value: number) => `$${value.toFixed(2)}`;

export function duration(seconds: number): string {
  const h = Math.floor(seconds / 3600);
  const min = Math.round((seconds % 3600) / 60);
  return `${Math.round(seconds).toLocaleString('en-US')} s (${h} h ${min} min)`;
}
