import fc from 'fast-check';
import type { LightMyRequestResponse } from 'fastify';
import { afterAll, describe, expect, it } from 'vitest';
import {
  contentTypes,
  encode,
  formBodies,
  hostileArb,
  hostileAuthorization,
  hostilePathValues,
  hostileTextArb,
  junkQueries,
  minimalValue,
  mutatedArb,
  nulProbes,
  queryScalars,
  rawJsonBodies,
  rawPathValues,
  seededBytes,
  strongPasswordArb,
  validArb,
  wrongTypeArb,
  type JsonSchema,
  type SchemaContext,
} from './fuzz-inputs.js';
import { bearer, buildTestApp, createUser, login, strongPassword, unique } from './helpers.js';

/**
 * Hostile-input fuzzing driven by the live OpenAPI document (SECURITY.md "Input and limits"):
 * for every documented operation, fast-check derives arbitraries from the operation's own
 * schemas (path, query, headers, body) and sends at least 300 inputs, each a valid-ish request
 * with one hostile spot. Nothing may answer >= 500, every 4xx must be RFC 9457 problem+json,
 * nothing may take 2 s or more; and NUL in any string field must be a 400 naming that field.
 *
 * Runs are seeded (FUZZ_SEED, default below) so a failure replays exactly; FUZZ_RUNS raises the
 * number of inputs per route. Guarded routes are called as an admin (as a doctor where the
 * permission table closes a route to admins), so inputs reach validation and the handlers.
 */
const SEED = Number(process.env.FUZZ_SEED ?? 0x5eed_1234) | 0;
const RUNS = Math.max(300, Number(process.env.FUZZ_RUNS ?? 300) || 300);
const SLOW_MS = 2_000;
// Past this, fast-check stops (shrinking included) and reports what it has.
const ROUTE_BUDGET_MS = 60_000;

/** FNV-1a, so each route gets its own seed that does not depend on the order of routes. */
function hash(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

// --- the OpenAPI document ---------------------------------------------------------------------

interface Parameter {
  in: 'path' | 'query' | 'header';
  name: string;
  required?: boolean;
  schema: JsonSchema;
}
interface Operation {
  security?: unknown[];
  parameters?: Parameter[];
  requestBody?: { content: Record<string, { schema: JsonSchema }> };
}
interface OpenApiDoc {
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, JsonSchema> };
}

const t = await buildTestApp();
afterAll(async () => {
  await t.close();
});
const doc = (await t.app.inject('/openapi.json')).json<OpenApiDoc>();

function resolve(schema: JsonSchema): JsonSchema {
  if (schema.$ref === undefined) return schema;
  return doc.components.schemas[schema.$ref.split('/').pop() ?? ''] ?? {};
}

interface Op {
  method: string;
  path: string;
  op: Operation;
  guarded: boolean;
  body: JsonSchema | undefined;
  params: Parameter[];
}
const operations: Op[] = Object.entries(doc.paths).flatMap(([path, item]) =>
  Object.entries(item)
    .filter(([method]) => ['get', 'post', 'put', 'patch', 'delete'].includes(method))
    .map(([method, op]) => ({
      method: method.toUpperCase(),
      path,
      op,
      guarded: op.security !== undefined,
      body: op.requestBody?.content['application/json']?.schema,
      params: op.parameters ?? [],
    })),
);
// Parameterless reads go first, while the database is small: their cost grows with it (the
// export, the stats and the audit chain check read every row) and the 2 s limit is per request.
operations.sort((a, b) => rank(a) - rank(b));
function rank(op: Op): number {
  return op.method === 'GET' && op.params.length === 0 ? 0 : 1;
}

// --- actors and fixtures --------------------------------------------------------------------------

interface Actor {
  id: string;
  role: 'admin' | 'doctor';
  email: string;
  password: string;
  token: string;
}
async function newActor(role: Actor['role']): Promise<Actor> {
  const user = await createUser(t.app, role);
  return { id: user.id, role, email: user.email, password: user.password, token: user.accessToken };
}
const sharedAdmin = await newActor('admin');
const doctor = await newActor('doctor');
const loginTarget = await createUser(t.app, 'user');
let refreshToken = loginTarget.refreshToken;

