import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { migrate as migratePg } from 'drizzle-orm/node-postgres/migrator';
import type { Database } from '../db/client.js';
import { migrationsFolder } from '../db/paths.js';

interface JournalEntry {
  idx: number;
  when: number;
  tag: string;
}

interface Journal {
  entries: JournalEntry[];
  [key: string]: unknown;
}

/** The migrations this build knows, from drizzle-kit's journal. */
export async function knownMigrations(folder = migrationsFolder): Promise<Journal> {
  return JSON.parse(await readFile(join(folder, 'meta', '_journal.json'), 'utf8')) as Journal;
}

export function tagOf(journal: Journal, when: number | undefined): string | null {
  if (when === undefined) return null;
  return journal.entries.find((entry) => entry.when === when)?.tag ?? null;
}

/**
 * Migrates `database` up to and including the migration stamped `level` (not beyond), so rows
 * from a backup go into the schema they were taken from; the later migrations then run over
 * them as they would over a live database. Drizzle migrates a folder to its end, so this hands
 * it a copy of the folder whose journal stops at `level`.
 */
export async function migrateTo(database: Database, level: number): Promise<void> {
  const journal = await knownMigrations();
  const entries = journal.entries.filter((entry) => entry.when <= level);
  const dir = await mkdtemp(join(tmpdir(), 'medcore-migrations-'));
  try {
    await mkdir(join(dir, 'meta'));
    await writeFile(join(dir, 'meta', '_journal.json'), JSON.stringify({ ...journal, entries }));
    for (const entry of entries) {
      await copyFile(join(migrationsFolder, `${entry.tag}.sql`), join(dir, `${entry.tag}.sql`));
    }
    // Both engines are reached through node-postgres (the embedded one serves the protocol).
    await migratePg(database.db as never, { migrationsFolder: dir });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
