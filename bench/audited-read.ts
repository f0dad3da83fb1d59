/**
 * Cost of the audit trail on reads: GET /api/v1/patients/{id} writes one hash-chained audit row
 * per request (under one database-wide lock); GET /api/v1/users/me, authenticated the same way,
 * writes none. Both are measured in the same run, 20 connections, from this process.
 *
 *   npm run build && BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/medcore_bench \
 *     npx tsx bench/audited-read.ts [seconds]
 */
import autocannon from 'autocannon';
import { benchAdmin, postJson, startServer } from './server.js';

const seconds = Number(process.argv[2] ?? 10);
if (process.env.BENCH_DATABASE_URL === undefined) throw new Error('set BENCH_DATABASE_URL');
const server = await startServer(18_104);

async function run(path: string, headers: Record<string, string>) {
  const result = await autocannon({
    url: `${server.url}${path}`,
    connections: 20,
    duration: seconds,
    headers,
  });
  return {
    rps: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    non2xx: result.non2xx,
  };
}

try {
  const login = await postJson(`${server.url}/api/v1/auth/login`, benchAdmin);
  if (!login.ok)
    throw new Error(`login failed (${login.status}); run bench/generate-patients.ts first`);
  const { access_token } = (await login.json()) as { access_token: string };
  const auth = { authorization: `Bearer ${access_token}` };
  const list = await fetch(`${server.url}/api/v1/patients?limit=1`, { headers: auth });
  const id = ((await list.json()) as { items: { id: string }[] }).items[0]?.id;
  if (id === undefined) throw new Error('no patient');
  const me = await run('/api/v1/users/me', auth);
  const read = await run(`/api/v1/patients/${id}`, auth);
  for (const [label, r] of [
    ['GET /users/me (no audit)', me],
    ['GET /patients/{id} (audited)', read],
  ] as const) {
    console.log(
      `${label.padEnd(30)} ${r.rps.toFixed(0)} req/s  p50 ${r.p50} ms  p99 ${r.p99} ms  non-2xx ${r.non2xx}`,
    );
  }
  console.log(`ratio audited read : users/me = ${(read.rps / me.rps).toFixed(2)}`);
} finally {
  await server.stop();
}