async function stillSignedIn(actor: Actor): Promise<boolean> {
  const res = await t.app.inject({ url: '/api/v1/users/me', headers: bearer(actor.token) });
  return res.statusCode === 200;
}

/** Keeps an actor usable: a lost session is replaced by a new login, or by a new account. */
async function ensureSignedIn(actor: Actor): Promise<void> {
  if (await stillSignedIn(actor)) return;
  try {
    actor.token = (await login(t.app, actor.email, actor.password)).access_token;
  } catch {
    Object.assign(actor, await newActor(actor.role));
  }
}

/** Operations that end the caller's own session(s) get an admin of their own. */
const endsOwnSession = /\/auth\/(logout|logout-all|password\/change|sessions\/\{id\})$/;

/** The admin, or the doctor where the permission table closes the route to admins. */
async function actorFor(op: Op): Promise<Actor> {
  const admin = endsOwnSession.test(op.path) ? await newActor('admin') : sharedAdmin;
  if (!op.guarded) return admin;
  await ensureSignedIn(admin);
  // Refused in onRequest, before the (deliberately broken) body could reach a handler.
  const probe = await t.app.inject({
    method: op.method as 'GET',
    url: op.path.replace(/\{[^}]+\}/g, '01a20000-0000-7000-8000-000000000000'),
    headers: { ...bearer(admin.token), 'content-type': 'application/json' },
    ...(op.method === 'GET' ? {} : { payload: '{' }),
  });
  if (probe.statusCode !== 403) return admin;
  await ensureSignedIn(doctor);
  return doctor;
}

interface Fixtures {
  patient: string;
  appointment: string;
  prescription: string;
  user: string;
  session: string;
}

let fixtureDay = 0;
function created(res: LightMyRequestResponse, what: string): string {
  if (res.statusCode !== 201) throw new Error(`fixture ${what}: ${res.statusCode} ${res.body}`);
  return res.json<{ id: string }>().id;
}

