import type { AppContext } from '../../context.js';
import type { AppointmentRow, AppointmentStatus } from '../../db/schema/appointments.js';
import { requirePermission } from '../../lib/access.js';
import { sqlState } from '../../lib/db-errors.js';
import {
  AppError,
  fieldError,
  forbidden,
  mustExist,
  notFound,
  unlessStale,
} from '../../lib/errors.js';
import { checkIfMatch } from '../../lib/etag.js';
import { isUuid, newId } from '../../lib/ids.js';
import { decodeCursor, toPage } from '../../lib/pagination.js';
import { parseTimestamp } from '../../lib/timestamps.js';
import type { Principal } from '../../lib/permissions.js';
import type { AuditAction } from '../audit/audit.actions.js';
import {
  auditedChange,
  patientRecordEvent,
  recordAudit,
  whoOf,
  type AuditEvent,
} from '../audit/audit.service.js';
import { loadPatient } from '../patients/patients.service.js';
import { withEvent, type AppointmentChange } from './appointments.changes.js';
import { appointmentForCaller, toAppointmentDto } from './appointments.view.js';
import type { Tx } from '../../db/client.js';
import { checkWorkingHours } from './booking-hours.js';
import { assertActiveDoctor } from '../users/users.service.js';
import { appointmentFilter } from './appointments.filters.js';
import * as repo from './appointments.repository.js';
import type {
  BookingQueryInput,
  CreateAppointmentInput,
  ListAppointmentsQueryInput,
  UpdateAppointmentInput,
} from './appointments.schemas.js';

export { appointmentForCaller, toAppointmentDto } from './appointments.view.js';

const MAX_DAYS_AHEAD = 365;

/** The audit event of an action on one appointment (appointments are patient data). */
export function appointmentEvent(
  action: AuditAction,
  row: AppointmentRow,
  details?: AuditEvent['details'],
): AuditEvent {
  return patientRecordEvent(action, 'appointment', row, details);
}

/**
 * Opening the event stream: who may, and an audit row (who subscribed, from which event on).
 * Events themselves are not audited one by one; the stream's audit row and the outbox together
 * say what the caller could have seen.
 */
export async function openAppointmentStream(
  ctx: Pick<AppContext, 'db'>,
  actor: Principal,
  afterId: number | undefined,
): Promise<void> {
  requirePermission(actor, 'appointments.read');
  await recordAudit(ctx.db, whoOf(actor), {
    action: 'appointment.subscribe',
    resourceType: 'appointment',
    details: afterId === undefined ? {} : { last_event_id: afterId },
  });
}

/** The audit row of a booking that ?allow_outside_hours=true let through (same transaction). */
async function auditOverride(
  tx: Tx,
  actor: Principal,
  row: AppointmentRow,
  overridden: boolean,
): Promise<void> {
  if (!overridden) return;
  await recordAudit(
    tx,
    whoOf(actor),
    appointmentEvent('appointment.outside_hours_override', row, {
      starts_at: row.startsAt.toISOString(),
      ends_at: row.endsAt.toISOString(),
    }),
  );
}

/** Doctors may change only their own appointments ("rw own; r all"). */
function assertMayWrite(actor: Principal, doctorId: string): void {
  requirePermission(actor, 'appointments.write');
  if (actor.role === 'doctor' && doctorId !== actor.userId) {
    throw forbidden('Doctors may only change their own appointments');
  }
}

function assertBookableStart(ctx: Pick<AppContext, 'clock'>, startsAt: Date): void {
  const now = ctx.clock.now().getTime();
  if (startsAt.getTime() <= now) {
    throw fieldError(
      'body.starts_at',
      'must be in the future',
      'An appointment cannot start in the past',
    );
  }
  if (startsAt.getTime() > now + MAX_DAYS_AHEAD * 86_400_000) {
    throw fieldError(
      'body.starts_at',
      `must be within ${MAX_DAYS_AHEAD} days`,
      `Bookings open at most ${MAX_DAYS_AHEAD} days ahead`,
    );
  }
}

