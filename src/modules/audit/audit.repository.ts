import { and, desc, eq, gte, lt, lte, or, sql, type SQL } from 'drizzle-orm';
import { rowsOf, type DbOrTx } from '../../db/client.js';
import { prepared } from '../../db/prepared.js';
import { auditLog, type AuditOutcome, type AuditRow } from '../../db/schema/audit.js';
import { users } from '../../db/schema/users.js';

export type NewAuditRow = Omit<
  typeof auditLog.$inferInsert,
  'seq' | 'at' | 'txId' | 'chainPos' | 'prevHash' | 'hash'
>;

/**
 * `seq`, `at` and `tx_id` are assigned by the database trigger, without any lock; the row is
 * linked into the chain later by the sealer.
 */
export async function insertAuditRow(db: DbOrTx, row: NewAuditRow): Promise<void> {
  // Prepared: every audited read sends this statement. Every column gets a value (null when
  // absent), so one statement text fits every row.
  const insert = prepared(db, 'audit_insert', (on) =>
    on.insert(auditLog).values({
      actorId: sql.placeholder('actorId'),
      actorRole: sql.placeholder('actorRole'),
      action: sql.placeholder('action'),
      resourceType: sql.placeholder('resourceType'),
      resourceId: sql.placeholder('resourceId'),
      patientId: sql.placeholder('patientId'),
      // Raw placeholders: the column encoders would turn null into a JSON 'null' (details) or
      // fail on it (the array); node-postgres sends null as NULL and an array as an array.
      patientIds: sql`${sql.placeholder('patientIds')}::uuid[]`,
      outcome: sql.placeholder('outcome'),
      requestId: sql.placeholder('requestId'),
      ip: sql.placeholder('ip'),
      details: sql`${sql.placeholder('details')}::jsonb`,
    }),
  );
  await insert.execute({
    actorId: row.actorId ?? null,
    actorRole: row.actorRole ?? null,
    action: row.action,
    resourceType: row.resourceType ?? null,
    resourceId: row.resourceId ?? null,
    patientId: row.patientId ?? null,
    patientIds: row.patientIds ?? null,
    outcome: row.outcome,
    requestId: row.requestId ?? null,
    ip: row.ip ?? null,
    details: row.details == null ? null : JSON.stringify(row.details),
  });
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

/**
 * One seal pass in the database (function `audit_seal`, migration 0014): links up to `limit`
 * committed rows into the chain. Returns how many, or -1 when another sealer holds the lock.
 */
export async function sealBatch(db: DbOrTx, limit: number): Promise<number> {
  const [row] = rowsOf<{ sealed: number }>(
    await db.execute(sql`select audit_seal(${limit}::int) as sealed`),
  );
  return row?.sealed ?? 0;
}

/** Rows written but not yet linked into the chain (a partial index holds exactly these). */
export async function countUnsealed(db: DbOrTx): Promise<number> {
  const [row] = rowsOf<{ n: string }>(
    await db.execute(sql`select count(*)::text as n from audit_log where chain_pos is null`),
  );
  return Number(row?.n ?? 0);
}

/** Seconds since the oldest unsealed row was written (0 when every row is sealed). */
export async function oldestUnsealedAgeS(db: DbOrTx): Promise<number> {
  const [row] = rowsOf<{ age: string | null }>(
    await db.execute(
      sql`select extract(epoch from now() - min("at"))::text as age from audit_log where chain_pos is null`,
    ),
  );
  return Math.max(0, Number(row?.age ?? 0));
}

export interface ChainCheck {
  rows: number;
  firstBroken: { seq: number; reason: 'hash_mismatch' | 'chain_break' } | null;
}

const GENESIS = '0'.repeat(64);
const VERIFY_BATCH = 10_000;

/**
 * Recomputes every sealed row's hash with the same SQL function the sealer used, and checks
 * that each row links to the one before it in chain order (a deleted, inserted, moved or
 * re-hashed row breaks the link). Rows are named by `seq`, as everywhere in the API. Walks the
 * chain in batches so that no single query outlives the request timeouts, however long the
 * trail grows.
 */
export async function verifyChain(db: DbOrTx, batch = VERIFY_BATCH): Promise<ChainCheck> {
  let previousHash = GENESIS;
  let afterPos = -1;
  let rows = 0;
  for (;;) {
    const chunk = rowsOf<{
      seq: string;
      pos: string;
      prev_hash: string;
      hash: string;
      hash_ok: boolean;
    }>(
      await db.execute(sql`
        select a.seq::text as seq, a.chain_pos::text as pos, a.prev_hash, a.hash,
               a.hash = audit_row_hash(a) as hash_ok
        from audit_log a
        where a.chain_pos > ${afterPos}
        order by a.chain_pos
        limit ${batch}`),
    );
    for (const row of chunk) {
      const seq = Number(row.seq);
      if (!row.hash_ok) return { rows: rows + 1, firstBroken: { seq, reason: 'hash_mismatch' } };
      if (row.prev_hash !== previousHash) {
        return { rows: rows + 1, firstBroken: { seq, reason: 'chain_break' } };
      }
      previousHash = row.hash;
      afterPos = Number(row.pos);
      rows += 1;
    }
    if (chunk.length < batch) return { rows, firstBroken: null };
  }
}