/** Fresh records for each route, so one route's deletes and cancels do not starve the next. */
async function makeFixtures(op: Op, actor: Actor): Promise<Fixtures> {
  await ensureSignedIn(sharedAdmin);
  await ensureSignedIn(doctor);
  const patient = created(
    await t.app.inject({
      method: 'POST',
      url: '/api/v1/patients?allow_duplicate=true',
      headers: bearer(sharedAdmin.token),
      payload: { first_name: 'Fuzz', last_name: unique('P'), allergies: ['penicillin'] },
    }),
    'patient',
  );
  // Past anything the fuzzer books (at most 361 days ahead), 30 minutes apart: no conflicts.
  const day = new Date(Date.now() + 362 * 86_400_000);
  day.setUTCHours(0, 30 * (fixtureDay++ % 100), 0, 0);
  const appointment = created(
    await t.app.inject({
      method: 'POST',
      url: '/api/v1/appointments',
      headers: bearer(sharedAdmin.token),
      payload: { patient_id: patient, doctor_id: doctor.id, starts_at: day.toISOString() },
    }),
    'appointment',
  );
  const prescription = created(
    await t.app.inject({
      method: 'POST',
      url: '/api/v1/prescriptions',
      headers: bearer(doctor.token),
      payload: {
        patient_id: patient,
        medication: 'Amoxicillin',
        dosage: '500 mg',
        frequency: 'tid',
      },
    }),
    'prescription',
  );
  // Only routes on /users/{id} (change, deactivate, unlock) need an account of their own.
  const user = /\/users\/\{/.test(op.path) ? (await createUser(t.app, 'user')).id : loginTarget.id;
  let session = '01a20000-0000-7000-8000-000000000000';
  if (op.path.includes('/sessions/')) {
    const list = await t.app.inject({ url: '/api/v1/auth/sessions', headers: bearer(actor.token) });
    session = list.json<{ items: { id: string }[] }>().items[0]?.id ?? session;
  }
  return { patient, appointment, prescription, user, session };
}

/** The fixture a path parameter points at, by the collection in front of it. */
function pathIdFor(path: string, fx: Fixtures): string {
  const collection = /\/([a-z-]+)\/\{[^}]+\}[^/]*(?:\/[^{]*)?$/.exec(path)?.[1] ?? '';
  switch (collection) {
    case 'patients':
      return fx.patient;
    case 'appointments':
      return fx.appointment;
    case 'prescriptions':
      return fx.prescription;
    case 'users':
      return fx.user;
    case 'doctors':
      return doctor.id;
    case 'sessions':
      return fx.session;
    default:
      return fx.patient;
  }
}

// --- markers: values only known when the request is sent -----------------------------------------

const MARK = {
  current: 'fuzzmark-current-password',
  refresh: 'fuzzmark-refresh-token',
  access: 'fuzzmark-access-token',
  tampered: 'fuzzmark-tampered-token',
};
/** Replaces the markers; inside JSON text, with JSON-escaped values (a password may hold `"`). */
function substitute(text: string, actor: Actor, inJson: boolean): string {
  if (!text.includes('fuzzmark-')) return text;
  const flipped = actor.token.slice(0, 40) + (actor.token[40] === 'A' ? 'B' : 'A');
  const put = (value: string) => (inJson ? JSON.stringify(value).slice(1, -1) : value);
  return text
    .replaceAll(MARK.current, put(actor.password))
    .replaceAll(MARK.refresh, put(refreshToken))
    .replaceAll(MARK.access, put(actor.token))
    .replaceAll(MARK.tampered, put(flipped + actor.token.slice(41)));
}

// --- valid-ish values the app alone knows ---------------------------------------------------------

function fieldValues(op: Op, fx: Fixtures): Record<string, unknown> {
  const isLogin = op.path.endsWith('/auth/login');
  const future = new Date(Date.now() + 9 * 86_400_000);
  future.setUTCHours(11, 0, 0, 0);
  return {
    patient_id: fx.patient,
    doctor_id: doctor.id,
    assigned_doctor_id: doctor.id,
    prescriber_id: doctor.id,
    appointment_id: fx.appointment,
    actor_id: sharedAdmin.id,
    current_password: MARK.current,
    refresh_token: MARK.refresh,
    new_password: strongPassword,
    starts_at: future.toISOString(),
    ...(isLogin ? { email: loginTarget.email, username: loginTarget.username } : {}),
  };
}

function contextFor(op: Op, fx: Fixtures): SchemaContext {
  const known = fieldValues(op, fx);
  const isLogin = op.path.endsWith('/auth/login');
  const hex = fc.string({
    unit: fc.constantFrom(...Array.from('0123456789abcdef')),
    maxLength: 12,
  });
  return {
    resolve,
    special(name, schema) {
      if (schema.type !== 'string') return undefined;
      const mostly = (value: unknown, other: fc.Arbitrary<unknown>) =>
        fc.oneof({ weight: 4, arbitrary: fc.constant(value) }, { weight: 1, arbitrary: other });
      if (name.endsWith('_id') && typeof known[name] === 'string') {
        return mostly(known[name], fc.uuid());
      }
      switch (name) {
        case 'password':
          if (isLogin) return mostly(loginTarget.password, strongPasswordArb);
          // A new password (register, create, admin reset) or the caller's own (confirmations).
          return (schema.minLength ?? 0) >= 8 ? strongPasswordArb : fc.constant(MARK.current);
        case 'new_password':
          return strongPasswordArb;
        case 'current_password':
          return fc.constant(MARK.current);
        case 'refresh_token':
          return mostly(MARK.refresh, hex);
        case 'email':
          return isLogin || op.path.endsWith('/forgot')
            ? mostly(
                loginTarget.email,
                hex.map((h) => `f${h}@example.test`),
              )
            : undefined;
        case 'username':
          return isLogin
            ? mostly(
                loginTarget.username,
                hex.map((h) => `fz_${h}`),
              )
            : hex.map((h) => `fz_${h}x`);
        case 'starts_at':
          return fc
            .tuple(fc.integer({ min: 1, max: 360 }), fc.integer({ min: 0, max: 287 }))
            .map(([days, slot]) => {
              const at = new Date(Date.now() + days * 86_400_000);
              at.setUTCHours(0, slot * 5, 0, 0);
              return at.toISOString();
            });
        default:
          return undefined;
      }
    },
  };
}

function minimalSpecial(op: Op, fx: Fixtures) {
  const known = fieldValues(op, fx);
  return (name: string, schema: JsonSchema): unknown => {
    if (schema.type !== 'string') return undefined;
    if (name === 'password') {
      if (op.path.endsWith('/auth/login')) return loginTarget.password;
      return (schema.minLength ?? 0) >= 8 ? strongPassword : MARK.current;
    }
    return known[name];
  };
}

// --- inputs -------------------------------------------------------------------------------------

// Bodies are kept as text: fast-check prints counterexamples, and a 5,000-deep object would
// overflow its printer.
type Body = { text: string } | { bytes: Uint8Array };
const asJson = (value: unknown): Body => ({ text: JSON.stringify(value) });
interface Input {
  /** Which part carries the hostile value, for the failure message. */
  attack: string;
  path: Record<string, string>;
  /** Raw `k=v` fragments, already encoded. */
  query: string[];
  headers: Record<string, string>;
  body?: Body;
  contentType?: string;
}

const extraHeaders = [
  'x-request-id',
  'user-agent',
  'accept',
  'accept-language',
  'accept-encoding',
  'x-forwarded-for',
  'x-forwarded-proto',
  'x-forwarded-host',
  'origin',
  'referer',
  'idempotency-key',
  'cookie',
  'range',
  'if-none-match',
  'host',
];
const headerValueArb = fc.oneof(
  fc.constantFrom(
    '',
    '*',
    'W/"1"',
    '"1"',
    '"v1"',
    '"abc"',
    '1',
    '"-1"',
    '" OR 1=1--',
    '*, "v1"',
    ',,,',
    'x'.repeat(201),
    'x'.repeat(8_000),
    '127.0.0.1, 10.0.0.1, ::1',
    'gzip, deflate, br;q=0',
    'bytes=0-1,2-3',
    '__proto__',
    '../../etc/passwd',
  ),
  fc.string({ unit: 'grapheme-ascii', maxLength: 300 }),
  fc.string({ unit: fc.constantFrom('\u0080', '\u00a0', '\u00e9', '\u00ff', 'a'), maxLength: 20 }),
);
const authorizationArb = fc.oneof(
  fc.constantFrom(...hostileAuthorization),
  fc.constantFrom(
    `Bearer ${MARK.refresh}`,
    `Bearer ${MARK.tampered}`,
    `bearer ${MARK.access}`,
    `Bearer  ${MARK.access}`,
    `Bearer ${MARK.access} x`,
    `Bearer ${MARK.access}x`,
    `Basic ${MARK.access}`,
  ),
  fc.string({ unit: 'grapheme-ascii', maxLength: 200 }).map((s) => `Bearer ${s}`),
);

function queryFragments(values: Record<string, unknown>): string[] {
  return Object.entries(values).map(([k, v]) => `${encode(k)}=${encode(String(v))}`);
}

function inputArb(op: Op, fx: Fixtures): fc.Arbitrary<Input> {
  const ctx = contextFor(op, fx);
  const pathParams = op.params.filter((p) => p.in === 'path');
  const queryParams = op.params.filter((p) => p.in === 'query');
  const headerParams = op.params.filter((p) => p.in === 'header');
  const takesBody = ['POST', 'PUT', 'PATCH', 'DELETE'].includes(op.method);
  const ownId = pathIdFor(op.path, fx);
  const path = Object.fromEntries(pathParams.map((p) => [p.name, ownId]));
  const requiredOf = (list: Parameter[]) => list.filter((p) => p.required).map((p) => p.name);

  const base: fc.Arbitrary<Input> = fc
    .record({
      query: fc.record(
        Object.fromEntries(queryParams.map((p) => [p.name, validArb(p.schema, p.name, ctx)])),
        { requiredKeys: requiredOf(queryParams) },
      ),
      headers: fc.record(
        Object.fromEntries(
          headerParams.map((p) => [p.name, fc.constantFrom('*', '"v1"', '"v2"', 'W/"v1"')]),
        ),
        { requiredKeys: requiredOf(headerParams) },
      ),
      body: op.body ? validArb(op.body, 'body', ctx) : fc.constant(undefined),
      // A made-up pagination cursor is (rightly) a 400; most valid inputs go without one.
      keepCursor: fc.integer({ min: 0, max: 4 }).map((n) => n === 0),
    })
    .map(({ query, headers, body, keepCursor }) => ({
      attack: 'valid',
      path,
      query: queryFragments(
        Object.fromEntries(Object.entries(query).filter(([k]) => keepCursor || k !== 'cursor')),
      ),
      headers,
      ...(body === undefined ? {} : { body: asJson(body) }),
    }));
  const over = <T>(
    weight: number,
    arbitrary: fc.Arbitrary<T>,
    apply: (input: Input, value: T) => Input,
  ): fc.WeightedArbitrary<Input> => ({
    weight,
    arbitrary: fc.tuple(base, arbitrary).map(([input, value]) => apply(input, value)),
  });

  const attacks: fc.WeightedArbitrary<Input>[] = [{ weight: 2, arbitrary: base }];
  if (op.body) {
    attacks.push(
      over(10, mutatedArb(op.body, 'body', ctx), (i, json) => ({
        ...i,
        attack: 'body',
        body: asJson(json),
      })),
    );
  }
  if (takesBody) {
    attacks.push(
      over(2, fc.constantFrom(...rawJsonBodies), (i, text) => ({
        ...i,
        attack: 'raw body',
        body: { text },
      })),
      over(1, fc.constantFrom(...contentTypes), (i, contentType) => ({
        ...i,
        attack: 'content-type',
        contentType,
        body: i.body ?? { text: '{}' },
      })),
      over(
        1,
        fc.oneof(
          fc.uint8Array({ maxLength: 512 }),
          fc
            .tuple(fc.constantFrom(4_096, 65_536), fc.integer())
            .map(([n, seed]) => seededBytes(n, seed)),
        ),
        (i, bytes) => ({ ...i, attack: 'bytes', body: { bytes } }),
      ),
      over(1, wrongTypeArb, (i, json) => ({
        ...i,
        attack: 'json of any shape',
        body: asJson(json),
      })),
      over(1, fc.constantFrom(...formBodies), (i, text) => ({
        ...i,
        attack: 'form',
        body: { text },
        contentType: 'application/x-www-form-urlencoded',
      })),
    );
  }
  if (pathParams.length > 0) {
    const otherIds = [fx.patient, fx.appointment, fx.prescription, fx.user, doctor.id];
    const value = fc.oneof(
      { weight: 3, arbitrary: fc.constantFrom(...hostilePathValues).map(encode) },
      { weight: 1, arbitrary: fc.constantFrom(...rawPathValues) },
      { weight: 2, arbitrary: fc.uuid() },
      {
        weight: 1,
        arbitrary: fc.constantFrom(
          ...otherIds.filter((id) => id !== ownId),
          ownId.toUpperCase(),
          `${ownId}%20`,
          `${ownId}%00`,
          `%20${ownId}`,
          `${ownId}.json`,
          `${ownId}/`,
          `${ownId}/..`,
          `${ownId};x=1`,
        ),
      },
      { weight: 2, arbitrary: hostileTextArb.map(encode) },
    );
    attacks.push(
      over(4, fc.tuple(fc.constantFrom(...pathParams.map((p) => p.name)), value), (i, [n, v]) => ({
        ...i,
        attack: `path ${n}`,
        path: { ...i.path, [n]: v },
      })),
    );
  }
  if (queryParams.length > 0) {
    const hostileQuery = fc.constantFrom(...queryParams).chain((p) =>
      fc.tuple(
        fc.constant(p.name),
        fc.oneof(
          fc.constantFrom(...queryScalars),
          hostileArb(p.schema, p.name, ctx).map((v) =>
            typeof v === 'string' ? v : JSON.stringify(v),
          ),
        ),
      ),
    );
    const without = (i: Input, name: string) =>
      i.query.filter((f) => !f.startsWith(`${encode(name)}=`));
    attacks.push(
      over(5, hostileQuery, (i, [n, v]) => ({
        ...i,
        attack: `query ${n}`,
        query: [...without(i, n), `${encode(n)}=${encode(v)}`],
      })),
      over(
        1,
        fc
          .constantFrom(...queryParams.map((p) => p.name))
          .chain((n) =>
            fc.constantFrom(
              `${n}=1&${n}=2`,
              `${n}[]=1`,
              `${n}[x]=1`,
              `${n}=`,
              n,
              `${n}[__proto__][polluted]=1`,
              `${n}=%`,
              `${n}=%ZZ`,
              `${n}=a%00b`,
              `${n}=${'9'.repeat(1_000)}`,
            ),
          ),
        (i, fragment) => ({ ...i, attack: 'query shape', query: [...i.query, fragment] }),
      ),
    );
  }
  attacks.push(
    over(1, fc.oneof(fc.constantFrom(...junkQueries), fc.webQueryParameters()), (i, q) => ({
      ...i,
      attack: 'junk query',
      query: [...i.query, q],
    })),
    over(
      1,
      fc.tuple(
        fc.constantFrom(...headerParams.map((p) => p.name), ...extraHeaders),
        headerValueArb,
      ),
      (i, [n, v]) => ({ ...i, attack: `header ${n}`, headers: { ...i.headers, [n]: v } }),
    ),
  );
  if (op.guarded) {
    attacks.push(
      over(1, authorizationArb, (i, authorization) => ({
        ...i,
        attack: 'authorization',
        headers: { ...i.headers, authorization },
      })),
    );
  }
  return fc.oneof(...attacks);
}

// --- sending and checking ------------------------------------------------------------------------

async function send(op: Op, input: Input, actor: Actor) {
  let url = op.path.replace(/\{([^}]+)\}/g, (_m, name: string) => input.path[name] ?? '');
  if (input.query.length > 0) url += `?${input.query.join('&')}`;
  const headers: Record<string, string> = {};
  if (op.guarded) headers.authorization = `Bearer ${actor.token}`;
  let payload: string | Buffer | undefined;
  if (input.body !== undefined) {
    payload =
      'text' in input.body
        ? substitute(input.body.text, actor, true)
        : Buffer.from(input.body.bytes);
    headers['content-type'] = 'application/json';
  }
  if (input.contentType !== undefined) headers['content-type'] = input.contentType;
  for (const [name, value] of Object.entries(input.headers)) {
    headers[name] = substitute(value, actor, false);
  }
  const started = performance.now();
  const res = await t.app.inject({
    method: op.method as 'GET',
    url,
    headers,
    ...(payload === undefined ? {} : { payload }),
  });
  return { res, elapsed: performance.now() - started, url };
}

