/**
 * Outage drill, run by hand (never in CI; it stops the machine's PostgreSQL):
 *
 *   npm run build && npx tsx scripts/outage-drill.ts
 *
 * Starts the built server on a scratch database on the local PostgreSQL, sends reads and writes
 * continuously, really stops PostgreSQL (pg_ctlcluster), starts it again, and prints status
 * codes, latencies, the recovery time and whether every acknowledged write survived
 * (SECURITY.md, Resilience). PostgreSQL is started again whatever happens. Do not run it while
 * anything else uses that PostgreSQL.
 *
 * DRILL_DATABASE_URL: an admin URL of the server (postgres://postgres@127.0.0.1:5432/postgres).
 * DRILL_DOWN_MS: how long PostgreSQL stays down (5000).
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, openSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';

const adminUrl = process.env.DRILL_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const downMs = Number(process.env.DRILL_DOWN_MS ?? 5_000);
const cluster = readdirSync('/etc/postgresql')[0];
if (cluster === undefined) throw new Error('no cluster under /etc/postgresql');

const started = performance.now();
const now = () => Math.round(performance.now() - started);

/** Asynchronous, so the traffic in this process keeps flowing (and timing) while it runs. */
async function pgctl(action: 'start' | 'stop'): Promise<void> {
  const child = spawn(
    'pg_ctlcluster',
    ['--skip-systemctl-redirect', cluster ?? '', 'main', action],
    { stdio: 'inherit' },
  );
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  if (code !== 0) throw new Error(`pg_ctlcluster ${action} exited with ${code}`);
}
const pgReady = () => spawnSync('pg_isready', ['-h', '127.0.0.1', '-q']).status === 0;

/** Resolves with the time PostgreSQL first accepts connections, polling every 20 ms. */
async function whenAccepting(): Promise<number> {
  for (const deadline = now() + 60_000; now() < deadline;) {
    const probe = spawn('pg_isready', ['-h', '127.0.0.1', '-q', '-t', '1']);
    const code = await new Promise<number | null>((resolve) => probe.once('exit', resolve));
    if (code === 0) return now();
    await sleep(20);
  }
  throw new Error('PostgreSQL did not accept connections within 60 s');
}

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => {
        resolve(typeof address === 'object' && address !== null ? address.port : 0);
      });
    });
  });
}

interface Sample {
  at: number;
  kind: 'read' | 'write' | 'ready';
  status: number;
  ms: number;
  retryAfter: string | null;
}

async function request(url: string, init: RequestInit = {}): Promise<Response | null> {
  try {
    // The drill's own bound: a request still hanging after 5 s counts as a hang (status 0).
    return await fetch(url, { ...init, signal: AbortSignal.timeout(5_000) });
  } catch {
    return null;
  }
}

