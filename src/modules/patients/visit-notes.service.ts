import type { AppContext } from '../../context.js';
import { requirePermission } from '../../lib/access.js';
import { sqlState } from '../../lib/db-errors.js';
import { fieldError } from '../../lib/errors.js';
import { newId } from '../../lib/ids.js';
import { pageById } from '../../lib/pagination.js';
import type { Principal } from '../../lib/permissions.js';
import { auditedChange, recordAudit, whoOf } from '../audit/audit.service.js';
import { toNoteDto } from './patients.mapper.js';
import * as repo from './patients.repository.js';
import type { CreateNoteInput } from './patients.schemas.js';
import { loadPatient } from './patients.service.js';

/** Visit notes: clinical roles write and read them; each write and list is audited. */
export async function addNote(
  ctx: Pick<AppContext, 'db'>,
  actor: Principal,
  patientId: string,
  input: CreateNoteInput,
) {
  requirePermission(actor, 'visit_notes.manage');
  await loadPatient(ctx, patientId);
  const appointmentId = input.appointment_id ?? null;
  try {
    const row = await auditedChange(
      ctx,
      whoOf(actor),
      (tx) =>
        repo.insertNote(tx, {
          id: newId(),
          patientId,
          authorId: actor.userId,
          visitType: input.visit_type,
          content: input.content,
          appointmentId,
        }),
      (note) => ({
        action: 'visit_note.create',
        resourceType: 'visit_note',
        resourceId: note.id,
        patientId,
        ...(appointmentId === null ? {} : { details: { appointment_id: appointmentId } }),
      }),
    );
    return toNoteDto(row);
  } catch (error) {
    // The (appointment_id, patient_id) foreign key decides; the lookup only words the answer.
    if (appointmentId === null || sqlState(error) !== '23503') throw error;
    const owner = await repo.appointmentPatientId(ctx.db, appointmentId);
    throw fieldError(
      'body.appointment_id',
      owner === undefined ? 'not found' : "is another patient's appointment",
      owner === undefined
        ? 'appointment_id does not name a known appointment'
        : "appointment_id names another patient's appointment; a note can only belong to an appointment of its own patient",
      { code: 'unprocessable', cause: error },
    );
  }
}

export async function listNotes(
  ctx: Pick<AppContext, 'db'>,
  actor: Principal,
  patientId: string,
  query: { limit?: number; cursor?: string },
) {
  requirePermission(actor, 'visit_notes.manage');
  await loadPatient(ctx, patientId);
  const page = await pageById(query, (beforeId, limit) =>
    repo.listNotes(ctx.db, patientId, beforeId, limit),
  );
  await recordAudit(ctx.db, whoOf(actor), {
    action: 'visit_note.list',
    resourceType: 'visit_note',
    patientId,
    details: { count: page.items.length },
  });
  return { items: page.items.map(toNoteDto), next_cursor: page.next_cursor };
}
