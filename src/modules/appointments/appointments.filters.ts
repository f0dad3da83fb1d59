import type { AppContext } from '../../context.js';
import { fieldError } from '../../lib/errors.js';
import type { Principal } from '../../lib/permissions.js';
import { parseOptionalTimestamp } from '../../lib/timestamps.js';
import type { AppointmentFilter } from './appointments.repository.js';
import type { ExportAppointmentsQueryInput } from './appointments.schemas.js';
import { clinicDay } from './availability.js';

const bareDate = /^\d{4}-\d{2}-\d{2}$/;

/** A clinic day of a year JavaScript and PostgreSQL both hold (the format admits 0000). */
function dayOf(date: string, field: string, timeZone: string) {
  const year = Number(date.slice(0, 4));
  if (year < 1 || year > 9998) {
    throw fieldError(
      field,
      'must be a date between years 1 and 9998',
      `${field} is not a usable date`,
    );
  }
  return clinicDay(date, timeZone);
}

/**
 * `from`/`to` as instants. A bare date means the whole clinic day (CLINIC_TIMEZONE): `from` its
 * start, `to` the start of the next day, so `to=2026-05-04` includes all of May 4th.
 */
function bound(value: string | undefined, side: 'from' | 'to', timeZone: string) {
  if (value === undefined || !bareDate.test(value)) {
    return parseOptionalTimestamp(value, `query.${side}`);
  }
  const day = dayOf(value, `query.${side}`, timeZone);
  return side === 'from' ? day.startsAt : day.endsAt;
}

/**
 * The repository filter of a list or export query: `doctor_id=me` is the calling doctor, `date`
 * the appointments starting on that clinic day, `from`/`to` those overlapping the range.
 */
export function appointmentFilter(
  ctx: Pick<AppContext, 'config'>,
  actor: Principal,
  query: ExportAppointmentsQueryInput,
): Omit<AppointmentFilter, 'after' | 'limit'> {
  const timeZone = ctx.config.clinicTimeZone;
  let doctorId = query.doctor_id;
  if (doctorId === 'me') {
    // Only a doctor has a calendar; anyone else would silently get an empty list.
    if (actor.role !== 'doctor') {
      throw fieldError(
        'query.doctor_id',
        'me is only for doctors',
        `doctor_id=me means your own calendar, and only doctors have one (you are ${actor.role}); pass a doctor's id`,
      );
    }
    doctorId = actor.userId;
  }
  const filter: Omit<AppointmentFilter, 'after' | 'limit'> = {
    doctorId,
    patientId: query.patient_id,
    status: query.status,
    from: bound(query.from, 'from', timeZone),
    to: bound(query.to, 'to', timeZone),
  };
  if (query.date !== undefined) {
    if (query.from !== undefined || query.to !== undefined) {
      throw fieldError(
        'query.date',
        'cannot be combined with from or to',
        'Pass either date (one clinic day) or from/to (a range), not both',
      );
    }
    const day = dayOf(query.date, 'query.date', timeZone);
    filter.startsFrom = day.startsAt;
    filter.startsBefore = day.endsAt;
  }
  return filter;
}
