import { planFor, WARNING_LEAD_MS } from '../../../functions/kept-expiry/plan';
import { TAG } from '../../../functions/lib/contract';

const HOUR = 3600_000;
const TTL = 24 * HOUR;
const SINCE = '2026-03-01T10:00:00.000Z';
const at = (hours: number) => new Date(Date.parse(SINCE) + hours * HOUR);
const iso = (hours: number) => at(hours).toISOString();

describe('what happens to a kept instance, from its tags', () => {
  test('kept recently: its end is recorded (kept-since + TTL), nothing else', () => {
    expect(planFor({ [TAG.keptSince]: SINCE }, at(1), TTL)).toEqual({
      action: 'wait',
      until: at(24),
      tags: { [TAG.keptUntil]: iso(24) },
    });
  });

  test('an hour before its end: announced, and the announcement recorded', () => {
    expect(planFor({ [TAG.keptSince]: SINCE, [TAG.keptUntil]: iso(24) }, at(23.1), TTL)).toEqual({
      action: 'warn',
      // never less than an hour after the announcement
      until: new Date(at(23.1).getTime() + WARNING_LEAD_MS),
      tags: {
        [TAG.keptUntil]: new Date(at(23.1).getTime() + WARNING_LEAD_MS).toISOString(),
        [TAG.keptWarned]: new Date(at(23.1).getTime() + WARNING_LEAD_MS).toISOString(),
      },
    });
    expect(planFor({ [TAG.keptSince]: SINCE, [TAG.keptUntil]: iso(24) }, at(23), TTL)).toMatchObject({
      action: 'warn',
      until: at(24),
    });
  });

  test('announced: waits for its end, then terminates; never announced twice for the same end', () => {
    const tags = { [TAG.keptSince]: SINCE, [TAG.keptUntil]: iso(24), [TAG.keptWarned]: iso(24) };
    expect(planFor(tags, at(23.5), TTL)).toEqual({ action: 'wait', until: at(24), tags: {} });
    expect(planFor(tags, at(24), TTL)).toEqual({ action: 'terminate', until: at(24), tags: {} });
    expect(planFor(tags, at(30), TTL).action).toBe('terminate');
  });

  test('past its end but never announced (the expiry did not run): announced, ended an hour later', () => {
    const plan = planFor({ [TAG.keptSince]: SINCE }, at(40), TTL);
    expect(plan).toMatchObject({ action: 'warn', until: at(41) });
  });

  test('kept-until moved later by an operator: announced again for the new end', () => {
    const tags = { [TAG.keptSince]: SINCE, [TAG.keptUntil]: iso(48), [TAG.keptWarned]: iso(24) };
    expect(planFor(tags, at(30), TTL).action).toBe('wait');
    expect(planFor(tags, at(47.5), TTL)).toMatchObject({ action: 'warn', until: at(48.5) });
  });

  test('no or a malformed kept-since: the count starts now', () => {
    for (const since of [undefined, 'yesterday', '2026-13-45T99:00:00Z']) {
      const tags = since === undefined ? {} : { [TAG.keptSince]: since };
      expect(planFor(tags, at(5), TTL)).toEqual({
        action: 'wait',
        until: at(29),
        tags: { [TAG.keptSince]: iso(5), [TAG.keptUntil]: iso(29) },
      });
    }
  });

  test('a kept-until that is not a time: left alone (fail closed)', () => {
    expect(planFor({ [TAG.keptSince]: SINCE, [TAG.keptUntil]: 'next week' }, at(100), TTL)).toMatchObject({
      action: 'unreadable',
      reason: expect.stringContaining('"next week" is not an ISO-8601 time'),
    });
  });
});
