import { and, desc, eq, gte, lt, lte, or, sql, type SQL } from 'drizzle-orm';
import type { DbOrTx } from '../../db/client.js';
import { auditLog, type AuditOutcome, type AuditRow } from '../../db/schema/audit.js';
import { users } from '../../db/schema/users.js';

export type NewAuditRow = Omit<typeof auditLog.$inferInsert, 'seq' | 'at' | 'prevHash' | 'hash'>;

/** `seq`, `at`, `prev_hash` and `hash` are assigned by the database trigger. */
export async function insertAuditRow(db: DbOrTx, row: NewAuditRow): Promise<void> {
  await db.insert(auditLog).values(row);
}

export interface AuditFilters {
  actorId?: string | undefined;
  patientId?: string | undefined;
  action?: string | undefined;
  outcome?: AuditOutcome | undefined;
  from?: Date | undefined;
  to?: Date | undefined;
  beforeSeq?: number | undefined;
}

function touchesPatient(patientId: string): SQL | undefined {
  // Direct reads and changes, and lists or exports that returned the patient.
  return or(
    eq(auditLog.patientId, patientId),
    sql`${auditLog.patientIds} @> array[${patientId}]::uuid[]`,
  );
}

/** Newest first, keyset on `seq`. */
export async function listAuditRows(
  db: DbOrTx,
  filters: AuditFilters,
  limit: number,
): Promise<AuditRow[]> {
  const conditions = [
    filters.actorId === undefined ? undefined : eq(auditLog.actorId, filters.actorId),
    filters.patientId === undefined ? undefined : touchesPatient(filters.patientId),
    filters.action === undefined ? undefined : eq(auditLog.action, filters.action),
    filters.outcome === undefined ? undefined : eq(auditLog.outcome, filters.outcome),
    filters.from === undefined ? undefined : gte(auditLog.at, filters.from),
    filters.to === undefined ? undefined : lte(auditLog.at, filters.to),
    filters.beforeSeq === undefined ? undefined : lt(auditLog.seq, filters.beforeSeq),
  ];
  return db
    .select()
    .from(auditLog)
    .where(and(...conditions))
    .orderBy(desc(auditLog.seq))
    .limit(limit);
}

export interface AccessLogRow {
  seq: number;
  at: Date;
  actorId: string | null;
  actorRole: string | null;
  actorName: string | null;
  action: string;
  outcome: string;
  requestId: string | null;
}

export async function listPatientAccess(
  db: DbOrTx,
  patientId: string,
  beforeSeq: number | undefined,
  limit: number,
): Promise<AccessLogRow[]> {
  return db
    .select({
      seq: auditLog.seq,
      at: auditLog.at,
      actorId: auditLog.actorId,
      actorRole: auditLog.actorRole,
      actorName: users.fullName,
      action: auditLog.action,
      outcome: auditLog.outcome,
      requestId: auditLog.requestId,
    })
    .from(auditLog)
    .leftJoin(users, eq(users.id, auditLog.actorId))
    .where(
      and(
        touchesPatient(patientId),
        beforeSeq === undefined ? undefined : lt(auditLog.seq, beforeSeq),
      ),
    )
    .orderBy(desc(auditLog.seq))
    .limit(limit);
}

export interface ChainCheck {
  rows: number;
  firstBroken: { seq: number; reason: 'hash_mismatch' | 'chain_break' } | null;
}

/**
 * Recomputes every row's hash with the same SQL function the insert trigger used, and checks
 * that each row links to the one before it (a deleted or inserted row breaks the link).
 */
export async function verifyChain(db: DbOrTx): Promise<ChainCheck> {
  const genesis = '0'.repeat(64);
  const counted = rowsOf<{ rows: string }>(
    await db.execute(sql`select count(*)::text as rows from audit_log`),
  );
  const broken = rowsOf<{ seq: string; hash_ok: boolean }>(
    await db.execute(sql`
    select seq::text as seq, hash_ok from (
      select a.seq,
             a.hash = audit_row_hash(a) as hash_ok,
             a.prev_hash = coalesce(lag(a.hash) over (order by a.seq), ${genesis}) as link_ok
      from audit_log a
    ) checked
    where not hash_ok or not link_ok
    order by seq
    limit 1`),
  );
  const first = broken[0];
  return {
    rows: Number(counted[0]?.rows ?? 0),
    firstBroken:
      first === undefined
        ? null
        : { seq: Number(first.seq), reason: first.hash_ok ? 'chain_break' : 'hash_mismatch' },
  };
}

/** Raw results from node-postgres and PGlite both carry `rows`. */
function rowsOf<T>(result: unknown): T[] {
  return (result as { rows: T[] }).rows;
}
