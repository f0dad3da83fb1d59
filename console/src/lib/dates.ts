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

// Making an Intl.DateTimeFormat costs far more than using one: the day view formats hundreds of
// times per render, so formatters are kept per locale and zone.
const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(key: string, make: () => Intl.DateTimeFormat): Intl.DateTimeFormat {
  let found = formatters.get(key);
  if (!found) {
    found = make();
    formatters.set(key, found);
  }
  return found;
}

/** "09:30" for an instant, on the clinic's clock. */
export function timeOfDay(iso: string, timeZone: string, locale: string): string {
  return formatter(
    `time|${locale}|${timeZone}`,
    () => new Intl.DateTimeFormat(locale, { timeZone, hour: '2-digit', minute: '2-digit' }),
  ).format(new Date(iso));
}

/** A time on the clock written as `timeOfDay` writes it: 540 -> "09:00" ("09:00 AM" in en-US). */
export function clockLabel(minutes: number, locale: string): string {
  return formatter(
    `clock|${locale}`,
    () => new Intl.DateTimeFormat(locale, { timeZone: 'UTC', hour: '2-digit', minute: '2-digit' }),
  ).format(new Date(Date.UTC(2000, 0, 1, 0, minutes)));
}

/**
 * Minutes from midnight at the start of `day` on the clock of `timeZone` to the instant `iso`, as
 * that clock reads: 570 is 09:30 on `day`, negative the day before, 1440 and more the day after.
 */
export function minutesIntoDay(iso: string, day: string, timeZone: string): number {
  const match = DAY.exec(day);
  if (!match) throw new RangeError(`not a day: ${day}`);
  const parts = formatter(
    `parts|${timeZone}`,
    () =>
      new Intl.DateTimeFormat('en-US', {
        timeZone,
        hourCycle: 'h23',
        year: 'numeric',
        month: 'numeric',
        day: 'numeric',
        hour: 'numeric',
        minute: 'numeric',
        second: 'numeric',
      }),
  ).formatToParts(new Date(iso));
  const part = (type: Intl.DateTimeFormatPartTypes) =>
    Number(parts.find((item) => item.type === type)?.value);
  const local = Date.UTC(
    part('year'),
    part('month') - 1,
    part('day'),
    part('hour'),
    part('minute'),
    part('second'),
  );
  const midnight = Date.UTC(Number(match[1]), Number(match[2]) - 1, Number(match[3]));
  return (local - midnight) / 60_000;
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

/** "08:30" -> 510; anything else -> undefined. "24:00" is the end of the day. */
export function parseClock(value: string): number | undefined {
  const match = /^(\d{1,2}):(\d{2})$/.exec(value);
  if (!match) return undefined;
  const hours = Number(match[1]);
  const minutes = Number(match[2]);
  if (minutes > 59 || hours > 24 || (hours === 24 && minutes > 0)) return undefined;
  return hours * 60 + minutes;
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
