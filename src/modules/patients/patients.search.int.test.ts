import { fillPlaceholders, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rowsOf } from '../../db/client.js';
import { patients } from '../../db/schema/patients.js';
import { newId } from '../../lib/ids.js';
import {
  bearer,
  buildTestApp,
  createUser,
  unique,
  type TestApp,
  type TestUser,
} from '../../../test/helpers.js';
import { likePattern, searchByRelevance, WORD_SIMILARITY_THRESHOLD } from './patients.search.js';

let t: TestApp;
let admin: TestUser;

beforeAll(async () => {
  t = await buildTestApp();
  admin = await createUser(t.app, 'admin');
});
afterAll(async () => {
  await t.close();
});

interface Page {
  items: { id: string; mrn: string; last_name: string }[];
  next_cursor: string | null;
}

async function page(query: string): Promise<Page> {
  const res = await t.app.inject({
    url: `/api/v1/patients?${query}`,
    headers: bearer(admin.accessToken),
  });
  expect(res.statusCode, res.body).toBe(200);
  return res.json<Page>();
}

async function walk(query: string, limit: number): Promise<string[]> {
  const ids: string[] = [];
  let cursor: string | null = null;
  do {
    const next: Page = await page(`${query}&limit=${limit}${cursor ? `&cursor=${cursor}` : ''}`);
    ids.push(...next.items.map((p) => p.id));
    cursor = next.next_cursor;
  } while (cursor !== null);
  return ids;
}

/** Inserts patients directly (load data, not API behaviour); returns their rows. */
async function seed(rows: { firstName: string; lastName: string; group: string }[]) {
  return t.app.ctx.db
    .insert(patients)
    .values(rows.map((row) => ({ id: newId(), ...row })))
    .returning();
}

const letters = (s: string) => s.replace(/[0-9]/g, (d) => String.fromCharCode(97 + Number(d)));

describe('relevance search', () => {
  it('walks many equally close names in id order, every row once, on any page size', async () => {
    const group = unique('knn').toLowerCase();
    const surname = `Wi${letters(unique(''))}ewski`;
    const rows = await seed(
      Array.from({ length: 23 }, (_, i) => ({
        firstName: ['Anna', 'Jan', 'Ola'][i % 3] ?? 'Anna',
        lastName: surname,
        group,
      })),
    );
    // One typo: no substring hit, every row equally close (the first names differ, the word
    // similarity of the surname does not).
    const typo = `${surname.slice(0, 3)}${surname.slice(4)}`;
    const expected = rows.map((r) => r.id).sort();
    for (const limit of [1, 4, 7, 100]) {
      expect(await walk(`group=${group}&q=${typo}`, limit), `limit ${limit}`).toEqual(expected);
    }
  });

  it('ranks an exact MRN first, then substring hits, then fuzzy-only hits', async () => {
    const group = unique('tier').toLowerCase();
    const stem = `Ko${letters(unique(''))}`;
    const [fuzzy, substring, exact] = await seed([
      { firstName: 'Ewa', lastName: `${stem}ak`.replace(/^(..)(.)/, '$1x$2'), group },
      { firstName: 'Jan', lastName: `${stem}akowski`, group },
      { firstName: 'Zofia', lastName: 'Unrelated', group },
    ]);
    if (!fuzzy || !substring || !exact) throw new Error('seed failed');
    const byName = await page(`group=${group}&q=${stem}ak`);
    expect(byName.items.map((p) => p.id)).toEqual([substring.id, fuzzy.id]);
    const byMrn = await page(`group=${group}&q=${exact.mrn.toLowerCase()}`);
    expect(byMrn.items[0]?.id).toBe(exact.id);
  });

  it('reads the fuzzy part in order from patients_name_knn_idx (no sort of all candidates)', async () => {
    const plan = await t.app.ctx.db.transaction(async (tx) => {
      // Small tables favour other plans; what matters is that the index can give the order.
      await tx.execute(sql`set local enable_seqscan = off`);
      await tx.execute(sql`set local enable_bitmapscan = off`);
      await tx.execute(
        sql`select set_config('pg_trgm.word_similarity_threshold', ${WORD_SIMILARITY_THRESHOLD}, true)`,
      );
      const query = searchByRelevance(tx, {
        conditions: [sql`${patients.deletedAt} is null`],
        after: false,
        viewerFavorite: sql`false`,
      }).toSQL();
      // The statement's placeholders, as literals: EXPLAIN of the text the route prepares.
      const values = fillPlaceholders(query.params, {
        q: 'kowalcyzk',
        pattern: likePattern('kowalcyzk'),
        rows: 21,
      });
      const text = query.sql.replace(/\$(\d+)/g, (_, n: string) => {
        const value = values[Number(n) - 1];
        return typeof value === 'number' ? String(value) : `'${String(value)}'`;
      });
      return rowsOf<Record<string, string>>(await tx.execute(sql.raw(`explain ${text}`)))
        .map((row) => Object.values(row)[0])
        .join('\n');
    });
    const scan =
      /Index Scan using patients_name_knn_idx[^\n]*\n(\s+.*\n)*?\s+Order By: ([^\n]*)/.exec(
        `${plan}\n`,
      );
    expect(scan, plan).not.toBeNull();
    // Ordered by word distance, then the three id parts.
    expect(scan?.[2]?.match(/<->/g)?.length, plan).toBe(4);
  });
});
