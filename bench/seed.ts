/**
 * Seeds one benchmark database, as a child process of bench/run.ts (so the embedded database's
 * memory and data-directory lock are gone before the server opens the same directory):
 *
 *   node --import tsx bench/seed.ts <patients> <appointments> <result.json>
 *
 * with DATABASE_URL (PostgreSQL) or DATA_DIR (embedded) in the environment. Migrates, then adds
 * the bench admin, the patients and the appointments, and writes the ids the load needs.
 */
import { writeFileSync } from 'node:fs';
import { loadConfig } from '../src/config.js';
import { jobDatabaseOptions, openDatabase } from '../src/db/client.js';
import { generateAppointments, generatePatients, insertBenchAdmin } from './generate-patients.js';

/** What bench/run.ts reads back: booking needs doctors and, per slot, distinct patients. */
export interface SeedResult {
  doctorIds: string[];
  patientIds: string[];
  seconds: number;
}

const [patients, appointments, out] = process.argv.slice(2);
if (out === undefined) throw new Error('usage: seed.ts <patients> <appointments> <result.json>');

const started = Date.now();
const config = loadConfig({
  DATABASE_URL: process.env.DATABASE_URL,
  DATA_DIR: process.env.DATA_DIR,
  JWT_SECRET: 'bench-secret-bench-secret-bench-secret-0000',
});
// Job timeouts: bulk inserts of 1,000 rows and ANALYZE exceed the request timeouts.
const database = await openDatabase(jobDatabaseOptions(config));
try {
  await database.migrate();
  await insertBenchAdmin(database.db);
  const patientIds = await generatePatients(database.db, Number(patients));
  const doctorIds = await generateAppointments(database.db, patientIds, Number(appointments));
  const result: SeedResult = {
    doctorIds,
    patientIds: patientIds.slice(0, 200),
    seconds: (Date.now() - started) / 1000,
  };
  writeFileSync(out, JSON.stringify(result));
} finally {
  await database.close();
}
