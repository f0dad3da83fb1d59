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

/** The calendar date (YYYY-MM-DD) in `timeZone` at the instant `at`. */
export function clinicDate(at: Date, timeZone: string): string {
  // en-CA formats as YYYY-MM-DD.
  return new Intl.DateTimeFormat('en-CA', {
    timeZone,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
  }).format(at);
}

/** The calendar date after `date` (YYYY-MM-DD); pure date arithmetic, no time zone involved. */
export function nextDate(date: string): string {
  const [y, m, d] = date.split('-').map(Number) as [number, number, number];
  return new Date(Date.UTC(y, m - 1, d + 1)).toISOString().slice(0, 10);
}

/**
 * The clinic day `date` as the instants [start of that day, start of the next day) in
 * `timeZone`: 23 or 25 hours long across a daylight-saving change, never a fixed 24.
 */
export function clinicDay(date: string, timeZone: string): Interval {
  return {
    startsAt: zonedInstant(date, '00:00', timeZone),
    endsAt: zonedInstant(nextDate(date), '00:00', timeZone),
  };
}

const weekdayNames = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'];

/** "Mon-Fri 09:00-17:00 (Europe/Berlin)": the working hours in words, for error messages. */
export function describeWorkingHours(rules: Omit<AvailabilityRules, 'stepMinutes'>): string {
  const days = [...rules.workdays].sort((a, b) => a - b);
  const runs: string[] = [];
  for (let i = 0; i < days.length;) {
    let j = i;
    while (j + 1 < days.length && days[j + 1] === (days[j] ?? 0) + 1) j++;
    const first = weekdayNames[(days[i] ?? 1) - 1] ?? '';
    const last = weekdayNames[(days[j] ?? 1) - 1] ?? '';
    runs.push(j === i ? first : `${first}-${last}`);
    i = j + 1;
  }
  return `${runs.join(', ')} ${rules.workdayStart}-${rules.workdayEnd} (${rules.timeZone})`;
}

/**
 * Whether [startsAt, endsAt) lies within the working hours of one working day in the clinic's
 * time zone (an appointment may end exactly at closing time).
 */
export function withinWorkingHours(
  slot: Interval,
  rules: Omit<AvailabilityRules, 'stepMinutes'>,
): boolean {
  const date = clinicDate(slot.startsAt, rules.timeZone);
  if (!rules.workdays.includes(isoWeekday(date))) return false;
  const open = zonedInstant(date, rules.workdayStart, rules.timeZone).getTime();
  const close = zonedInstant(date, rules.workdayEnd, rules.timeZone).getTime();
  return slot.startsAt.getTime() >= open && slot.endsAt.getTime() <= close;
}
