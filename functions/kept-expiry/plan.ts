import { TAG } from '../lib/contract';

/** The end of a kept instance is announced this long before it comes, and never later. */
export const WARNING_LEAD_MS = 60 * 60 * 1000;

const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

function parseTime(value: string | undefined): Date | undefined {
  if (value === undefined || !ISO_TIME.test(value)) return undefined;
  const time = Date.parse(value);
  return Number.isNaN(time) ? undefined : new Date(time);
}

/** What to do with one kept instance now, and the tags that record it. */
export type Plan =
  /** Its end is more than an hour away (or announced and not come yet). */
  | { action: 'wait'; until: Date; tags: Record<string, string> }
  /** Announce its end (`until`, at least an hour from now), then record the announcement. */
  | { action: 'warn'; until: Date; tags: Record<string, string> }
  /** Its announced end has come. */
  | { action: 'terminate'; until: Date; tags: Record<string, string> }
  /** Its kept-until tag is not a time: nothing is done to it (fail closed). */
  | { action: 'unreadable'; reason: string; since?: Date; tags: Record<string, string> };

/**
 * Decides from the instance's tags alone, so that every run reaches the same decision:
 * - kept-since: when it was kept (the launch gate and `external-worker keep` write it); one
 *   missing or malformed starts the count now;
 * - kept-until: its end, kept-since + the TTL unless set (an operator may move it);
 * - kept-warned: the kept-until its end was announced for. No instance is terminated before its end
 *   was announced for that time, and the announcement comes at least an hour before: an end
 *   announced late is moved to an hour after the announcement.
 */
export function planFor(tags: Record<string, string | undefined>, now: Date, ttlMs: number): Plan {
  const write: Record<string, string> = {};
  let since = parseTime(tags[TAG.keptSince]);
  if (!since) {
    since = now;
    write[TAG.keptSince] = now.toISOString();
  }
  const untilTag = tags[TAG.keptUntil];
  let until: Date;
  if (untilTag === undefined) {
    until = new Date(since.getTime() + ttlMs);
    write[TAG.keptUntil] = until.toISOString();
  } else {
    const parsed = parseTime(untilTag);
    if (!parsed) {
      return {
        action: 'unreadable',
        reason: `${TAG.keptUntil}=${JSON.stringify(untilTag)} is not an ISO-8601 time`,
        since,
        tags: write,
      };
    }
    until = parsed;
  }
  const announced = parseTime(tags[TAG.keptWarned])?.getTime() === until.getTime();
  if (announced) {
    return { action: now >= until ? 'terminate' : 'wait', until, tags: write };
  }
  if (now.getTime() < until.getTime() - WARNING_LEAD_MS) return { action: 'wait', until, tags: write };
  const end = new Date(Math.max(until.getTime(), now.getTime() + WARNING_LEAD_MS));
  return {
    action: 'warn',
    until: end,
    tags: { ...write, [TAG.keptUntil]: end.toISOString(), [TAG.keptWarned]: end.toISOString() },
  };
}
