import {
  and,
  asc,
  count,
  desc,
  eq,
  gt,
  isNull,
  lt,
  or,
  sql,
  type Placeholder,
  type SQL,
} from 'drizzle-orm';
import { prepared } from '../../db/prepared.js';
import type { DbOrTx } from '../../db/client.js';
import { appointments } from '../../db/schema/appointments.js';
import {
  patientFavorites,
  patients,
  visitNotes,
  type NewPatientRow,
  type PatientRow,
  type VisitNoteRow,
} from '../../db/schema/patients.js';
import { patientListColumns, type PatientListView } from './patients.columns.js';
import { likePattern, searchByRelevance, WORD_SIMILARITY_THRESHOLD } from './patients.search.js';

const live = isNull(patients.deletedAt);

function favoriteExists(viewerId: string | Placeholder): SQL {
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
  const query = prepared(db, 'patient_for_viewer', (on) =>
    on
      .select({
        patient: patients,
        isFavorite: sql<boolean>`${favoriteExists(sql.placeholder('viewerId'))}`,
      })
      .from(patients)
      .where(and(eq(patients.id, sql.placeholder('id')), live))
      .limit(1),
  );
  const [row] = await query.execute({ id, viewerId });
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
  patient: PatientListView;
  isFavorite: boolean;
  rank: number;
}

/**
 * One keyset page of live patients. With `q`, rows match by substring on names, email, phone
 * and MRN, or by trigram word similarity on the name (typo-tolerant); in relevance order (the
 * default with `q`) best match first, through patients.search.ts.
 *
 * The statement is prepared per shape (sort, which filters, whether a cursor): every value is
 * a placeholder, filled from `listValues`, so one prepared statement serves every page of that
 * shape (see db/prepared.ts).
 */
export async function listPatients(db: DbOrTx, filter: PatientFilter): Promise<PatientListRow[]> {
  const shape = listShape(filter);
  const values = listValues(filter);
  const name = `patients_list.${shape.key}`;
  if (!shape.q) {
    if (filter.sort === 'relevance') throw new Error('the relevance order needs q');
    return prepared(db, name, (on) => listInOrder(on, shape)).execute(values);
  }
  // `<%` reads the similarity threshold: set for this transaction only. So is the generic plan:
  // the search's plan is the same whatever `q` (two index scans, see patients.search.ts), and
  // planning it afresh per request cost about 2.5 ms of the server's 12 ms at 100,000 patients.
  return db.transaction(async (tx) => {
    await tx.execute(
      sql`select set_config('pg_trgm.word_similarity_threshold', ${WORD_SIMILARITY_THRESHOLD}, true), set_config('plan_cache_mode', 'force_generic_plan', true)`,
    );
    const query = prepared(tx, name, (on) =>
      shape.sort === 'relevance'
        ? searchByRelevance(on, {
            conditions: filterConditions(shape),
            after: shape.after,
            viewerFavorite: favoriteExists(sql.placeholder('viewerId')),
          })
        : listInOrder(on, shape),
    );
    return query.execute(values);
  });
}

/** What decides a list statement's text; the values are placeholders. */
interface ListShape {
  key: string;
  sort: PatientSort;
  q: boolean;
  doctor: boolean;
  dob: boolean;
  group: boolean;
  favorites: boolean;
  after: boolean;
}

function listShape(filter: PatientFilter): ListShape {
  const after = filter.after;
  const cursor: Record<PatientSort, string[]> = {
    name: ['l', 'f', 'id'],
    created_at: ['c', 'id'],
    '-created_at': ['c', 'id'],
    relevance: ['r', 'l', 'f', 'id'],
  };
  const shape = {
    sort: filter.sort,
    q: filter.q !== undefined,
    doctor: filter.assignedDoctorId !== undefined,
    dob: filter.dateOfBirth !== undefined,
    group: filter.group !== undefined,
    favorites: filter.favoritesOnly === true,
    after: after !== undefined && cursor[filter.sort].every((k) => after[k] !== undefined),
  };
  const flags = [shape.q, shape.doctor, shape.dob, shape.group, shape.favorites, shape.after];
  return { ...shape, key: `${filter.sort}.${flags.map((f) => (f ? 1 : 0)).join('')}` };
}

function listValues(filter: PatientFilter): Record<string, unknown> {
  const q = filter.q?.toLowerCase();
  const after = filter.after ?? {};
  return {
    viewerId: filter.viewerId,
    rows: filter.limit + 1,
    q: q ?? null,
    pattern: q === undefined ? null : likePattern(q),
    doctor: filter.assignedDoctorId ?? null,
    dob: filter.dateOfBirth ?? null,
    group: filter.group ?? null,
    afterL: after.l ?? null,
    afterF: after.f ?? null,
    afterC: after.c === undefined ? null : new Date(after.c),
    afterR: after.r === undefined ? null : Number(after.r),
    afterId: after.id ?? null,
  };
}

/** The filters other than `q` and the cursor, as placeholders. */
function filterConditions(shape: ListShape): SQL[] {
  const conditions: SQL[] = [live];
  if (shape.doctor) conditions.push(eq(patients.assignedDoctorId, sql.placeholder('doctor')));
  if (shape.dob) conditions.push(eq(patients.dateOfBirth, sql.placeholder('dob')));
  if (shape.group) conditions.push(eq(patients.group, sql.placeholder('group')));
  if (shape.favorites) conditions.push(favoriteExists(sql.placeholder('viewerId')));
  return conditions;
}

/** A page in name or creation order (relevance needs `q`: see searchByRelevance). */
function listInOrder(db: DbOrTx, shape: ListShape) {
  const conditions = filterConditions(shape);
  if (shape.q) {
    conditions.push(
      sql`(${patients.searchText} like ${sql.placeholder('pattern')} or ${sql.placeholder('q')} <% ${patients.nameText})`,
    );
  }
  const afterId = sql.placeholder('afterId');
  let order: SQL[];
  switch (shape.sort) {
    case 'name':
      order = [asc(patients.lastName), asc(patients.firstName), asc(patients.id)];
      if (shape.after) {
        conditions.push(
          sql`(${patients.lastName}, ${patients.firstName}, ${patients.id}) > (${sql.placeholder('afterL')}, ${sql.placeholder('afterF')}, ${afterId})`,
        );
      }
      break;
    case 'created_at':
    case '-created_at': {
      const ascending = shape.sort === 'created_at';
      order = ascending
        ? [asc(patients.createdAt), asc(patients.id)]
        : [desc(patients.createdAt), desc(patients.id)];
      if (shape.after) {
        const cmp = ascending ? gt : lt;
        const at = sql.placeholder('afterC');
        const tie = and(eq(patients.createdAt, at), cmp(patients.id, afterId));
        const cond = or(cmp(patients.createdAt, at), tie);
        if (cond) conditions.push(cond);
      }
      break;
    }
    case 'relevance':
      throw new Error('the relevance order needs q');
  }
  return db
    .select({
      patient: patientListColumns,
      isFavorite: sql<boolean>`${favoriteExists(sql.placeholder('viewerId'))}`,
      rank: sql<number>`0::float8`.mapWith(Number),
    })
    .from(patients)
    .where(and(...conditions))
    .orderBy(...order)
    .limit(sql.placeholder('rows'));
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

/** The patient of an appointment, if it exists (why a note's appointment_id was refused). */
export async function appointmentPatientId(
  db: DbOrTx,
  appointmentId: string,
): Promise<string | undefined> {
  const [row] = await db
    .select({ patientId: appointments.patientId })
    .from(appointments)
    .where(eq(appointments.id, appointmentId))
    .limit(1);
  return row?.patientId;
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
