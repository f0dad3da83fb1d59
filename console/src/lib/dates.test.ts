import { describe, expect, it } from 'vitest';
import {
  addDays,
  clockLabel,
  dayIn,
  firstDayToOffer,
  isDay,
  minutesIntoDay,
  timeOfDay,
} from './dates';

describe('dayIn', () => {
  it('is the calendar date in the clinic zone, not the browser zone', () => {
    // 23:30 UTC on 3 Dec is already 4 Dec in Berlin and still 3 Dec in New York.
    const now = new Date('2026-12-03T23:30:00Z');
    expect(dayIn('Europe/Berlin', now)).toBe('2026-12-04');
    expect(dayIn('America/New_York', now)).toBe('2026-12-03');
    expect(dayIn('UTC', now)).toBe('2026-12-03');
  });
});

describe('addDays', () => {
  it('moves across month and year ends and the DST change', () => {
    expect(addDays('2026-12-31', 1)).toBe('2027-01-01');
    expect(addDays('2026-03-01', -1)).toBe('2026-02-28');
    expect(addDays('2026-03-28', 1)).toBe('2026-03-29');
    expect(addDays('2026-03-29', 1)).toBe('2026-03-30');
  });

  it('refuses what is not a day', () => {
    expect(() => addDays('03.12.2026', 1)).toThrow(RangeError);
  });
});

describe('isDay', () => {
  it('accepts real dates only', () => {
    expect(isDay('2026-02-28')).toBe(true);
    expect(isDay('2026-02-30')).toBe(false);
    expect(isDay('2026-2-3')).toBe(false);
  });
});

describe('timeOfDay', () => {
  it('reads the clock in the clinic zone', () => {
    expect(timeOfDay('2026-12-03T08:00:00Z', 'Europe/Berlin', 'de-DE')).toBe('09:00');
  });
});

describe('minutesIntoDay', () => {
  it("counts minutes from the shown day's midnight on the clinic's clock", () => {
    expect(minutesIntoDay('2026-12-03T08:30:00Z', '2026-12-03', 'UTC')).toBe(510);
    expect(minutesIntoDay('2026-12-03T08:30:00Z', '2026-12-03', 'Europe/Berlin')).toBe(570);
    // 23:30 UTC on the 2nd is 00:30 on the 3rd in Berlin, and -30 from the 3rd in UTC.
    expect(minutesIntoDay('2026-12-02T23:30:00Z', '2026-12-03', 'Europe/Berlin')).toBe(30);
    expect(minutesIntoDay('2026-12-02T23:30:00Z', '2026-12-03', 'UTC')).toBe(-30);
    expect(minutesIntoDay('2026-12-04T00:15:00Z', '2026-12-03', 'UTC')).toBe(1455);
  });

  it('reads midnight as 0, not 24', () => {
    expect(minutesIntoDay('2026-12-03T00:00:00Z', '2026-12-03', 'UTC')).toBe(0);
  });
});

describe('clockLabel', () => {
  it('writes a time of the clock as timeOfDay writes an instant', () => {
    expect(clockLabel(540, 'de')).toBe('09:00');
    expect(clockLabel(540, 'en-GB')).toBe(timeOfDay('2026-12-03T09:00:00Z', 'UTC', 'en-GB'));
    expect(clockLabel(13 * 60, 'en-US')).toBe(timeOfDay('2026-12-03T13:00:00Z', 'UTC', 'en-US'));
  });
});

describe('firstDayToOffer', () => {
  const now = new Date('2026-12-03T10:00:00Z');
  it("is the appointment's own day in the clinic zone", () => {
    // 23:30 UTC on 5 Dec is 6 Dec in Berlin.
    expect(firstDayToOffer('2026-12-05T23:30:00Z', 'Europe/Berlin', now)).toBe('2026-12-06');
    expect(firstDayToOffer('2026-12-05T23:30:00Z', 'UTC', now)).toBe('2026-12-05');
  });
  it('is today for an appointment on a past day', () => {
    expect(firstDayToOffer('2026-11-20T09:00:00Z', 'UTC', now)).toBe('2026-12-03');
    expect(firstDayToOffer('2026-12-03T08:00:00Z', 'UTC', now)).toBe('2026-12-03');
  });
});
