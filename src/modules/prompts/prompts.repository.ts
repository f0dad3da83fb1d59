import { and, count, desc, eq, gte, lt, sql } from 'drizzle-orm';
import type { DbOrTx } from '../../db/client.js';
import { prompts, type PromptRow } from '../../db/schema/prompts.js';

type NewPrompt = typeof prompts.$inferInsert;

export async function insertPrompt(db: DbOrTx, row: NewPrompt): Promise<PromptRow> {
  const [created] = await db.insert(prompts).values(row).returning();
  if (!created) throw new Error('insert returned no row');
  return created;
}

export async function findPrompt(db: DbOrTx, id: string): Promise<PromptRow | undefined> {
  const [row] = await db.select().from(prompts).where(eq(prompts.id, id)).limit(1);
  return row;
}

/** Applies only at the expected version (optimistic concurrency); undefined when it moved on. */
export async function updatePrompt(
  db: DbOrTx,
  id: string,
  version: number,
  changes: Partial<NewPrompt>,
): Promise<PromptRow | undefined> {
  const [row] = await db
    .update(prompts)
    .set({ ...changes, version: sql`${prompts.version} + 1`, updatedAt: sql`now()` })
    .where(and(eq(prompts.id, id), eq(prompts.version, version)))
    .returning();
  return row;
}

/** Hard delete at the expected version; false when the row moved on or is gone. */
export async function deletePrompt(db: DbOrTx, id: string, version: number): Promise<boolean> {
  const deleted = await db
    .delete(prompts)
    .where(and(eq(prompts.id, id), eq(prompts.version, version)))
    .returning({ id: prompts.id });
  return deleted.length > 0;
}

/** Newest first (UUIDv7 ids are creation-ordered); limit+1 rows so the caller can page. */
export async function listPrompts(
  db: DbOrTx,
  filter: { userId?: string | undefined; beforeId?: string | undefined; limit: number },
): Promise<PromptRow[]> {
  return db
    .select()
    .from(prompts)
    .where(
      and(
        filter.userId === undefined ? undefined : eq(prompts.userId, filter.userId),
        filter.beforeId === undefined ? undefined : lt(prompts.id, filter.beforeId),
      ),
    )
    .orderBy(desc(prompts.id))
    .limit(filter.limit + 1);
}

/**
 * Serializes one user's prompt creations for the rest of the transaction, so parallel creates
 * cannot both pass the daily-quota count (a transaction-scoped advisory lock: no table lock).
 */
export async function lockUserPrompts(tx: DbOrTx, userId: string): Promise<void> {
  await tx.execute(sql`select pg_advisory_xact_lock(hashtextextended(${`prompts:${userId}`}, 0))`);
}

export async function countPromptsSince(db: DbOrTx, userId: string, since: Date): Promise<number> {
  const [row] = await db
    .select({ n: count() })
    .from(prompts)
    .where(and(eq(prompts.userId, userId), gte(prompts.createdAt, since)));
  return row?.n ?? 0;
}

/** Prompts still `pending` and untouched since `before`: orphaned by a stop or crash. */
export async function listStalePending(
  db: DbOrTx,
  before: Date,
  limit: number,
): Promise<Pick<PromptRow, 'id' | 'version'>[]> {
  return db
    .select({ id: prompts.id, version: prompts.version })
    .from(prompts)
    .where(and(eq(prompts.status, 'pending'), lt(prompts.updatedAt, before)))
    .orderBy(prompts.id)
    .limit(limit);
}
