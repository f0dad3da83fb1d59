import { AsyncLocalStorage } from 'node:async_hooks';
import { sql } from 'drizzle-orm';
import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  bearer,
  buildTestApp,
  createUser,
  login,
  strongPassword,
  type TestApp,
  type TestUser,
} from './helpers.js';
import { onWorkingDay } from './working-hours.js';

/**
 * The SQL statements each hot route sends, counted with a drizzle query logger. A statement
 * added to one of these routes fails here: if it is needed, change the expected count and say
 * why in the commit.
 *
 * Transaction control (BEGIN/COMMIT) is counted apart: the in-process PGlite driver opens its
 * transactions itself, where drizzle's logger does not see them, so there it reads 0.
 */
const TX_CONTROL = /^\s*(begin|commit|rollback|savepoint|release)\b/i;

// Statements are recorded into the list of the request that sent them, so timers of the app
// (background work started elsewhere) never count towards a request.
const requestStatements = new AsyncLocalStorage<string[]>();
const queryLogger = {
  logQuery(query: string) {
    requestStatements.getStore()?.push(query);
  },
};

let t: TestApp;
let doctor: TestUser;
let patientId = '';
let day = 1;

beforeAll(async () => {
  t = await buildTestApp(
    // The warm request must come within the session cache's lifetime.
    { WORKDAYS: '1-7', AUTH_CACHE_MS: '900' },
    { queryLogger },
  );
  doctor = await createUser(t.app, 'doctor');
  for (const [first_name, last_name] of [
    ['Jan', 'Kowalczyk'],
    ['Piotr', 'Kowalski'],
    ['Ewa', 'Nowak'],
  ] as const) {
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/v1/patients',
      headers: bearer(doctor.accessToken),
      payload: { first_name, last_name },
    });
    expect(res.statusCode).toBe(201);
    if (patientId === '') patientId = res.json<{ id: string }>().id;
  }
});
afterAll(async () => {
  await t.close();
});

interface Counted<T> {
  res: T;
  statements: string[];
  transactions: number;
}

async function counted<T>(run: () => Promise<T>): Promise<Counted<T>> {
  const statements: string[] = [];
  // Awaited inside: an injected request is only sent once something awaits it.
  const res = await requestStatements.run(statements, async () => await run());
  // Anything the request left running after the response is part of its cost too.
  await new Promise((resolve) => setTimeout(resolve, 50));
  const all = [...statements];
  return {
    res,
    statements: all.filter((q) => !TX_CONTROL.test(q)),
    transactions: all.filter((q) => /^\s*begin\b/i.test(q)).length,
  };
}

/** A token of a fresh session, so the first request misses the session cache. */
async function freshToken(): Promise<string> {
  return (await login(t.app, doctor.email, strongPassword)).access_token;
}

function get(url: string, token: string) {
  return () => t.app.inject({ method: 'GET', url: `/api/v1${url}`, headers: bearer(token) });
}

function book(token: string) {
  const startsAt = new Date(onWorkingDay(day++, 10));
  return () =>
    t.app.inject({
      method: 'POST',
      url: '/api/v1/appointments',
      headers: bearer(token),
      payload: {
        patient_id: patientId,
        doctor_id: doctor.id,
        starts_at: startsAt.toISOString(),
        duration_minutes: 30,
      },
    });
}

interface Expected {
  /** Statements when the session is not cached yet (BEGIN/COMMIT not included). */
  cold: number;
  /** The same request again at once: the session state comes from the cache. */
  warm: number;
  /** Transactions (each one BEGIN and one COMMIT more on the wire). */
  transactions: number;
}

const routes: [string, (token: string) => () => Promise<LightMyRequestResponse>, Expected][] = [
  // session, patient with its favourite mark, audit row
  [
    'GET /patients/{id}',
    (token) => get(`/patients/${patientId}`, token),
    { cold: 3, warm: 2, transactions: 0 },
  ],
  // session, page (favourite marks as a subquery), audit row
  [
    'GET /patients?limit=100',
    (token) => get('/patients?limit=100', token),
    { cold: 3, warm: 2, transactions: 0 },
  ],
  // session, similarity threshold, page, audit row
  [
    'GET /patients?q=<typo>',
    (token) => get('/patients?q=Kowalcyzk', token),
    { cold: 4, warm: 3, transactions: 1 },
  ],
  // session, user; warm: both remembered for AUTH_CACHE_MS (session cache, profile cache)
  ['GET /users/me', (token) => get('/users/me', token), { cold: 2, warm: 0, transactions: 0 }],
  // session, appointment (checking doctor and patient as it inserts), audit row, the patient
  // summary the answer carries (issue 14: one primary-key read after the write)
  // Session (cold only), insert, patient summary (for the answer and the outbox event, read
  // once), outbox event, audit row.
  ['POST /appointments', (token) => book(token), { cold: 5, warm: 4, transactions: 1 }],
];

let driverLogsTransactions = false;

beforeAll(async () => {
  // Does this driver show BEGIN/COMMIT to the logger? (node-postgres does, in-process PGlite not.)
  const probe = await counted(() =>
    t.app.ctx.db.transaction(async (tx) => {
      await tx.execute(sql`select 1`);
    }),
  );
  driverLogsTransactions = probe.transactions > 0;
});

describe('SQL statements per request', () => {
  it.each(routes)('%s', async (name, request, expected) => {
    const token = await freshToken();
    const cold = await counted(request(token));
    const warm = await counted(request(token));
    expect(cold.res.statusCode, cold.res.body).toBeLessThan(300);
    expect(warm.res.statusCode, warm.res.body).toBeLessThan(300);
    expect(
      { cold: cold.statements.length, warm: warm.statements.length },
      cold.statements.join('\n'),
    ).toEqual({ cold: expected.cold, warm: expected.warm });
    const transactions = driverLogsTransactions ? expected.transactions : 0;
    expect({ cold: cold.transactions, warm: warm.transactions }, name).toEqual({
      cold: transactions,
      warm: transactions,
    });
  });
});
