import type { AppContext } from '../../context.js';
import { AppError, forbidden } from '../../lib/errors.js';
import type { Principal } from '../../lib/permissions.js';
import { describeWorkingHours, withinWorkingHours, type Interval } from './availability.js';

/** The clinic's working hours from config, as the availability rules take them. */
export function workingHoursOf(config: AppContext['config']) {
  return {
    timeZone: config.clinicTimeZone,
    workdayStart: config.workdayStart,
    workdayEnd: config.workdayEnd,
    workdays: config.workdays,
  };
}

/**
 * Bookings (new or moved) lie within working hours on a working day. `allow_outside_hours=true`
 * lifts the rule for an admin, or for a doctor booking in their own calendar; any other caller
 * asking for it gets 403 (even when the slot is inside hours: the request is not theirs to make).
 * Returns whether the override was used, so the caller audits it with the booking.
 */
export function checkWorkingHours(
  ctx: Pick<AppContext, 'config'>,
  actor: Principal,
  booking: Interval & { doctorId: string },
  allowOutsideHours: boolean | undefined,
): boolean {
  if (allowOutsideHours === true) {
    const allowed =
      actor.role === 'admin' || (actor.role === 'doctor' && actor.userId === booking.doctorId);
    if (!allowed) {
      throw forbidden(
        actor.role === 'doctor'
          ? 'allow_outside_hours is only for your own calendar; book within working hours for another doctor'
          : `Only an admin, or a doctor in their own calendar, may book outside working hours (you are ${actor.role})`,
      );
    }
  }
  const rules = workingHoursOf(ctx.config);
  if (withinWorkingHours(booking, rules)) return false;
  if (allowOutsideHours === true) return true;
  throw new AppError(
    'outside_working_hours',
    `The appointment must lie within working hours: ${describeWorkingHours(rules)}. An admin, or a doctor in their own calendar, may book outside them with ?allow_outside_hours=true`,
  );
}
