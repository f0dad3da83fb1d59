import { Readable } from 'node:stream';
import { stringify } from 'csv-stringify';
import type { AppContext } from '../../context.js';
import type { AppointmentRow } from '../../db/schema/appointments.js';
import { requirePermission } from '../../lib/access.js';
import { neutralizeFormula } from '../../lib/csv.js';
import type { Principal } from '../../lib/permissions.js';
import { recordAudit, whoOf } from '../audit/audit.service.js';
import { appointmentFilter } from './appointments.filters.js';
import * as repo from './appointments.repository.js';
import type { ExportAppointmentsQueryInput } from './appointments.schemas.js';

const BATCH = 500;

type Row = { appointment: AppointmentRow; mrn: string };

const columns: [string, (row: Row) => string | number | null][] = [
  ['id', (r) => r.appointment.id],
  ['patient_id', (r) => r.appointment.patientId],
  ['patient_mrn', (r) => r.mrn],
  ['doctor_id', (r) => r.appointment.doctorId],
  ['starts_at', (r) => r.appointment.startsAt.toISOString()],
  ['ends_at', (r) => r.appointment.endsAt.toISOString()],
  ['duration_minutes', (r) => r.appointment.durationMinutes],
  ['status', (r) => r.appointment.status],
  ['reason', (r) => r.appointment.reason],
  ['cancel_reason', (r) => r.appointment.cancelReason],
  ['created_at', (r) => r.appointment.createdAt.toISOString()],
];

type Filter = Omit<repo.AppointmentFilter, 'after' | 'limit'>;

/** Walks the matching appointments by (start, id), one keyset page at a time (constant memory). */
async function* matching(ctx: Pick<AppContext, 'db'>, filter: Filter): AsyncGenerator<Row> {
  let after: { s: string; id: string } | undefined;
  for (;;) {
    const rows = await repo.listAppointmentsWithMrn(ctx.db, { ...filter, after, limit: BATCH });
    for (const row of rows.slice(0, BATCH)) yield row;
    const last = rows[BATCH - 1];
    if (rows.length <= BATCH || !last) return;
    after = { s: last.appointment.startsAt.toISOString(), id: last.appointment.id };
  }
}

/**
 * A streamed CSV of the appointments matching the list filters; audited before the first byte.
 * Free-text cells are neutralised so a reason cannot run as a spreadsheet formula.
 */
export async function exportAppointmentsCsv(
  ctx: Pick<AppContext, 'db' | 'config'>,
  actor: Principal,
  query: ExportAppointmentsQueryInput,
): Promise<Readable> {
  requirePermission(actor, 'appointments.read');
  const filter: Filter = appointmentFilter(ctx, actor, query);
  await recordAudit(ctx.db, whoOf(actor), {
    action: 'appointment.export',
    resourceType: 'appointment',
    patientId: query.patient_id ?? null,
    details: { format: 'csv' },
  });
  const csv = stringify({ header: true, columns: columns.map(([name]) => name) });
  const rows = Readable.from(
    (async function* () {
      for await (const row of matching(ctx, filter)) {
        yield columns.map(([, read]) => {
          const value = read(row);
          return typeof value === 'number' ? String(value) : neutralizeFormula(value ?? '');
        });
      }
    })(),
  );
  rows.on('error', (error) => csv.destroy(error));
  return rows.pipe(csv);
}
