import { Readable } from 'node:stream';
import { stringify } from 'csv-stringify';
import type { AppContext } from '../../context.js';
import type { PatientListView } from './patients.columns.js';
import { requirePermission } from '../../lib/access.js';
import { neutralizeFormula } from '../../lib/csv.js';
import { can, type Principal } from '../../lib/permissions.js';
import { recordAudit, whoOf } from '../audit/audit.service.js';
import * as repo from './patients.repository.js';

const BATCH = 500;

const baseColumns: [string, (row: PatientListView) => string | null][] = [
  ['id', (r) => r.id],
  ['mrn', (r) => r.mrn],
  ['first_name', (r) => r.firstName],
  ['last_name', (r) => r.lastName],
  ['date_of_birth', (r) => r.dateOfBirth],
  ['gender', (r) => r.gender],
  ['email', (r) => r.email],
  ['phone', (r) => r.phone],
  ['address', (r) => r.address],
  ['location', (r) => r.location],
  ['group', (r) => r.group],
  ['initial_complaint', (r) => r.initialComplaint],
  ['initial_diagnosis', (r) => r.initialDiagnosis],
  ['assigned_doctor_id', (r) => r.assignedDoctorId],
  // A practice moving to another system must carry the patient's choice along.
  ['reminders_opt_out', (r) => String(r.remindersOptOut)],
  ['created_at', (r) => r.createdAt.toISOString()],
];

const medicalColumns: [string, (row: PatientListView) => string | null][] = [
  ['allergies', (r) => r.allergies.join('; ')],
  ['medical_history', (r) => r.medicalHistory],
  ['notes', (r) => r.notes],
];

/** Walks all live patients in id order, one keyset page at a time (constant memory). */
async function* allPatients(
  ctx: Pick<AppContext, 'db'>,
  viewerId: string,
): AsyncGenerator<PatientListView> {
  let after: Record<string, string> | undefined;
  for (;;) {
    const rows = await repo.listPatients(ctx.db, {
      viewerId,
      sort: 'created_at',
      after,
      limit: BATCH,
    });
    for (const row of rows.slice(0, BATCH)) yield row.patient;
    const last = rows[BATCH - 1];
    if (rows.length <= BATCH || !last) return;
    after = { c: last.patient.createdAt.toISOString(), id: last.patient.id };
  }
}

/** A streamed CSV of the fields the caller's role may see; audited before the first byte. */
export async function exportPatientsCsv(
  ctx: Pick<AppContext, 'db'>,
  actor: Principal,
): Promise<Readable> {
  requirePermission(actor, 'patients.manage');
  const medical = can(actor.role, 'patients.medical.read');
  const columns = medical ? [...baseColumns, ...medicalColumns] : baseColumns;
  await recordAudit(ctx.db, whoOf(actor), {
    action: 'patient.export',
    resourceType: 'patient',
    details: { format: 'csv', medical_fields: medical },
  });
  const csv = stringify({ header: true, columns: columns.map(([name]) => name) });
  const rows = Readable.from(
    (async function* () {
      for await (const patient of allPatients(ctx, actor.userId)) {
        yield columns.map(([, read]) => neutralizeFormula(read(patient) ?? ''));
      }
    })(),
  );
  rows.on('error', (error) => csv.destroy(error));
  return rows.pipe(csv);
}
