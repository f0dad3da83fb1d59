import type { AppContext } from '../../context.js';
import type { Tx } from '../../db/client.js';
import type { PrescriptionRow } from '../../db/schema/prescriptions.js';
import { requirePermission } from '../../lib/access.js';
import { AppError, forbidden, mustExist, notFound, unlessStale } from '../../lib/errors.js';
import { checkIfMatch } from '../../lib/etag.js';
import { newId } from '../../lib/ids.js';
import { pageById } from '../../lib/pagination.js';
import type { Principal } from '../../lib/permissions.js';
import { loadAppointment } from '../appointments/appointments.service.js';
import type { AuditAction } from '../audit/audit.actions.js';
import {
  auditedChange,
  patientRecordEvent,
  recordAudit,
  whoOf,
  type AuditEvent,
} from '../audit/audit.service.js';
import { appendEvent } from '../outbox/outbox.service.js';
import { loadPatient, patientEvent } from '../patients/patients.service.js';
import { allergyWarnings } from './allergy-check.js';
import * as repo from './prescriptions.repository.js';
import type {
  AllergyCheckQueryInput,
  CreatePrescriptionInput,
  ListPrescriptionsQueryInput,
  PrescriptionDto,
  UpdatePrescriptionInput,
} from './prescriptions.schemas.js';

export function toPrescriptionDto(row: PrescriptionRow): PrescriptionDto {
  return {
    id: row.id,
    patient_id: row.patientId,
    prescriber_id: row.prescriberId,
    appointment_id: row.appointmentId,
    medication: row.medication,
    dosage: row.dosage,
    route: row.route,
    frequency: row.frequency,
    duration_days: row.durationDays,
    quantity: row.quantity,
    refills: row.refills,
    instructions: row.instructions,
    status: row.status,
    cancel_reason: row.cancelReason,
    warnings: row.warnings,
    version: row.version,
    created_at: row.createdAt.toISOString(),
    updated_at: row.updatedAt.toISOString(),
  };
}

/** The audit event of an action on one prescription (prescriptions are patient data). */
export function prescriptionEvent(
  action: AuditAction,
  row: PrescriptionRow,
  details?: AuditEvent['details'],
): AuditEvent {
  return patientRecordEvent(action, 'prescription', row, details);
}

/** Writes a change's outbox event (`prescription.<change>`) in the change's transaction. */
async function raise(
  tx: Tx,
  change: 'created' | 'updated' | 'cancelled' | 'completed',
  row: PrescriptionRow,
): Promise<PrescriptionRow> {
  await appendEvent(tx, {
    topic: `prescription.${change}`,
    aggregateType: 'prescription',
    aggregateId: row.id,
    payload: toPrescriptionDto(row),
  });
  return row;
}

/**
 * A doctor prescribes. The medication is checked against the patient's recorded allergies; a
 * match does not block (the doctor may know better) but is returned and kept as `warnings`.
 */
export async function prescribe(
  ctx: Pick<AppContext, 'db'>,
  actor: Principal,
  input: CreatePrescriptionInput,
) {
  requirePermission(actor, 'prescriptions.create');
  let allergies: string[] = [];
  await mustExist('patient_id', async () => {
    allergies = (await loadPatient(ctx, input.patient_id)).allergies;
  });
  const appointmentId = input.appointment_id ?? null;
  if (appointmentId !== null) {
    await mustExist('appointment_id', async () => {
      const appointment = await loadAppointment(ctx, appointmentId);
      if (appointment.patientId !== input.patient_id) {
        throw new AppError('not_found', 'appointment of another patient');
      }
    });
  }
  const values = {
    id: newId(),
    patientId: input.patient_id,
    prescriberId: actor.userId,
    appointmentId,
    medication: input.medication,
    dosage: input.dosage,
    route: input.route ?? null,
    frequency: input.frequency,
    durationDays: input.duration_days ?? null,
    quantity: input.quantity ?? null,
    refills: input.refills ?? 0,
    instructions: input.instructions ?? null,
    warnings: allergyWarnings(input.medication, allergies),
  };
  const row = await auditedChange(
    ctx,
    whoOf(actor),
    async (tx) => raise(tx, 'created', await repo.insertPrescription(tx, values)),
    (created) =>
      prescriptionEvent('prescription.create', created, {
        allergy_warnings: created.warnings.length,
      }),
  );
  return toPrescriptionDto(row);
}

/**
 * The allergy warnings a prescription of `query.medication` for this patient would carry, without
 * prescribing (the console's warning while the doctor types). The answer tells the caller what the
 * patient is allergic to, so it is audited as a read of the patient's record (`patient.read`); the
 * row says why, and how many warnings, but not the medication.
 */
export async function checkAllergies(
  ctx: Pick<AppContext, 'db'>,
  actor: Principal,
  patientId: string,
  query: AllergyCheckQueryInput,
) {
  requirePermission(actor, 'prescriptions.read');
  const patient = await loadPatient(ctx, patientId);
  const warnings = allergyWarnings(query.medication, patient.allergies);
  await recordAudit(
    ctx.db,
    whoOf(actor),
    patientEvent('patient.read', patientId, {
      purpose: 'allergy_check',
      allergy_warnings: warnings.length,
    }),
  );
  return { warnings };
}