/**
 * Runs a write that may hit the overlap exclusion constraints; a violation becomes a 409 naming
 * the appointment in the way. The constraint, not this lookup, is what guarantees correctness.
 */
async function withOverlapCheck<T>(
  ctx: Pick<AppContext, 'db'>,
  slot: { doctorId: string; patientId: string; startsAt: Date; endsAt: Date; exceptId?: string },
  write: () => Promise<T>,
): Promise<T> {
  try {
    return await write();
  } catch (error) {
    if (sqlState(error) !== '23P01') throw error;
    const other = await repo.findOverlap(ctx.db, slot);
    throw new AppError(
      'conflict',
      'The doctor or the patient already has an appointment at that time',
      other
        ? { extensions: { conflicting_appointment_id: other.id }, cause: error }
        : { cause: error },
    );
  }
}

/** Books an appointment; double-booking is refused by the database (409). */
export async function bookAppointment(
  ctx: Pick<AppContext, 'db' | 'clock' | 'config'>,
  actor: Principal,
  input: CreateAppointmentInput,
  query: BookingQueryInput = {},
) {
  assertMayWrite(actor, input.doctor_id);
  const startsAt = parseTimestamp(input.starts_at, 'body.starts_at');
  assertBookableStart(ctx, startsAt);
  const duration = input.duration_minutes ?? 30;
  const endsAt = new Date(startsAt.getTime() + duration * 60_000);
  const slot = {
    doctorId: input.doctor_id,
    patientId: input.patient_id,
    startsAt,
    endsAt,
    duration,
    overridden: checkWorkingHours(
      ctx,
      actor,
      { doctorId: input.doctor_id, startsAt, endsAt },
      query.allow_outside_hours,
    ),
  };
  // The insert itself refuses an inactive doctor or a missing patient (no lookups before it);
  // only then are they looked up, to answer the same 422 as before. If both qualify by then,
  // one changed meanwhile: book again, once.
  for (let attempt = 1; ; attempt++) {
    try {
      return await bookOnce(ctx, actor, input, slot);
    } catch (error) {
      if (sqlState(error) !== '23502') throw error;
      await assertActiveDoctor(ctx, input.doctor_id, 'doctor_id');
      await mustExist('patient_id', () => loadPatient(ctx, input.patient_id));
      if (attempt === 2) {
        throw new AppError('conflict', 'The doctor or the patient changed while booking', {
          cause: error,
        });
      }
    }
  }
}

async function bookOnce(
  ctx: Pick<AppContext, 'db'>,
  actor: Principal,
  input: CreateAppointmentInput,
  slot: {
    doctorId: string;
    patientId: string;
    startsAt: Date;
    endsAt: Date;
    duration: number;
    overridden: boolean;
  },
) {
  const { startsAt, endsAt, duration } = slot;
  const written = await withOverlapCheck(ctx, slot, () =>
    auditedChange(
      ctx,
      whoOf(actor),
      withEvent('booked', async (tx) => {
        const created = await repo.insertBooking(tx, {
          id: newId(),
          patientId: input.patient_id,
          doctorId: input.doctor_id,
          startsAt,
          endsAt,
          durationMinutes: duration,
          reason: input.reason ?? null,
          notes: input.notes ?? null,
          createdBy: actor.userId,
        });
        await auditOverride(tx, actor, created, slot.overridden);
        return created;
      }),
      ({ row }) => appointmentEvent('appointment.create', row),
    ),
  );
  return written.answer;
}

export async function loadAppointment(
  ctx: Pick<AppContext, 'db'>,
  id: string,
): Promise<AppointmentRow> {
  const row = await repo.findAppointment(ctx.db, id);
  if (!row) throw notFound('appointment');
  return row;
}

