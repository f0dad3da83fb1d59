/**
 * Distinct free slots for the booking benchmark, so it measures 201s and not 409s. Request n gets
 * doctor n mod D and slot floor(n / D): the D requests sharing a slot go to D different doctors
 * and (with at least D patients) to D different patients, so neither overlap constraint fires.
 * Slots lie inside the server's default working hours (09:00-17:00 UTC, Monday to Friday) although
 * booking does not enforce them today, so a future rule cannot turn the benchmark into 422s.
 */

export interface BookingPlan {
  doctorIds: string[];
  patientIds: string[];
  /** A Monday (YYYY-MM-DD, UTC) after the seeded appointments and after today. */
  firstMonday: string;
  /** Requests numbered below this were sent by earlier runs against the same database. */
  firstRequest: number;
}

const slotMinutes = 15;
const dayStartMinutes = 9 * 60;
const slotsPerDay = (8 * 60) / slotMinutes;
const day = 86_400_000;

/** The first Monday at least two days from `now`, and never before `notBefore`. */
export function firstMondayAfter(now: Date, notBefore: Date): string {
  let t = Math.max(now.getTime() + 2 * day, notBefore.getTime());
  t -= t % day;
  while (new Date(t).getUTCDay() !== 1) t += day;
  return new Date(t).toISOString().slice(0, 10);
}

/**
 * The body of booking request `n`. Capacity is 32 slots a day x 5 days x 52 weeks x D doctors
 * (166,400 with 20 doctors) before bookings pass the 365-day horizon and are refused.
 */
export function bookingBody(plan: BookingPlan, n: number): string {
  const doctors = plan.doctorIds.length;
  const slot = Math.floor(n / doctors);
  const weekday = Math.floor(slot / slotsPerDay);
  const dayOffset = Math.floor(weekday / 5) * 7 + (weekday % 5);
  const minutes = dayStartMinutes + (slot % slotsPerDay) * slotMinutes;
  const startsAt = new Date(Date.parse(`${plan.firstMonday}T00:00:00Z`) + dayOffset * day);
  startsAt.setUTCMinutes(minutes);
  return JSON.stringify({
    patient_id: plan.patientIds[n % plan.patientIds.length],
    doctor_id: plan.doctorIds[n % doctors],
    starts_at: startsAt.toISOString(),
    duration_minutes: slotMinutes,
    reason: 'benchmark booking',
  });
}