export async function loadPrescription(
  ctx: Pick<AppContext, 'db'>,
  id: string,
): Promise<PrescriptionRow> {
  const row = await repo.findPrescription(ctx.db, id);
  if (!row) throw notFound('prescription');
  return row;
}

export async function getPrescription(ctx: Pick<AppContext, 'db'>, actor: Principal, id: string) {
  requirePermission(actor, 'prescriptions.read');
  const row = await loadPrescription(ctx, id);
  await recordAudit(ctx.db, whoOf(actor), prescriptionEvent('prescription.read', row));
  return toPrescriptionDto(row);
}

/** Only the prescriber or an admin changes a prescription, and only while it is active. */
async function loadForChange(ctx: Pick<AppContext, 'db'>, actor: Principal, id: string) {
  requirePermission(actor, 'prescriptions.write');
  const row = await loadPrescription(ctx, id);
  if (actor.role !== 'admin' && row.prescriberId !== actor.userId) {
    throw forbidden('Only the prescriber or an admin may change this prescription');
  }
  if (row.status !== 'active') {
    throw new AppError(
      'conflict',
      `A ${row.status} prescription can no longer be changed; only an active one can be changed, cancelled or completed`,
    );
  }
  return row;
}

export async function updatePrescription(
  ctx: Pick<AppContext, 'db'>,
  actor: Principal,
  id: string,
  input: UpdatePrescriptionInput,
  ifMatch: string | undefined,
) {
  const current = await loadForChange(ctx, actor, id);
  checkIfMatch(ifMatch, current.version);
  const changes: Partial<PrescriptionRow> = {};
  if (input.medication !== undefined) {
    changes.medication = input.medication;
    // Re-checked against the allergies on record; a deleted patient's prescription is frozen.
    const patient = await loadPatient(ctx, current.patientId).catch((error: unknown) => {
      if (error instanceof AppError && error.code === 'not_found') {
        throw new AppError(
          'conflict',
          "The patient's record was deleted; the prescription is frozen",
        );
      }
      throw error;
    });
    changes.warnings = allergyWarnings(input.medication, patient.allergies);
  }
  if (input.dosage !== undefined) changes.dosage = input.dosage;
  if (input.frequency !== undefined) changes.frequency = input.frequency;
  if (input.refills !== undefined) changes.refills = input.refills;
  if (input.route !== undefined) changes.route = input.route;
  if (input.duration_days !== undefined) changes.durationDays = input.duration_days;
  if (input.quantity !== undefined) changes.quantity = input.quantity;
  if (input.instructions !== undefined) changes.instructions = input.instructions;
  const row = await auditedChange(
    ctx,
    whoOf(actor),
    async (tx) =>
      raise(
        tx,
        'updated',
        await unlessStale(
          'prescription',
          repo.updateActivePrescription(tx, id, changes, current.version),
        ),
      ),
    (updated) =>
      prescriptionEvent('prescription.update', updated, {
        fields: Object.keys(input).sort().join(','),
      }),
  );
  return toPrescriptionDto(row);
}

export async function endPrescription(
  ctx: Pick<AppContext, 'db'>,
  actor: Principal,
  id: string,
  to: 'cancelled' | 'completed',
  reason?: string,
) {
  await loadForChange(ctx, actor, id);
  const row = await auditedChange(
    ctx,
    whoOf(actor),
    async (tx) => {
      const updated = await repo.updateActivePrescription(tx, id, {
        status: to,
        ...(reason === undefined ? {} : { cancelReason: reason }),
      });
      if (!updated) {
        throw new AppError(
          'conflict',
          'The prescription is no longer active; only an active one can be cancelled or completed',
        );
      }
      return raise(tx, to, updated);
    },
    (updated) => prescriptionEvent('prescription.transition', updated, { to }),
  );
  return toPrescriptionDto(row);
}

export async function listPrescriptions(
  ctx: Pick<AppContext, 'db'>,
  actor: Principal,
  query: ListPrescriptionsQueryInput,
) {
  requirePermission(actor, 'prescriptions.read');
  const page = await pageById(query, (beforeId, limit) =>
    repo.listPrescriptions(ctx.db, {
      patientId: query.patient_id,
      prescriberId: query.prescriber_id,
      status: query.status,
      beforeId,
      limit,
    }),
  );
  await recordAudit(ctx.db, whoOf(actor), {
    action: 'prescription.list',
    resourceType: 'prescription',
    patientIds: page.items.map((row) => row.patientId),
    details: { count: page.items.length },
  });
  return { items: page.items.map(toPrescriptionDto), next_cursor: page.next_cursor };
}

export async function listPatientPrescriptions(
  ctx: Pick<AppContext, 'db'>,
  actor: Principal,
  patientId: string,
  query: { limit?: number; cursor?: string },
) {
  requirePermission(actor, 'prescriptions.read');
  await loadPatient(ctx, patientId);
  return listPrescriptions(ctx, actor, { ...query, patient_id: patientId });
}

/**
 * A patient's active prescriptions, newest first (at most `limit`). Writes no audit row: the
 * caller (the patient summary) records one export row that covers it.
 */
export async function listActiveForPatient(
  ctx: Pick<AppContext, 'db'>,
  actor: Principal,
  patientId: string,
  limit = 20,
): Promise<PrescriptionRow[]> {
  requirePermission(actor, 'prescriptions.read');
  const rows = await repo.listPrescriptions(ctx.db, { patientId, status: 'active', limit });
  return rows.slice(0, limit);
}