function checkResponse(res: LightMyRequestResponse, elapsedMs: number): string[] {
  const issues: string[] = [];
  if (res.statusCode >= 500) issues.push(`status ${res.statusCode}`);
  if (elapsedMs >= SLOW_MS) issues.push(`took ${Math.round(elapsedMs)} ms`);
  if (typeof res.headers['x-request-id'] !== 'string') issues.push('no x-request-id');
  if (res.headers['x-content-type-options'] !== 'nosniff') issues.push('no nosniff');
  if (res.statusCode >= 400) {
    const type = String(res.headers['content-type']);
    if (!type.startsWith('application/problem+json')) {
      issues.push(`${res.statusCode} is ${type}, not problem+json`);
      return issues;
    }
    let problem: { status?: unknown; code?: unknown; request_id?: unknown; detail?: unknown };
    try {
      problem = res.json();
    } catch {
      issues.push('problem body is not JSON');
      return issues;
    }
    if (problem.status !== res.statusCode) issues.push(`problem.status ${String(problem.status)}`);
    if (typeof problem.code !== 'string' || typeof problem.detail !== 'string') {
      issues.push('problem without code or detail');
    }
    if (problem.request_id !== res.headers['x-request-id']) issues.push('request_id mismatch');
  }
  return issues;
}

