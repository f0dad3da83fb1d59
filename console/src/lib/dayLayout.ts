import { byDoctor, type Appointment } from './appointments';
import { minutesIntoDay } from './dates';

/**
 * The day calendar's geometry, without the DOM. Every position is in minutes after midnight of
 * the shown day on the clinic's clock (so 540 is 09:00 there, -30 is 23:30 the day before and
 * 1440 is midnight at the day's end).
 */

export const DAY_MINUTES = 24 * 60;

/** A span of the clinic's clock: [start, end) in minutes after the shown day's midnight. */
export interface Span {
  start: number;
  end: number;
}

/** One appointment placed in its doctor's column. */
export interface Block<T> {
  item: T;
  /** Its real start and end (may lie outside the window, or outside the day). */
  start: number;
  end: number;
  /** Where it is drawn: clamped to the window, at least `minMinutes` long. */
  top: number;
  bottom: number;
  /** It began before the window (or the day) starts, or ends after it ends: drawn cut off. */
  cutStart: boolean;
  cutEnd: boolean;
  /** Its lane among the appointments it overlaps (0-based), and how many lanes they need. */
  lane: number;
  lanes: number;
}

/**
 * The hours the calendar shows: the working day, widened to take in every appointment of the day
 * that lies (partly) outside it, in whole hours and never beyond the day itself. Nothing booked
 * outside working hours (an admin's override, an hours change) is hidden.
 */
export function dayWindow(workday: Span, spans: readonly Span[]): Span {
  let start = Math.max(0, Math.min(workday.start, DAY_MINUTES));
  let end = Math.min(DAY_MINUTES, Math.max(workday.end, start));
  for (const span of spans) {
    if (span.end <= 0 || span.start >= DAY_MINUTES) continue; // another day's
    start = Math.min(start, Math.max(0, span.start));
    end = Math.max(end, Math.min(DAY_MINUTES, span.end));
  }
  start = Math.floor(start / 60) * 60;
  end = Math.ceil(end / 60) * 60;
  // An empty or inverted working day still gets an hour to draw.
  if (end <= start) end = Math.min(DAY_MINUTES, start + 60);
  if (end <= start) start = end - 60;
  return { start, end };
}

/**
 * Lanes for one column: appointments that overlap in time sit side by side, each group of
 * (transitively) overlapping ones sharing its lane count; an appointment ending exactly when
 * another starts does not overlap it. Those outside the window are left out, the rest clamped to
 * it. `minMinutes` is the shortest drawn length (a 5-minute appointment still gets a readable
 * block), and lanes are chosen from the drawn lengths so that no two blocks cover each other.
 * Returned in drawing order: by start, then the longer first.
 */
export function layoutLanes<T>(
  items: readonly (Span & { item: T })[],
  window: Span,
  minMinutes = 0,
): Block<T>[] {
  const blocks: Block<T>[] = [];
  for (const { item, start, end } of items) {
    if (end <= window.start || start >= window.end) continue;
    const top = Math.max(start, window.start);
    const bottom = Math.min(window.end, Math.max(Math.min(end, window.end), top + minMinutes));
    blocks.push({
      item,
      start,
      end,
      top,
      bottom,
      cutStart: start < window.start,
      cutEnd: end > window.end,
      lane: 0,
      lanes: 1,
    });
  }
  // Stable sort: equal spans keep their given order.
  blocks.sort((a, b) => a.top - b.top || b.bottom - a.bottom);

  let group: Block<T>[] = [];
  let laneEnds: number[] = [];
  let groupEnd = -Infinity;
  const close = () => {
    for (const block of group) block.lanes = laneEnds.length;
    group = [];
    laneEnds = [];
  };
  for (const block of blocks) {
    if (block.top >= groupEnd) close();
    let lane = laneEnds.findIndex((laneEnd) => laneEnd <= block.top);
    if (lane === -1) {
      lane = laneEnds.length;
      laneEnds.push(block.bottom);
    } else {
      laneEnds[lane] = block.bottom;
    }
    block.lane = lane;
    group.push(block);
    groupEnd = Math.max(groupEnd, block.bottom);
  }
  close();
  return blocks;
}

/** Where an appointment lies on the shown day's clock. */
export function spanOf(appointment: Appointment, day: string, timeZone: string): Span {
  const start = minutesIntoDay(appointment.starts_at, day, timeZone);
  let end = minutesIntoDay(appointment.ends_at, day, timeZone);
  // The clock going back (end of summer time) inside the appointment: count its length instead.
  if (end < start) end = start + appointment.duration_minutes;
  return { start, end };
}

export interface DayLayout {
  window: Span;
  /** Per doctor id: their blocks in drawing (and Tab) order. */
  columns: Map<string, Block<Appointment>[]>;
}

/**
 * The whole day view: which appointments are shown (cancelled ones only when asked for), the
 * hours drawn, and each doctor's blocks with their lanes.
 */
export function layoutDay(
  appointments: readonly Appointment[],
  options: {
    day: string;
    timeZone: string;
    workday: Span;
    showCancelled: boolean;
    minMinutes?: number;
  },
): DayLayout {
  const visible = options.showCancelled
    ? appointments
    : appointments.filter((item) => item.status !== 'cancelled');
  const spans = new Map(
    visible.map((item) => [item.id, spanOf(item, options.day, options.timeZone)] as const),
  );
  const window = dayWindow(options.workday, [...spans.values()]);
  const columns = new Map<string, Block<Appointment>[]>();
  for (const [doctorId, items] of byDoctor(visible)) {
    const placed = items.map((item) => ({ item, ...(spans.get(item.id) as Span) }));
    columns.set(doctorId, layoutLanes(placed, window, options.minMinutes ?? 0));
  }
  return { window, columns };
}

/** The whole hours inside the window, for the time axis labels. */
export function hourMarks(window: Span): number[] {
  const marks: number[] = [];
  for (let minute = Math.ceil(window.start / 60) * 60; minute < window.end; minute += 60) {
    marks.push(minute);
  }
  return marks;
}
