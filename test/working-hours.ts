/**
 * Booking times inside the default working hours (09:00-17:00 UTC, Monday-Friday: config's
 * WORKDAY_START, WORKDAY_END, WORKDAYS and CLINIC_TIMEZONE defaults), which bookings must respect
 * (422 outside_working_hours otherwise). Tests that book pick their times here instead of at
 * arbitrary hours.
 */
const MINUTE = 60_000;
const DAY = 86_400_000;
const OPEN_MINUTE = 9 * 60;
const WORKDAY_MINUTES = 8 * 60;

export interface WorkingOptions {
  /** Days from today (UTC) to start counting from; 1 (tomorrow) keeps every slot in the future. */
  firstDay?: number;
  /** ISO weekdays that are working days; the config default is Monday-Friday. */
  workdays?: readonly number[];
}

function isoWeekdayOf(ms: number): number {
  const day = new Date(ms).getUTCDay();
  return day === 0 ? 7 : day;
}

/** Midnight UTC of the `index`-th working day (0 = the first) from `firstDay` days ahead. */
export function workingDayStart(index: number, options: WorkingOptions = {}): number {
  const workdays = options.workdays ?? [1, 2, 3, 4, 5];
  const now = new Date();
  let day =
    Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate()) +
    (options.firstDay ?? 1) * DAY;
  let remaining = index;
  for (;;) {
    if (workdays.includes(isoWeekdayOf(day))) {
      if (remaining === 0) return day;
      remaining--;
    }
    day += DAY;
  }
}

/** hh:mm UTC on the `index`-th working day, as RFC 3339 (hh:mm must lie within 09:00-17:00). */
export function onWorkingDay(index: number, hh: number, mm = 0, options: WorkingOptions = {}) {
  return new Date(workingDayStart(index, options) + (hh * 60 + mm) * MINUTE).toISOString();
}

/**
 * The `n`-th back-to-back slot of `minutes` within working hours, day after working day: slot 0
 * starts 09:00 on the first working day, slot 16 (of 30 minutes) 09:00 on the next one.
 */
export function workingSlot(n: number, minutes = 30, options: WorkingOptions = {}): string {
  const perDay = Math.floor(WORKDAY_MINUTES / minutes);
  const start = workingDayStart(Math.floor(n / perDay), options);
  return new Date(start + (OPEN_MINUTE + (n % perDay) * minutes) * MINUTE).toISOString();
}

/**
 * A clinic open every day from 00:00 to 23:59 (UTC), for tests about something else (events,
 * reminders, idempotency) that book at times relative to now: only a booking that crosses
 * midnight is still refused, which `clearOfMidnight` avoids.
 */
export const OPEN_ALL_DAY = {
  WORKDAYS: '1-7',
  WORKDAY_START: '00:00',
  WORKDAY_END: '23:59',
} as const;

/**
 * Advances a test clock (if needed) so that the span `[now + aheadMs, now + aheadMs + spanMs]`
 * lies on one UTC day, clear of midnight by a few minutes: bookings made relative to the clock
 * then stay within OPEN_ALL_DAY whatever the time the suite runs.
 */
export function clearOfMidnight(
  clock: { now(): Date; advance(ms: number): void },
  aheadMs: number,
  spanMs: number,
): void {
  const margin = 5 * MINUTE;
  const start = clock.now().getTime() + aheadMs;
  const dayStart = Math.floor(start / DAY) * DAY;
  if (start - dayStart < margin || start + spanMs > dayStart + DAY - margin) {
    clock.advance(dayStart + DAY + margin - start);
  }
}