/** After each call: remember a changed password or rotated token, replace a lost session. */
async function upkeep(op: Op, input: Input, res: LightMyRequestResponse, actor: Actor) {
  const ok = res.statusCode >= 200 && res.statusCode < 300;
  let sent: unknown;
  try {
    sent = input.body && 'text' in input.body ? JSON.parse(input.body.text) : undefined;
  } catch {
    sent = undefined;
  }
  if (ok && op.path.endsWith('/password/change') && typeof sent === 'object' && sent !== null) {
    const next = (sent as { new_password?: unknown }).new_password;
    if (typeof next === 'string') actor.password = next;
  }
  if (ok && op.method === 'PATCH' && op.path.endsWith('/users/me')) {
    actor.email = res.json<{ email: string }>().email;
  }
  if (res.statusCode === 200 && op.path.endsWith('/auth/refresh')) {
    refreshToken = res.json<{ refresh_token: string }>().refresh_token;
  }
  if (op.guarded && (res.statusCode === 401 || res.statusCode === 403)) await ensureSignedIn(actor);
}

function describeInput(input: Input): string {
  const shown = {
    ...input,
    body:
      input.body === undefined
        ? undefined
        : 'bytes' in input.body
          ? `<${input.body.bytes.length} bytes>`
          : input.body.text,
  };
  return JSON.stringify(shown, (_k, v: unknown) =>
    typeof v === 'string' && v.length > 200 ? `${v.slice(0, 200)}…(${v.length})` : v,
  );
}

