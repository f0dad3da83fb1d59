import type { AppContext } from '../../context.js';
import { requirePermission } from '../../lib/access.js';
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
      }),
    (note) => ({
      action: 'visit_note.create',
      resourceType: 'visit_note',
      resourceId: note.id,
      patientId,
    }),
  );
  return toNoteDto(row);
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
