import { createEvent, type EventStatus } from 'ics';
import type { AppContext } from '../../context.js';
import type { AppointmentRow } from '../../db/schema/appointments.js';
import { requirePermission } from '../../lib/access.js';
import type { Principal } from '../../lib/permissions.js';
import { loadPatient } from '../patients/patients.service.js';
import { findAccount } from '../users/users.service.js';
import { recordAudit, whoOf } from '../audit/audit.service.js';
import { appointmentEvent, loadAppointment } from './appointments.service.js';

function icsStatus(row: AppointmentRow): EventStatus {
  if (row.status === 'cancelled' || row.status === 'no_show') return 'CANCELLED';
  return row.status === 'scheduled' ? 'TENTATIVE' : 'CONFIRMED';
}

/**
 * One appointment as an iCalendar file. Calendars sync to third parties, so the event carries
 * the MRN and the doctor's name but no patient name and no reason (minimum necessary).
 */
export async function appointmentIcs(
  ctx: Pick<AppContext, 'db'>,
  actor: Principal,
  id: string,
): Promise<string> {
  requirePermission(actor, 'appointments.read');
  const row = await loadAppointment(ctx, id);
  await recordAudit(
    ctx.db,
    whoOf(actor),
    appointmentEvent('appointment.export', row, { format: 'ics' }),
  );
  const [patient, doctor] = await Promise.all([
    loadPatient(ctx, row.patientId).catch(() => undefined),
    findAccount(ctx, row.doctorId),
  ]);
  return calendarEvent(row, {
    mrn: patient?.mrn,
    doctor: doctor?.fullName ?? doctor?.username ?? row.doctorId,
  });
}

/**
 * The iCalendar text of one appointment (the export above, and the reminder emails' attachment).
 * The UID is stable per appointment and SEQUENCE its version, so a calendar updates the event it
 * already holds when a rescheduled appointment arrives again.
 */
export function calendarEvent(
  row: AppointmentRow,
  about: { mrn: string | undefined; doctor: string },
): string {
  const { error, value } = createEvent({
    uid: `${row.id}@medcore`,
    productId: 'medcore/appointments',
    start: row.startsAt.getTime(),
    startInputType: 'utc',
    startOutputType: 'utc',
    duration: { minutes: row.durationMinutes },
    title: `Appointment${about.mrn === undefined ? '' : ` (${about.mrn})`}`,
    description: `Doctor: ${about.doctor}`,
    status: icsStatus(row),
    sequence: row.version,
    created: row.createdAt.getTime(),
    lastModified: row.updatedAt.getTime(),
  });
  if (error || value === null) throw error ?? new Error('calendar export failed');
  return value;
}