/** NUL in each string field (path, query, body; nested too): 400 naming exactly that field. */
async function nulFailures(op: Op, fx: Fixtures, actor: Actor): Promise<string[]> {
  const ctx = contextFor(op, fx);
  const special = minimalSpecial(op, fx);
  const pathParams = op.params.filter((p) => p.in === 'path');
  const queryParams = op.params.filter((p) => p.in === 'query');
  const ownId = pathIdFor(op.path, fx);
  const path = Object.fromEntries(pathParams.map((p) => [p.name, ownId]));
  const query = Object.fromEntries(
    queryParams
      .filter((p) => p.required)
      .map((p) => [p.name, minimalValue(p.schema, p.name, ctx, special)]),
  );
  const body = op.body ? minimalValue(op.body, 'body', ctx, special) : undefined;
  const probes: { pointer: string; input: Input }[] = [];
  const plain = (): Input => ({
    attack: 'nul',
    path,
    query: queryFragments(query),
    headers: {},
    ...(body === undefined ? {} : { body: asJson(body) }),
  });
  for (const p of pathParams) {
    for (const probe of nulProbes(p.schema, `path.${p.name}`, p.name, ctx, special)) {
      probes.push({
        pointer: probe.pointer,
        input: { ...plain(), path: { ...path, [p.name]: encode(String(probe.value)) } },
      });
    }
  }
  for (const p of queryParams) {
    for (const probe of nulProbes(p.schema, `query.${p.name}`, p.name, ctx, special)) {
      probes.push({
        pointer: probe.pointer,
        input: { ...plain(), query: queryFragments({ ...query, [p.name]: probe.value }) },
      });
    }
  }
  if (op.body) {
    for (const probe of nulProbes(op.body, 'body', 'body', ctx, special)) {
      probes.push({ pointer: probe.pointer, input: { ...plain(), body: asJson(probe.value) } });
    }
  }
  const failures: string[] = [];
  for (const { pointer, input } of probes) {
    const { res } = await send(op, input, actor);
    const fields =
      res.statusCode === 400 ? (res.json<{ errors?: { field: string }[] }>().errors ?? []) : [];
    if (!fields.some((e) => e.field === pointer)) {
      failures.push(`${pointer}: ${res.statusCode} ${res.body.slice(0, 200)}`);
    }
  }
  return failures;
}

