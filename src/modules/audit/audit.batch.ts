import { sql } from 'drizzle-orm';
import { PgTransaction } from 'drizzle-orm/pg-core';
import type { DbOrTx } from '../../db/client.js';
import { insertAuditRow, type NewAuditRow } from './audit.repository.js';

/**
 * Group commit for audit rows written outside a transaction (every audited read).
 *
 * Each audited read used to send its own INSERT, one commit each: at 50 connections that is 50
 * commits in flight for rows nobody reads back. Here a read's row joins a queue; one INSERT of
 * the whole queue runs while the next queue fills, so under load many reads share one statement
 * and one commit, and with one request at a time nothing waits (its row goes out at once). A
 * request still answers only after its own row has committed, and fails (503) if it could not:
 * there is no unaudited read, batched or not.
 *
 * Rows written inside a transaction (a change and its row commit together) never come here.
 */
const MAX_BATCH = 500;
/** Batches in flight at once: a second one keeps a slow commit from holding every reader. */
const MAX_IN_FLIGHT = 2;

interface Waiting {
  row: NewAuditRow;
  resolve: () => void;
  reject: (error: unknown) => void;
}

class AuditBatcher {
  private queue: Waiting[] = [];
  private inFlight = 0;

  constructor(private readonly db: DbOrTx) {}

  add(row: NewAuditRow): Promise<void> {
    return new Promise((resolve, reject) => {
      this.queue.push({ row, resolve, reject });
      this.pump();
    });
  }

  private pump(): void {
    while (this.inFlight < MAX_IN_FLIGHT && this.queue.length > 0) {
      const batch = this.queue.splice(0, MAX_BATCH);
      this.inFlight++;
      void this.write(batch).finally(() => {
        this.inFlight--;
        this.pump();
      });
    }
  }

  private async write(batch: Waiting[]): Promise<void> {
    try {
      await insertAuditRows(
        this.db,
        batch.map((w) => w.row),
      );
      for (const w of batch) w.resolve();
    } catch (error) {
      if (batch.length === 1) {
        batch[0]?.reject(error);
        return;
      }
      // One row the database refuses must not fail the others: each is tried on its own.
      await Promise.all(
        batch.map(async (w) => {
          try {
            await insertAuditRow(this.db, w.row);
            w.resolve();
          } catch (single) {
            w.reject(single);
          }
        }),
      );
    }
  }
}

const batchers = new WeakMap<object, AuditBatcher>();

/**
 * Writes one audit row: in the caller's transaction when `db` is one, else batched with the
 * rows of other requests (group commit). Resolves once the row is committed (or, in a
 * transaction, written).
 */
export async function writeAuditRow(db: DbOrTx, row: NewAuditRow): Promise<void> {
  if (db instanceof PgTransaction) {
    await insertAuditRow(db, row);
    return;
  }
  let batcher = batchers.get(db);
  if (batcher === undefined) {
    batcher = new AuditBatcher(db);
    batchers.set(db, batcher);
  }
  await batcher.add(row);
}

/**
 * Many rows in one statement: the batch travels as one JSON array whose elements take the
 * table's column types (jsonb_populate_record), inserted in array order (so `seq` follows the
 * order the rows joined the queue). Not a prepared statement: its cost is shared by the batch.
 */
async function insertAuditRows(db: DbOrTx, rows: readonly NewAuditRow[]): Promise<void> {
  if (rows.length === 1 && rows[0] !== undefined) {
    await insertAuditRow(db, rows[0]);
    return;
  }
  await db.execute(sql`
    insert into audit_log (actor_id, actor_role, action, resource_type, resource_id, patient_id,
      patient_ids, outcome, request_id, ip, details)
    select r.actor_id, r.actor_role, r.action, r.resource_type, r.resource_id, r.patient_id,
      r.patient_ids, r.outcome, r.request_id, r.ip, r.details
    from jsonb_array_elements(${JSON.stringify(rows.map(toRecord))}::jsonb) with ordinality
      as e(value, n)
    cross join lateral jsonb_populate_record(null::audit_log, e.value) as r
    order by e.n`);
}

function toRecord(row: NewAuditRow) {
  return {
    actor_id: row.actorId ?? null,
    actor_role: row.actorRole ?? null,
    action: row.action,
    resource_type: row.resourceType ?? null,
    resource_id: row.resourceId ?? null,
    patient_id: row.patientId ?? null,
    patient_ids: row.patientIds ?? null,
    outcome: row.outcome,
    request_id: row.requestId ?? null,
    ip: row.ip ?? null,
    details: row.details ?? null,
  };
}
