import { and, asc, sql, type SQL } from 'drizzle-orm';
import type { DbOrTx } from '../../db/client.js';
import { patients } from '../../db/schema/patients.js';

/*
 * Relevance search: `q` matches by substring on names, email, phone and MRN, or by trigram word
 * similarity on the name (typo-tolerant). Best match first: an exact MRN or email, then substring
 * hits, then fuzzy-only hits; within each the closer name first, then the id (a total order, so
 * keyset pages never skip or repeat a row).
 *
 * The page is the union of two parts, each read in its final order and cut at the page size:
 * - substring hits, through the GIN trigram index on search_text (few rows for a real query);
 * - fuzzy-only hits, through the GiST index of migration 0015 on (name_text, id): it returns
 *   rows by word-similarity distance and then id (`<->>` and `<->` orderings), so the page is
 *   read in order and nothing else is scored (before, every candidate sharing trigrams with `q`
 *   was scored and sorted, about 1,400 rows per common surname at 100,000 patients).
 */

/** `%q%` for LIKE, with the pattern characters of `q` taken literally. */
export function likePattern(q: string): string {
  return `%${q.replace(/[\\%_]/g, (ch) => `\\${ch}`)}%`;
}

/** Word similarity of at least this (one or two typos in a surname); `<%` reads it. */
export const WORD_SIMILARITY_THRESHOLD = '0.3';

/**
 * The id as three float8 parts (48, 48 and 32 bits of the UUID) ordered by distance from 0: in
 * this order rows sort exactly as by id, and btree_gist can order a GiST scan by them. Must stay
 * the expressions of the patients_name_knn_idx index (migration 0015) for the index to serve it.
 */
const idOrder = [
  sql`(('x' || substr(replace(${patients.id}::text, '-', ''), 1, 12))::bit(48)::bigint::float8) <-> 0::float8`,
  sql`(('x' || substr(replace(${patients.id}::text, '-', ''), 13, 12))::bit(48)::bigint::float8) <-> 0::float8`,
  sql`(('x' || substr(replace(${patients.id}::text, '-', ''), 25, 8))::bit(32)::bigint::float8) <-> 0::float8`,
];

export interface RelevanceQuery {
  /** The filters other than `q` (live rows, doctor, birth date, group, favourites). */
  conditions: SQL[];
  /** Whether the page starts after a keyset cursor (placeholders `afterR`, `afterId`). */
  after: boolean;
  viewerFavorite: SQL;
}

/**
 * One page in relevance order, as a query to prepare (or to explain); run it in a transaction
 * that set the similarity threshold. Placeholders: `q` (lower-cased search text), `pattern`
 * (likePattern(q)), `rows` (the page size plus one, to know whether there is a next page) and,
 * with `after`, `afterR` and `afterId` (the rank and id of the previous page's last row).
 */
export function searchByRelevance(db: DbOrTx, query: RelevanceQuery) {
  const q = sql.placeholder('q');
  const rows = sql.placeholder('rows');
  const distance = sql`(${patients.nameText} <->> ${q})`;
  const substring = sql`${patients.searchText} like ${sql.placeholder('pattern')}`;
  // Substring hits rank in [1, 2] (+2 for an exact MRN or email), fuzzy-only hits in [0.3, 1].
  const substringRank = sql`(2 - ${distance}::float8 + case when lower(${patients.mrn}) = ${q} or lower(${patients.email}) = ${q} then 2 else 0 end)`;
  const fuzzyRank = sql`(1 - ${distance}::float8)`;
  const afterRank = (rank: SQL) => {
    if (!query.after) return undefined;
    const r = sql.placeholder('afterR');
    return sql`(${rank} < ${r}::float8 or (${rank} = ${r}::float8 and ${patients.id} > ${sql.placeholder('afterId')}))`;
  };

  const substringHits = sql`(select ${patients.id} as id, ${substringRank} as rank from ${patients}
    where ${and(...query.conditions, substring, afterRank(substringRank))}
    order by rank desc, ${patients.id} limit ${rows})`;
  const fuzzyHits = sql`(select ${patients.id} as id, ${fuzzyRank} as rank from ${patients}
    where ${and(...query.conditions, sql`${q} <% ${patients.nameText}`, sql`not (${substring})`, afterRank(fuzzyRank))}
    order by ${distance}, ${sql.join(idOrder, sql`, `)} limit ${rows})`;

  return db
    .select({
      patient: patients,
      isFavorite: sql<boolean>`${query.viewerFavorite}`,
      rank: sql<number>`m.rank`.mapWith(Number),
    })
    .from(patients)
    .innerJoin(sql`(${substringHits} union all ${fuzzyHits}) m`, sql`m.id = ${patients.id}`)
    .orderBy(sql`m.rank desc`, asc(patients.id))
    .limit(rows);
}