// --- the tests ------------------------------------------------------------------------------------

const report: string[] = [];
afterAll(() => {
  if (process.env.FUZZ_REPORT) console.log(`fuzz seed ${SEED}\n${report.join('\n')}`);
});

describe(`fuzzing every documented operation with fast-check (seed ${SEED})`, () => {
  it('covers the whole API', () => {
    expect(operations.length).toBeGreaterThanOrEqual(15);
    expect(operations.some((o) => o.guarded)).toBe(true);
  });

  for (const op of operations) {
    const name = `${op.method} ${op.path}`;
    it(`${name}: no 5xx, 4xx are problem+json, none slower than 2 s, NUL refused`, async () => {
      const started = performance.now();
      const actor = await actorFor(op);
      const fx = await makeFixtures(op, actor);
      const statuses = new Map<number, number>();
      let count = 0;
      let lastFailure = '';
      const property = fc.asyncProperty(inputArb(op, fx), async (input) => {
        count++;
        let sent: Awaited<ReturnType<typeof send>>;
        try {
          sent = await send(op, input, actor);
        } catch (error) {
          lastFailure = `inject threw ${String(error)} (attack: ${input.attack})\n  input: ${describeInput(input)}`;
          throw new Error(lastFailure);
        }
        const { res, elapsed, url } = sent;
        statuses.set(res.statusCode, (statuses.get(res.statusCode) ?? 0) + 1);
        const issues = checkResponse(res, elapsed);
        await upkeep(op, input, res, actor);
        if (issues.length > 0) {
          lastFailure = [
            `${issues.join(', ')} (attack: ${input.attack})`,
            `  ${op.method} ${url.slice(0, 300)}`,
            `  input: ${describeInput(input)}`,
            `  => ${res.body.slice(0, 300)}`,
          ].join('\n');
          throw new Error(lastFailure);
        }
      });
      try {
        await fc.assert(property, {
          numRuns: RUNS,
          seed: (SEED ^ hash(name)) | 0,
          plugins: [fc.interruptAfterTimeLimit(ROUTE_BUDGET_MS, { failOnInterrupt: true })],
        });
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        throw new Error(
          `${lastFailure}\nReplay: FUZZ_SEED=${SEED} npx vitest run test/fuzz.int.test.ts -t '${name}'\n` +
            message
              .split('\n')
              .map((line) => (line.length > 400 ? `${line.slice(0, 400)}…` : line))
              .join('\n')
              .slice(0, 4_000),
        );
      }
      expect(count).toBeGreaterThanOrEqual(RUNS);
      // Where there is anything to refuse (parameters, a body, a token), some input was refused.
      const seen = [...statuses.keys()];
      const refusable = op.guarded || op.body !== undefined || op.params.length > 0;
      if (refusable) expect(seen.some((s) => s >= 400 && s < 500)).toBe(true);
      else expect(seen.every((s) => s >= 200 && s < 300)).toBe(true);

      expect(await nulFailures(op, fx, actor)).toEqual([]);
      const summary = [...statuses].sort(([a], [b]) => a - b).map(([s, n]) => `${s}x${n}`);
      report.push(
        `${name}: ${count} inputs in ${Math.round(performance.now() - started)} ms (${summary.join(' ')})`,
      );
    }, 120_000);
  }

  it('left no prototype polluted', () => {
    const probe = {} as Record<string, unknown>;
    expect(probe.polluted).toBeUndefined();
    expect(Object.prototype).not.toHaveProperty('polluted');
    expect(Array.prototype).not.toHaveProperty('polluted');
  });

  it('left the shared admin signed in and the app ready', async () => {
    expect(await stillSignedIn(sharedAdmin)).toBe(true);
    expect((await t.app.inject('/health/ready')).statusCode).toBe(200);
  });
});
