import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { Config } from '../config.js';
import { jobDatabaseOptions, openDatabase } from '../db/client.js';
import { createProgress } from '../lib/progress.js';
import { createStorage } from '../infra/storage/index.js';
import type { DocumentStorage } from '../infra/storage/storage.js';
import { backupDatabase } from './backup.js';
import { BackupError } from './format.js';
import { restoreDatabase } from './restore.js';

/** `medcore backup` and `medcore restore`: argument parsing, resources, messages (cli.ts). */

function megabytes(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

async function reported(run: () => Promise<number>): Promise<number> {
  try {
    return await run();
  } catch (error) {
    if (!(error instanceof BackupError)) throw error;
    console.error(`medcore: ${error.message}`);
    return 1;
  }
}

/** `backup <file> [--no-content]`; returns the exit code (2: bad arguments). */
export async function backupCommand(
  config: Config,
  args: string[],
  usage: string,
): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    options: { 'no-content': { type: 'boolean' } },
    allowPositionals: true,
  });
  const [file, ...extra] = positionals;
  if (file === undefined || extra.length > 0) {
    console.error('backup needs one file name\n\n' + usage);
    return 2;
  }
  const content = values['no-content'] !== true;
  return reported(async () => {
    // Not migrated: a backup reads the database as it is and changes nothing.
    const database = await openDatabase(jobDatabaseOptions(config));
    let storage: DocumentStorage | undefined;
    try {
      storage = content ? await createStorage(config) : undefined;
      const started = Date.now();
      const summary = await backupDatabase(database.db, file, {
        storage,
        content,
        progress: (total) => createProgress({ label: 'backup', total }),
      });
      const { size } = await stat(file);
      for (const key of summary.missing) {
        console.error(`medcore: warning: document object ${key} is missing from storage`);
      }
      console.log(
        `backup written to ${resolve(file)}: ${summary.tables} tables, ${summary.rows} rows, ` +
          `${content ? `${summary.blobs} document objects` : 'document content referenced only'}, ` +
          `${megabytes(size)}, ${((Date.now() - started) / 1000).toFixed(1)} s`,
      );
      return summary.missing.length > 0 ? 3 : 0;
    } finally {
      await storage?.close();
      await database.close();
    }
  });
}

/** `restore <file> [--force]`; returns the exit code. */
export async function restoreCommand(
  config: Config,
  args: string[],
  usage: string,
): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    options: { force: { type: 'boolean' } },
    allowPositionals: true,
  });
  const [file, ...extra] = positionals;
  if (file === undefined || extra.length > 0) {
    console.error('restore needs one file name\n\n' + usage);
    return 2;
  }
  return reported(async () => {
    const fileSize = (await stat(file).catch(() => undefined))?.size;
    if (fileSize === undefined) throw new BackupError(`${file} does not exist`);
    // Never under a running server: restore replaces the data it serves (ServerRunningError).
    const database = await openDatabase({
      ...jobDatabaseOptions(config),
      besideServer: 'refuse-job',
    });
    let storage: DocumentStorage | undefined;
    try {
      storage = await createStorage(config);
      const started = Date.now();
      const summary = await restoreDatabase(database, file, {
        storage,
        force: values.force === true,
        fileSize,
        progress: (phase, total) =>
          createProgress({ label: phase, total, unit: phase === 'verify' ? 'bytes' : 'rows' }),
      });
      console.log(
        `restored ${resolve(file)} into ${database.kind}: ${summary.tables} tables, ` +
          `${summary.rows} rows, ${summary.blobs} document objects ` +
          `(backup of ${summary.header.created_at}, MedCore ${summary.header.app_version}), ` +
          `${((Date.now() - started) / 1000).toFixed(1)} s`,
      );
      return 0;
    } finally {
      await storage?.close();
      await database.close();
    }
  });
}
