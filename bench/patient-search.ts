/**
 * Patient search and deep keyset paging on a large table (issue 3: each under 50 ms median).
 * The server runs as a separate process on BENCH_DATABASE_URL (fill it first with
 * bench/generate-patients.ts); this process is the client and times sequential requests.
 * Baseline in the same run: GET /health.
 *
 *   npm run build && BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/medcore_bench \
 *     npx tsx bench/patient-search.ts [requests]
 */
import { performance } from 'node:perf_hooks';
import { benchAdmin, median, postJson, startServer } from './server.js';

const requests = Number(process.argv[2] ?? 200);
if (process.env.BENCH_DATABASE_URL === undefined) throw new Error('set BENCH_DATABASE_URL');
const server = await startServer(18_103);

async function timed(path: string, headers: Record<string, string>) {
  const started = performance.now();
  const res = await fetch(`${server.url}${path}`, { headers });
  const body = (await res.json()) as {
    items?: { last_name: string }[];
    next_cursor?: string | null;
  };
  if (!res.ok) throw new Error(`${path}: ${res.status}`);
  return { ms: performance.now() - started, body };
}

function report(label: string, samples: number[], baseline?: number) {
  const m = median(samples);
  const ratio = baseline === undefined ? '' : `  (${(m / baseline).toFixed(1)}x /health)`;
  console.log(
    `${label.padEnd(44)} median ${m.toFixed(2)} ms  p90 ${[...samples].sort((a, b) => a - b)[Math.floor(samples.length * 0.9)]?.toFixed(2)} ms${ratio}`,
  );
  return m;
}

try {
  const login = await postJson(`${server.url}/api/v1/auth/login`, benchAdmin);
  if (!login.ok)
    throw new Error(`login failed (${login.status}); run bench/generate-patients.ts first`);
  const { access_token } = (await login.json()) as { access_token: string };
  const auth = { authorization: `Bearer ${access_token}` };
  const stats = await timed('/api/v1/patients/stats', auth);
  console.log(
    `patients in the database: ${JSON.stringify((stats.body as unknown as { total_patients: number }).total_patients)}`,
  );

  const health: number[] = [];
  for (let i = 0; i < requests; i++) health.push((await timed('/health', {})).ms);
  const baseline = report('GET /health (baseline)', health);

  const typos = [
    'Kowalcyzk',
    'Lewandowsky',
    'Hofmann',
    'Nguyn',
    'Martinex',
    'Szymanksi',
    'Okafro',
    'Camppbell',
  ];
  const search: number[] = [];
  let firstHits = '';
  for (let i = 0; i < requests; i++) {
    const q = typos[i % typos.length] ?? 'Smiht';
    const { ms, body } = await timed(`/api/v1/patients?q=${encodeURIComponent(q)}&limit=20`, auth);
    search.push(ms);
    if (i < typos.length) firstHits += `${q}->${body.items?.[0]?.last_name ?? '(none)'} `;
  }
  report('GET /patients?q=<typo surname>', search, baseline);
  console.log(`  best match per typo: ${firstHits}`);

  // Walk the name-sorted list with limit=100 for `requests` pages: deep pages are as cheap as
  // the first with keyset pagination.
  const pages: number[] = [];
  let cursor: string | null | undefined;
  for (let i = 0; i < requests; i++) {
    const path = `/api/v1/patients?limit=100&sort=name${cursor ? `&cursor=${cursor}` : ''}`;
    const { ms, body } = await timed(path, auth);
    pages.push(ms);
    cursor = body.next_cursor;
    if (!cursor) break;
  }
  report(`GET /patients keyset pages 1..${pages.length} (limit 100)`, pages, baseline);
  report(`  of which the last 50 (rows ${(pages.length - 50) * 100}+)`, pages.slice(-50), baseline);
} finally {
  await server.stop();
}
