import { describe, expect, it } from 'vitest';
import {
  freeSlots,
  isoWeekday,
  workingWindow,
  zonedInstant,
  type AvailabilityRules,
  type Interval,
} from './availability.js';

const utcRules: AvailabilityRules = {
  timeZone: 'UTC',
  workdayStart: '09:00',
  workdayEnd: '17:00',
  workdays: [1, 2, 3, 4, 5],
  stepMinutes: 15,
};

/** Far in the past, so no slot is dropped for being over. */
const longAgo = new Date('2000-01-01T00:00:00Z');

function interval(start: string, end: string): Interval {
  return { startsAt: new Date(start), endsAt: new Date(end) };
}

function startsOf(slots: Interval[]): string[] {
  return slots.map((slot) => slot.startsAt.toISOString().slice(11, 16));
}

describe('zonedInstant', () => {
  it('is the identity on wall time in UTC', () => {
    expect(zonedInstant('2026-03-29', '09:00', 'UTC').toISOString()).toBe(
      '2026-03-29T09:00:00.000Z',
    );
    expect(zonedInstant('2026-12-31', '23:45', 'UTC').toISOString()).toBe(
      '2026-12-31T23:45:00.000Z',
    );
    expect(zonedInstant('2024-02-29', '00:00', 'UTC').toISOString()).toBe(
      '2024-02-29T00:00:00.000Z',
    );
  });

  it('uses CET (+01:00) in winter and CEST (+02:00) in summer in Europe/Warsaw', () => {
    expect(zonedInstant('2026-01-15', '09:00', 'Europe/Warsaw').toISOString()).toBe(
      '2026-01-15T08:00:00.000Z',
    );
    expect(zonedInstant('2026-07-15', '09:00', 'Europe/Warsaw').toISOString()).toBe(
      '2026-07-15T07:00:00.000Z',
    );
  });

  it('crosses the spring change on 2026-03-29 (02:00 CET -> 03:00 CEST)', () => {
    const zone = 'Europe/Warsaw';
    // The day before: still CET.
    expect(zonedInstant('2026-03-28', '09:00', zone).toISOString()).toBe(
      '2026-03-28T08:00:00.000Z',
    );
    // Before the change on the day itself: CET.
    expect(zonedInstant('2026-03-29', '00:00', zone).toISOString()).toBe(
      '2026-03-28T23:00:00.000Z',
    );
    expect(zonedInstant('2026-03-29', '01:30', zone).toISOString()).toBe(
      '2026-03-29T00:30:00.000Z',
    );
    // After the change: CEST.
    expect(zonedInstant('2026-03-29', '03:30', zone).toISOString()).toBe(
      '2026-03-29T01:30:00.000Z',
    );
    expect(zonedInstant('2026-03-29', '09:00', zone).toISOString()).toBe(
      '2026-03-29T07:00:00.000Z',
    );
    expect(zonedInstant('2026-03-29', '17:00', zone).toISOString()).toBe(
      '2026-03-29T15:00:00.000Z',
    );
  });

  it('crosses the autumn change on 2026-10-25 (03:00 CEST -> 02:00 CET)', () => {
    const zone = 'Europe/Warsaw';
    expect(zonedInstant('2026-10-24', '09:00', zone).toISOString()).toBe(
      '2026-10-24T07:00:00.000Z',
    );
    // Before the change on the day itself: CEST.
    expect(zonedInstant('2026-10-25', '00:30', zone).toISOString()).toBe(
      '2026-10-24T22:30:00.000Z',
    );
    // After the change: CET.
    expect(zonedInstant('2026-10-25', '03:30', zone).toISOString()).toBe(
      '2026-10-25T02:30:00.000Z',
    );
    expect(zonedInstant('2026-10-25', '09:00', zone).toISOString()).toBe(
      '2026-10-25T08:00:00.000Z',
    );
    expect(zonedInstant('2026-10-26', '09:00', zone).toISOString()).toBe(
      '2026-10-26T08:00:00.000Z',
    );
  });

  it('makes the working day 8 hours long on both change days', () => {
    const rules = { ...utcRules, timeZone: 'Europe/Warsaw' };
    for (const date of ['2026-03-29', '2026-10-25']) {
      const window = workingWindow(date, rules);
      expect(window.endsAt.getTime() - window.startsAt.getTime()).toBe(8 * 3_600_000);
    }
  });
});

describe('isoWeekday', () => {
  it('numbers Monday 1 .. Sunday 7', () => {
    expect(isoWeekday('2026-03-30')).toBe(1); // Monday
    expect(isoWeekday('2026-03-31')).toBe(2);
    expect(isoWeekday('2026-01-01')).toBe(4); // Thursday
    expect(isoWeekday('2026-04-04')).toBe(6); // Saturday
    expect(isoWeekday('2026-03-29')).toBe(7); // Sunday (not 0)
    expect(isoWeekday('2026-10-25')).toBe(7);
    expect(isoWeekday('2024-02-29')).toBe(4); // leap day
  });

  it('walks a whole week in order', () => {
    const week = ['2026-06-01', '2026-06-02', '2026-06-03', '2026-06-04', '2026-06-05'];
    expect([...week, '2026-06-06', '2026-06-07'].map(isoWeekday)).toEqual([1, 2, 3, 4, 5, 6, 7]);
  });
});

