import { describe, expect, it } from 'vitest';
import type { Appointment } from './appointments';
import { parseClock } from './dates';
import { dayWindow, hourMarks, layoutDay, layoutLanes, spanOf } from './dayLayout';

function span(id: string, start: number, end: number) {
  return { item: id, start, end };
}

/** The lanes as "id:lane/lanes", in drawing order. */
function lanes(blocks: { item: string; lane: number; lanes: number }[]): string[] {
  return blocks.map((block) => `${block.item}:${block.lane}/${block.lanes}`);
}

const workday = { start: 8 * 60, end: 18 * 60 };

describe('layoutLanes', () => {
  it('puts overlapping appointments side by side, each group with its own lane count', () => {
    const blocks = layoutLanes(
      [
        span('a', 540, 600), // 09:00-10:00
        span('b', 570, 630), // 09:30-10:30, overlaps a
        span('c', 600, 660), // 10:00-11:00, overlaps b, not a: a's lane is free again
        span('d', 720, 750), // 12:00-12:30, alone
      ],
      workday,
    );
    expect(lanes(blocks)).toEqual(['a:0/2', 'b:1/2', 'c:0/2', 'd:0/1']);
  });

  it('does not count touching ends as an overlap', () => {
    const blocks = layoutLanes([span('a', 540, 555), span('b', 555, 570)], workday);
    expect(lanes(blocks)).toEqual(['a:0/1', 'b:0/1']);
  });

  it('gives three appointments at the same time three lanes, the longest first', () => {
    const blocks = layoutLanes(
      [span('short', 540, 555), span('long', 540, 600), span('mid', 540, 570)],
      workday,
    );
    expect(lanes(blocks)).toEqual(['long:0/3', 'mid:1/3', 'short:2/3']);
  });

  it('lays lanes out by the drawn length: short blocks drawn longer no longer cover each other', () => {
    // Two 5-minute appointments 5 minutes apart, drawn at least 15 minutes long.
    expect(lanes(layoutLanes([span('a', 540, 545), span('b', 545, 550)], workday, 15))).toEqual([
      'a:0/2',
      'b:1/2',
    ]);
    const [first] = layoutLanes([span('a', 540, 545)], workday, 15);
    expect(first).toMatchObject({ start: 540, end: 545, top: 540, bottom: 555 });
  });

  it('clamps appointments running over the window and leaves out those wholly outside', () => {
    const window = { start: 480, end: 1080 };
    const blocks = layoutLanes(
      [span('early', 450, 510), span('late', 1050, 1110), span('night', 1200, 1230)],
      window,
    );
    expect(blocks.map((block) => block.item)).toEqual(['early', 'late']);
    expect(blocks[0]).toMatchObject({ top: 480, bottom: 510, cutStart: true, cutEnd: false });
    expect(blocks[1]).toMatchObject({ top: 1050, bottom: 1080, cutStart: false, cutEnd: true });
  });
});

describe('dayWindow', () => {
  it('is the working day when everything lies inside it', () => {
    expect(dayWindow(workday, [{ start: 540, end: 600 }])).toEqual(workday);
  });

  it('widens to whole hours to show appointments before and after the working day', () => {
    // 06:45-07:15 and 18:30-19:10.
    expect(
      dayWindow(workday, [
        { start: 405, end: 435 },
        { start: 1110, end: 1150 },
      ]),
    ).toEqual({ start: 360, end: 1200 });
  });

  it('stays within the day for appointments crossing midnight, and ignores other days', () => {
    expect(
      dayWindow(workday, [
        { start: -30, end: 30 }, // 23:30 the day before to 00:30
        { start: 1430, end: 1470 }, // 23:50 to 00:30 the next day
        { start: 1500, end: 1530 }, // the next day
      ]),
    ).toEqual({ start: 0, end: 1440 });
    expect(dayWindow(workday, [{ start: -120, end: -60 }])).toEqual(workday);
  });

  it('rounds a working day off the hour outwards', () => {
    expect(dayWindow({ start: 450, end: 1005 }, [])).toEqual({ start: 420, end: 1020 });
  });
});

