import type { AppContext } from '../../context.js';
import type { DbOrTx, Tx } from '../../db/client.js';
import type { AuditOutcome, AuditRow } from '../../db/schema/audit.js';
import type { Role } from '../../db/schema/users.js';
import { requirePermission } from '../../lib/access.js';
import { inTransaction } from '../../lib/after-commit.js';
import { AppError } from '../../lib/errors.js';
import { decodeCursor, toPage } from '../../lib/pagination.js';
import { parseOptionalTimestamp } from '../../lib/timestamps.js';
import type { Principal } from '../../lib/permissions.js';
import type { AuditAction } from './audit.actions.js';
import { writeAuditRow } from './audit.batch.js';
import * as repo from './audit.repository.js';
import { sealPending } from './audit.sealer.js';
import type { AuditQuery } from './audit.schemas.js';

/** Who did it and from where. From a Principal, or built by hand for unauthenticated events. */
export interface AuditWho {
  userId?: string | null | undefined;
  role?: Role | null | undefined;
  requestId?: string | undefined;
  ip?: string | undefined;
}

export interface AuditEvent {
  action: AuditAction;
  outcome?: AuditOutcome;
  resourceType?: string;
  resourceId?: string;
  patientId?: string | null;
  /** Patients a list or export returned. */
  patientIds?: readonly string[];
  /** Small, non-identifying facts (counts, reasons, ids). Never patient fields or secrets. */
  details?: Record<string, string | number | boolean | null>;
}

/**
 * Writes one audit row, in the caller's transaction when given one (so a change and its audit row
 * commit together), else batched with other requests' rows (audit.batch.ts). If the row cannot be written the request fails with 503: there is no
 * unaudited access to patient data.
 */
export async function recordAudit(db: DbOrTx, who: AuditWho, event: AuditEvent): Promise<void> {
  const patientIds = event.patientIds === undefined ? null : [...new Set(event.patientIds)];
  try {
    await writeAuditRow(db, {
      actorId: who.userId ?? null,
      actorRole: who.role ?? null,
      action: event.action,
      resourceType: event.resourceType ?? null,
      resourceId: event.resourceId ?? null,
      patientId: event.patientId ?? null,
      patientIds: patientIds !== null && patientIds.length > 0 ? patientIds : null,
      outcome: event.outcome ?? 'success',
      requestId: who.requestId ?? null,
      ip: who.ip ?? null,
      details: event.details ?? null,
    });
  } catch (error) {
    throw new AppError(
      'audit_unavailable',
      'The audit trail could not be written; nothing was done',
      {
        headers: { 'retry-after': '5' },
        cause: error,
      },
    );
  }
}

/**
 * Runs a change and writes its audit row in the same transaction: both commit or neither does.
 * `describe` sees the change's result (e.g. the new row's id).
 */
export async function auditedChange<T>(
  ctx: Pick<AppContext, 'db'>,
  who: AuditWho,
  change: (tx: Tx) => Promise<T>,
  describe: (result: T) => AuditEvent,
): Promise<T> {
  // inTransaction: events the change appended to the outbox wake the dispatcher on commit.
  return inTransaction(ctx.db, async (tx: Tx) => {
    const result = await change(tx);
    await recordAudit(tx, who, describe(result));
    return result;
  });
}

/** The event of an action on one record that belongs to a patient (appointment, prescription). */
export function patientRecordEvent(
  action: AuditAction,
  resourceType: string,
  row: { id: string; patientId: string },
  details?: AuditEvent['details'],
): AuditEvent {
  return {
    action,
    resourceType,
    resourceId: row.id,
    patientId: row.patientId,
    ...(details === undefined ? {} : { details }),
  };
}

/** The audit row of an authenticated caller. */
export function whoOf(actor: Principal): AuditWho {
  return { userId: actor.userId, role: actor.role, requestId: actor.requestId, ip: actor.ip };
}

/** A call the permission table refused: a security event, kept in the audit trail. */
export async function recordAccessDenied(
  db: DbOrTx,
  actor: Principal,
  route: string,
  permission: string,
): Promise<void> {
  await recordAudit(db, whoOf(actor), {
    action: 'access.denied',
    outcome: 'denied',
    resourceType: 'route',
    resourceId: route,
    details: { permission },
  });
}

const isSeq = (value: string) => /^\d{1,18}$/.test(value);

export function toAuditDto(row: AuditRow) {
  return {
    seq: row.seq,
    at: row.at.toISOString(),
    actor_id: row.actorId,
    actor_role: row.actorRole,
    action: row.action,
    resource_type: row.resourceType,
    resource_id: row.resourceId,
    patient_id: row.patientId,
    patient_ids: row.patientIds ?? [],
    outcome: row.outcome,
    request_id: row.requestId,
    ip: row.ip,
    details: row.details ?? {},
    prev_hash: row.prevHash,
    hash: row.hash,
  };
}

/** Admin: the trail, newest first, filtered by actor, patient, action, outcome and time. */
export async function listAudit(ctx: Pick<AppContext, 'db'>, actor: Principal, query: AuditQuery) {
  requirePermission(actor, 'audit.read');
  const after = decodeCursor(query.cursor, ['s'], { s: isSeq });
  const limit = query.limit ?? 20;
  const rows = await repo.listAuditRows(
    ctx.db,
    {
      actorId: query.actor_id,
      patientId: query.patient_id,
      action: query.action,
      outcome: query.outcome,
      from: parseOptionalTimestamp(query.from, 'query.from'),
      to: parseOptionalTimestamp(query.to, 'query.to'),
      beforeSeq: after === undefined ? undefined : Number(after.s),
    },
    limit + 1,
  );
  const page = toPage(rows, limit, (row) => ({ s: String(row.seq) }));
  return { items: page.items.map(toAuditDto), next_cursor: page.next_cursor };
}

/**
 * Admin: seal what can be sealed now, recompute the sealed chain and report the first broken
 * link, if any, and how many rows still wait to be sealed.
 */
export async function verifyAudit(ctx: Pick<AppContext, 'db' | 'clock'>, actor: Principal) {
  requirePermission(actor, 'audit.read');
  await sealPending(ctx.db);
  const check = await repo.verifyChain(ctx.db);
  return {
    ok: check.firstBroken === null,
    rows_checked: check.rows,
    pending_rows: await repo.countUnsealed(ctx.db),
    first_broken_seq: check.firstBroken?.seq ?? null,
    reason: check.firstBroken?.reason ?? null,
    verified_at: ctx.clock.now().toISOString(),
  };
}

/**
 * Who viewed or changed one patient's record. The caller (patients service) checks who may ask.
 */
export async function patientAccessLog(
  ctx: Pick<AppContext, 'db'>,
  patientId: string,
  page: { cursor?: string | undefined; limit?: number | undefined },
) {
  const after = decodeCursor(page.cursor, ['s'], { s: isSeq });
  const limit = page.limit ?? 20;
  const rows = await repo.listPatientAccess(
    ctx.db,
    patientId,
    after === undefined ? undefined : Number(after.s),
    limit + 1,
  );
  const result = toPage(rows, limit, (row) => ({ s: String(row.seq) }));
  return {
    items: result.items.map((row) => ({
      at: row.at.toISOString(),
      actor_id: row.actorId,
      actor_role: row.actorRole,
      actor_name: row.actorName,
      action: row.action,
      outcome: row.outcome,
      request_id: row.requestId,
    })),
    next_cursor: result.next_cursor,
  };
}
