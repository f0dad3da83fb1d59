import type { LightMyRequestResponse } from 'fastify';
import { afterAll } from 'vitest';
import type { JsonSchema } from './fuzz-inputs.js';
import { bearer, buildTestApp, createUser, login, unique } from './helpers.js';
import { workingSlot } from './working-hours.js';

/**
 * The fuzzer's target (fuzz.int.test.ts): an app built at import, its OpenAPI document read as a
 * list of operations, the actors that call them, fresh fixtures per route, and sending and
 * checking one request.
 */
const SLOW_MS = 2_000;

// --- the OpenAPI document ---------------------------------------------------------------------

export interface Parameter {
  in: 'path' | 'query' | 'header';
  name: string;
  required?: boolean;
  schema: JsonSchema;
}
interface Operation {
  security?: unknown[];
  parameters?: Parameter[];
  requestBody?: { content: Record<string, { schema: JsonSchema }> };
  responses?: Record<string, { content?: Record<string, unknown> }>;
}

/**
 * An event stream that is let in never ends, so an injected request to it would never answer:
 * streams are left to their own tests (appointments.events.int.test.ts: auth, bad Last-Event-ID,
 * revocation), which read them over a real socket.
 */
function isStream(op: Operation): boolean {
  return op.responses?.['200']?.content?.['text/event-stream'] !== undefined;
}
interface OpenApiDoc {
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, JsonSchema> };
}

export const t = await buildTestApp();
afterAll(async () => {
  await t.close();
});
const doc = (await t.app.inject('/openapi.json')).json<OpenApiDoc>();

export function resolve(schema: JsonSchema): JsonSchema {
  if (schema.$ref === undefined) return schema;
  return doc.components.schemas[schema.$ref.split('/').pop() ?? ''] ?? {};
}

export interface Op {
  method: string;
  path: string;
  op: Operation;
  guarded: boolean;
  body: JsonSchema | undefined;
  params: Parameter[];
}
export const operations: Op[] = Object.entries(doc.paths).flatMap(([path, item]) =>
  Object.entries(item)
    .filter(([method]) => ['get', 'post', 'put', 'patch', 'delete'].includes(method))
    .filter(([, op]) => !isStream(op))
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

export interface Actor {
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
export const sharedAdmin = await newActor('admin');
export const doctor = await newActor('doctor');
export const loginTarget = await createUser(t.app, 'user');
let refreshToken = loginTarget.refreshToken;

export async function stillSignedIn(actor: Actor): Promise<boolean> {
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
export async function actorFor(op: Op): Promise<Actor> {
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

export interface Fixtures {
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
export async function makeFixtures(op: Op, actor: Actor): Promise<Fixtures> {
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
  // Past anything the fuzzer books (at most 346 days ahead), 30 minutes apart within working
  // hours (100 slots: 7 working days, so still within the 365-day horizon): no conflicts.
  const day = new Date(workingSlot(fixtureDay++ % 100, 30, { firstDay: 350 }));
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
export function pathIdFor(path: string, fx: Fixtures): string {
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

export const MARK = {
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

// --- inputs (their shape; the arbitraries are in fuzz-attacks.ts) -------------------------------

// Bodies are kept as text: fast-check prints counterexamples, and a 5,000-deep object would
// overflow its printer.
export type Body = { text: string } | { bytes: Uint8Array };
export interface Input {
  /** Which part carries the hostile value, for the failure message. */
  attack: string;
  path: Record<string, string>;
  /** Raw `k=v` fragments, already encoded. */
  query: string[];
  headers: Record<string, string>;
  body?: Body;
  contentType?: string;
}

// --- sending and checking ------------------------------------------------------------------------

export async function send(op: Op, input: Input, actor: Actor) {
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

export function checkResponse(res: LightMyRequestResponse, elapsedMs: number): string[] {
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
export async function upkeep(op: Op, input: Input, res: LightMyRequestResponse, actor: Actor) {
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

export function describeInput(input: Input): string {
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