describe('freeSlots', () => {
  it('is empty on a non-workday', () => {
    expect(freeSlots('2026-04-04', 30, utcRules, [], longAgo)).toEqual([]); // Saturday
    expect(freeSlots('2026-04-05', 30, utcRules, [], longAgo)).toEqual([]); // Sunday
    expect(freeSlots('2026-04-06', 30, utcRules, [], longAgo)).not.toEqual([]); // Monday
  });

  it('starts a slot every step and fits the whole duration before closing time', () => {
    const slots = freeSlots('2026-04-06', 30, utcRules, [], longAgo);
    expect(slots).toHaveLength(31); // 09:00 .. 16:30
    expect(slots[0]).toEqual(interval('2026-04-06T09:00:00Z', '2026-04-06T09:30:00Z'));
    expect(slots.at(-1)).toEqual(interval('2026-04-06T16:30:00Z', '2026-04-06T17:00:00Z'));
    let previous: Interval | undefined;
    for (const slot of slots) {
      expect(slot.endsAt.getTime() - slot.startsAt.getTime()).toBe(30 * 60_000);
      if (previous) expect(slot.startsAt.getTime() - previous.startsAt.getTime()).toBe(900_000);
      previous = slot;
    }
  });

  it('honours a different step and duration', () => {
    const rules = { ...utcRules, stepMinutes: 60, workdayStart: '08:00', workdayEnd: '12:00' };
    expect(startsOf(freeSlots('2026-04-06', 90, rules, [], longAgo))).toEqual([
      '08:00',
      '09:00',
      '10:00',
    ]);
    expect(startsOf(freeSlots('2026-04-06', 240, rules, [], longAgo))).toEqual(['08:00']);
    expect(freeSlots('2026-04-06', 241, rules, [], longAgo)).toEqual([]);
  });

  it('removes slots overlapping busy intervals, half-open at both ends', () => {
    const rules = { ...utcRules, workdayStart: '09:00', workdayEnd: '12:00' };
    const busy = [interval('2026-04-06T10:00:00Z', '2026-04-06T10:30:00Z')];
    const starts = startsOf(freeSlots('2026-04-06', 30, rules, busy, longAgo));
    // 09:30-10:00 ends as the busy one starts; 10:30-11:00 starts as it ends: both free.
    expect(starts).toEqual([
      '09:00',
      '09:15',
      '09:30',
      '10:30',
      '10:45',
      '11:00',
      '11:15',
      '11:30',
    ]);
  });

  it('handles several busy intervals, including one spilling past the working day', () => {
    const rules = { ...utcRules, workdayStart: '09:00', workdayEnd: '11:00', stepMinutes: 30 };
    const busy = [
      interval('2026-04-06T08:00:00Z', '2026-04-06T09:05:00Z'),
      interval('2026-04-06T10:29:00Z', '2026-04-06T12:00:00Z'),
    ];
    expect(startsOf(freeSlots('2026-04-06', 30, rules, busy, longAgo))).toEqual(['09:30']);
  });

  it('drops slots that start before `now` (a slot starting exactly now is kept)', () => {
    const rules = { ...utcRules, workdayStart: '09:00', workdayEnd: '11:00' };
    const midSlot = freeSlots('2026-04-06', 30, rules, [], new Date('2026-04-06T10:07:00Z'));
    expect(startsOf(midSlot)).toEqual(['10:15', '10:30']);
    const onSlot = freeSlots('2026-04-06', 30, rules, [], new Date('2026-04-06T10:15:00Z'));
    expect(startsOf(onSlot)).toEqual(['10:15', '10:30']);
    const afterHours = freeSlots('2026-04-06', 30, rules, [], new Date('2026-04-06T18:00:00Z'));
    expect(afterHours).toEqual([]);
  });

  it('computes slots in the clinic zone across the spring DST change', () => {
    const rules: AvailabilityRules = {
      timeZone: 'Europe/Warsaw',
      workdayStart: '09:00',
      workdayEnd: '11:00',
      workdays: [1, 2, 3, 4, 5, 6, 7],
      stepMinutes: 60,
    };
    // Sunday 2026-03-29 is CEST after 02:00: 09:00 local = 07:00Z.
    expect(freeSlots('2026-03-29', 60, rules, [], longAgo)).toEqual([
      interval('2026-03-29T07:00:00Z', '2026-03-29T08:00:00Z'),
      interval('2026-03-29T08:00:00Z', '2026-03-29T09:00:00Z'),
    ]);
    // Saturday before is CET: 09:00 local = 08:00Z.
    expect(startsOf(freeSlots('2026-03-28', 60, rules, [], longAgo))).toEqual(['08:00', '09:00']);
    // After the autumn change, CET again.
    expect(startsOf(freeSlots('2026-10-25', 60, rules, [], longAgo))).toEqual(['08:00', '09:00']);
  });
});
