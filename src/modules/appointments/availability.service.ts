import type { AppContext } from '../../context.js';
import { requirePermission } from '../../lib/access.js';
import { notFound } from '../../lib/errors.js';
import type { Principal } from '../../lib/permissions.js';
import { isActiveDoctor } from '../users/users.service.js';
import * as repo from './appointments.repository.js';
import { clinicDate, freeSlots, workingWindow } from './availability.js';

/**
 * The clinic's calendar rules, so a front end shows "today" and the working day as the server
 * checks them (bookings outside them are refused with 422 outside_working_hours).
 */
export function clinicCalendar(ctx: Pick<AppContext, 'clock' | 'config'>, actor: Principal) {
  requirePermission(actor, 'appointments.read');
  const { config } = ctx;
  return {
    time_zone: config.clinicTimeZone,
    working_days: [...config.workdays],
    workday_start: config.workdayStart,
    workday_end: config.workdayEnd,
    slot_step_minutes: config.slotStepMinutes,
    today: clinicDate(ctx.clock.now(), config.clinicTimeZone),
  };
}

/** Free slots of one doctor on one clinic day (working hours from config, booked ones removed). */
export async function doctorAvailability(
  ctx: Pick<AppContext, 'db' | 'clock' | 'config'>,
  actor: Principal,
  doctorId: string,
  date: string,
  durationMinutes: number,
) {
  requirePermission(actor, 'appointments.read');
  if (!(await isActiveDoctor(ctx, doctorId))) throw notFound('doctor');
  const rules = {
    timeZone: ctx.config.clinicTimeZone,
    workdayStart: ctx.config.workdayStart,
    workdayEnd: ctx.config.workdayEnd,
    workdays: ctx.config.workdays,
    stepMinutes: ctx.config.slotStepMinutes,
  };
  const window = workingWindow(date, rules);
  const busy = await repo.busyIntervals(ctx.db, doctorId, window.startsAt, window.endsAt);
  const slots = freeSlots(date, durationMinutes, rules, busy, ctx.clock.now());
  return {
    doctor_id: doctorId,
    date,
    time_zone: rules.timeZone,
    duration_minutes: durationMinutes,
    items: slots.map((slot) => ({
      starts_at: slot.startsAt.toISOString(),
      ends_at: slot.endsAt.toISOString(),
    })),
    next_cursor: null,
  };
}
