import { and, asc, sql, type SQL } from 'drizzle-orm';
import type { DbOrTx } from '../../db/client.js';
import { patientNames, patients } from '../../db/schema/patients.js';
import { patientListColumns } from './patients.columns.js';

/*
 * Relevance search: `q` matches by substring on names, email, phone and MRN, or by trigram word
 * similarity on the name (typo-tolerant). Best match first: an exact MRN or email, then substring
 * hits, then fuzzy-only hits; within each the closer name first; equally close rows by name
 * (alphabetically, as a person scanning the list expects), then by id, so the order is total and
 * keyset pages never skip or repeat a row.
 *
 * The page is the union of two parts, each read in its final order and cut at the page size:
 * - substring hits, through the GIN trigram index on search_text (few rows for a real query);
 * - fuzzy-only hits, name first (migration 0020): the distinct names close to `q` come from
 *   patient_names' GiST index (one row per name, however many patients share it), sorted by
 *   distance and name; each name's live patients are then read in id order from
 *   patients_live_name_idx, and the scan stops when the page is full (an incremental sort on
 *   top only orders rows within one name). Before, the GiST index over all patients visited
 *   most of the patients sharing a surname to order them by id (8-11 ms at 100,000 patients).
 */
/** `%q%` for LIKE, with the pattern characters of `q` taken literally. */
export function likePattern(q: string): string {
  return `%${q.replace(/[\\%_]/g, (ch) => `\\${ch}`)}%`;
}

/** Word similarity of at least this (one or two typos in a surname); `<%` reads it. */
export const WORD_SIMILARITY_THRESHOLD = '0.3';

export interface RelevanceQuery {
  /** The filters other than `q` (live rows, doctor, birth date, group, favourites). */
  conditions: SQL[];
  /** Whether the page starts after a keyset cursor (`afterR`, `afterF`, `afterL`, `afterId`). */
  after: boolean;
  viewerFavorite: SQL;
}

/**
 * One page in relevance order, as a query to prepare (or to explain); run it in a transaction
 * that set the similarity threshold. Placeholders: `q` (lower-cased search text), `pattern`
 * (likePattern(q)), `rows` (the page size plus one, to know whether there is a next page) and,
 * with `after`, `afterR`, `afterF`, `afterL` and `afterId` (the rank, first and last name and id
 * of the previous page's last row).
 */
export function searchByRelevance(db: DbOrTx, query: RelevanceQuery) {
  const q = sql.placeholder('q');
  const rows = sql.placeholder('rows');
  const pattern = sql.placeholder('pattern');
  const substring = sql`${patients.searchText} like ${pattern}`;
  // Substring hits rank in [1, 2] (+2 for an exact MRN or email), fuzzy-only hits in [0.3, 1].
  const substringRank = sql`(2 - (${patients.nameText} <->> ${q})::float8 + case when lower(${patients.mrn}) = ${q} or lower(${patients.email}) = ${q} then 2 else 0 end)`;
  const nameDistance = sql`(${patientNames.nameText} <->> ${q})`;
  const fuzzyRank = sql`(1 - n.distance::float8)`;

  // After the previous page's last row: a lower rank, or the same rank and a later name, or the
  // same rank and name and a later id. The name is the row's name_text, rebuilt from the cursor.
  const r = sql`${sql.placeholder('afterR')}::float8`;
  const afterName = sql`lower(${sql.placeholder('afterF')}::text || ' ' || ${sql.placeholder('afterL')}::text)`;
  const afterRow = (rank: SQL, name: SQL) =>
    query.after
      ? sql`(${rank} < ${r} or (${rank} = ${r} and (${name} > ${afterName} or (${name} = ${afterName} and ${patients.id} > ${sql.placeholder('afterId')}))))`
      : undefined;
  // The names that can still hold such rows (the rows themselves are checked by afterRow).
  const afterNames = query.after
    ? sql`(1 - ${nameDistance}::float8 < ${r} or (1 - ${nameDistance}::float8 = ${r} and ${patientNames.nameText} >= ${afterName}))`
    : undefined;

  const substringHits = sql`(select ${patients.id} as id, ${substringRank} as rank, ${patients.nameText} as name from ${patients}
    where ${and(...query.conditions, substring, afterRow(substringRank, sql`${patients.nameText}`))}
    order by rank desc, name, ${patients.id} limit ${rows})`;
  // A name containing `q` makes all its patients substring hits: those names are skipped whole.
  const closeNames = sql`select ${patientNames.nameText} as name, ${nameDistance} as distance from ${patientNames}
    where ${and(sql`${q} <% ${patientNames.nameText}`, sql`not (${patientNames.nameText} like ${pattern})`, afterNames)}
    order by distance, name`;
  const fuzzyHits = sql`(select p.id, ${fuzzyRank} as rank, n.name from (${closeNames}) n
    cross join lateral (select ${patients.id} as id from ${patients}
      where ${and(sql`${patients.nameText} = n.name`, ...query.conditions, sql`not (${substring})`, afterRow(fuzzyRank, sql`n.name`))}
      order by ${patients.id} limit ${rows}) p
    order by n.distance, n.name, p.id limit ${rows})`;

  return db
    .select({
      patient: patientListColumns,
      isFavorite: sql<boolean>`${query.viewerFavorite}`,
      rank: sql<number>`m.rank`.mapWith(Number),
    })
    .from(patients)
    .innerJoin(sql`(${substringHits} union all ${fuzzyHits}) m`, sql`m.id = ${patients.id}`)
    .orderBy(sql`m.rank desc`, asc(patients.nameText), asc(patients.id))
    .limit(rows);
}
