import { describe, expect, it } from 'vitest';
import {
  clinicDate,
  clinicDay,
  describeWorkingHours,
  nextDate,
  withinWorkingHours,
} from './availability.js';

const hours = (timeZone: string) => ({
  timeZone,
  workdayStart: '09:00',
  workdayEnd: '17:00',
  workdays: [1, 2, 3, 4, 5],
});

function slot(start: string, minutes = 30) {
  const startsAt = new Date(start);
  return { startsAt, endsAt: new Date(startsAt.getTime() + minutes * 60_000) };
}

describe('clinicDay', () => {
  it('is [local midnight, next local midnight): 23 and 25 hours across DST changes', () => {
    const spring = clinicDay('2027-03-14', 'America/New_York');
    expect(spring.startsAt.toISOString()).toBe('2027-03-14T05:00:00.000Z');
    expect(spring.endsAt.toISOString()).toBe('2027-03-15T04:00:00.000Z');
    const autumn = clinicDay('2026-10-25', 'Europe/Berlin');
    expect(autumn.startsAt.toISOString()).toBe('2026-10-24T22:00:00.000Z');
    expect(autumn.endsAt.toISOString()).toBe('2026-10-25T23:00:00.000Z');
    const utc = clinicDay('2026-12-31', 'UTC');
    expect(utc.endsAt.toISOString()).toBe('2027-01-01T00:00:00.000Z');
  });

  it('nextDate and clinicDate do calendar and zone arithmetic', () => {
    expect(nextDate('2024-02-28')).toBe('2024-02-29');
    expect(nextDate('2026-12-31')).toBe('2027-01-01');
    expect(clinicDate(new Date('2026-05-05T03:00:00Z'), 'America/New_York')).toBe('2026-05-04');
    expect(clinicDate(new Date('2026-05-04T23:30:00Z'), 'Asia/Tokyo')).toBe('2026-05-05');
  });
});

describe('withinWorkingHours', () => {
  it('takes whole slots within the hours of a working day in the clinic zone', () => {
    const berlin = hours('Europe/Berlin');
    // Monday 2026-05-04; Berlin is UTC+2 in May.
    expect(withinWorkingHours(slot('2026-05-04T07:00:00Z'), berlin)).toBe(true);
    expect(withinWorkingHours(slot('2026-05-04T06:45:00Z'), berlin)).toBe(false);
    expect(withinWorkingHours(slot('2026-05-04T14:30:00Z'), berlin)).toBe(true);
    expect(withinWorkingHours(slot('2026-05-04T14:45:00Z'), berlin)).toBe(false);
    expect(withinWorkingHours(slot('2026-05-04T20:00:00Z'), berlin)).toBe(false);
    // Saturday 2026-05-09 at 10:00 local.
    expect(withinWorkingHours(slot('2026-05-09T08:00:00Z'), berlin)).toBe(false);
  });

  it('describes the hours in words', () => {
    expect(describeWorkingHours(hours('UTC'))).toBe('Mon-Fri 09:00-17:00 (UTC)');
    expect(describeWorkingHours({ ...hours('UTC'), workdays: [1, 3, 4, 5, 7] })).toBe(
      'Mon, Wed-Fri, Sun 09:00-17:00 (UTC)',
    );
  });
});
