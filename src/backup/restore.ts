import type { Database } from '../db/client.js';
import type { Progress } from '../lib/progress.js';
import type { DocumentStorage } from '../infra/storage/storage.js';
import { appliedMigrations, listTables, tablesWithRows, type TableInfo } from './catalog.js';
import { BlobSink } from './content.js';
import { BackupError, type BackupHeader } from './format.js';
import { RowLoader } from './loader.js';
import { knownMigrations, migrateTo, tagOf } from './migrations.js';
import { readBackup, readHeader } from './reader.js';
import { ident, openSession, pinValueSettings, type SqlSession } from './session.js';

export interface RestoreOptions {
  /** Where document content goes; required when the backup includes content. */
  storage?: DocumentStorage;
  /** Replace whatever data the target holds (in the same transaction) instead of refusing. */
  force?: boolean;
  /** Progress of a phase: "verify" (compressed bytes) then "restore" (rows + objects). */
  progress?: (phase: 'verify' | 'restore', total: number) => Progress;
  /** The compressed file's size, for the verify phase's progress. */
  fileSize?: number;
}

export interface RestoreSummary {
  header: BackupHeader;
  tables: number;
  rows: number;
  blobs: number;
}

// The audit sealer's lock (migration 0014): held so no instance seals into the target's chain
// while its trail is being restored.
const AUDIT_LOCK_KEY = 727_354_001;

/**
 * Restores a backup into `database`, all or nothing:
 * 1. the header is checked (format version, migrations this build knows) and the whole file is
 *    read once to verify its SHA-256, before anything is touched;
 * 2. the target must hold no data (unless `force`) and must not be at a newer migration than
 *    the backup; it is migrated up to the backup's level;
 * 3. one transaction disables user triggers (so the audit trail keeps its seq, times and hashes
 *    and the append-only guard allows the load), inserts every row, checks counts and checksum
 *    again, sets sequences, re-enables the triggers and commits;
 * 4. later migrations of this build then run over the restored data.
 */
export async function restoreDatabase(
  database: Database,
  file: string,
  options: RestoreOptions = {},
): Promise<RestoreSummary> {
  const header = await readHeader(file);
  const journal = await knownMigrations();
  const known = new Set(journal.entries.map((entry) => entry.when));
  const level = header.migrations.at(-1) ?? 0;
  if (header.migrations.some((when) => !known.has(when))) {
    throw new BackupError(
      `${file} was taken from a newer database schema (${header.migration_tag ?? String(level)}, ` +
        `MedCore ${header.app_version}) than this MedCore knows; upgrade MedCore, then restore. ` +
        'Nothing was restored.',
    );
  }
  if (header.content === 'included' && options.storage === undefined) {
    throw new BackupError('this backup includes document content, but no storage was given');
  }
  await verifyFile(file, options);

  const targetLevel = await preflight(database, level, options.force === true);
  if (targetLevel < level) await migrateTo(database, level);

  const blobs =
    header.content === 'included' && options.storage ? new BlobSink(options.storage) : undefined;
  const rows = await load(database, file, header, blobs, options);
  // This build's later migrations (if the backup is older) run over the restored rows.
  await database.migrate();
  return { header, tables: header.tables.length, rows, blobs: blobs?.count ?? 0 };
}

/** The one transaction of a restore; on any failure it rolls back and removes added content. */
async function load(
  database: Database,
  file: string,
  header: BackupHeader,
  blobs: BlobSink | undefined,
  options: RestoreOptions,
): Promise<number> {
  const session = await openSession(database.db);
  let progress: Progress | undefined;
  try {
    await session.query('begin');
    await pinValueSettings(session);
    await session.query('select pg_advisory_xact_lock($1)', [AUDIT_LOCK_KEY]);
    const tables = await listTables(session);
    for (const table of tables) {
      // Table owner suffices (no superuser): user triggers only; foreign keys stay enforced.
      await session.query(`alter table ${ident(table.name)} disable trigger user`);
    }
    await clearTarget(session, tables, options.force === true);
    const total = header.tables.reduce((sum, t) => sum + t.rows, 0) + header.blobs;
    progress = options.progress?.('restore', total);
    const loader = new RowLoader(session, tables, header, blobs, progress);
    // readBackup verifies the checksum again as it ends: a file changed since the verify pass
    // fails here, before the commit.
    for await (const line of readBackup(file)) await loader.line(line);
    await loader.finish();
    await releaseUnsealedAuditRows(session, tables);
    await setSequences(session, header);
    for (const table of tables) {
      await session.query(`alter table ${ident(table.name)} enable trigger user`);
    }
    await session.query('commit');
    return loader.rows;
  } catch (error) {
    await session.query('rollback').catch(() => undefined);
    await blobs?.undo();
    if (error instanceof BackupError) {
      throw new BackupError(`restore refused, target unchanged: ${error.message}`, {
        cause: error,
      });
    }
    if ((error as { code?: unknown }).code === '42501') {
      throw new BackupError(
        'restore needs to own the tables (to switch their triggers off for the load): connect ' +
          'as the role that created them, i.e. the one MedCore migrates with; target unchanged',
        { cause: error },
      );
    }
    throw error;
  } finally {
    progress?.stop();
    await session.release();
  }
}

