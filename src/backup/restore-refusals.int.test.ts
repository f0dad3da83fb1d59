import { createHash } from 'node:crypto';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  appOn,
  newPlace,
  openPlace,
  pgBase,
  placeStorage,
  removeTempDirs,
  snapshot,
  tempDir,
  type Place,
} from '../../test/backup-support.js';
import { newPatient, upload } from '../../test/documents-support.js';
import { createUser } from '../../test/helpers.js';
import type { Database } from '../db/client.js';
import type { DocumentStorage } from '../infra/storage/storage.js';
import { backupDatabase } from './backup.js';
import { openSession } from './session.js';
import { appliedMigrations } from './catalog.js';
import { BackupError } from './format.js';
import { restoreDatabase } from './restore.js';

/**
 * What a restore refuses, and that a refusal or a failure half-way leaves the target exactly as
 * it was: no rows, no migrations (for refusals found before migrating), no stored objects.
 */
afterAll(removeTempDirs);

let good: string;
let dir: string;

beforeAll(async () => {
  dir = await tempDir();
  good = join(dir, 'good.gz');
  const source = await newPlace('pglite', true);
  const app = await appOn(source);
  try {
    const doctor = await createUser(app, 'doctor');
    const patientId = await newPatient(app, doctor.accessToken);
    for (const name of ['a.txt', 'b.txt']) {
      await upload(app, doctor.accessToken, patientId, {
        filename: name,
        content: Buffer.from(`words of ${name}\n`),
      });
    }
    await backupDatabase(app.ctx.db, good, { storage: app.ctx.storage });
  } finally {
    await app.close();
    await source.dispose();
  }
});

/** The file's lines (trailer dropped), changed by `edit`, with a correct new trailer. */
async function rewritten(name: string, edit: (lines: string[]) => string[]): Promise<string> {
  const text = gunzipSync(await readFile(good)).toString('utf8');
  const lines = edit(text.trimEnd().split('\n').slice(0, -1));
  const body = lines.map((line) => line + '\n').join('');
  const sha256 = createHash('sha256').update(body).digest('hex');
  const file = join(dir, name);
  await writeFile(
    file,
    gzipSync(body + JSON.stringify({ t: 'end', lines: lines.length, sha256 }) + '\n'),
  );
  return file;
}

interface Observed {
  migrations: number[];
  rows: Map<string, string[][]>;
  files: string[];
}

async function observe(place: Place, open?: Database): Promise<Observed> {
  const database = open ?? (await openPlace(place));
  try {
    const session = await openSession(database.db);
    const migrations = await appliedMigrations(session).finally(() => session.release());
    const rows =
      migrations.length > 0 ? await snapshot(database.db) : new Map<string, string[][]>();
    // Objects only: the local driver may leave an empty shard directory behind a removed one.
    const entries = await readdir(place.storageDir, { recursive: true, withFileTypes: true }).catch(
      () => [],
    );
    const files = entries
      .filter((entry) => entry.isFile() && !entry.parentPath.includes('.incoming'))
      .map((entry) => join(entry.parentPath, entry.name))
      .sort();
    return { migrations, rows, files };
  } finally {
    if (open === undefined) await database.close();
  }
}

async function restoreInto(place: Place, file: string, force = false) {
  const database = await openPlace(place);
  const storage = await placeStorage(place);
  try {
    return await restoreDatabase(database, file, { storage, force });
  } finally {
    await storage.close();
    await database.close();
  }
}

// One fresh target for every refusal, kept open: each must leave it exactly as it was.
let fresh: Place;
let freshDb: Database;
let freshStorage: DocumentStorage;
let freshState: Observed;

beforeAll(async () => {
  fresh = await newPlace('pglite');
  freshDb = await openPlace(fresh);
  freshStorage = await placeStorage(fresh);
  freshState = await observe(fresh, freshDb);
});

afterAll(async () => {
  await freshStorage.close();
  await freshDb.close();
  await fresh.dispose();
});

