import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { migrationsFolder, rootDir } from '../paths.js';

/**
 * A fresh embedded database starts from a template: a tarball of a data directory on which
 * initdb and every migration already ran. PGlite's initdb is the slowest part of a first start
 * (6 to 20 s on a 2-core machine, against under 3 s to unpack the template), and the migrations
 * come for free. The template is made once per install (`npm start`'s prestart, scripts/
 * prestart.mjs) and named by what it depends on, so a PGlite upgrade or a new migration makes
 * the old one unused; without a template, PGlite runs initdb as before and the migrations apply.
 * It holds only the schema (the migrations insert no rows).
 */
const templateDir = join(rootDir, 'dist', 'db-template');

/** PGlite's version and every migration file: a change to either calls for a new template. */
export function templateKey(): string {
  // The package exports no package.json: found from its entry point (dist/index.js).
  const entry = createRequire(import.meta.url).resolve('@electric-sql/pglite');
  const pglite = JSON.parse(readFileSync(join(dirname(entry), '..', 'package.json'), 'utf8')) as {
    version: string;
  };
  const hash = createHash('sha256').update(pglite.version);
  const files = readdirSync(migrationsFolder, { recursive: true, encoding: 'utf8' }).sort();
  for (const file of files) {
    if (!file.endsWith('.sql') && !file.endsWith('_journal.json')) continue;
    hash.update(file).update(readFileSync(join(migrationsFolder, file)));
  }
  return hash.digest('hex').slice(0, 16);
}

/** The template for this install, when one was made. */
export function templateFile(): string | undefined {
  const file = join(templateDir, `${templateKey()}.tar.gz`);
  return existsSync(file) ? file : undefined;
}

/** Makes the template (initdb + migrations in memory, then a dump); returns its path. */
export async function buildTemplate(): Promise<string> {
  const file = join(templateDir, `${templateKey()}.tar.gz`);
  if (existsSync(file)) return file;
  const { PGlite } = await import('@electric-sql/pglite');
  const { pg_trgm } = await import('@electric-sql/pglite/contrib/pg_trgm');
  const { btree_gist } = await import('@electric-sql/pglite/contrib/btree_gist');
  const { drizzle } = await import('drizzle-orm/pglite');
  const { migrate } = await import('drizzle-orm/pglite/migrator');
  const pg = new PGlite('memory://', { extensions: { pg_trgm, btree_gist } });
  try {
    await migrate(drizzle(pg), { migrationsFolder });
    const dump = await pg.dumpDataDir('gzip');
    // Older templates are of no further use; written under a temporary name, then renamed, so
    // a start racing this one never reads half a file.
    rmSync(templateDir, { recursive: true, force: true });
    mkdirSync(templateDir, { recursive: true });
    await writeFile(`${file}.tmp`, Buffer.from(await dump.arrayBuffer()));
    renameSync(`${file}.tmp`, file);
  } finally {
    await pg.close();
  }
  return file;
}