async function verifyFile(file: string, options: RestoreOptions): Promise<void> {
  const progress = options.progress?.('verify', options.fileSize ?? 0);
  try {
    const lines = readBackup(file, (n) => {
      progress?.increment(n);
    });
    // Only the checksum matters here; the generator throws if it does not match.
    while (!(await lines.next()).done);
  } finally {
    progress?.stop();
  }
}

/** Refusals that must come before the target is migrated: newer schema, existing data. */
async function preflight(database: Database, level: number, force: boolean): Promise<number> {
  const session = await openSession(database.db);
  try {
    const applied = await appliedMigrations(session);
    const targetLevel = applied.at(-1) ?? 0;
    if (targetLevel > level) {
      const journal = await knownMigrations();
      throw new BackupError(
        `the target database is at migration ${tagOf(journal, targetLevel) ?? String(targetLevel)}, ` +
          `newer than the backup's ${tagOf(journal, level) ?? String(level)}. Restore into a new, ` +
          'empty database (restore migrates it itself) and start MedCore on it afterwards; ' +
          'nothing was restored.',
      );
    }
    if (!force && applied.length > 0) {
      const nonEmpty = await tablesWithRows(session, await listTables(session));
      if (nonEmpty.length > 0) throw notEmpty(nonEmpty);
    }
    return targetLevel;
  } finally {
    await session.release();
  }
}

function notEmpty(tables: string[]): BackupError {
  return new BackupError(
    `the target database already holds data (${tables.slice(0, 5).join(', ')}` +
      `${tables.length > 5 ? ', ...' : ''}). Restore into a new, empty database, or pass ` +
      '--force to replace everything in it; nothing was restored.',
  );
}

/** Inside the transaction: refuse existing data again (a race), or delete it all for --force. */
async function clearTarget(
  session: SqlSession,
  tables: readonly TableInfo[],
  force: boolean,
): Promise<void> {
  const nonEmpty = await tablesWithRows(session, tables);
  if (nonEmpty.length === 0) return;
  if (!force) throw notEmpty(nonEmpty);
  // Children first; the append-only guard on audit_log is one of the disabled triggers.
  for (const table of [...tables].reverse())
    await session.query(`delete from ${ident(table.name)}`);
}

/**
 * Unsealed audit rows carry the source's transaction ids, which mean nothing here (and could
 * lie far above this database's, holding the rows back for a long time). They are all committed
 * now, so they are due first, in seq order. Runs while the triggers are off.
 */
async function releaseUnsealedAuditRows(
  session: SqlSession,
  tables: readonly TableInfo[],
): Promise<void> {
  const audit = tables.find((table) => table.name === 'audit_log');
  if (!audit?.columns.some((column) => column.name === 'tx_id')) return;
  await session.query('update audit_log set tx_id = 0 where chain_pos is null');
}

/**
 * Sequences resume where the source's stood (next MRN, next audit seq). Last, just before the
 * commit, because setval is not undone by a rollback.
 */
async function setSequences(session: SqlSession, header: BackupHeader): Promise<void> {
  const existing = new Set(
    (
      await session.query(
        'select sequencename from pg_sequences where schemaname = current_schema()',
      )
    ).map((row) => String(row[0])),
  );
  for (const sequence of header.sequences) {
    if (!existing.has(sequence.name)) continue;
    await session.query('select setval($1::regclass, $2::bigint, $3)', [
      ident(sequence.name),
      sequence.last_value ?? sequence.start_value,
      sequence.last_value !== null,
    ]);
  }
}
