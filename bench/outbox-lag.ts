/**
 * Outbox delivery lag and SSE fan-out latency under a booking load (issue 13).
 *
 *   BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres [BENCH_REDIS_URL=redis://127.0.0.1:6379] \
 *     npx tsx bench/outbox-lag.ts [bookings=1000] [concurrency=16]
 *
 * Two MedCore instances (two apps in this process, each listening on its own port) share a
 * scratch PostgreSQL database (and Redis when given, else LISTEN/NOTIFY). Clients book through
 * both instances alternately. Measured per event:
 * - delivery lag: from the event row's created_at (inside the booking's transaction) to the
 *   moment a consumer on either instance gets it;
 * - SSE fan-out: from the moment the booking's 201 reached the client to the moment the event
 *   arrived on a stream connected to the OTHER instance (and, for comparison, the same one).
 * Without BENCH_DATABASE_URL, one instance on the embedded database (no cross-instance figure).
 */
import { performance } from 'node:perf_hooks';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { createAccount } from '../src/modules/users/users.service.js';
import { openSse } from '../test/sse-client.js';
import { createScratchDatabase } from './pg-database.js';

const total = Number(process.argv[2] ?? 1_000);
const concurrency = Number(process.argv[3] ?? 16);
const serverUrl = process.env.BENCH_DATABASE_URL;
const redisUrl = process.env.BENCH_REDIS_URL;

function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN;
}
function summary(name: string, values: number[]): string {
  const s = [...values].sort((a, b) => a - b);
  return `${name}: n=${s.length} p50 ${quantile(s, 0.5).toFixed(1)} ms, p99 ${quantile(s, 0.99).toFixed(1)} ms, max ${(s.at(-1) ?? NaN).toFixed(1)} ms`;
}

const scratch = serverUrl === undefined ? undefined : await createScratchDatabase(serverUrl);
const env = {
  NODE_ENV: 'test',
  LOG_LEVEL: 'silent',
  JWT_SECRET: 'bench-secret-that-is-long-enough-0123456789',
  RATE_LIMIT_ENABLED: 'false',
  DATA_DIR: 'memory://',
  DB_POOL_MAX: '20',
  ...(scratch ? { DATABASE_URL: scratch.url } : {}),
  ...(scratch && redisUrl ? { REDIS_URL: redisUrl } : {}),
};
const apps: FastifyInstance[] = [];
try {
  const count = scratch ? 2 : 1;
  for (let i = 0; i < count; i++) apps.push(await buildApp(loadConfig(env), { logger: false }));
  const urls: string[] = [];
  for (const app of apps) {
    await app.listen({ host: '127.0.0.1', port: 0 });
    const address = app.server.address();
    if (address === null || typeof address === 'string') throw new Error('no port');
    urls.push(`http://127.0.0.1:${address.port}`);
  }
  const first = apps[0] as FastifyInstance;
  const login = async (role: 'admin' | 'doctor') => {
    const name = `${role}${Math.random().toString(16).slice(2, 10)}`;
    const row = await createAccount(
      first.ctx,
      { email: `${name}@bench.test`, username: name, password: 'a sturdy passphrase 42' },
      role,
    );
    const res = await fetch(`${urls[0]}/api/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: `${name}@bench.test`, password: 'a sturdy passphrase 42' }),
    });
    const body = (await res.json()) as { access_token: string };
    return { id: row.id, token: body.access_token };
  };
  const admin = await login('admin');
  const doctors = await Promise.all(Array.from({ length: 20 }, () => login('doctor')));
  const patients: string[] = [];
  for (let i = 0; i < doctors.length; i++) {
    const res = await fetch(`${urls[0]}/api/v1/patients`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${admin.token}` },
      body: JSON.stringify({ first_name: 'Bench', last_name: `Patient${i}` }),
    });
    patients.push(((await res.json()) as { id: string }).id);
  }

  // Consumers on every instance: delivery lag from the event's created_at.
  const delivery: number[] = [];
  for (const app of apps) {
    app.ctx.outbox.register({
      name: 'bench',
      handle: async (event) => {
        delivery.push(Date.now() - event.createdAt.getTime());
        await Promise.resolve();
      },
    });
  }
  // One stream per instance.
  const streams = await Promise.all(urls.map((url) => openSse(url, admin.token)));
  await new Promise((resolve) => setTimeout(resolve, 300));

  const booked: { id: string; at: number; via: number }[] = [];
  let next = 0;
  let refused = 0;
  const day0 = Date.UTC(
    new Date().getUTCFullYear(),
    new Date().getUTCMonth(),
    new Date().getUTCDate(),
  );
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (;;) {
        const k = next++;
        if (k >= total) return;
        const d = k % doctors.length;
        const slot = Math.floor(k / doctors.length);
        const startsAt = new Date(
          day0 + (1 + Math.floor(slot / 40)) * 86_400_000 + (slot % 40) * 1_800_000,
        );
        const via = k % urls.length;
        const doctor = doctors[d] as { id: string; token: string };
        const res = await fetch(`${urls[via]}/api/v1/appointments`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${doctor.token}` },
          body: JSON.stringify({
            patient_id: patients[d],
            doctor_id: doctor.id,
            starts_at: startsAt.toISOString(),
          }),
        });
        const at = performance.now();
        if (res.status !== 201) {
          refused++;
          await res.text();
          continue;
        }
        booked.push({ id: ((await res.json()) as { id: string }).id, at, via });
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  // Let the tail arrive.
  const deadline = performance.now() + 10_000;
  while (
    performance.now() < deadline &&
    (delivery.length < booked.length ||
      streams.some((stream) => stream.messages.length < booked.length))
  ) {
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  for (const stream of streams) stream.close();
  // Arrival time per appointment id, per stream (the first copy, should one come twice).
  const arrivals = streams.map((stream) => {
    const first = new Map<string, number>();
    for (const message of stream.messages) {
      const id = (JSON.parse(message.data) as { id: string }).id;
      if (!first.has(id)) first.set(id, message.at);
    }
    return first;
  });

  const same: number[] = [];
  const cross: number[] = [];
  let missing = 0;
  for (const b of booked) {
    arrivals.forEach((map, i) => {
      const arrived = map.get(b.id);
      if (arrived === undefined) missing++;
      else (i === b.via ? same : cross).push(arrived - b.at);
    });
  }
  console.log(
    `engine ${scratch ? 'PostgreSQL' : 'embedded'}; fan-out ${scratch ? (redisUrl ? 'Redis pub/sub' : 'LISTEN/NOTIFY') : 'in-process'}; ${apps.length} instance(s) in one process`,
  );
  console.log(
    `bookings: ${booked.length} x 201 (${refused} refused) in ${seconds.toFixed(1)} s = ${(booked.length / seconds).toFixed(0)}/s, concurrency ${concurrency}`,
  );
  console.log(summary('outbox delivery lag (created_at -> consumer)', delivery));
  console.log(summary('SSE, same instance (201 received -> event on stream)', same));
  if (cross.length > 0)
    console.log(summary('SSE, across instances (201 on A -> event on B)', cross));
  console.log(
    `events missing on a stream: ${missing}; consumer calls ${delivery.length} for ${booked.length} events`,
  );
} finally {
  for (const app of apps) await app.close();
  await scratch?.drop();
}