async function refusedUnchanged(file: string, message: RegExp) {
  const error = await restoreDatabase(freshDb, file, { storage: freshStorage }).then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(BackupError);
  expect((error as Error).message).toMatch(message);
  expect(await observe(fresh, freshDb)).toEqual(freshState);
}

describe('damaged files', () => {
  it('a flipped byte is refused before anything is touched', async () => {
    const bytes = await readFile(good);
    const at = Math.floor(bytes.length / 2);
    bytes[at] = (bytes[at] ?? 0) ^ 0x40;
    const file = join(dir, 'flipped.gz');
    await writeFile(file, bytes);
    await refusedUnchanged(file, /damaged or not a MedCore backup/);
  });

  it('a truncated file is refused', async () => {
    const bytes = await readFile(good);
    const file = join(dir, 'truncated.gz');
    await writeFile(file, bytes.subarray(0, Math.floor(bytes.length * 0.6)));
    await refusedUnchanged(file, /damaged or not a MedCore backup/);
  });

  it('a changed value under a valid gzip checksum fails the SHA-256', async () => {
    const text = gunzipSync(await readFile(good)).toString('utf8');
    const file = join(dir, 'edited.gz');
    await writeFile(file, gzipSync(text.replace('words of a.txt', 'words of z.txt')));
    await refusedUnchanged(file, /SHA-256 checksum does not match/);
  });

  it('a file that is not a backup is refused', async () => {
    const file = join(dir, 'plain.txt');
    await writeFile(file, 'hello\n');
    await refusedUnchanged(file, /damaged or not a MedCore backup/);
  });
});

describe('newer backups', () => {
  it('a newer format version is refused with the versions named', async () => {
    const file = await rewritten('v2.gz', ([header = '', ...rest]) => [
      header.replace('"version":1', '"version":2'),
      ...rest,
    ]);
    await refusedUnchanged(
      file,
      /backup format version 2, newer than this MedCore.*up to version 1/,
    );
  });

  it('a backup from a newer schema (unknown migration) is refused', async () => {
    const file = await rewritten('schema.gz', ([header = '', ...rest]) => [
      header.replace('"migrations":[', '"migrations":[9999999999999,'),
      ...rest,
    ]);
    await refusedUnchanged(file, /newer database schema.*upgrade MedCore/);
  });
});

describe.each(['pglite', 'postgres'] as const)('a restore into %s', (engine) => {
  const skip = engine === 'postgres' && pgBase === undefined;

  it.skipIf(skip)(
    `rolls back a failure half-way, then refuses a non-empty target unless --force${skip ? ' (needs TEST_DATABASE_URL)' : ''}`,
    async () => {
      // A valid file whose last object does not match its recorded checksum: every row and the
      // first object are in before the failure.
      const file = await rewritten('late-failure.gz', (lines) => {
        const last = lines.findLastIndex((line) => line.startsWith('{"t":"blob_end"'));
        lines[last] = (lines[last] ?? '').replace(
          /"sha256":"[0-9a-f]+"/,
          `"sha256":"${'0'.repeat(64)}"`,
        );
        return lines;
      });
      const place = await newPlace(engine);
      try {
        const database = await openPlace(place);
        await database.migrate();
        await database.close();
        const migrated = await observe(place);
        await expect(restoreInto(place, file)).rejects.toThrow(
          /restore refused, target unchanged: blob .* does not match its recorded checksum/,
        );
        expect(await observe(place)).toEqual(migrated);

        await restoreInto(place, good);
        const restored = await observe(place);
        expect(restored.files).toHaveLength(2);
        await expect(restoreInto(place, good)).rejects.toThrow(
          /already holds data \(.*\).*--force/,
        );
        expect(await observe(place)).toEqual(restored);
        const summary = await restoreInto(place, good, true);
        expect(summary.blobs).toBe(2);
        expect(await observe(place)).toEqual(restored);
      } finally {
        await place.dispose();
      }
    },
  );
});
