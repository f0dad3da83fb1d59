import type { AppContext } from '../context.js';
import type { Config } from '../config.js';
import { AppError } from '../lib/errors.js';
import type { Principal } from '../lib/permissions.js';
import {
  bookAppointment,
  transitionAppointment,
  type Transition,
} from '../modules/appointments/appointments.service.js';
import { isoWeekday, zonedInstant } from '../modules/appointments/availability.js';
import { complaints, pick } from './sample-data.js';

export type WeekRules = Pick<Config, 'clinicTimeZone' | 'workdayStart' | 'workdayEnd' | 'workdays'>;

const DAY_MS = 86_400_000;
const SLOT_MINUTES = 30;

/** The clinic's calendar date (YYYY-MM-DD) of an instant. */
function clinicDate(at: Date, timeZone: string): string {
  return new Intl.DateTimeFormat('en-CA', { timeZone }).format(at);
}

function addDays(date: string, days: number): string {
  return new Date(Date.parse(`${date}T12:00:00Z`) + days * DAY_MS).toISOString().slice(0, 10);
}

/**
 * The demo's calendar: the last working day before today (its visits done), today when it is
 * a working day, and the next four working days, in CLINIC_TIMEZONE.
 */
export function demoDays(now: Date, rules: WeekRules): { past: string[]; coming: string[] } {
  const today = clinicDate(now, rules.clinicTimeZone);
  const working = (date: string) => rules.workdays.includes(isoWeekday(date));
  let before = addDays(today, -1);
  while (!working(before)) before = addDays(before, -1);
  const coming: string[] = [];
  for (let date = today; coming.length < 5; date = addDays(date, 1)) {
    if (working(date)) coming.push(date);
  }
  return { past: [before], coming };
}

/** Slot start times (HH:MM) whose 30 minutes end by the end of the workday. */
export function daySlots(rules: WeekRules): string[] {
  const minutes = (hhmm: string) => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));
  const slots: string[] = [];
  for (let at = minutes(rules.workdayStart); at + SLOT_MINUTES <= minutes(rules.workdayEnd);) {
    slots.push(
      `${String(Math.floor(at / 60)).padStart(2, '0')}:${String(at % 60).padStart(2, '0')}`,
    );
    at += SLOT_MINUTES;
  }
  return slots;
}

/** The transitions that bring a new (scheduled) appointment to a status. */
const pathTo = {
  scheduled: [],
  confirmed: ['confirm'],
  checked_in: ['confirm', 'check_in'],
  completed: ['confirm', 'check_in', 'complete'],
  no_show: ['confirm', 'no_show'],
} satisfies Record<string, Transition[]>;
type DemoStatus = keyof typeof pathTo;

/**
 * Books about half of each doctor's slots on the demo days, through the booking service (so
 * every rule applies), and moves them along: past visits completed (a few no-shows), each
 * doctor's latest started visit of the first demo day (or its first) checked in, later ones
 * confirmed or still scheduled.
 * A visit that already started is booked with a clock set just before it, as the receptionist
 * would have booked it then.
 */
export async function seedDemoWeek(
  ctx: Pick<AppContext, 'db' | 'clock' | 'config'>,
  admin: Principal,
  rules: WeekRules,
  people: { doctorIds: string[]; patients: { id: string }[]; random: () => number },
): Promise<number> {
  const now = ctx.clock.now();
  const { past, coming } = demoDays(now, rules);
  const slots = daySlots(rules);
  let booked = 0;
  for (const date of [...past, ...coming]) {
    for (const doctorId of people.doctorIds) {
      const starts = slots
        .filter(() => people.random() >= 0.5)
        .map((hhmm) => zonedInstant(date, hhmm, rules.clinicTimeZone));
      // In the room now: the latest visit that started on the first demo day (or its first).
      const checkedIn =
        date === coming[0] ? (starts.filter((at) => at <= now).at(-1) ?? starts[0]) : undefined;
      for (const startsAt of starts) {
        let status: DemoStatus;
        if (startsAt === checkedIn) status = 'checked_in';
        else if (startsAt <= now) status = people.random() < 0.1 ? 'no_show' : 'completed';
        else status = people.random() < 0.5 ? 'confirmed' : 'scheduled';
        const clock =
          startsAt <= now ? { now: () => new Date(startsAt.getTime() - DAY_MS) } : ctx.clock;
        try {
          const appointment = await bookAppointment({ ...ctx, clock }, admin, {
            patient_id: pick(people.random, people.patients).id,
            doctor_id: doctorId,
            starts_at: startsAt.toISOString(),
            duration_minutes: SLOT_MINUTES,
            reason: pick(people.random, complaints),
          });
          for (const step of pathTo[status]) {
            await transitionAppointment(ctx, admin, appointment.id, step);
          }
          booked++;
        } catch (error) {
          // The patient already has a visit at that time with another doctor: skip the slot.
          if (!(error instanceof AppError) || error.code !== 'conflict') throw error;
        }
      }
    }
  }
  return booked;
}
