/**
 * Backup and restore of a practice with N patients (default 100,000) plus appointments, on each
 * engine, across engines: the times must stay under 60 s each.
 *
 *   npx tsx bench/backup-restore.ts [patients] [appointments]
 *
 * PGlite runs in fresh temporary directories. PostgreSQL runs when BENCH_PG_URL (a server URL;
 * default postgres://postgres@127.0.0.1:5432/postgres) answers: uniquely named databases are
 * created and dropped. Generation is not timed; backup (to a gzip file, content included) and
 * restore (verify pass + load in one transaction) are, in process, as the CLI runs them.
 *
 * Measured 2026-11-23 on the 2-core development machine (load average ~5 from other jobs), with
 * `npx tsx bench/backup-restore.ts 100000 20000` (120,021 rows, 4.4 MB file):
 *   backup pglite 8.3 s, backup postgres 1.6 s;
 *   restore pglite->pglite 25.8 s, pglite->postgres 9.3 s, postgres->pglite 17.0 s,
 *   postgres->postgres 9.2 s.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { backupDatabase } from '../src/backup/backup.js';
import { restoreDatabase } from '../src/backup/restore.js';
import { loadConfig } from '../src/config.js';
import { jobDatabaseOptions, openDatabase, type Database } from '../src/db/client.js';
import { createProgress } from '../src/lib/progress.js';
import { createLocalStorage } from '../src/infra/storage/local.js';
import { generateAppointments, generatePatients, insertBenchAdmin } from './generate-patients.js';

type Engine = 'pglite' | 'postgres';

const patientCount = Number(process.argv[2] ?? 100_000);
const appointmentCount = Number(process.argv[3] ?? 20_000);
const pgServer = process.env.BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const work = await mkdtemp(join(tmpdir(), 'medcore-bench-backup-'));
const cleanups: (() => Promise<void>)[] = [];

async function postgresAvailable(): Promise<boolean> {
  const client = new pg.Client({ connectionString: pgServer, connectionTimeoutMillis: 2_000 });
  try {
    await client.connect();
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** A fresh, empty database on `engine`. */
async function freshDatabase(engine: Engine): Promise<Database> {
  const dataDir = await mkdtemp(join(work, `${engine}-`));
  let databaseUrl: string | undefined;
  if (engine === 'postgres') {
    const name = `medcore_bench_${randomBytes(5).toString('hex')}`;
    const admin = new pg.Client({ connectionString: pgServer });
    await admin.connect();
    await admin.query(`create database ${name}`);
    await admin.end();
    const url = new URL(pgServer);
    url.pathname = `/${name}`;
    databaseUrl = url.toString();
    cleanups.push(async () => {
      const client = new pg.Client({ connectionString: pgServer });
      await client.connect();
      await client.query(`drop database if exists ${name} with (force)`);
      await client.end();
    });
  }
  const config = loadConfig({
    DATA_DIR: dataDir,
    JWT_SECRET: 'bench-secret-bench-secret-bench-secret-0000',
    ...(databaseUrl === undefined ? {} : { DATABASE_URL: databaseUrl }),
  });
  return openDatabase(jobDatabaseOptions(config));
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const results: string[] = [];

async function timed<T>(label: string, run: () => Promise<T>): Promise<T> {
  const started = Date.now();
  const result = await run();
  const line = `${label}: ${seconds(Date.now() - started)}`;
  results.push(line);
  console.log(line);
  return result;
}

const engines: Engine[] = (await postgresAvailable()) ? ['pglite', 'postgres'] : ['pglite'];
if (engines.length === 1) console.log(`PostgreSQL at ${pgServer} does not answer; PGlite only`);
const storage = await createLocalStorage({ dir: join(work, 'documents') });

try {
  for (const from of engines) {
    const source = await freshDatabase(from);
    await source.migrate();
    await insertBenchAdmin(source.db);
    const ids = await generatePatients(source.db, patientCount);
    await generateAppointments(source.db, ids, appointmentCount);
    const file = join(work, `${from}.medcore.gz`);
    const summary = await timed(`backup ${from} (${patientCount} patients)`, () =>
      backupDatabase(source.db, file, {
        storage,
        progress: (total) => createProgress({ label: 'backup', total }),
      }),
    );
    await source.close();
    const { size } = await stat(file);
    const sizeLine = `  file ${(size / 1024 / 1024).toFixed(1)} MB, ${summary.rows} rows in ${summary.tables} tables`;
    results.push(sizeLine);
    console.log(sizeLine);
    for (const to of engines) {
      const target = await freshDatabase(to);
      await timed(`restore ${from} -> ${to}`, () =>
        restoreDatabase(target, file, {
          storage,
          fileSize: size,
          progress: (phase, total) =>
            createProgress({ label: phase, total, unit: phase === 'verify' ? 'bytes' : 'rows' }),
        }),
      );
      await target.close();
    }
  }
} finally {
  await storage.close();
  for (const cleanup of cleanups) await cleanup().catch(() => undefined);
  await rm(work, { recursive: true, force: true });
}

console.log(`\n${patientCount} patients, ${appointmentCount} appointments\n${results.join('\n')}`);