async function main(): Promise<void> {
  if (!pgReady()) throw new Error('PostgreSQL on 127.0.0.1 is not accepting connections');
  const dbName = `medcore_drill_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`create database ${dbName}`);
  await admin.end();
  const databaseUrl = new URL(adminUrl);
  databaseUrl.pathname = `/${dbName}`;

  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const work = mkdtempSync(join(tmpdir(), 'medcore-drill-'));
  const env = {
    ...process.env,
    NODE_ENV: 'production',
    HOST: '127.0.0.1',
    PORT: String(port),
    DATABASE_URL: databaseUrl.toString(),
    DATA_DIR: work,
    LOG_LEVEL: 'warn',
    JWT_SECRET: randomBytes(32).toString('hex'),
    MFA_ENCRYPTION_KEY: randomBytes(32).toString('hex'),
    RATE_LIMIT_ENABLED: 'false',
    REDIS_URL: '',
  };
  const password = `drill passphrase ${randomBytes(4).toString('hex')}`;
  execFileSync(
    process.execPath,
    ['dist/cli.js', 'create-admin', '--email', 'drill@drill.local', '--password', password],
    { env, stdio: 'inherit' },
  );
  const log = openSync(join(work, 'server.log'), 'w');
  const server = spawn(process.execPath, ['dist/cli.js', 'serve'], {
    env,
    stdio: ['ignore', log, log],
  });
  let databaseDown = false;
  try {
    for (let i = 0; !(await request(`${base}/health`))?.ok; i++) {
      if (i > 150) throw new Error('the server did not start');
      await sleep(100);
    }
    const json = { 'content-type': 'application/json' };
    const login = await request(`${base}/api/v1/auth/login`, {
      method: 'POST',
      headers: json,
      body: JSON.stringify({ email: 'drill@drill.local', password }),
    });
    const token = ((await login?.json()) as { access_token: string }).access_token;
    const auth = { authorization: `Bearer ${token}` };

    const samples: Sample[] = [];
    const acknowledged: string[] = [];
    let stop = false;
    const loop = async (kind: Sample['kind'], pauseMs: number) => {
      while (!stop) {
        const at = now();
        const t0 = performance.now();
        let res: Response | null;
        if (kind === 'write') {
          res = await request(`${base}/api/v1/patients`, {
            method: 'POST',
            headers: { ...json, ...auth },
            body: JSON.stringify({
              first_name: 'Drill',
              last_name: randomBytes(6).toString('hex'),
            }),
          });
          if (res?.status === 201) acknowledged.push(((await res.json()) as { id: string }).id);
        } else {
          res = await request(
            kind === 'read' ? `${base}/api/v1/users/me` : `${base}/health/ready`,
            {
              headers: auth,
            },
          );
        }
        if (res && !res.bodyUsed) await res.arrayBuffer();
        samples.push({
          at,
          kind,
          status: res?.status ?? 0,
          ms: Math.round(performance.now() - t0),
          retryAfter: res?.headers.get('retry-after') ?? null,
        });
        await sleep(pauseMs);
      }
    };
    const loops = [
      ...Array.from({ length: 4 }, () => loop('write', 20)),
      ...Array.from({ length: 4 }, () => loop('read', 20)),
      loop('ready', 100),
    ];

    await sleep(2_000);
    console.log(`[${now()} ms] stopping PostgreSQL (pg_ctlcluster ${cluster} main stop)`);
    const stopAt = now();
    databaseDown = true;
    await pgctl('stop');
    const stoppedAt = now();
    console.log(`[${stoppedAt} ms] PostgreSQL stopped (stop took ${stoppedAt - stopAt} ms)`);
    await sleep(downMs);
    const startAt = now();
    console.log(`[${startAt} ms] starting PostgreSQL`);
    const accepting = whenAccepting();
    await pgctl('start');
    databaseDown = false;
    const backAt = await accepting;
    console.log(
      `[${now()} ms] pg_ctlcluster start returned; PostgreSQL accepted connections from ` +
        `${backAt} ms (pg_isready, polled every 20 ms)`,
    );
    await sleep(3_000);
    stop = true;
    await Promise.all(loops);

    summarize(samples, { stopAt, stoppedAt, startAt, backAt });
    const check = new pg.Client({ connectionString: databaseUrl.toString() });
    await check.connect();
    const { rows } = await check.query<{ n: string }>(
      'select count(*) as n from patients where id = any($1::uuid[])',
      [acknowledged],
    );
    await check.end();
    console.log(
      `acknowledged writes (201): ${acknowledged.length}; present after the restart: ${rows[0]?.n}` +
        ` -> lost: ${acknowledged.length - Number(rows[0]?.n ?? 0)}`,
    );
  } finally {
    server.kill('SIGTERM');
    await new Promise((resolve) => server.once('exit', resolve));
    if (databaseDown || !pgReady()) {
      console.log('starting PostgreSQL again');
      await pgctl('start');
    }
    const cleanup = new pg.Client({ connectionString: adminUrl });
    await cleanup.connect();
    await cleanup.query(`drop database if exists ${dbName} with (force)`);
    await cleanup.end();
    rmSync(work, { recursive: true, force: true });
    console.log(`pg_isready -h 127.0.0.1: ${pgReady() ? 'accepting connections' : 'NOT READY'}`);
  }
}

function stats(values: number[]): string {
  if (values.length === 0) return 'n=0';
  const sorted = [...values].sort((a, b) => a - b);
  const pick = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
  return `n=${sorted.length} p50=${pick(0.5)} ms p99=${pick(0.99)} ms max=${sorted.at(-1)} ms`;
}

interface Timeline {
  stopAt: number;
  stoppedAt: number;
  startAt: number;
  backAt: number;
}

function summarize(samples: Sample[], t: Timeline): void {
  // By the time each request was sent.
  const phases: [string, (s: Sample) => boolean][] = [
    ['before', (s) => s.at < t.stopAt],
    ['stopping', (s) => s.at >= t.stopAt && s.at < t.stoppedAt],
    ['down', (s) => s.at >= t.stoppedAt && s.at < t.startAt],
    ['starting', (s) => s.at >= t.startAt && s.at < t.backAt],
    ['back', (s) => s.at >= t.backAt],
  ];
  for (const [phase, inPhase] of phases) {
    for (const kind of ['read', 'write', 'ready'] as const) {
      const group = samples.filter((s) => s.kind === kind && inPhase(s));
      const codes = new Map<number, number[]>();
      for (const s of group) codes.set(s.status, [...(codes.get(s.status) ?? []), s.ms]);
      const parts = [...codes].map(([code, ms]) => `${code === 0 ? 'hang' : code}: ${stats(ms)}`);
      console.log(`${phase.padEnd(8)} ${kind.padEnd(5)} ${parts.join(' | ')}`);
    }
  }
  const outage = samples.filter(
    (s) => s.at >= t.stoppedAt && s.at < t.backAt && s.kind !== 'ready',
  );
  const unavailable = outage.filter((s) => s.status === 503);
  const others = new Map<number, number>();
  for (const s of outage)
    if (s.status !== 503) others.set(s.status, (others.get(s.status) ?? 0) + 1);
  console.log(
    `from stopped to accepting again: ${unavailable.length}/${outage.length} API answers were ` +
      `503 (${unavailable.filter((s) => s.retryAfter !== null).length} with Retry-After); ` +
      `others: ${JSON.stringify(Object.fromEntries(others))}`,
  );
  const firstDown = samples.find((s) => s.at >= t.stopAt && s.status === 503);
  if (firstDown) console.log(`first 503: sent ${firstDown.at - t.stopAt} ms after the stop began`);
  for (const kind of ['read', 'write', 'ready'] as const) {
    const ok = samples.find((s) => s.kind === kind && s.at >= t.backAt && s.status < 300);
    const lastBad = samples
      .filter((s) => s.kind === kind && s.at >= t.backAt && s.status >= 300)
      .at(-1);
    console.log(
      `recovery ${kind}: first success sent ${ok ? ok.at - t.backAt : 'never'} ms after ` +
        `PostgreSQL accepted connections` +
        (lastBad
          ? `; last failure sent at +${lastBad.at - t.backAt} ms (${lastBad.status})`
          : '; no failure after that'),
    );
  }
}

await main();
