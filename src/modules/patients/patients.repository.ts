import { and, asc, count, desc, eq, gt, isNull, lt, or, sql, type SQL } from 'drizzle-orm';
import type { DbOrTx } from '../../db/client.js';
import {
  patientFavorites,
  patients,
  visitNotes,
  type NewPatientRow,
  type PatientRow,
  type VisitNoteRow,
} from '../../db/schema/patients.js';
import { likePattern, searchByRelevance, WORD_SIMILARITY_THRESHOLD } from './patients.search.js';

const live = isNull(patients.deletedAt);

function favoriteExists(viewerId: string): SQL {
  return sql`exists (select 1 from ${patientFavorites} f where f.patient_id = ${patients.id} and f.user_id = ${viewerId})`;
}

export async function insertPatient(db: DbOrTx, row: NewPatientRow): Promise<PatientRow> {
  const [created] = await db.insert(patients).values(row).returning();
  if (!created) throw new Error('insert returned no row');
  return created;
}

export async function findPatient(db: DbOrTx, id: string): Promise<PatientRow | undefined> {
  const [row] = await db
    .select()
    .from(patients)
    .where(and(eq(patients.id, id), live))
    .limit(1);
  return row;
}

/** A live patient and whether the viewer marked it a favourite, in one statement. */
export async function findPatientForViewer(
  db: DbOrTx,
  id: string,
  viewerId: string,
): Promise<{ patient: PatientRow; isFavorite: boolean } | undefined> {
  const [row] = await db
    .select({ patient: patients, isFavorite: sql<boolean>`${favoriteExists(viewerId)}` })
    .from(patients)
    .where(and(eq(patients.id, id), live))
    .limit(1);
  return row;
}

/** Same first and last name (case-insensitive) and birth date: probably the same person. */
export async function findLikelyDuplicate(
  db: DbOrTx,
  firstName: string,
  lastName: string,
  dateOfBirth: string,
  exceptId?: string,
): Promise<PatientRow | undefined> {
  const [row] = await db
    .select()
    .from(patients)
    .where(
      and(
        live,
        sql`lower(${patients.firstName}) = lower(${firstName})`,
        sql`lower(${patients.lastName}) = lower(${lastName})`,
        eq(patients.dateOfBirth, dateOfBirth),
        exceptId === undefined ? undefined : sql`${patients.id} <> ${exceptId}`,
      ),
    )
    .limit(1);
  return row;
}

/** Optimistic update: only applies at the expected version; returns undefined otherwise. */
export async function updatePatient(
  db: DbOrTx,
  id: string,
  changes: Partial<NewPatientRow>,
  expectedVersion: number,
): Promise<PatientRow | undefined> {
  const [row] = await db
    .update(patients)
    .set({ ...changes, version: sql`${patients.version} + 1`, updatedAt: sql`now()` })
    .where(and(eq(patients.id, id), eq(patients.version, expectedVersion), live))
    .returning();
  return row;
}

export async function isFavorite(db: DbOrTx, userId: string, patientId: string): Promise<boolean> {
  const rows = await db
    .select({ one: sql`1` })
    .from(patientFavorites)
    .where(and(eq(patientFavorites.userId, userId), eq(patientFavorites.patientId, patientId)))
    .limit(1);
  return rows.length > 0;
}

export async function addFavorite(db: DbOrTx, userId: string, patientId: string): Promise<void> {
  await db.insert(patientFavorites).values({ userId, patientId }).onConflictDoNothing();
}

export async function removeFavorite(db: DbOrTx, userId: string, patientId: string): Promise<void> {
  await db
    .delete(patientFavorites)
    .where(and(eq(patientFavorites.userId, userId), eq(patientFavorites.patientId, patientId)));
}

export type PatientSort = 'name' | 'created_at' | '-created_at' | 'relevance';

export interface PatientFilter {
  viewerId: string;
  q?: string | undefined;
  assignedDoctorId?: string | undefined;
  dateOfBirth?: string | undefined;
  group?: string | undefined;
  favoritesOnly?: boolean | undefined;
  sort: PatientSort;
  after?: Record<string, string> | undefined;
  limit: number;
}

export interface PatientListRow {
  patient: PatientRow;
  isFavorite: boolean;
  rank: number;
}

/**
 * One keyset page of live patients. With `q`, rows match by substring on names, email, phone
 * and MRN, or by trigram word similarity on the name (typo-tolerant); in relevance order (the
 * default with `q`) best match first, through patients.search.ts.
 */
