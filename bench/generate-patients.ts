/**
 * Fills a database with N synthetic patients for benchmarks (default 100,000), plus one admin
 * account for the benchmark client. Bulk inserts bypass the API on purpose: this is load data.
 *
 *   BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/medcore_bench \
 *     npx tsx bench/generate-patients.ts 100000
 */
import { sql } from 'drizzle-orm';
import pg from 'pg';
import { benchAdmin } from './server.js';
import { loadConfig } from '../src/config.js';
import { openDatabase } from '../src/db/client.js';
import { patients } from '../src/db/schema/patients.js';
import { newId } from '../src/lib/ids.js';
import { hashPassword } from '../src/modules/auth/passwords.js';
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
const { db } = database;

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

const random = prng(7);
const started = Date.now();
const BATCH = 1_000;
for (let done = 0; done < total; done += BATCH) {
  const rows = Array.from({ length: Math.min(BATCH, total - done) }, (_, i) => {
    const firstName = pick(random, firstNames);
    const lastName = pick(random, lastNames);
    return {
      id: newId(),
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
  if ((done / BATCH) % 10 === 0) process.stdout.write(`\r${done + rows.length} patients`);
}
// Fresh statistics, as autovacuum would gather after a real bulk import, so plans use the indexes.
await db.execute(sql`analyze patients`);
await database.close();
console.log(`\ninserted ${total} patients in ${((Date.now() - started) / 1000).toFixed(1)} s`);
