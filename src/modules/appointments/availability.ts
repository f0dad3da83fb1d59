/**
 * Free-slot computation, pure and clock-free so it can be unit tested. Working hours are wall
 * times in the clinic's IANA time zone, converted to UTC instants for the given date.
 */

/** Offset (local minus UTC, ms) of `timeZone` at the instant `at`. */
function offsetAt(at: Date, timeZone: string): number {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone,
    hourCycle: 'h23',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
  }).formatToParts(at);
  const get = (type: string) => Number(parts.find((part) => part.type === type)?.value ?? 0);
  const asUtc = Date.UTC(
    get('year'),
    get('month') - 1,
    get('day'),
    get('hour'),
    get('minute'),
    get('second'),
  );
  return asUtc - Math.floor(at.getTime() / 1000) * 1000;
}

/** The UTC instant of wall time `hhmm` on `date` (YYYY-MM-DD) in `timeZone`. */
export function zonedInstant(date: string, hhmm: string, timeZone: string): Date {
  const naive = Date.parse(`${date}T${hhmm}:00Z`);
  // Two passes settle the offset across a daylight-saving change.
  const first = naive - offsetAt(new Date(naive), timeZone);
  return new Date(naive - offsetAt(new Date(first), timeZone));
}

/** ISO weekday (1 = Monday .. 7 = Sunday) of a calendar date; independent of time zones. */
export function isoWeekday(date: string): number {
  const day = new Date(`${date}T12:00:00Z`).getUTCDay();
  return day === 0 ? 7 : day;
}

export interface AvailabilityRules {
  timeZone: string;
  workdayStart: string;
  workdayEnd: string;
  workdays: readonly number[];
  stepMinutes: number;
}

export interface Interval {
  startsAt: Date;
  endsAt: Date;
}

/**
 * Slots of `durationMinutes` starting every `stepMinutes` within working hours, not in the past
 * and not overlapping any busy interval (half-open, as the database constraint).
 */
export function freeSlots(
  date: string,
  durationMinutes: number,
  rules: AvailabilityRules,
  busy: Interval[],
  now: Date,
): Interval[] {
  if (!rules.workdays.includes(isoWeekday(date))) return [];
  const open = zonedInstant(date, rules.workdayStart, rules.timeZone).getTime();
  const close = zonedInstant(date, rules.workdayEnd, rules.timeZone).getTime();
  const duration = durationMinutes * 60_000;
  const slots: Interval[] = [];
  for (let start = open; start + duration <= close; start += rules.stepMinutes * 60_000) {
    const end = start + duration;
    if (start < now.getTime()) continue;
    const clash = busy.some((b) => b.startsAt.getTime() < end && b.endsAt.getTime() > start);
    if (!clash) slots.push({ startsAt: new Date(start), endsAt: new Date(end) });
  }
  return slots;
}

/** The UTC window covering the working day, used to fetch the busy intervals. */
export function workingWindow(date: string, rules: AvailabilityRules): Interval {
  return {
    startsAt: zonedInstant(date, rules.workdayStart, rules.timeZone),
    endsAt: zonedInstant(date, rules.workdayEnd, rules.timeZone),
  };
}
