import type { Db } from '../db/client.js';
import type { Progress } from '../lib/progress.js';
import { appVersion } from '../lib/version.js';
import type { DocumentStorage } from '../infra/storage/storage.js';
import { appliedMigrations, listSequences, listTables, type TableInfo } from './catalog.js';
import { emitBlob, contentKeys } from './content.js';
import { BACKUP_FORMAT, BACKUP_VERSION, type BackupHeader } from './format.js';
import { knownMigrations, tagOf } from './migrations.js';
import { ident, openSession, pinValueSettings, type SqlSession } from './session.js';
import { BackupWriter } from './writer.js';

export interface BackupOptions {
  /** Where content comes from; omit (or pass `content: false`) to only reference keys. */
  storage?: DocumentStorage;
  /** false: rows keep their storage keys but no bytes are written (object storage). */
  content?: boolean;
  /** Called once the total (rows + objects) is known. */
  progress?: (total: number) => Progress;
}

export interface BackupSummary {
  tables: number;
  rows: number;
  blobs: number;
  /** Live documents' objects the storage did not have; the backup holds their rows only. */
  missing: string[];
}

// Rows per FETCH: large enough to amortize a round trip, small enough for a wide table's batch to
// stay a few megabytes.
const FETCH_ROWS = 2_000;

/**
 * Writes a backup of every table (and, by default, document content) to `file`, from one
 * REPEATABLE READ snapshot: a consistent copy while the server keeps running. Reads stream
 * through a cursor, so memory stays flat whatever the size of the practice.
 */
export async function backupDatabase(
  db: Db,
  file: string,
  options: BackupOptions = {},
): Promise<BackupSummary> {
  const withContent = options.content !== false && options.storage !== undefined;
  const session = await openSession(db);
  const writer = new BackupWriter(file);
  let progress: Progress | undefined;
  try {
    await session.query('begin isolation level repeatable read read only');
    await pinValueSettings(session);
    const tables = await listTables(session);
    const counts = new Map<string, number>();
    for (const table of tables) {
      const [row] = await session.query(`select count(*)::text from ${ident(table.name)}`);
      counts.set(table.name, Number(row?.[0]));
    }
    const keys = withContent ? await contentKeys(session) : [];
    const migrations = await appliedMigrations(session);
    const header: BackupHeader = {
      format: BACKUP_FORMAT,
      version: BACKUP_VERSION,
      created_at: new Date().toISOString(),
      app_version: appVersion,
      engine: session.kind,
      migrations,
      migration_tag: tagOf(await knownMigrations(), migrations.at(-1)),
      content: withContent ? 'included' : 'referenced',
      tables: tables.map((t) => ({
        name: t.name,
        columns: t.columns.map((c) => c.name),
        rows: counts.get(t.name) ?? 0,
      })),
      sequences: await listSequences(session),
      blobs: keys.length,
    };
    const totalRows = header.tables.reduce((sum, t) => sum + t.rows, 0);
    progress = options.progress?.(totalRows + keys.length);
    await writer.write({ t: 'header', ...header });
    for (const table of tables) {
      await writer.write({
        t: 'table',
        name: table.name,
        columns: table.columns.map((c) => c.name),
        rows: counts.get(table.name) ?? 0,
      });
      await copyRows(session, table, writer, progress);
    }
    const missing: string[] = [];
    if (withContent && options.storage) {
      for (const key of keys) {
        const found = await emitBlob(options.storage, key, (line) => writer.write(line));
        if (!found) missing.push(key);
        progress?.increment();
      }
    }
    await session.query('commit');
    await writer.finish();
    progress?.stop();
    return { tables: tables.length, rows: totalRows, blobs: keys.length - missing.length, missing };
  } catch (error) {
    progress?.stop();
    await session.query('rollback').catch(() => undefined);
    await writer.abort();
    throw error;
  } finally {
    await session.release();
  }
}

async function copyRows(
  session: SqlSession,
  table: TableInfo,
  writer: BackupWriter,
  progress: Progress | undefined,
): Promise<void> {
  if (table.columns.length === 0) return;
  const select = table.columns.map((c) => `${ident(c.name)}::text`).join(', ');
  const order =
    table.primaryKey.length > 0 ? ` order by ${table.primaryKey.map(ident).join(', ')}` : '';
  await session.query(
    `declare backup_rows no scroll cursor for select ${select} from ${ident(table.name)}${order}`,
  );
  for (;;) {
    const rows = await session.query(`fetch forward ${FETCH_ROWS} from backup_rows`);
    for (const row of rows) await writer.write(row);
    progress?.increment(rows.length);
    if (rows.length < FETCH_ROWS) break;
  }
  await session.query('close backup_rows');
}