export async function getAppointment(ctx: Pick<AppContext, 'db'>, actor: Principal, id: string) {
  requirePermission(actor, 'appointments.read');
  const found = await repo.findWithPatient(ctx.db, id);
  if (!found) throw notFound('appointment');
  await recordAudit(ctx.db, whoOf(actor), appointmentEvent('appointment.read', found.appointment));
  return appointmentForCaller(actor, toAppointmentDto(found.appointment, found.patient));
}

const reschedulable: AppointmentStatus[] = ['scheduled', 'confirmed'];

/**
 * What an edit does, two different questions:
 * - `asksNewTime`: the request names a start or a duration. Only then are working hours checked,
 *   so editing the reason of an older booking made outside them stays possible.
 * - `moved`: the time or the doctor actually differ, which names the event `rescheduled` (any
 *   other edit is `updated`).
 */
function editOf(
  current: AppointmentRow,
  input: UpdateAppointmentInput,
  next: { doctorId: string; startsAt: Date; endsAt: Date },
): { asksNewTime: boolean; moved: boolean } {
  return {
    asksNewTime: input.starts_at !== undefined || input.duration_minutes !== undefined,
    moved:
      next.startsAt.getTime() !== current.startsAt.getTime() ||
      next.endsAt.getTime() !== current.endsAt.getTime() ||
      next.doctorId !== current.doctorId,
  };
}

/** Reschedules or edits; conflicts are re-checked by the same constraints. */
export async function updateAppointment(
  ctx: Pick<AppContext, 'db' | 'clock' | 'config'>,
  actor: Principal,
  id: string,
  input: UpdateAppointmentInput,
  ifMatch: string | undefined,
  query: BookingQueryInput = {},
) {
  requirePermission(actor, 'appointments.write');
  const current = await loadAppointment(ctx, id);
  assertMayWrite(actor, current.doctorId);
  if (input.doctor_id !== undefined) assertMayWrite(actor, input.doctor_id);
  checkIfMatch(ifMatch, current.version);
  if (!reschedulable.includes(current.status)) {
    throw new AppError(
      'conflict',
      `A ${current.status} appointment can no longer be changed; only scheduled or confirmed ones can`,
    );
  }
  const startsAt =
    input.starts_at === undefined
      ? current.startsAt
      : parseTimestamp(input.starts_at, 'body.starts_at');
  if (input.starts_at !== undefined) assertBookableStart(ctx, startsAt);
  const doctorId = input.doctor_id ?? current.doctorId;
  if (input.doctor_id !== undefined) await assertActiveDoctor(ctx, doctorId, 'doctor_id');
  const duration = input.duration_minutes ?? current.durationMinutes;
  const endsAt = new Date(startsAt.getTime() + duration * 60_000);
  const slot = { doctorId, patientId: current.patientId, startsAt, endsAt, exceptId: id };
  const { asksNewTime, moved } = editOf(current, input, slot);
  const overridden =
    asksNewTime &&
    checkWorkingHours(ctx, actor, { doctorId, startsAt, endsAt }, query.allow_outside_hours);
  const written = await withOverlapCheck(ctx, slot, () =>
    auditedChange(
      ctx,
      whoOf(actor),
      withEvent(moved ? 'rescheduled' : 'updated', async (tx) => {
        const updated = await unlessStale(
          'appointment',
          repo.updateAppointment(
            tx,
            id,
            {
              doctorId,
              startsAt,
              endsAt,
              durationMinutes: duration,
              ...(input.reason === undefined ? {} : { reason: input.reason }),
              ...(input.notes === undefined ? {} : { notes: input.notes }),
            },
            { fromStatuses: reschedulable, version: current.version },
          ),
        );
        await auditOverride(tx, actor, updated, overridden);
        return updated;
      }),
      ({ row }) =>
        appointmentEvent('appointment.update', row, {
          fields: Object.keys(input).sort().join(','),
        }),
    ),
  );
  return written.answer;
}

export type Transition = 'confirm' | 'check_in' | 'complete' | 'cancel' | 'no_show';