describe('parseClock and hourMarks', () => {
  it('reads HH:MM and refuses the rest', () => {
    expect(parseClock('08:30')).toBe(510);
    expect(parseClock('00:00')).toBe(0);
    expect(parseClock('24:00')).toBe(1440);
    expect(parseClock('24:30')).toBeUndefined();
    expect(parseClock('8h')).toBeUndefined();
    expect(parseClock('12:60')).toBeUndefined();
  });

  it('marks every whole hour inside the window', () => {
    expect(hourMarks({ start: 480, end: 720 })).toEqual([480, 540, 600, 660]);
  });
});

function appointment(
  id: string,
  doctorId: string,
  startsAt: string,
  minutes: number,
  status: Appointment['status'] = 'scheduled',
): Appointment {
  const endsAt = new Date(Date.parse(startsAt) + minutes * 60_000).toISOString();
  return {
    id,
    doctor_id: doctorId,
    patient_id: 'p1',
    patient: { id: 'p1', first_name: 'Anna', last_name: 'Müller', mrn: 'M1', date_of_birth: null },
    starts_at: startsAt,
    ends_at: endsAt,
    duration_minutes: minutes,
    status,
    reason: null,
    notes: null,
    cancel_reason: null,
    created_at: startsAt,
    created_by: null,
    updated_at: startsAt,
    version: 1,
  };
}

describe('spanOf', () => {
  it("places an appointment on the clinic's clock, not UTC", () => {
    // 08:00 UTC is 09:00 in Berlin in winter.
    const item = appointment('a', 'd1', '2026-12-03T08:00:00Z', 30);
    expect(spanOf(item, '2026-12-03', 'Europe/Berlin')).toEqual({ start: 540, end: 570 });
    expect(spanOf(item, '2026-12-03', 'UTC')).toEqual({ start: 480, end: 510 });
  });

  it('keeps the length when the clock goes back inside an appointment', () => {
    // Berlin, 25 Oct 2026: 03:00 summer time becomes 02:00; 02:30 CEST to 02:10 CET is 40 min.
    const item = appointment('a', 'd1', '2026-10-25T00:30:00Z', 40);
    expect(spanOf(item, '2026-10-25', 'Europe/Berlin')).toEqual({ start: 150, end: 190 });
  });
});

describe('layoutDay', () => {
  const options = {
    day: '2026-12-03',
    timeZone: 'UTC',
    workday,
    showCancelled: false,
  };

  it('gives each doctor their own lanes: the same time at two doctors is no overlap', () => {
    const day = layoutDay(
      [
        appointment('a', 'd1', '2026-12-03T09:00:00Z', 30),
        appointment('b', 'd2', '2026-12-03T09:00:00Z', 30),
        appointment('c', 'd1', '2026-12-03T09:15:00Z', 30),
      ],
      options,
    );
    expect(lanes(blockIds(day.columns.get('d1')))).toEqual(['a:0/2', 'c:1/2']);
    expect(lanes(blockIds(day.columns.get('d2')))).toEqual(['b:0/1']);
  });

  it('leaves cancelled appointments out unless asked, and then gives them a lane', () => {
    const items = [
      appointment('old', 'd1', '2026-12-03T09:00:00Z', 30, 'cancelled'),
      appointment('new', 'd1', '2026-12-03T09:00:00Z', 30),
      // Only a cancelled one early in the morning: it must not widen the hours when hidden.
      appointment('dawn', 'd1', '2026-12-03T06:00:00Z', 30, 'cancelled'),
    ];
    const hidden = layoutDay(items, options);
    expect(lanes(blockIds(hidden.columns.get('d1')))).toEqual(['new:0/1']);
    expect(hidden.window).toEqual(workday);

    const shown = layoutDay(items, { ...options, showCancelled: true });
    expect(lanes(blockIds(shown.columns.get('d1')))).toEqual(['dawn:0/1', 'old:0/2', 'new:1/2']);
    expect(shown.window).toEqual({ start: 360, end: 1080 });
  });

  it('shows an appointment booked outside working hours by widening the hours', () => {
    const day = layoutDay([appointment('late', 'd1', '2026-12-03T19:30:00Z', 30)], options);
    expect(day.window).toEqual({ start: 480, end: 1200 });
    expect(day.columns.get('d1')?.[0]).toMatchObject({ top: 1170, bottom: 1200 });
  });
});

function blockIds(blocks: { item: Appointment; lane: number; lanes: number }[] | undefined) {
  return (blocks ?? []).map((block) => ({ ...block, item: block.item.id }));
}
