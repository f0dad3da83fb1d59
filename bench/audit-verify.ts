/**
 * How long /admin/audit/verify takes on a large trail, against the cost of writing it.
 *
 *   BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/audit_bench npx tsx bench/audit-verify.ts [rows]
 */
import { performance } from 'node:perf_hooks';
import { sql } from 'drizzle-orm';
import { loadConfig } from '../src/config.js';
import { openDatabase } from '../src/db/client.js';
import { verifyChain } from '../src/modules/audit/audit.repository.js';

const rows = Number(process.argv[2] ?? 200_000);
const url = process.env.BENCH_DATABASE_URL;
if (url === undefined) throw new Error('set BENCH_DATABASE_URL');
const database = await openDatabase(loadConfig({ DATABASE_URL: url, LOG_LEVEL: 'silent' }));
try {
  await database.migrate();
  let started = performance.now();
  // Batches of 10,000 rows, each through the chaining trigger like any other insert.
  for (let done = 0; done < rows; done += 10_000) {
    await database.db.execute(sql`
      insert into audit_log (actor_id, actor_role, action, resource_type, patient_id, outcome, request_id, ip)
      select gen_random_uuid(), 'nurse', 'patient.read', 'patient', gen_random_uuid(), 'success',
             md5(i::text), '127.0.0.1'
      from generate_series(1, ${Math.min(10_000, rows - done)}) i`);
  }
  const insertMs = performance.now() - started;
  started = performance.now();
  const check = await verifyChain(database.db);
  const verifyMs = performance.now() - started;
  console.log(
    `${rows} rows: written in ${(insertMs / 1000).toFixed(1)} s (${((insertMs * 1000) / rows).toFixed(1)} us/row); ` +
      `verified ${check.rows} rows in ${(verifyMs / 1000).toFixed(2)} s (${((verifyMs * 1000) / check.rows).toFixed(1)} us/row), broken: ${JSON.stringify(check.firstBroken)}`,
  );
} finally {
  await database.close();
}
