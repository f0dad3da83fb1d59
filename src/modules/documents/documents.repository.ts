import { and, desc, eq, inArray, isNull, lt, sql } from 'drizzle-orm';
import type { DbOrTx } from '../../db/client.js';
import { documents, type DocumentCategory, type DocumentRow } from '../../db/schema/documents.js';
import { users } from '../../db/schema/users.js';

type NewDocument = typeof documents.$inferInsert;

export async function insertDocument(db: DbOrTx, row: NewDocument): Promise<DocumentRow> {
  const [created] = await db.insert(documents).values(row).returning();
  if (!created) throw new Error('insert returned no row');
  return created;
}

/** A live (not deleted) document. */
export async function findDocument(db: DbOrTx, id: string): Promise<DocumentRow | undefined> {
  const [row] = await db
    .select()
    .from(documents)
    .where(and(eq(documents.id, id), isNull(documents.deletedAt)))
    .limit(1);
  return row;
}

/**
 * Takes the uploader's row lock, so that parallel uploads by one user are checked against the
 * quota one after another, then sums their live documents.
 */
export async function lockedStorageUsed(tx: DbOrTx, userId: string): Promise<number> {
  await tx.select({ id: users.id }).from(users).where(eq(users.id, userId)).for('update');
  return storageUsed(tx, userId);
}

export async function storageUsed(db: DbOrTx, userId: string): Promise<number> {
  const [row] = await db
    .select({ used: sql<string>`coalesce(sum(${documents.sizeBytes}), 0)` })
    .from(documents)
    .where(and(eq(documents.uploadedBy, userId), isNull(documents.deletedAt)));
  return Number(row?.used ?? 0);
}

export interface DocumentFilter {
  patientId: string;
  categories: readonly DocumentCategory[];
  q?: string | undefined;
  beforeId?: string | undefined;
  limit: number;
}

/** A patient's live documents, newest first; limit+1 rows so the caller can page. */
export async function listDocuments(db: DbOrTx, filter: DocumentFilter): Promise<DocumentRow[]> {
  return db
    .select()
    .from(documents)
    .where(
      and(
        eq(documents.patientId, filter.patientId),
        isNull(documents.deletedAt),
        inArray(documents.category, [...filter.categories]),
        filter.q === undefined
          ? undefined
          : sql`${documents.search} @@ websearch_to_tsquery('english', ${filter.q})`,
        filter.beforeId === undefined ? undefined : lt(documents.id, filter.beforeId),
      ),
    )
    .orderBy(desc(documents.id))
    .limit(filter.limit + 1);
}

/** Soft delete at the expected version; undefined when the row moved on or is gone. */
export async function softDeleteDocument(
  db: DbOrTx,
  id: string,
  version: number,
  deletedBy: string,
): Promise<DocumentRow | undefined> {
  const [row] = await db
    .update(documents)
    .set({
      deletedAt: sql`now()`,
      deletedBy,
      version: sql`${documents.version} + 1`,
      updatedAt: sql`now()`,
    })
    .where(and(eq(documents.id, id), eq(documents.version, version), isNull(documents.deletedAt)))
    .returning();
  return row;
}

/** Live documents and the bytes they hold (admin stats). */
export async function documentTotals(db: DbOrTx): Promise<{ count: number; bytes: number }> {
  const [row] = await db
    .select({
      count: sql<string>`count(*)`,
      bytes: sql<string>`coalesce(sum(${documents.sizeBytes}), 0)`,
    })
    .from(documents)
    .where(isNull(documents.deletedAt));
  return { count: Number(row?.count ?? 0), bytes: Number(row?.bytes ?? 0) };
}
