import { spawnSync } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { strongPassword, unique } from './helpers.js';
import { onWorkingDay } from './working-hours.js';
import { field, http, type HttpAnswer } from './http-client.js';
import { buildOnce } from './image-layout.js';
import { clusterUnavailable, startCluster, type Cluster } from './multi-instance-support.js';
import { imageHealthcheck } from './packaging-support.js';
import { openSse, waitFor } from '../src/modules/outbox/outbox.test-support.js';
import { startSmtpSink, type SmtpSink } from '../src/modules/reminders/reminders.test-support.js';

/**
 * Issue 13, item 7: two MedCore processes on PostgreSQL + Redis behind a real nginx
 * (deploy/nginx.conf), started as the image starts them. Each claim is measured as a count and
 * printed after the run ("[multi-instance]"): shared revocation and rate limits, one booking of
 * a contested slot, an appointment event from A on a stream held on B, every due reminder sent
 * once with both instances running the reminder job (into a real SMTP server), and no
 * acknowledged write lost when B is killed.
 */
const unavailable = clusterUnavailable();
if (unavailable !== undefined) {
  console.warn(`[multi-instance] skipped: ${unavailable}`);
}

const AUTH_BUDGET = 8;
const figures: string[] = [];

// With TRUST_PROXY=true an instance takes the client's address from X-Forwarded-For. Calls made
// straight to an instance give each a documentation address of its own, so setting up never
// spends a budget a test measures; through nginx the header is replaced by the real address.
let lastOctet = 0;
function ownAddress(): Record<string, string> {
  lastOctet = (lastOctet % 250) + 1;
  return { 'x-forwarded-for': `203.0.113.${lastOctet}` };
}

function statusCounts(answers: { status: number }[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const { status } of answers) counts[status] = (counts[status] ?? 0) + 1;
  return counts;
}

