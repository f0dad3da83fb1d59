import { describe, expect, it } from 'vitest';
import { daySlots, demoDays } from './demo-week.js';

const rules = {
  clinicTimeZone: 'Europe/Paris',
  workdayStart: '08:30',
  workdayEnd: '12:15',
  workdays: [1, 2, 3, 4, 5],
};

describe('the demo week', () => {
  it('on a Saturday: the Friday before, then five working days from Monday', () => {
    const saturday = new Date('2026-12-05T10:00:00Z');
    expect(demoDays(saturday, rules)).toEqual({
      past: ['2026-12-04'],
      coming: ['2026-12-07', '2026-12-08', '2026-12-09', '2026-12-10', '2026-12-11'],
    });
  });

  it('on a Monday shortly after midnight in the clinic (still Sunday in UTC): today is Monday', () => {
    const monday = new Date('2026-12-06T23:30:00Z');
    const days = demoDays(monday, rules);
    expect(days.coming[0]).toBe('2026-12-07');
    expect(days.past).toEqual(['2026-12-04']);
  });

  it('slots start at the opening and end by the closing time', () => {
    expect(daySlots(rules)).toEqual([
      '08:30',
      '09:00',
      '09:30',
      '10:00',
      '10:30',
      '11:00',
      '11:30',
    ]);
  });
});
