/**
 * Days as the clinic sees them. A "day" is a calendar date (YYYY-MM-DD) in the clinic's time
 * zone, which the API uses for `date=` filters and availability; the browser's own zone may
 * differ (a laptop set to UTC at a clinic in Berlin), so "today" is computed in the clinic's.
 */

const DAY = /^(\d{4})-(\d{2})-(\d{2})$/;

/** The calendar date in `timeZone` at the instant `now`. */
export function dayIn(timeZone: string, now: Date = new Date()): string {
  // en-CA formats as YYYY-MM-DD.
  return new Intl.DateTimeFormat('en-CA', {
    timeZone,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
  }).format(now);
}

export function isDay(value: string): boolean {
  const match = DAY.exec(value);
  if (!match) return false;
  const [y, m, d] = [Number(match[1]), Number(match[2]), Number(match[3])];
  const date = new Date(Date.UTC(y, m - 1, d));
  return date.getUTCFullYear() === y && date.getUTCMonth() === m - 1 && date.getUTCDate() === d;
}

/** `day` moved by `delta` calendar days (pure date arithmetic: no time zone, no DST). */
export function addDays(day: string, delta: number): string {
  const match = DAY.exec(day);
  if (!match) throw new RangeError(`not a day: ${day}`);
  const date = new Date(Date.UTC(Number(match[1]), Number(match[2]) - 1, Number(match[3])));
  date.setUTCDate(date.getUTCDate() + delta);
  return date.toISOString().slice(0, 10);
}

/** "09:30" for an instant, on the clinic's clock. */
export function timeOfDay(iso: string, timeZone: string, locale: string): string {
  return new Intl.DateTimeFormat(locale, {
    timeZone,
    hour: '2-digit',
    minute: '2-digit',
  }).format(new Date(iso));
}

/** A day written for people ("Thursday, 3 December 2026"), read as a calendar date. */
export function longDay(day: string, locale: string): string {
  return new Intl.DateTimeFormat(locale, {
    timeZone: 'UTC',
    weekday: 'long',
    year: 'numeric',
    month: 'long',
    day: 'numeric',
  }).format(new Date(`${day}T12:00:00Z`));
}

/** A moment written for people, on the clinic's clock. */
export function dateTime(iso: string, timeZone: string, locale: string): string {
  return new Intl.DateTimeFormat(locale, {
    timeZone,
    dateStyle: 'medium',
    timeStyle: 'short',
  }).format(new Date(iso));
}

/**
 * The day a reschedule starts on: the appointment's own day in the clinic's zone, or today when
 * that day is already past (no slot is free before now).
 */
export function firstDayToOffer(
  startsAt: string,
  timeZone: string,
  now: Date = new Date(),
): string {
  const own = dayIn(timeZone, new Date(startsAt));
  const today = dayIn(timeZone, now);
  return own < today ? today : own;
}
