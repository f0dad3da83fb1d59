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
  const { error, value } = createEvent({
    uid: `${row.id}@medcore`,
    productId: 'medcore/appointments',
    start: row.startsAt.getTime(),
    startInputType: 'utc',
    startOutputType: 'utc',
    duration: { minutes: row.durationMinutes },
    title: `Appointment${patient ? ` (${patient.mrn})` : ''}`,
    description: `Doctor: ${doctor?.fullName ?? doctor?.username ?? row.doctorId}`,
    status: icsStatus(row),
    sequence: row.version,
    created: row.createdAt.getTime(),
    lastModified: row.updatedAt.getTime(),
  });
  if (error || value === null) throw error ?? new Error('calendar export failed');
  return value;
}
