/**
 * Fills a database with N synthetic patients for benchmarks (default 100,000), plus one admin
 * account for the benchmark client. Bulk inserts bypass the API on purpose: this is load data.
 *
 *   BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/medcore_bench \
 *     npx tsx bench/generate-patients.ts 100000
 *
 * The functions are also used by other benchmarks (bench/backup-restore.ts) on any database.
 */
import { pathToFileURL } from 'node:url';
import { sql } from 'drizzle-orm';
import pg from 'pg';
import { benchAdmin } from './server.js';
import { loadConfig } from '../src/config.js';
import { openDatabase, type Db } from '../src/db/client.js';
import { appointments } from '../src/db/schema/appointments.js';
import { patients } from '../src/db/schema/patients.js';
import { createProgress } from '../src/lib/progress.js';
import { newId } from '../src/lib/ids.js';
import { hashPassword } from '../src/lib/passwords.js';
import { users } from '../src/db/schema/users.js';
import {
  allergens,
  birthDate,
  complaints,
  firstNames,
  groups,
  lastNames,
  phoneNumber,
  pick,
  prng,
} from '../src/seed/sample-data.js';

const BATCH = 1_000;

/** The benchmark client's admin account; nothing happens if it exists already. */
export async function insertBenchAdmin(db: Db): Promise<void> {
  await db
    .insert(users)
    .values({
      id: newId(),
      email: benchAdmin.email,
      username: 'bench_admin',
      hashedPassword: await hashPassword(benchAdmin.password),
      role: 'admin',
    })
    .onConflictDoNothing();
}

/** Inserts `total` synthetic patients in batches; returns their ids (for appointments). */
export async function generatePatients(db: Db, total: number): Promise<string[]> {
  const random = prng(7);
  const started = Date.now();
  const ids: string[] = [];
  const progress = createProgress({ label: 'patients', total, unit: 'patients' });
  for (let done = 0; done < total; done += BATCH) {
    const rows = Array.from({ length: Math.min(BATCH, total - done) }, (_, i) => {
      const firstName = pick(random, firstNames);
      const lastName = pick(random, lastNames);
      const id = newId();
      ids.push(id);
      return {
        id,
        firstName,
        lastName,
        dateOfBirth: birthDate(random),
        email: `${firstName}.${lastName}.${done + i}.${started}@bench.example`
          .toLowerCase()
          .replace(/[^a-z0-9.@]/g, ''),
        phone: phoneNumber(random),
        group: pick(random, groups),
        initialComplaint: pick(random, complaints),
        allergies: random() < 0.2 ? [pick(random, allergens)] : [],
      };
    });
    await db.insert(patients).values(rows);
    progress.increment(rows.length);
  }
  progress.stop();
  // Fresh statistics, as autovacuum would gather after a real bulk import, so plans use the indexes.
  await db.execute(sql`analyze patients`);
  return ids;
}

/**
 * `count` appointments spread over `doctors` doctor accounts (created here) and the given
 * patients. Each doctor's appointments follow each other every 30 minutes and each patient has
 * at most one per doctor-slot, so the overlap constraints (migration 0003) never fire. Returns
 * the doctors' ids (bench/run.ts books further appointments with them).
 */
export async function generateAppointments(
  db: Db,
  patientIds: readonly string[],
  count: number,
  doctors = 20,
): Promise<string[]> {
  // One hash for every doctor: these accounts never log in, and hashing is the slow part.
  const hashedPassword = await hashPassword(benchAdmin.password);
  const doctorIds = Array.from({ length: doctors }, () => newId());
  await db.insert(users).values(
    doctorIds.map((id, i) => ({
      id,
      email: `bench-doctor-${i}-${id}@bench.medcore.local`,
      username: `bench_doctor_${id.slice(-12)}`,
      hashedPassword,
      role: 'doctor' as const,
    })),
  );
  const random = prng(11);
  const start = Date.UTC(2026, 0, 5, 8);
  const progress = createProgress({ label: 'appointments', total: count, unit: 'appointments' });
  for (let done = 0; done < count; done += BATCH) {
    const rows = Array.from({ length: Math.min(BATCH, count - done) }, (_, j) => {
      const n = done + j;
      const startsAt = new Date(start + Math.floor(n / doctors) * 30 * 60_000);
      return {
        id: newId(),
        patientId: patientIds[n % patientIds.length] ?? '',
        doctorId: doctorIds[n % doctors] ?? '',
        startsAt,
        endsAt: new Date(startsAt.getTime() + 20 * 60_000),
        durationMinutes: 20,
        reason: pick(random, complaints),
      };
    });
    await db.insert(appointments).values(rows);
    progress.increment(rows.length);
  }
  progress.stop();
  await db.execute(sql`analyze appointments`);
  return doctorIds;
}

async function main(): Promise<void> {
  const total = Number(process.argv[2] ?? 100_000);
  const url = process.env.BENCH_DATABASE_URL;
  if (url === undefined)
    throw new Error('set BENCH_DATABASE_URL (a PostgreSQL database for benchmarks)');

  // Create the benchmark database if it does not exist yet.
  const target = new URL(url);
  const dbName = target.pathname.slice(1);
  const adminUrl = new URL(url);
  adminUrl.pathname = '/postgres';
  const admin = new pg.Client({ connectionString: adminUrl.toString() });
  await admin.connect();
  const exists = await admin.query('select 1 from pg_database where datname = $1', [dbName]);
  if (exists.rowCount === 0) await admin.query(`create database "${dbName.replace(/"/g, '')}"`);
  await admin.end();

  const config = loadConfig({
    DATABASE_URL: url,
    DB_STATEMENT_TIMEOUT_MS: '600000',
    DB_QUERY_TIMEOUT_MS: '600000',
  });
  const database = await openDatabase(config);
  await database.migrate();
  await insertBenchAdmin(database.db);
  const started = Date.now();
  await generatePatients(database.db, total);
  await database.close();
  console.log(`inserted ${total} patients in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

// Run as a script; imported by other benchmarks for the functions above.
if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await main();
