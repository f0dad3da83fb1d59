import type { AppContext } from '../../context.js';
import { requirePermission } from '../../lib/access.js';
import { forbidden } from '../../lib/errors.js';
import type { Principal } from '../../lib/permissions.js';
import { patientAccessLog, recordAudit, whoOf } from '../audit/audit.service.js';
import { loadPatient, patientEvent } from './patients.service.js';

/**
 * Who viewed or changed this record: admins, and the patient's assigned doctor. Asking is itself
 * recorded. Bulk exports are not listed per patient (they cover everyone); see /admin/audit.
 */
export async function accessLog(
  ctx: Pick<AppContext, 'db'>,
  actor: Principal,
  patientId: string,
  query: { limit?: number | undefined; cursor?: string | undefined },
) {
  requirePermission(actor, 'patients.access_log.read');
  const patient = await loadPatient(ctx, patientId);
  if (actor.role !== 'admin' && patient.assignedDoctorId !== actor.userId) {
    throw forbidden("Only an admin or the patient's assigned doctor may see this");
  }
  const page = await patientAccessLog(ctx, patientId, query);
  await recordAudit(ctx.db, whoOf(actor), patientEvent('patient.access_log', patientId));
  return page;
}