export async function listPatients(db: DbOrTx, filter: PatientFilter): Promise<PatientListRow[]> {
  const q = filter.q?.toLowerCase();
  const conditions: SQL[] = [live];
  if (filter.assignedDoctorId !== undefined) {
    conditions.push(eq(patients.assignedDoctorId, filter.assignedDoctorId));
  }
  if (filter.dateOfBirth !== undefined)
    conditions.push(eq(patients.dateOfBirth, filter.dateOfBirth));
  if (filter.group !== undefined) conditions.push(eq(patients.group, filter.group));
  if (filter.favoritesOnly === true) conditions.push(favoriteExists(filter.viewerId));
  const viewerFavorite = favoriteExists(filter.viewerId);
  const after = filter.after;

  if (q === undefined) {
    if (filter.sort === 'relevance') throw new Error('the relevance order needs q');
    return listInOrder(db, { ...filter, sort: filter.sort }, conditions, viewerFavorite);
  }
  // `<%` reads the similarity threshold: set for this transaction only.
  return db.transaction(async (tx) => {
    await tx.execute(
      sql`select set_config('pg_trgm.word_similarity_threshold', ${WORD_SIMILARITY_THRESHOLD}, true)`,
    );
    if (filter.sort === 'relevance') {
      return searchByRelevance(tx, {
        q,
        conditions,
        after:
          after?.r !== undefined && after.id !== undefined
            ? { rank: Number(after.r), id: after.id }
            : undefined,
        rows: filter.limit + 1,
        viewerFavorite,
      });
    }
    conditions.push(
      sql`(${patients.searchText} like ${likePattern(q)} or ${q} <% ${patients.nameText})`,
    );
    return listInOrder(tx, { ...filter, sort: filter.sort }, conditions, viewerFavorite);
  });
}

/** A page in name or creation order (relevance needs `q`: see searchByRelevance). */
async function listInOrder(
  db: DbOrTx,
  filter: PatientFilter & { sort: Exclude<PatientSort, 'relevance'> },
  conditions: SQL[],
  viewerFavorite: SQL,
): Promise<PatientListRow[]> {
  const after = filter.after;
  let order: SQL[];
  switch (filter.sort) {
    case 'name':
      order = [asc(patients.lastName), asc(patients.firstName), asc(patients.id)];
      if (after?.l !== undefined && after.f !== undefined && after.id !== undefined) {
        conditions.push(
          sql`(${patients.lastName}, ${patients.firstName}, ${patients.id}) > (${after.l}, ${after.f}, ${after.id})`,
        );
      }
      break;
    case 'created_at':
    case '-created_at': {
      const ascending = filter.sort === 'created_at';
      order = ascending
        ? [asc(patients.createdAt), asc(patients.id)]
        : [desc(patients.createdAt), desc(patients.id)];
      if (after?.c !== undefined && after.id !== undefined) {
        const cmp = ascending ? gt : lt;
        const at = new Date(after.c);
        const tie = and(eq(patients.createdAt, at), cmp(patients.id, after.id));
        const cond = or(cmp(patients.createdAt, at), tie);
        if (cond) conditions.push(cond);
      }
      break;
    }
  }
  return db
    .select({
      patient: patients,
      isFavorite: sql<boolean>`${viewerFavorite}`,
      rank: sql<number>`0::float8`.mapWith(Number),
    })
    .from(patients)
    .where(and(...conditions))
    .orderBy(...order)
    .limit(filter.limit + 1);
}

export async function countPatients(db: DbOrTx, viewerId: string) {
  const [totals] = await db
    .select({
      total: count(),
      favorites: sql`count(*) filter (where ${favoriteExists(viewerId)})`.mapWith(Number),
    })
    .from(patients)
    .where(live);
  return { total: totals?.total ?? 0, favorites: totals?.favorites ?? 0 };
}

export async function groupCounts(db: DbOrTx): Promise<{ group: string; count: number }[]> {
  const rows = await db
    .select({ group: patients.group, count: count() })
    .from(patients)
    .where(live)
    .groupBy(patients.group)
    .orderBy(asc(patients.group))
    .limit(1_000);
  return rows;
}

export async function insertNote(
  db: DbOrTx,
  row: typeof visitNotes.$inferInsert,
): Promise<VisitNoteRow> {
  const [created] = await db.insert(visitNotes).values(row).returning();
  if (!created) throw new Error('insert returned no row');
  return created;
}

/** Newest first; ids are UUIDv7 so id order is creation order. */
export async function listNotes(
  db: DbOrTx,
  patientId: string,
  beforeId: string | undefined,
  limit: number,
): Promise<VisitNoteRow[]> {
  return db
    .select()
    .from(visitNotes)
    .where(
      and(
        eq(visitNotes.patientId, patientId),
        beforeId === undefined ? undefined : lt(visitNotes.id, beforeId),
      ),
    )
    .orderBy(desc(visitNotes.id))
    .limit(limit + 1);
}
