import { performance } from 'node:perf_hooks';
import type { LightMyRequestResponse } from 'fastify';
import { sql } from 'drizzle-orm';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isDatabaseUnavailable } from '../src/lib/db-errors.js';
import {
  bearer,
  buildTestApp,
  createUser,
  problemOf,
  unique,
  type TestApp,
  type TestUser,
} from './helpers.js';
import { startTcpProxy, type TcpProxy } from './tcp-proxy.js';

/**
 * SECURITY.md, Resilience: PostgreSQL down -> 503 with Retry-After within 100 ms (refused) or
 * 2 s (frozen), back to normal within 1 s of the database returning, no acknowledged write lost;
 * Redis down -> degrade or 503 within 500 ms, never hang. The outages are played by a TCP proxy
 * in front of the shared servers, which other test files keep using meanwhile.
 */
const pgBase = process.env.TEST_DATABASE_URL;
const redisBase = process.env.TEST_REDIS_URL;

// Loopback answers a refused connection in about a millisecond; the bounds leave room for a
// loaded CI machine while still catching a request that waits for a timeout.
const REFUSED_BOUND_MS = 500;
const FROZEN_BOUND_MS = 2_500;
const RECOVERY_BOUND_MS = 1_000;
const REDIS_BOUND_MS = 500;

interface Timed {
  res: LightMyRequestResponse;
  ms: number;
}

async function timed(run: () => Promise<LightMyRequestResponse>): Promise<Timed> {
  const started = performance.now();
  const res = await run();
  return { res, ms: Math.round(performance.now() - started) };
}

function report(label: string, values: number[]): void {
  const sorted = [...values].sort((a, b) => a - b);
  console.log(
    `[outage] ${label}: n=${sorted.length} min=${sorted[0] ?? '-'} ms ` +
      `max=${sorted.at(-1) ?? '-'} ms`,
  );
}

function expectUnavailable({ res }: Timed): void {
  expect(res.statusCode, res.body).toBe(503);
  expect(problemOf(res).status).toBe(503);
  expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
}

/** The route of the proxy instead of the real server, keeping user, password and database. */
function viaProxy(url: string, proxy: TcpProxy): string {
  const routed = new URL(url);
  routed.hostname = '127.0.0.1';
  routed.port = String(proxy.port);
  return routed.toString();
}

function targetOf(url: string, defaultPort: number) {
  const parsed = new URL(url);
  return { host: parsed.hostname, port: Number(parsed.port || defaultPort) };
}

function api(t: TestApp, user: TestUser) {
  return {
    me: () =>
      timed(() =>
        t.app.inject({ method: 'GET', url: '/api/v1/users/me', headers: bearer(user.accessToken) }),
      ),
    createPatient: () =>
      timed(() =>
        t.app.inject({
          method: 'POST',
          url: '/api/v1/patients',
          headers: bearer(user.accessToken),
          payload: { first_name: unique('Ada'), last_name: unique('Outage') },
        }),
      ),
    ready: () => timed(() => t.app.inject('/health/ready')),
  };
}

