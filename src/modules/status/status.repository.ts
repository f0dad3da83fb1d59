import { desc, lt } from 'drizzle-orm';
import type { DbOrTx } from '../../db/client.js';
import { statusChecks, type StatusCheckRow } from '../../db/schema/status.js';

export async function insertStatusCheck(
  db: DbOrTx,
  row: typeof statusChecks.$inferInsert,
): Promise<StatusCheckRow> {
  const [created] = await db.insert(statusChecks).values(row).returning();
  if (!created) throw new Error('insert returned no row');
  return created;
}

/** Newest first (UUIDv7 ids are creation-ordered); limit+1 rows so the caller can page. */
export async function listStatusChecks(
  db: DbOrTx,
  filter: { beforeId?: string | undefined; limit: number },
): Promise<StatusCheckRow[]> {
  return db
    .select()
    .from(statusChecks)
    .where(filter.beforeId === undefined ? undefined : lt(statusChecks.id, filter.beforeId))
    .orderBy(desc(statusChecks.id))
    .limit(filter.limit + 1);
}
