import type { AppContext } from '../../context.js';
import type { AppointmentRow } from '../../db/schema/appointments.js';
import { requirePermission } from '../../lib/access.js';
import type { Principal } from '../../lib/permissions.js';
import { loadPatient } from '../patients/patients.service.js';
import * as repo from './appointments.repository.js';
import { listAppointments } from './appointments.service.js';

/** One patient's appointments: the scoped list and the summary's upcoming and recent ones. */

/** A patient's appointments (scoped list); unknown patient is 404. */
export async function listPatientAppointments(
  ctx: Pick<AppContext, 'db' | 'config'>,
  actor: Principal,
  patientId: string,
  query: { limit?: number; cursor?: string },
) {
  requirePermission(actor, 'appointments.read');
  await loadPatient(ctx, patientId);
  return listAppointments(ctx, actor, { ...query, patient_id: patientId });
}

/**
 * A patient's next appointments (soonest first, cancelled ones left out). Writes no audit row:
 * the caller (the patient summary) records one export row that covers it.
 */
export async function listUpcomingForPatient(
  ctx: Pick<AppContext, 'db' | 'clock'>,
  actor: Principal,
  patientId: string,
  limit = 10,
): Promise<AppointmentRow[]> {
  requirePermission(actor, 'appointments.read');
  return repo.listPatientAround(ctx.db, patientId, ctx.clock.now(), 'upcoming', limit);
}

/** A patient's latest past appointments (latest first, any status). No audit row, as above. */
export async function listRecentForPatient(
  ctx: Pick<AppContext, 'db' | 'clock'>,
  actor: Principal,
  patientId: string,
  limit = 10,
): Promise<AppointmentRow[]> {
  requirePermission(actor, 'appointments.read');
  return repo.listPatientAround(ctx.db, patientId, ctx.clock.now(), 'recent', limit);
}