const transitionEvents: Record<Transition, AppointmentChange> = {
  confirm: 'confirmed',
  check_in: 'checked_in',
  complete: 'completed',
  cancel: 'cancelled',
  no_show: 'no_show',
};

/** The status machine of API.md; anything else is a 409. */
export const transitions: Record<Transition, { from: AppointmentStatus[]; to: AppointmentStatus }> =
  {
    confirm: { from: ['scheduled'], to: 'confirmed' },
    check_in: { from: ['confirmed'], to: 'checked_in' },
    complete: { from: ['checked_in'], to: 'completed' },
    cancel: { from: ['scheduled', 'confirmed'], to: 'cancelled' },
    no_show: { from: ['scheduled', 'confirmed', 'checked_in'], to: 'no_show' },
  };

/** How a transition reads in a sentence ("Cannot check in ...", "you can: mark no-show"). */
const transitionWords: Record<Transition, string> = {
  confirm: 'confirm',
  check_in: 'check in',
  complete: 'complete',
  cancel: 'cancel',
  no_show: 'mark no-show',
};

/** A refused transition, with the ones the current status allows (or that it is final). */
export function refusedTransition(transition: Transition, status: AppointmentStatus): string {
  const possible = (Object.keys(transitions) as Transition[]).filter((t) =>
    transitions[t].from.includes(status),
  );
  const refused = `Cannot ${transitionWords[transition]} an appointment that is ${status}`;
  return possible.length === 0
    ? `${refused}; a ${status} appointment is final`
    : `${refused}; from ${status} you can: ${possible.map((t) => transitionWords[t]).join(', ')}`;
}

export async function transitionAppointment(
  ctx: Pick<AppContext, 'db'>,
  actor: Principal,
  id: string,
  transition: Transition,
  cancelReason?: string,
) {
  requirePermission(actor, 'appointments.write');
  const current = await loadAppointment(ctx, id);
  assertMayWrite(actor, current.doctorId);
  const rule = transitions[transition];
  // The status guard in the UPDATE makes concurrent transitions safe: only one can win.
  const written = await auditedChange(
    ctx,
    whoOf(actor),
    // A refused transition (no row) raises no event.
    withEvent(transitionEvents[transition], (tx) =>
      repo.updateAppointment(
        tx,
        id,
        { status: rule.to, ...(cancelReason === undefined ? {} : { cancelReason }) },
        { fromStatuses: rule.from },
      ),
    ),
    // A refused transition changed nothing; the row records the attempt as a failure.
    (done) =>
      done
        ? appointmentEvent('appointment.transition', done.row, { to: rule.to })
        : { ...appointmentEvent('appointment.transition', current), outcome: 'failure' },
  );
  if (!written) {
    const now = await loadAppointment(ctx, id);
    throw new AppError('conflict', refusedTransition(transition, now.status));
  }
  return written.answer;
}

export async function listAppointments(
  ctx: Pick<AppContext, 'db' | 'config'>,
  actor: Principal,
  query: ListAppointmentsQueryInput,
) {
  requirePermission(actor, 'appointments.read');
  const limit = query.limit ?? 20;
  const after = decodeCursor(query.cursor, ['s', 'id'], {
    id: isUuid,
    s: (value) => !Number.isNaN(Date.parse(value)),
  });
  const rows = await repo.listAppointments(ctx.db, {
    ...appointmentFilter(ctx, actor, query),
    after,
    limit,
  });
  const page = toPage(rows, limit, ({ appointment }) => ({
    s: appointment.startsAt.toISOString(),
    id: appointment.id,
  }));
  await recordAudit(ctx.db, whoOf(actor), {
    action: 'appointment.list',
    resourceType: 'appointment',
    patientIds: page.items.map((row) => row.appointment.patientId),
    details: { count: page.items.length },
  });
  return {
    items: page.items.map((row) => toAppointmentDto(row.appointment, row.patient)),
    next_cursor: page.next_cursor,
  };
}
