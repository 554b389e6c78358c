/**
 * Validates a 5-field cron expression as the Auto Scaling scheduled actions accept it
 * (minute hour day-of-month month day-of-week; numbers, ranges, lists, steps, `*`,
 * month and weekday names).
 */
const FIELDS: Array<{ min: number; max: number; names?: string[] }> = [
  { min: 0, max: 59 },
  { min: 0, max: 23 },
  { min: 1, max: 31 },
  {
    min: 1,
    max: 12,
    names: ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'],
  },
  { min: 0, max: 7, names: ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] },
];

function fieldValue(
  token: string,
  field: { min: number; max: number; names?: string[] },
): number | undefined {
  const named = field.names?.indexOf(token.toLowerCase());
  if (named !== undefined && named >= 0) return named + (field.min === 1 ? 1 : 0);
  if (!/^[0-9]+$/.test(token)) return undefined;
  const n = Number(token);
  return n >= field.min && n <= field.max ? n : undefined;
}

function validPart(part: string, field: { min: number; max: number; names?: string[] }): boolean {
  const [range, step, ...rest] = part.split('/');
  if (rest.length > 0 || range === undefined) return false;
  if (step !== undefined && !(/^[0-9]+$/.test(step) && Number(step) > 0)) return false;
  if (range === '*') return true;
  const [from, to, ...more] = range.split('-');
  if (more.length > 0 || from === undefined) return false;
  const start = fieldValue(from, field);
  if (start === undefined) return false;
  if (to === undefined) return true;
  const end = fieldValue(to, field);
  return end !== undefined && end >= start;
}

export function isValidCron(expression: string): boolean {
  const fields = expression.trim().split(/\s+/);
  if (fields.length !== FIELDS.length) return false;
  return fields.every((text, i) => {
    const field = FIELDS[i];
    return field !== undefined && text.split(',').every((part) => validPart(part, field));
  });
}
