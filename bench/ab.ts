/**
 * One route on two builds of MedCore side by side, in one run: a change's cost or gain is the
 * ratio of a build with it to the build just before it (the outbox's cost on a booking, issue
 * 13; group-committed audit rows on a patient read, issue 11). Each build gets
 * its own scratch PostgreSQL database (seeded by its own bench/seed.ts) and its own server
 * process; the loads alternate between them, round after round, from a separate process.
 *
 *   git worktree add /tmp/ab-base <commit before the change> && (cd /tmp/ab-base && npm ci)
 *   git worktree add /tmp/ab-cand <commit of the change>     && (cd /tmp/ab-cand && npm ci)
 *   BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test \
 *     [AB_ROUTE=booking|patient|list|me] npx tsx bench/ab.ts /tmp/ab-base /tmp/ab-cand
 *
 * AB_ROUTE: `booking` (POST /appointments, the default), `patient` (GET /patients/{id}, audited),
 * `list` (GET /patients?limit=100, audited), `me` (GET /users/me).
 * Both checkouts must be built (`npm ci` runs the build). Settings: BENCH_ROUNDS (3),
 * BENCH_SECONDS (5), BENCH_WARMUP_SECONDS (2), BENCH_CONNECTIONS (50), BENCH_PATIENTS (2000).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { firstMondayAfter, type BookingPlan } from './booking.js';
import { runLoad, type LoadResult } from './load.js';
import { createScratchDatabase } from './pg-database.js';
import { cleanup, onCleanup, track } from './processes.js';
import type { SeedResult } from './seed.js';
import { benchAdmin, median, postJson, waitForHttp } from './server.js';
import { settings } from './settings.js';
import { freePort } from './target.js';

const [baseDir, candidateDir] = process.argv.slice(2);
if (baseDir === undefined || candidateDir === undefined || settings.databaseUrl === undefined) {
  console.error(
    'usage: BENCH_DATABASE_URL=... [AB_ROUTE=...] npx tsx bench/ab.ts <base dir> <candidate dir>',
  );
  process.exit(2);
}
const databaseUrl = settings.databaseUrl;
const route = process.env.AB_ROUTE ?? 'booking';
if (!['booking', 'patient', 'list', 'me'].includes(route)) {
  console.error(`AB_ROUTE must be booking, patient, list or me, not ${route}`);
  process.exit(2);
}

/** The request a round sends to a side (bookings each get their own free slot). */
function target(side: Side) {
  const auth = { authorization: `Bearer ${side.token}` };
  if (route === 'booking') {
    return {
      url: `${side.url}/api/v1/appointments`,
      method: 'POST' as const,
      headers: { ...auth, 'content-type': 'application/json' },
      booking: { ...side.plan },
    };
  }
  const path = {
    patient: `/patients/${side.plan.patientIds[0] ?? ''}`,
    list: '/patients?limit=100',
    me: '/users/me',
  }[route as 'patient' | 'list' | 'me'];
  return { url: `${side.url}/api/v1${path}`, method: 'GET' as const, headers: auth };
}

interface Side {
  name: string;
  url: string;
  token: string;
  plan: BookingPlan;
  runs: LoadResult[];
}

function exited(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => child.once('exit', resolve));
}

async function open(name: string, dir: string): Promise<Side> {
  const scratch = await createScratchDatabase(databaseUrl);
  onCleanup(scratch.drop);
  const env = {
    ...process.env,
    DATABASE_URL: scratch.url,
    NODE_ENV: 'production',
    LOG_LEVEL: 'warn',
    JWT_SECRET: 'bench-secret-bench-secret-bench-secret-0000',
    MFA_ENCRYPTION_KEY: 'bench-mfa-key-bench-mfa-key-bench-mfa-0000',
    RATE_LIMIT_ENABLED: 'false',
    REMINDER_LEAD_MINUTES: '0',
  };
  const work = mkdtempSync(join(tmpdir(), 'medcore-ab-'));
  onCleanup(async () => {
    rmSync(work, { recursive: true, force: true });
  });
  const out = join(work, 'seed.json');
  const seeding = track(
    spawn(
      process.execPath,
      ['--import', 'tsx', 'bench/seed.ts', String(settings.patients), '20', out],
      {
        cwd: dir,
        env: { ...env, DATA_DIR: join(work, 'data') },
        stdio: ['ignore', 'inherit', 'inherit'],
      },
    ),
  );
  if ((await exited(seeding)) !== 0) throw new Error(`${name}: seeding failed`);
  const seed = JSON.parse(readFileSync(out, 'utf8')) as SeedResult;
  const port = await freePort();
  const server = track(
    spawn(process.execPath, ['dist/cli.js', 'serve'], {
      cwd: dir,
      env: { ...env, PORT: String(port), HOST: '127.0.0.1', DATA_DIR: join(work, 'data') },
      stdio: ['ignore', 2, 2],
    }),
  );
  onCleanup(async () => {
    server.kill('SIGTERM');
    await exited(server);
  });
  const url = `http://127.0.0.1:${port}`;
  await waitForHttp(`${url}/health`, 60_000, () => server.exitCode !== null);
  const login = await postJson(`${url}/api/v1/auth/login`, benchAdmin);
  const { access_token: token } = (await login.json()) as { access_token: string };
  const plan: BookingPlan = {
    doctorIds: seed.doctorIds,
    patientIds: seed.patientIds,
    firstMonday: firstMondayAfter(new Date(), new Date('2026-02-01T00:00:00Z')),
    firstRequest: 0,
  };
  return { name, url, token, plan, runs: [] };
}

try {
  const sides = [await open('base', baseDir), await open('candidate', candidateDir)];
  for (let round = 0; round < settings.rounds; round++) {
    // Alternate which build goes first, so neither always runs on a warmer machine.
    const order = round % 2 === 0 ? sides : [...sides].reverse();
    for (const side of order) {
      const result = await runLoad(
        {
          ...target(side),
          connections: settings.connections,
          warmupSeconds: settings.warmupSeconds,
          seconds: settings.seconds,
        },
        () => undefined,
      );
      side.plan.firstRequest += result.generated;
      side.runs.push(result);
      console.error(
        `round ${round + 1} ${side.name}: ${Math.round(result.rps)} req/s, p99 ${result.p99} ms, non-2xx ${result.non2xx}`,
      );
    }
  }
  const [base, candidate] = sides as [Side, Side];
  const rps = (side: Side) => median(side.runs.map((r) => r.rps));
  console.log(
    JSON.stringify({
      route,
      base: {
        rps: rps(base),
        p99: Math.max(...base.runs.map((r) => r.p99)),
        non2xx: base.runs.reduce((n, r) => n + r.non2xx, 0),
      },
      candidate: {
        rps: rps(candidate),
        p99: Math.max(...candidate.runs.map((r) => r.p99)),
        non2xx: candidate.runs.reduce((n, r) => n + r.non2xx, 0),
      },
      ratio: rps(candidate) / rps(base),
    }),
  );
} finally {
  await cleanup();
}
