import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  appOn,
  newPlace,
  openPlace,
  pgBase,
  placeStorage,
  removeTempDirs,
  seedEveryTable,
  settleOutbox,
  snapshot,
  tempDir,
  type Engine,
  type Seeded,
} from '../../test/backup-support.js';
import { bearer, login, strongPassword } from '../../test/helpers.js';
import { sealPending } from '../modules/audit/audit.sealer.js';
import { backupDatabase } from './backup.js';
import { readHeader } from './reader.js';
import { restoreDatabase } from './restore.js';

/**
 * Round trips through a backup file, compared row by row over every table of the catalogue, then
 * checked through the API on the restored practice: the audit chain verifies, the restored admin
 * logs in with the old password, and a document's content comes back with its recorded SHA-256.
 * Without TEST_DATABASE_URL only PGlite -> PGlite runs; the cross-engine trips are skipped.
 */
afterAll(removeTempDirs);

interface Made {
  file: string;
  seeded: Seeded;
  before: Map<string, string[][]>;
}

/** A seeded practice on `engine`, backed up once for every restore below. */
async function backedUp(engine: Engine): Promise<Made> {
  const source = await newPlace(engine, true);
  const file = join(await tempDir(), 'practice.medcore.gz');
  const app = await appOn(source);
  try {
    const seeded = await seedEveryTable(app);
    // Dispatched and sealed, so every column is final (restore-audit.int.test.ts covers
    // unsealed rows).
    await settleOutbox(app);
    await sealPending(app.ctx.db);
    const before = await snapshot(app.ctx.db);
    const summary = await backupDatabase(app.ctx.db, file, { storage: app.ctx.storage });
    // Every document's content and thumbnail, the soft-deleted one's included.
    expect(summary).toMatchObject({ blobs: 4, missing: [] });
    return { file, seeded, before };
  } finally {
    await app.close();
    await source.dispose();
  }
}

async function restoresExactly(made: Made, engine: Engine): Promise<void> {
  const { file, seeded, before } = made;
  // A table nobody seeded would pass the comparison vacuously: every one must have rows.
  const empty = [...before.entries()].filter(([, rows]) => rows.length === 0);
  expect(
    empty.map(([name]) => name),
    'tables without seed rows in this test',
  ).toEqual([]);
  const header = await readHeader(file);
  expect(header.tables.map((t) => t.name).sort()).toEqual([...before.keys()].sort());

  const target = await newPlace(engine);
  try {
    const database = await openPlace(target);
    const storage = await placeStorage(target);
    try {
      const restored = await restoreDatabase(database, file, { storage });
      expect(restored.blobs).toBe(4);
      const after = await snapshot(database.db);
      expect([...after.keys()].sort()).toEqual([...before.keys()].sort());
      for (const [table, rows] of before) {
        expect(after.get(table), `table ${table}`).toEqual(rows);
      }
      // The triggers the load switched off are on again: the trail is still append-only.
      await expect(database.db.execute(sql`update audit_log set action = 'x'`)).rejects.toThrow();
    } finally {
      await storage.close();
      await database.close();
    }

    const app = await appOn(target);
    try {
      const admin = await login(app, seeded.admin.email, strongPassword);
      const get = (url: string) =>
        app.inject({ method: 'GET', url: `/api/v1${url}`, headers: bearer(admin.access_token) });
      expect((await get('/admin/audit/verify')).json()).toMatchObject({
        ok: true,
        first_broken_seq: null,
      });
      const content = await get(`/documents/${seeded.documentId}/content`);
      expect(content.statusCode, content.body).toBe(200);
      expect(createHash('sha256').update(content.rawPayload).digest('hex')).toBe(
        seeded.documentSha,
      );
      // New rows continue the sequences: no MRN or audit seq is handed out twice.
      const patient = await app.inject({
        method: 'POST',
        url: '/api/v1/patients',
        headers: bearer(admin.access_token),
        payload: { first_name: 'After', last_name: 'Restore' },
      });
      expect(patient.statusCode, patient.body).toBe(201);
      expect((await get('/admin/audit/verify')).json()).toMatchObject({ ok: true });
    } finally {
      await app.close();
    }
  } finally {
    await target.dispose();
  }
}

describe('a backup taken on PGlite', () => {
  let made: Made;
  beforeAll(async () => {
    made = await backedUp('pglite');
  });

  it('restores every table exactly into PGlite', { timeout: 60_000 }, async () => {
    await restoresExactly(made, 'pglite');
  });

  it.skipIf(pgBase === undefined)(
    'restores every table exactly into PostgreSQL (needs TEST_DATABASE_URL)',
    { timeout: 60_000 },
    async () => {
      await restoresExactly(made, 'postgres');
    },
  );
});

describe.skipIf(pgBase === undefined)(
  'a backup taken on PostgreSQL (needs TEST_DATABASE_URL)',
  () => {
    let made: Made;
    beforeAll(async () => {
      made = await backedUp('postgres');
    });

    it('restores every table exactly into PGlite', { timeout: 60_000 }, async () => {
      await restoresExactly(made, 'pglite');
    });
  },
);