describe.skipIf(unavailable !== undefined)(
  `two instances behind nginx${unavailable === undefined ? '' : ` (skipped: ${unavailable})`}`,
  () => {
    let cluster: Cluster;
    let stopCluster: (() => Promise<void>) | undefined;
    let adminToken: string;
    let sink: SmtpSink;

    async function loginAt(base: string, email: string, password: string) {
      const res = await http(base, 'POST', '/auth/login', {
        body: { email, password },
        headers: ownAddress(),
      });
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      return { access: field(res, 'access_token'), refresh: field(res, 'refresh_token') };
    }

    async function createStaff(role: string) {
      const username = unique(role);
      const email = `${username}@example.test`;
      const res = await http(cluster.a.url, 'POST', '/users', {
        token: adminToken,
        body: { email, username, password: strongPassword, role },
      });
      expect(res.status, JSON.stringify(res.body)).toBe(201);
      return { id: field(res, 'id'), email, password: strongPassword };
    }

    async function createPatient(base: string, lastName: string): Promise<string> {
      const res = await http(base, 'POST', '/patients', {
        token: adminToken,
        body: { first_name: 'Test', last_name: lastName },
      });
      expect(res.status, JSON.stringify(res.body)).toBe(201);
      return field(res, 'id');
    }

    beforeAll(async () => {
      const startedAt = performance.now();
      await buildOnce();
      const builtAt = performance.now();
      sink = await startSmtpSink();
      cluster = await startCluster({
        env: {
          RATE_LIMIT_AUTH_PER_MIN: String(AUTH_BUDGET),
          RATE_LIMIT_PER_MIN: '100000',
          // Both instances run the reminder job; a day's lead makes every booking below due.
          SMTP_URL: sink.url,
          REMINDER_LEAD_MINUTES: '1440',
          JOBS_POLL_INTERVAL_MS: '200',
        },
      });
      stopCluster = cluster.stop;
      const email = `${unique('admin')}@example.test`;
      const made = await cluster.cli([
        'create-admin',
        '--email',
        email,
        '--password',
        strongPassword,
      ]);
      expect(made.code, made.stderr).toBe(0);
      adminToken = (await loginAt(cluster.a.url, email, strongPassword)).access;
      figures.push(
        `build ${Math.round(builtAt - startedAt)} ms; cluster (database, migrations, 2 instances, ` +
          `nginx, an admin) up in ${Math.round(performance.now() - builtAt)} ms`,
      );
    }, 180_000);

    afterAll(async () => {
      await stopCluster?.();
      await sink.stop();
      if (figures.length > 0) console.info(['[multi-instance]', ...figures].join('\n  '));
    }, 60_000);

    it('a session revoked through A is refused by B within 1 s (logout, then deactivation)', async () => {
      const delays: Record<string, number> = {};
      for (const how of ['logout', 'deactivation'] as const) {
        const user = await createStaff('nurse');
        const tokens = await loginAt(cluster.a.url, user.email, user.password);
        // B has just seen the session valid, so its cache may hold it from here on.
        const seen = await http(cluster.b.url, 'GET', '/users/me', { token: tokens.access });
        expect(seen.status).toBe(200);
        const revoked =
          how === 'logout'
            ? await http(cluster.a.url, 'POST', '/auth/logout', {
                token: tokens.access,
                headers: ownAddress(),
              })
            : await http(cluster.a.url, 'DELETE', `/users/${user.id}`, { token: adminToken });
        expect(revoked.status).toBe(204);
        const revokedAt = performance.now();
        let refusedAfter = Number.POSITIVE_INFINITY;
        while (performance.now() - revokedAt < 3_000) {
          const res = await http(cluster.b.url, 'GET', '/users/me', { token: tokens.access });
          if (res.status === 401) {
            refusedAfter = performance.now() - revokedAt;
            break;
          }
          expect(res.status).toBe(200);
          await sleep(10);
        }
        delays[how] = Math.round(refusedAfter);
        // The refresh token is dead on B as well.
        const refreshed = await http(cluster.b.url, 'POST', '/auth/refresh', {
          body: { refresh_token: tokens.refresh },
          headers: ownAddress(),
        });
        expect(refreshed.status).toBe(401);
      }
      const within = Object.values(delays).filter((ms) => ms < 1_000).length;
      figures.push(
        `revoked through A, refused by B within 1 s: ${within} of 2 ` +
          `(logout after ${delays.logout} ms, deactivation after ${delays.deactivation} ms)`,
      );
      expect(delays.logout).toBeLessThan(1_000);
      expect(delays.deactivation).toBeLessThan(1_000);
    });

    it('rate limits are one budget for both instances; through nginx a client cannot pick its bucket', async () => {
      const attempt = (base: string, headers: Record<string, string>) =>
        http(base, 'POST', '/auth/login', {
          body: { email: `${unique()}@example.test`, password: 'not the password 1' },
          headers,
        });
      const client = { 'x-forwarded-for': '198.51.100.7' };
      const remaining: number[] = [];
      for (let i = 0; i < AUTH_BUDGET; i++) {
        const res = await attempt(i % 2 === 0 ? cluster.a.url : cluster.b.url, client);
        expect(res.status).toBe(401);
        remaining.push(Number(res.headers.get('ratelimit-remaining')));
      }
      expect(remaining).toEqual(Array.from({ length: AUTH_BUDGET }, (_, i) => AUTH_BUDGET - 1 - i));
      const refused = [await attempt(cluster.a.url, client), await attempt(cluster.b.url, client)];
      expect(refused.map((res) => res.status)).toEqual([429, 429]);
      figures.push(
        `shared rate limit: ${AUTH_BUDGET} of ${AUTH_BUDGET} login attempts allowed alternating A and B, ` +
          `then ${refused.filter((res) => res.status === 429).length} of 2 refused (429 on A and on B)`,
      );

      // Through nginx every request claims another address; nginx replaces it with the real one.
      const logFrom = cluster.accessLog().length;
      const statuses: number[] = [];
      for (let i = 0; i <= AUTH_BUDGET; i++) {
        statuses.push(
          (await attempt(cluster.lb, { 'x-forwarded-for': `192.0.2.${i + 1}` })).status,
        );
      }
      expect(statuses).toEqual([...Array<number>(AUTH_BUDGET).fill(401), 429]);
      await sleep(100);
      const served = new Set(
        cluster
          .accessLog()
          .slice(logFrom)
          .flatMap((line) => line.upstreams),
      );
      expect(served).toEqual(
        new Set([`127.0.0.1:${cluster.a.port}`, `127.0.0.1:${cluster.b.port}`]),
      );
      figures.push(
        `through nginx with a forged X-Forwarded-For on each: ${statuses.filter((s) => s === 401).length} allowed, ` +
          `request ${AUTH_BUDGET + 1} refused (429), served by ${served.size} instances`,
      );
    });

    it('20 parallel bookings of one slot, 10 on A and 10 on B: one 201 and 19 409', async () => {
      const doctor = await createStaff('doctor');
      const tag = unique('race');
      const patients = await Promise.all(
        Array.from({ length: 20 }, (_, i) => createPatient(cluster.a.url, `${tag}-${i}`)),
      );
      const slot = new Date(onWorkingDay(0, 10));
      const answers = await Promise.all(
        patients.map((patientId, i) =>
          http(i % 2 === 0 ? cluster.a.url : cluster.b.url, 'POST', '/appointments', {
            token: adminToken,
            body: {
              patient_id: patientId,
              doctor_id: doctor.id,
              starts_at: slot.toISOString(),
              duration_minutes: 30,
            },
          }),
        ),
      );
      const counts = statusCounts(answers);
      const winner = answers.findIndex((res) => res.status === 201);
      figures.push(
        `parallel bookings of one slot: ${counts[201] ?? 0} of 20 created (201), ${counts[409] ?? 0} refused (409), ` +
          `the winner on instance ${winner % 2 === 0 ? 'A' : 'B'}`,
      );
      expect(counts).toEqual({ 201: 1, 409: 19 });
      const booked = await http(cluster.b.url, 'GET', `/appointments?doctor_id=${doctor.id}`, {
        token: adminToken,
      });
      expect((booked.body as { items: unknown[] }).items).toHaveLength(1);
    });

    it('nginx passes a large answer through intact (buffered to its temporary files)', async () => {
      const direct = await (await fetch(`${cluster.a.url}/openapi.json`)).text();
      const proxied = await fetch(`${cluster.lb}/openapi.json`);
      expect(proxied.status).toBe(200);
      expect(direct.length).toBeGreaterThan(100_000);
      expect(await proxied.text()).toBe(direct);
    });

    it('an appointment booked on A reaches an event stream held on B', async () => {
      const stream = await openSse(cluster.b.url, adminToken);
      try {
        expect(stream.status).toBe(200);
        await waitFor(() => stream.retries.length > 0);
        const doctor = await createStaff('doctor');
        const patientId = await createPatient(cluster.a.url, unique('sse'));
        const sentAt = performance.now();
        const booked = await http(cluster.a.url, 'POST', '/appointments', {
          token: adminToken,
          body: { patient_id: patientId, doctor_id: doctor.id, starts_at: onWorkingDay(1, 11) },
        });
        expect(booked.status, JSON.stringify(booked.body)).toBe(201);
        const id = field(booked, 'id');
        const ofBooking = () =>
          stream.messages.filter(
            (m) =>
              m.event === 'appointment.booked' && (JSON.parse(m.data) as { id: string }).id === id,
          );
        await waitFor(() => ofBooking().length > 0, 10_000);
        await sleep(300);
        const seen = ofBooking();
        figures.push(
          `SSE across instances: booked on A, on B's stream ${seen.length} time(s), ` +
            `${Math.round((seen[0]?.at ?? Infinity) - sentAt)} ms after the request was sent`,
        );
        expect(seen).toHaveLength(1);
      } finally {
        stream.close();
      }
    });

    it('every due reminder reaches the SMTP sink exactly once with both instances dispatching', async () => {
      const COUNT = 12;
      const doctor = await createStaff('doctor');
      const tag = unique('rem');
      const addresses: string[] = [];
      const firstStart = Math.ceil((Date.now() + 2 * 3_600_000) / 60_000) * 60_000;
      for (let i = 0; i < COUNT; i++) {
        const address = `${tag}-${i}@example.test`;
        const patient = await http(cluster.a.url, 'POST', '/patients', {
          token: adminToken,
          body: { first_name: 'Remi', last_name: `${tag}-${i}`, email: address },
        });
        expect(patient.status, JSON.stringify(patient.body)).toBe(201);
        // Within a day, so the 1440-minute reminder is due at once; the admin may book at any hour.
        const booked = await http(
          i % 2 === 0 ? cluster.a.url : cluster.b.url,
          'POST',
          '/appointments?allow_outside_hours=true',
          {
            token: adminToken,
            body: {
              patient_id: field(patient, 'id'),
              doctor_id: doctor.id,
              starts_at: new Date(firstStart + i * 10 * 60_000).toISOString(),
              duration_minutes: 5,
            },
          },
        );
        expect(booked.status, JSON.stringify(booked.body)).toBe(201);
        addresses.push(address);
      }
      await waitFor(() => addresses.every((a) => sink.to(a).length > 0), 30_000);
      // Many more passes of both jobs: a second send would show up by now.
      await sleep(2_000);
      const once = addresses.filter((a) => sink.to(a).length === 1).length;
      const total = addresses.reduce((sum, a) => sum + sink.to(a).length, 0);
      figures.push(
        `reminders with both instances running the job: ${once} of ${COUNT} delivered exactly once ` +
          `(${total} emails for ${COUNT} due reminders)`,
      );
      expect(once).toBe(COUNT);
      expect(total).toBe(COUNT);
    });

    it('kill -9 of B under a load through nginx: A takes over, no acknowledged write is lost', async () => {
      const WRITERS = 6;
      const READERS = 2;
      const KILL_AT_MS = 1_500;
      const LOAD_MS = 4_000;
      const MAX_REQUESTS = 4_000;
      const tag = unique('load');
      const bAddress = `127.0.0.1:${cluster.b.port}`;
      const readId = await createPatient(cluster.a.url, `${tag}-read`);
      const logFrom = cluster.accessLog().length;
      interface Result {
        sentAt: number;
        doneAt: number;
        status: number;
        id?: string;
      }
      const writes: Result[] = [];
      const reads: Result[] = [];
      const startedAt = performance.now();
      const clock = () => performance.now() - startedAt;
      let killedAt = Number.POSITIVE_INFINITY;
      const killing = sleep(KILL_AT_MS).then(async () => {
        killedAt = clock();
        await cluster.kill('b', 'SIGKILL');
      });
      const loop = async (results: Result[], send: (i: number) => Promise<HttpAnswer>) => {
        for (let i = 0; clock() < LOAD_MS && writes.length + reads.length < MAX_REQUESTS; i++) {
          const sentAt = clock();
          const res = await send(i);
          const ok = res.status >= 200 && res.status < 300;
          results.push({
            sentAt,
            doneAt: clock(),
            status: res.status,
            ...(ok ? { id: field(res, 'id') } : {}),
          });
        }
      };
      await Promise.all([
        ...Array.from({ length: WRITERS }, (_, client) =>
          loop(writes, (i) =>
            http(cluster.lb, 'POST', '/patients', {
              token: adminToken,
              body: { first_name: 'Load', last_name: `${tag}-${client}-${i}` },
              timeoutMs: 5_000,
            }),
          ),
        ),
        ...Array.from({ length: READERS }, () =>
          loop(reads, () =>
            http(cluster.lb, 'GET', `/patients/${readId}`, { token: adminToken, timeoutMs: 5_000 }),
          ),
        ),
      ]);
      await killing;
      expect(cluster.b.process.signalCode).toBe('SIGKILL');

      const db = new pg.Client({ connectionString: cluster.databaseUrl });
      await db.connect();
      const stored = await db
        .query<{ id: string }>(
          "select id from patients where last_name like $1 and first_name = 'Load'",
          [`${tag}-%`],
        )
        .finally(() => db.end());
      const storedIds = new Set(stored.rows.map((row) => row.id));
      const acknowledged = writes.filter((r) => r.id !== undefined);
      const lost = acknowledged.filter((r) => !storedIds.has(r.id ?? ''));
      const failed = writes.filter((r) => r.id === undefined);
      const failedReads = reads.filter((r) => r.id === undefined);
      const afterKill = acknowledged.filter((r) => r.sentAt > killedAt);
      await sleep(100);
      const lines = cluster.accessLog().slice(logFrom);
      const createdByB = lines.filter(
        (l) => l.method === 'POST' && l.status === 201 && l.upstreams.at(-1) === bAddress,
      );
      const movedOn = lines.filter((l) => l.upstreams.length > 1 && l.status < 500);
      figures.push(
        `kill -9 of B at ${Math.round(killedAt)} ms of a ${LOAD_MS} ms load through nginx ` +
          `(${WRITERS} writers creating patients, ${READERS} readers): ` +
          `${lost.length} of ${acknowledged.length} acknowledged writes lost; ` +
          `${failed.length} of ${writes.length} writes failed ${JSON.stringify(statusCounts(failed))} (in flight on B, not retried: POST); ` +
          `${failedReads.length} of ${reads.length} reads failed; ` +
          `${createdByB.length} patients created by B before the kill, ${afterKill.length} writes acknowledged after it (by A); ` +
          `${movedOn.length} requests passed on by nginx from B to A`,
      );
      expect(lost).toEqual([]);
      expect(failedReads).toEqual([]);
      expect(createdByB.length).toBeGreaterThan(0);
      expect(afterKill.length).toBeGreaterThan(0);
      // Only the writes B held when it died may fail, and only around the kill.
      expect(failed.length).toBeLessThanOrEqual(WRITERS);
      for (const r of failed) {
        expect(r.status).toBe(502);
        expect(r.doneAt).toBeGreaterThanOrEqual(killedAt);
        expect(r.sentAt).toBeLessThan(killedAt + 1_000);
      }
      // Every stored row of the load was acknowledged, or failed mid-flight on B.
      expect(storedIds.size - acknowledged.length).toBeLessThanOrEqual(failed.length);
    });

    it("the image's HEALTHCHECK command passes on a live instance and fails on a dead one", async () => {
      // B is dead since the test above (or dies here when this test runs alone).
      await cluster.kill('b');
      const [program, ...args] = imageHealthcheck().command;
      expect(program).toBe('node');
      const check = (port: number) =>
        spawnSync(process.execPath, args, {
          env: { PATH: process.env.PATH, PORT: String(port) },
          timeout: 10_000,
        }).status;
      expect(check(cluster.a.port)).toBe(0);
      expect(check(cluster.b.port)).toBe(1);
    });
  },
);