describe.skipIf(pgBase === undefined)(
  'PostgreSQL outage through a TCP proxy (runs only when TEST_DATABASE_URL is set)',
  () => {
    let proxy: TcpProxy;
    let t: TestApp;
    let doctor: TestUser;
    let call: ReturnType<typeof api>;
    /** Ids of every patient whose creation was acknowledged with a 201. */
    const acknowledged: string[] = [];

    const write = async () => {
      const result = await call.createPatient();
      if (result.res.statusCode === 201) acknowledged.push(result.res.json<{ id: string }>().id);
      return result;
    };

    beforeAll(async () => {
      proxy = await startTcpProxy(targetOf(pgBase ?? '', 5432));
      // The pool size these tests reason about (bursts and leaks beyond the pool).
      t = await buildTestApp(
        // And the production timeouts (the test default is longer): a frozen server must
        // answer within FROZEN_BOUND_MS.
        {
          DB_POOL_MAX: '10',
          // GET /users/me is the read that must reach the database here; with the session and
          // profile caches on, it would be answered from memory for AUTH_CACHE_MS.
          AUTH_CACHE_MS: '0',
          DB_CONNECT_TIMEOUT_MS: '1000',
          DB_QUERY_TIMEOUT_MS: '1500',
          DB_STATEMENT_TIMEOUT_MS: '1500',
        },
        { routeDatabaseUrl: (url) => viaProxy(url, proxy) },
      );
      doctor = await createUser(t.app, 'doctor');
      call = api(t, doctor);
    });
    afterAll(async () => {
      await proxy.pass();
      await t.close();
      await proxy.close();
    });

    it('answers 503 with Retry-After at once while connections are refused', async () => {
      for (let i = 0; i < 3; i++) expect((await write()).res.statusCode).toBe(201);
      await proxy.refuse();
      const reads: number[] = [];
      const writes: number[] = [];
      for (let i = 0; i < 5; i++) {
        const read = await call.me();
        expectUnavailable(read);
        reads.push(read.ms);
        const written = await write();
        expectUnavailable(written);
        writes.push(written.ms);
      }
      report('refused, GET /users/me -> 503', reads);
      report('refused, POST /patients -> 503', writes);
      expect(Math.max(...reads, ...writes)).toBeLessThan(REFUSED_BOUND_MS);

      const ready = await call.ready();
      expect(ready.res.statusCode).toBe(503);
      expect(ready.res.json<{ failing: string[] }>().failing).toContain('database');
      expect(ready.ms).toBeLessThan(REFUSED_BOUND_MS);
    });

    it('recovers within 1 s of the database accepting connections again', async () => {
      await proxy.pass();
      const recovery = await firstSuccess(() => call.me());
      console.log(`[outage] recovery after refused: first 200 after ${recovery} ms`);
      expect(recovery).toBeLessThan(RECOVERY_BOUND_MS);
      expect((await write()).res.statusCode).toBe(201);
      expect((await call.ready()).res.statusCode).toBe(200);
    });

    it('answers 503 within 2 s while the server is frozen (accepts, never answers)', async () => {
      // Warm connections exist in the pool, as in production: the freeze catches them mid-use.
      expect((await call.me()).res.statusCode).toBe(200);
      await proxy.freeze();
      const first = await call.me();
      expectUnavailable(first);
      const written = await write();
      expectUnavailable(written);
      // More callers than pooled connections: the extra ones wait for a connection, not forever.
      const burst = await Promise.all(
        Array.from({ length: 15 }, (_, i) => (i % 3 === 0 ? write() : call.me())),
      );
      for (const result of burst) expectUnavailable(result);
      report('frozen, GET /users/me -> 503', [first.ms]);
      report('frozen, POST /patients -> 503', [written.ms]);
      report(
        'frozen, burst of 15 (pool max 10) -> 503',
        burst.map((r) => r.ms),
      );
      expect(Math.max(first.ms, written.ms, ...burst.map((r) => r.ms))).toBeLessThan(
        FROZEN_BOUND_MS,
      );

      const ready = await call.ready();
      expect(ready.res.statusCode).toBe(503);
      expect(ready.res.json<{ failing: string[] }>().failing).toContain('database');
      console.log(`[outage] frozen, /health/ready -> 503 in ${ready.ms} ms`);
      expect(ready.ms).toBeLessThan(FROZEN_BOUND_MS);
    });

    it('recovers within 1 s of a frozen database answering again, without a restart', async () => {
      await proxy.pass();
      const recovery = await firstSuccess(() => call.me());
      console.log(`[outage] recovery after frozen: first 200 after ${recovery} ms`);
      expect(recovery).toBeLessThan(RECOVERY_BOUND_MS);
      // Every later request works too: no connection broken by the freeze is handed out again.
      const after = await Promise.all(
        Array.from({ length: 15 }, (_, i) => (i % 3 === 0 ? write() : call.me())),
      );
      expect(after.map((r) => r.res.statusCode)).toEqual(
        Array.from({ length: 15 }, (_, i) => (i % 3 === 0 ? 201 : 200)),
      );
      expect((await call.ready()).res.statusCode).toBe(200);
    });

    it('survives the server going away in the middle of a transaction', async () => {
      // The connection a transaction holds is outside pg-pool's care: its 'error' event once
      // had no listener and took the whole process down with it.
      const { db } = t.app.database;
      const inFlight = db.transaction(async (tx) => {
        await tx.execute(sql`select 1`);
        await proxy.refuse();
        await tx.execute(sql`select 2`);
      });
      await expect(inFlight).rejects.toSatisfy(isDatabaseUnavailable);
      await proxy.pass();
      expect((await call.me()).res.statusCode).toBe(200);
    });

    it('leaks no pooled connection through transactions that fail to begin', async () => {
      // A transaction whose BEGIN fails on a warm connection (the server died between two
      // requests) must give the connection back. Twice as many failures as the pool holds
      // (DB_POOL_MAX 10): one leak each would leave the pool full and the app down for good.
      const { db } = t.app.database;
      const transaction = () => db.transaction((tx) => tx.execute(sql`select pg_sleep(0.05)`));
      for (let round = 0; round < 2; round++) {
        await Promise.all(Array.from({ length: 10 }, transaction));
        await proxy.freeze();
        const failures = await Promise.allSettled(Array.from({ length: 10 }, transaction));
        for (const failure of failures) {
          expect(failure.status).toBe('rejected');
          if (failure.status === 'rejected') {
            expect(isDatabaseUnavailable(failure.reason)).toBe(true);
          }
        }
        await proxy.pass();
      }
      const after = await Promise.all(Array.from({ length: 10 }, () => write()));
      expect(after.map((r) => r.res.statusCode)).toEqual(Array(10).fill(201));
    });

    it('loses no acknowledged write while the database flaps', async () => {
      const statuses = new Map<number, number>();
      let slowest = 0;
      let stop = false;
      // Four writers keep going through every state of the proxy.
      const writers = Array.from({ length: 4 }, async () => {
        while (!stop) {
          const { res, ms } = await write();
          statuses.set(res.statusCode, (statuses.get(res.statusCode) ?? 0) + 1);
          slowest = Math.max(slowest, ms);
        }
      });
      const phases: [() => Promise<void>, number][] = [
        [() => proxy.pass(), 300],
        [() => proxy.refuse(), 200],
        [() => proxy.pass(), 300],
        [() => proxy.freeze(), 800],
        [() => proxy.pass(), 300],
        [() => proxy.refuse(), 150],
        [() => proxy.pass(), 300],
      ];
      for (const [enter, ms] of phases) {
        await enter();
        await new Promise((resolve) => setTimeout(resolve, ms));
      }
      stop = true;
      await Promise.all(writers);
      console.log(
        `[outage] flapping: statuses ${JSON.stringify(Object.fromEntries(statuses))}, ` +
          `slowest ${slowest} ms, acknowledged so far ${acknowledged.length}`,
      );
      // Only "created" or "try again": never a 500, never a hang.
      expect([...statuses.keys()].every((status) => status === 201 || status === 503)).toBe(true);
      expect(statuses.get(201)).toBeGreaterThan(0);
      expect(statuses.get(503)).toBeGreaterThan(0);
      expect(slowest).toBeLessThan(FROZEN_BOUND_MS);

      // Checked on the server itself, past the proxy and the app.
      const direct = new pg.Client({ connectionString: directUrl(t.config.databaseUrl ?? '') });
      await direct.connect();
      try {
        const { rows } = await direct.query<{ id: string }>(
          'select id::text from patients where id = any($1::uuid[])',
          [acknowledged],
        );
        expect(new Set(rows.map((row) => row.id))).toEqual(new Set(acknowledged));
      } finally {
        await direct.end();
      }
      console.log(`[outage] acknowledged writes: ${acknowledged.length}, all present`);
    });
  },
);

