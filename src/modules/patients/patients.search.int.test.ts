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

/** The detail lines (Index Cond, Order By, ...) of every index scan on `index` in the plan. */
function scanDetails(plan: string, index: string): string {
  const details: string[] = [];
  let inScan = false;
  for (const line of plan.split('\n')) {
    if (line.includes('->')) inScan = line.includes(`Index Scan using ${index} `);
    else if (inScan) details.push(line.trim());
  }
  return details.join('\n');
}

describe('relevance search', () => {
  it('walks many equally close rows by name, then id, every row once, on any page size', async () => {
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
    const key = (r: { firstName: string; lastName: string; id: string }) =>
      `${r.firstName.toLowerCase()} ${r.lastName.toLowerCase()}\u0000${r.id}`;
    const expected = [...rows].sort((a, b) => (key(a) < key(b) ? -1 : 1)).map((r) => r.id);
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

  it('finds close names in patient_names, then reads their patients by name (no scan of all patients)', async () => {
    const plan = await t.app.ctx.db.transaction(async (tx) => {
      // Small tables favour other plans; what matters is that the indexes can serve the search.
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
    // The candidates are names, from the dictionary's GiST index (one row per name)...
    expect(scanDetails(plan, 'patient_names_knn_idx'), plan).toContain(
      'Index Cond: (name_text %> ',
    );
    // ...and each name's live patients from the (name_text, id) index, in id order.
    expect(scanDetails(plan, 'patients_live_name_idx'), plan).toContain(
      'Index Cond: (name_text = patient_names.name_text)',
    );
  });

  it('learns every name a patient is given: a typo of a new or changed name finds the patient', async () => {
    const group = unique('learn').toLowerCase();
    const surname = `Ha${letters(unique(''))}ski`;
    const created = await t.app.inject({
      method: 'POST',
      url: '/api/v1/patients',
      headers: bearer(admin.accessToken),
      payload: { first_name: 'Ida', last_name: surname, date_of_birth: '1980-01-01', group },
    });
    expect(created.statusCode, created.body).toBe(201);
    const patient = created.json<{ id: string; version: number }>();
    const typo = (name: string) => `${name.slice(0, 3)}${name.slice(4)}`;
    expect((await page(`group=${group}&q=${typo(surname)}`)).items.map((p) => p.id)).toEqual([
      patient.id,
    ]);

    const renamed = `Mo${letters(unique(''))}icz`;
    const updated = await t.app.inject({
      method: 'PATCH',
      url: `/api/v1/patients/${patient.id}`,
      headers: { ...bearer(admin.accessToken), 'if-match': `"v${String(patient.version)}"` },
      payload: { last_name: renamed },
    });
    expect(updated.statusCode, updated.body).toBe(200);
    expect((await page(`group=${group}&q=${typo(renamed)}`)).items.map((p) => p.id)).toEqual([
      patient.id,
    ]);
    // The old name is still in the dictionary, but no live patient has it any more.
    expect((await page(`group=${group}&q=${typo(surname)}`)).items).toEqual([]);
  });
});