describe.skipIf(redisBase === undefined)(
  'Redis outage through a TCP proxy (runs only when TEST_REDIS_URL is set)',
  () => {
    let proxy: TcpProxy;
    let t: TestApp;
    let doctor: TestUser;
    let call: ReturnType<typeof api>;

    beforeAll(async () => {
      proxy = await startTcpProxy(targetOf(redisBase ?? '', 6379));
      t = await buildTestApp({
        REDIS_URL: viaProxy(redisBase ?? '', proxy),
        // Rate limits are the feature that needs Redis; generous budgets keep them from firing.
        RATE_LIMIT_ENABLED: 'true',
        RATE_LIMIT_PER_MIN: '100000',
        RATE_LIMIT_AUTH_PER_MIN: '100000',
        RATE_LIMIT_KEY_PREFIX: `medcore:test:${unique()}:`,
      });
      doctor = await createUser(t.app, 'doctor');
      call = api(t, doctor);
      expect(await firstSuccess(() => call.ready(), 3_000)).toBeLessThan(3_000);
    });
    afterAll(async () => {
      await proxy.pass();
      await t.close();
      await proxy.close();
    });

    for (const outage of ['refuse', 'freeze'] as const) {
      it(`names redis in readiness and keeps serving the API when Redis is ${outage === 'refuse' ? 'refusing' : 'frozen'}`, async () => {
        await proxy[outage]();
        const readiness: number[] = [];
        const requests: number[] = [];
        for (let i = 0; i < 5; i++) {
          const ready = await call.ready();
          expect(ready.res.statusCode).toBe(503);
          expect(ready.res.json<{ failing: string[] }>().failing).toEqual(['redis']);
          readiness.push(ready.ms);
          const me = await call.me();
          expect(me.res.statusCode).toBe(200);
          const written = await call.createPatient();
          expect(written.res.statusCode).toBe(201);
          requests.push(me.ms, written.ms);
        }
        report(`redis ${outage}, /health/ready -> 503`, readiness);
        report(`redis ${outage}, API requests -> 200/201`, requests);
        expect(Math.max(...readiness, ...requests)).toBeLessThan(REDIS_BOUND_MS);

        await proxy.pass();
        const recovery = await firstSuccess(() => call.ready(), 3_000);
        console.log(`[outage] redis ${outage}: readiness 200 again after ${recovery} ms`);
        expect(recovery).toBeLessThan(3_000);
      });
    }
  },
);

/** Milliseconds until `attempt` answers 2xx, trying every 10 ms; fails after `limitMs`. */
async function firstSuccess(attempt: () => Promise<Timed>, limitMs = 5_000): Promise<number> {
  const started = performance.now();
  for (;;) {
    const { res } = await attempt();
    const elapsed = Math.round(performance.now() - started);
    if (res.statusCode < 300) return elapsed;
    if (elapsed > limitMs) throw new Error(`still ${res.statusCode} after ${elapsed} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** The app's database URL with the real server's address in place of the proxy's. */
function directUrl(routed: string): string {
  const direct = new URL(routed);
  const base = new URL(pgBase ?? '');
  direct.hostname = base.hostname;
  direct.port = base.port;
  return direct.toString();
}
