import { randomUUID } from 'node:crypto';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { Secret, TOTP } from 'otpauth';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Role } from '../src/db/schema/users.js';
import { can, permissionTable, type Access } from '../src/lib/permissions.js';
import { bookAppointment } from '../src/modules/appointments/appointments.service.js';
import { createPatient } from '../src/modules/patients/patients.service.js';
import { prescribe } from '../src/modules/prescriptions/prescriptions.service.js';
import { createPrompt } from '../src/modules/prompts/prompts.service.js';
import { createAccount } from '../src/modules/users/users.service.js';
import {
  bearer,
  buildTestApp,
  createUser,
  login,
  problemOf,
  strongPassword,
  unique,
  type TestApp,
  type TestUser,
} from './helpers.js';
import { multipart, upload } from './documents-support.js';

/**
 * The generated access walk (SECURITY.md "Access control"): every /api/v1 operation of the
 * OpenAPI document must appear in the table below, and every guarded one is called by each of
 * the six roles. Roles the permission table allows must get through (neither 401 nor 403);
 * every other role gets 403. A route missing from this table fails the walk.
 */

const allRoles = ['admin', 'doctor', 'nurse', 'receptionist', 'user', 'guest'] as const;

interface Sample {
  /** Values for the path parameters; any parameter not given gets a random UUID. */
  params?: Record<string, string>;
  payload?: object;
  query?: string;
  /** Extra request headers (a multipart body's content type). */
  headers?: Record<string, string>;
}

interface RouteCase {
  access: Access;
  /** The status a permitted caller gets with the sample request. */
  allowedStatus?: number;
  /** Builds a valid request for this caller (a fresh account of the role under test). */
  sample?: (app: FastifyInstance, caller: TestUser) => Promise<Sample> | Sample;
}

async function newTarget(app: FastifyInstance, role: Role = 'user'): Promise<string> {
  const username = unique('target');
  const row = await createAccount(
    app.ctx,
    { email: `${username}@example.test`, username, password: strongPassword },
    role,
  );
  return row.id;
}

/** A live patient registered directly through the service by a fresh admin; returns its id. */
async function newPatient(app: FastifyInstance): Promise<string> {
  const registrar = await newTarget(app, 'admin');
  const patient = await createPatient(
    app.ctx,
    { userId: registrar, role: 'admin', sessionId: randomUUID() },
    { first_name: 'Walk', last_name: unique('Patient') },
    false,
  );
  return patient.id;
}

const adminOf = (userId: string) => ({ userId, role: 'admin' as const, sessionId: randomUUID() });

/** The caller itself when it is a doctor (doctors write only their own), else a fresh doctor. */
async function doctorFor(app: FastifyInstance, caller: TestUser): Promise<string> {
  return caller.role === 'doctor' ? caller.id : newTarget(app, 'doctor');
}

let slot = 0;
/** A distinct future start for every booking the walk makes. */
function nextStart(): string {
  slot += 1;
  return new Date(Date.now() + 2 * 86_400_000 + slot * 3_600_000).toISOString();
}

async function newAppointment(app: FastifyInstance, caller: TestUser): Promise<string> {
  const doctorId = await doctorFor(app, caller);
  const booked = await bookAppointment(app.ctx, adminOf(await newTarget(app, 'admin')), {
    patient_id: await newPatient(app),
    doctor_id: doctorId,
    starts_at: nextStart(),
  });
  return booked.id;
}

/** A prescription by the caller when it is a doctor (the prescriber may change it), else by a fresh doctor. */
async function newPrescription(app: FastifyInstance, caller: TestUser): Promise<string> {
  const doctorId = await doctorFor(app, caller);
  const created = await prescribe(
    app.ctx,
    { userId: doctorId, role: 'doctor', sessionId: randomUUID() },
    { patient_id: await newPatient(app), medication: 'Metformin', dosage: '1', frequency: 'daily' },
  );
  return created.id;
}

/** A prompt owned by the caller (only the owner changes one); a random id for roles without prompts. */
async function ownPrompt(app: FastifyInstance, caller: TestUser): Promise<Sample> {
  if (!can(caller.role, 'prompts.own')) return { params: { id: randomUUID() } };
  const created = await createPrompt(
    app.ctx,
    { userId: caller.id, role: caller.role, sessionId: randomUUID() },
    { content: 'Written during the access walk.' },
  );
  return { params: { id: created.id } };
}

/** A non-clinical document (every reading role may see it), uploaded by a fresh nurse. */
async function newDocument(app: FastifyInstance): Promise<string> {
  const nurse = await createUser(app, 'nurse');
  const res = await upload(
    app,
    nurse.accessToken,
    await newPatient(app),
    { filename: 'consent.txt', content: Buffer.from('signed consent') },
    { category: 'consent' },
  );
  if (res.statusCode !== 201) throw new Error(`document: ${res.statusCode} ${res.body}`);
  return res.json<{ id: string }>().id;
}

/** "METHOD /path" (OpenAPI path syntax) -> declared access. Keep in step with the routes. */
const routeTable: Record<string, RouteCase> = {
  'POST /api/v1/auth/register': { access: 'public' },
  'POST /api/v1/auth/login': { access: 'public' },
  'POST /api/v1/auth/refresh': { access: 'public' },
  'POST /api/v1/auth/password/forgot': { access: 'public' },
  'POST /api/v1/auth/password/reset': { access: 'public' },
  'POST /api/v1/auth/logout': { access: 'self.manage', allowedStatus: 204 },
  'POST /api/v1/auth/logout-all': { access: 'self.manage', allowedStatus: 204 },
  'GET /api/v1/auth/sessions': { access: 'self.manage', allowedStatus: 200 },
  'DELETE /api/v1/auth/sessions/{id}': {
    access: 'self.manage',
    allowedStatus: 204,
    // A second session of the same caller, so there is something of theirs to revoke.
    sample: async (app, caller) => {
      await login(app, caller.email, caller.password);
      const res = await app.inject({
        method: 'GET',
        url: '/api/v1/auth/sessions',
        headers: bearer(caller.accessToken),
      });
      const other = res
        .json<{ items: { id: string; current: boolean }[] }>()
        .items.find((s) => !s.current);
      return { params: { id: other?.id ?? randomUUID() } };
    },
  },
  'POST /api/v1/auth/password/change': {
    access: 'self.manage',
    allowedStatus: 204,
    sample: (_app, caller) => ({
      payload: { current_password: caller.password, new_password: 'a brand new passphrase 9' },
    }),
  },
  'POST /api/v1/auth/mfa/verify': { access: 'public' },
  'POST /api/v1/auth/mfa/totp/setup': {
    access: 'self.manage',
    allowedStatus: 200,
    sample: (_app, caller) => ({ payload: { password: caller.password } }),
  },
  'POST /api/v1/auth/mfa/totp/enable': {
    access: 'self.manage',
    allowedStatus: 200,
    // A pending secret from setup, and the code an authenticator app would show for it now.
    sample: async (app, caller) => {
      const setup = await app.inject({
        method: 'POST',
        url: '/api/v1/auth/mfa/totp/setup',
        headers: bearer(caller.accessToken),
        payload: { password: caller.password },
      });
      const secret = Secret.fromBase32(setup.json<{ secret: string }>().secret);
      return { payload: { code: new TOTP({ secret }).generate() } };
    },
  },
  // MFA is off for a fresh caller: a permitted role gets past the gate to a 409.
  'POST /api/v1/auth/mfa/totp/disable': {
    access: 'self.manage',
    allowedStatus: 409,
    sample: (_app, caller) => ({ payload: { password: caller.password, code: '123456' } }),
  },
  'POST /api/v1/admin/users/{id}/unlock': {
    access: 'users.manage',
    allowedStatus: 204,
    sample: async (app) => ({ params: { id: await newTarget(app) } }),
  },
  'POST /api/v1/admin/users/{id}/mfa/reset': {
    access: 'users.manage',
    allowedStatus: 204,
    sample: async (app) => ({ params: { id: await newTarget(app) } }),
  },
  'GET /api/v1/users/me': { access: 'self.manage', allowedStatus: 200 },
  'PATCH /api/v1/users/me': {
    access: 'self.manage',
    allowedStatus: 200,
    sample: () => ({ payload: { full_name: 'Walk Er' } }),
  },
  'GET /api/v1/users': { access: 'users.manage', allowedStatus: 200, sample: () => ({}) },
  'POST /api/v1/users': {
    access: 'users.manage',
    allowedStatus: 201,
    sample: () => {
      const username = unique('made');
      return {
        payload: {
          email: `${username}@example.test`,
          username,
          password: strongPassword,
          role: 'nurse',
        },
      };
    },
  },
  'GET /api/v1/users/{id}': {
    access: 'doctors.read',
    allowedStatus: 200,
    // A doctor's public profile is what every permitted role may read.
    sample: async (app) => ({ params: { id: await newTarget(app, 'doctor') } }),
  },
  'PATCH /api/v1/users/{id}': {
    access: 'users.manage',
    allowedStatus: 200,
    sample: async (app) => ({
      params: { id: await newTarget(app) },
      payload: { full_name: 'Changed By Walk' },
    }),
  },
  'DELETE /api/v1/users/{id}': {
    access: 'users.manage',
    allowedStatus: 204,
    sample: async (app) => ({ params: { id: await newTarget(app) } }),
  },
  'GET /api/v1/doctors': { access: 'doctors.read', allowedStatus: 200 },
  'GET /api/v1/patients': { access: 'patients.manage', allowedStatus: 200 },
  'POST /api/v1/patients': {
    access: 'patients.manage',
    allowedStatus: 201,
    sample: () => ({ payload: { first_name: 'Walk', last_name: unique('Patient') } }),
  },
  'GET /api/v1/patients/groups': { access: 'patients.manage', allowedStatus: 200 },
  'GET /api/v1/patients/stats': { access: 'patients.manage', allowedStatus: 200 },
  'GET /api/v1/patients/export.csv': { access: 'patients.manage', allowedStatus: 200 },
  'GET /api/v1/patients/{id}/summary.pdf': {
    access: 'patients.manage',
    allowedStatus: 200,
    sample: async (app) => ({ params: { id: await newPatient(app) } }),
  },
  'GET /api/v1/patients/{id}': {
    access: 'patients.manage',
    allowedStatus: 200,
    sample: async (app) => ({ params: { id: await newPatient(app) } }),
  },
  'PATCH /api/v1/patients/{id}': {
    access: 'patients.manage',
    allowedStatus: 200,
    sample: async (app) => ({
      params: { id: await newPatient(app) },
      payload: { location: 'Changed by walk' },
    }),
  },
  'DELETE /api/v1/patients/{id}': {
    access: 'patients.manage',
    allowedStatus: 204,
    sample: async (app) => ({ params: { id: await newPatient(app) } }),
  },
  'PUT /api/v1/patients/{id}/favorite': {
    access: 'patients.manage',
    allowedStatus: 204,
    sample: async (app) => ({ params: { id: await newPatient(app) } }),
  },
  'DELETE /api/v1/patients/{id}/favorite': {
    access: 'patients.manage',
    allowedStatus: 204,
    sample: async (app) => ({ params: { id: await newPatient(app) } }),
  },
  'GET /api/v1/patients/{id}/access-log': {
    access: 'patients.access_log.read',
    allowedStatus: 200,
    // Doctors see the log of their own patients: assign the patient to a calling doctor.
    sample: async (app, caller) => {
      const patient = await createPatient(
        app.ctx,
        adminOf(await newTarget(app, 'admin')),
        {
          first_name: 'Walk',
          last_name: unique('Logged'),
          ...(caller.role === 'doctor' ? { assigned_doctor_id: caller.id } : {}),
        },
        false,
      );
      return { params: { id: patient.id } };
    },
  },
  'GET /api/v1/admin/audit': { access: 'audit.read', allowedStatus: 200 },
  'GET /api/v1/admin/audit/verify': { access: 'audit.read', allowedStatus: 200 },
  'GET /api/v1/admin/stats': { access: 'admin.stats', allowedStatus: 200 },
  'GET /api/v1/admin/system': { access: 'admin.stats', allowedStatus: 200 },
  'GET /api/v1/patients/{id}/notes': {
    access: 'visit_notes.manage',
    allowedStatus: 200,
    sample: async (app) => ({ params: { id: await newPatient(app) } }),
  },
  'POST /api/v1/patients/{id}/notes': {
    access: 'visit_notes.manage',
    allowedStatus: 201,
    sample: async (app) => ({
      params: { id: await newPatient(app) },
      payload: { content: 'Seen during the access walk.', visit_type: 'regular' },
    }),
  },
  'GET /api/v1/appointments': { access: 'appointments.read', allowedStatus: 200 },
  'GET /api/v1/appointments/export.csv': { access: 'appointments.read', allowedStatus: 200 },
  'POST /api/v1/appointments': {
    access: 'appointments.write',
    allowedStatus: 201,
    sample: async (app, caller) => ({
      payload: {
        patient_id: await newPatient(app),
        doctor_id: await doctorFor(app, caller),
        starts_at: nextStart(),
      },
    }),
  },
  'GET /api/v1/appointments/{id}': {
    access: 'appointments.read',
    allowedStatus: 200,
    sample: async (app, caller) => ({ params: { id: await newAppointment(app, caller) } }),
  },
  'GET /api/v1/appointments/{id}.ics': {
    access: 'appointments.read',
    allowedStatus: 200,
    sample: async (app, caller) => ({ params: { id: await newAppointment(app, caller) } }),
  },
  'PATCH /api/v1/appointments/{id}': {
    access: 'appointments.write',
    allowedStatus: 200,
    sample: async (app, caller) => ({
      params: { id: await newAppointment(app, caller) },
      payload: { reason: 'changed by the walk' },
    }),
  },
  ...Object.fromEntries(
    ['confirm', 'no-show'].map((action) => [
      `POST /api/v1/appointments/{id}/${action}`,
      {
        access: 'appointments.write',
        allowedStatus: 200,
        sample: async (app: FastifyInstance, caller: TestUser) => ({
          params: { id: await newAppointment(app, caller) },
        }),
      } satisfies RouteCase,
    ]),
  ),
  // check-in and complete need an earlier status: a fresh appointment answers 409 (not 403).
  ...Object.fromEntries(
    ['check-in', 'complete'].map((action) => [
      `POST /api/v1/appointments/{id}/${action}`,
      {
        access: 'appointments.write',
        allowedStatus: 409,
        sample: async (app: FastifyInstance, caller: TestUser) => ({
          params: { id: await newAppointment(app, caller) },
        }),
      } satisfies RouteCase,
    ]),
  ),
  'POST /api/v1/appointments/{id}/cancel': {
    access: 'appointments.write',
    allowedStatus: 200,
    sample: async (app, caller) => ({
      params: { id: await newAppointment(app, caller) },
      payload: { reason: 'walk' },
    }),
  },
  'GET /api/v1/doctors/{id}/availability': {
    access: 'appointments.read',
    allowedStatus: 200,
    sample: async (app) => ({
      params: { id: await newTarget(app, 'doctor') },
      query: '?date=2030-01-07',
    }),
  },
  'GET /api/v1/patients/{id}/appointments': {
    access: 'appointments.read',
    allowedStatus: 200,
    sample: async (app) => ({ params: { id: await newPatient(app) } }),
  },
  'GET /api/v1/prescriptions': { access: 'prescriptions.read', allowedStatus: 200 },
  'POST /api/v1/prescriptions': {
    access: 'prescriptions.create',
    allowedStatus: 201,
    sample: async (app) => ({
      payload: {
        patient_id: await newPatient(app),
        medication: 'Metformin 500 mg',
        dosage: '1 tablet',
        frequency: 'twice daily',
      },
    }),
  },
  'GET /api/v1/prescriptions/{id}': {
    access: 'prescriptions.read',
    allowedStatus: 200,
    sample: async (app, caller) => ({ params: { id: await newPrescription(app, caller) } }),
  },
  'GET /api/v1/prescriptions/{id}/pdf': {
    access: 'prescriptions.read',
    allowedStatus: 200,
    sample: async (app, caller) => ({ params: { id: await newPrescription(app, caller) } }),
  },
  'PATCH /api/v1/prescriptions/{id}': {
    access: 'prescriptions.write',
    allowedStatus: 200,
    sample: async (app, caller) => ({
      params: { id: await newPrescription(app, caller) },
      payload: { instructions: 'with food' },
    }),
  },
  'POST /api/v1/prescriptions/{id}/cancel': {
    access: 'prescriptions.write',
    allowedStatus: 200,
    sample: async (app, caller) => ({
      params: { id: await newPrescription(app, caller) },
      payload: { reason: 'walk' },
    }),
  },
  'POST /api/v1/prescriptions/{id}/complete': {
    access: 'prescriptions.write',
    allowedStatus: 200,
    sample: async (app, caller) => ({ params: { id: await newPrescription(app, caller) } }),
  },
  'GET /api/v1/patients/{id}/prescriptions': {
    access: 'prescriptions.read',
    allowedStatus: 200,
    sample: async (app) => ({ params: { id: await newPatient(app) } }),
  },
  'POST /api/v1/patients/{id}/documents': {
    access: 'documents.write',
    allowedStatus: 201,
    sample: async (app) => {
      const form = multipart({ category: 'lab_result' }, [
        { filename: 'walk.txt', content: Buffer.from('potassium 4.2') },
      ]);
      return {
        params: { id: await newPatient(app) },
        payload: form.payload,
        headers: form.headers,
      };
    },
  },
  'GET /api/v1/patients/{id}/documents': {
    access: 'documents.read',
    allowedStatus: 200,
    sample: async (app) => ({ params: { id: await newPatient(app) } }),
  },
  'GET /api/v1/documents/{id}': {
    access: 'documents.read',
    allowedStatus: 200,
    sample: async (app) => ({ params: { id: await newDocument(app) } }),
  },
  'GET /api/v1/documents/{id}/content': {
    access: 'documents.read',
    allowedStatus: 200,
    sample: async (app) => ({ params: { id: await newDocument(app) } }),
  },
  'GET /api/v1/documents/{id}/thumbnail': {
    access: 'documents.read',
    // A text document has no thumbnail: a permitted caller gets 404, the others 403.
    allowedStatus: 404,
    sample: async (app) => ({ params: { id: await newDocument(app) } }),
  },
  'DELETE /api/v1/documents/{id}': {
    access: 'documents.write',
    allowedStatus: 204,
    sample: async (app) => ({ params: { id: await newDocument(app) } }),
  },
  'GET /api/v1/prompts': { access: 'prompts.own', allowedStatus: 200 },
  'POST /api/v1/prompts': {
    access: 'prompts.own',
    allowedStatus: 201,
    sample: () => ({ payload: { content: 'What is the usual adult dose of amoxicillin?' } }),
  },
  'GET /api/v1/prompts/{id}': {
    access: 'prompts.own',
    allowedStatus: 200,
    sample: ownPrompt,
  },
  'PATCH /api/v1/prompts/{id}': {
    access: 'prompts.own',
    allowedStatus: 200,
    sample: async (app, caller) => ({
      ...(await ownPrompt(app, caller)),
      payload: { content: 'Edited during the walk.' },
    }),
  },
  'DELETE /api/v1/prompts/{id}': {
    access: 'prompts.own',
    allowedStatus: 204,
    sample: ownPrompt,
  },
  'GET /api/v1/status': { access: 'status.read', allowedStatus: 200 },
  'POST /api/v1/status': {
    access: 'status.write',
    allowedStatus: 201,
    sample: () => ({ payload: { client_name: 'walk-client' } }),
  },
};

interface Operation {
  security?: Record<string, string[]>[];
}
interface OpenApiDoc {
  paths: Record<string, Record<string, Operation>>;
}

const httpMethods = new Set(['get', 'post', 'put', 'patch', 'delete']);

let t: TestApp;
let operations: { key: string; guarded: boolean }[];

beforeAll(async () => {
  t = await buildTestApp();
  const res = await t.app.inject('/openapi.json');
  expect(res.statusCode).toBe(200);
  const doc = res.json<OpenApiDoc>();
  operations = [];
  for (const [path, item] of Object.entries(doc.paths)) {
    if (!path.startsWith('/api/v1/')) continue;
    for (const [method, op] of Object.entries(item)) {
      if (!httpMethods.has(method)) continue;
      operations.push({
        key: `${method.toUpperCase()} ${path}`,
        guarded: (op.security ?? []).length > 0,
      });
    }
  }
});
afterAll(async () => {
  await t.close();
});

type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

function split(key: string): { method: HttpMethod; path: string } {
  const [method, path] = key.split(' ') as [string, string];
  return { method: method as HttpMethod, path };
}

function fillPath(path: string, params: Record<string, string> = {}): string {
  return path.replace(/\{([A-Za-z0-9_]+)\}/g, (_m, name: string) => params[name] ?? randomUUID());
}

async function send(
  key: string,
  sample: Sample,
  headers: Record<string, string>,
): Promise<LightMyRequestResponse> {
  const { method, path } = split(key);
  const url = fillPath(path, sample.params) + (sample.query ?? '');
  return t.app.inject({
    method,
    url,
    headers: { ...sample.headers, ...headers },
    ...(sample.payload === undefined ? {} : { payload: sample.payload }),
  });
}

const guardedEntries = Object.entries(routeTable).filter(([, c]) => c.access !== 'public');

describe('the route table', () => {
  it('covers every /api/v1 operation of the OpenAPI document', () => {
    expect(operations.length).toBeGreaterThan(0);
    const missing = operations.map((o) => o.key).filter((key) => !(key in routeTable));
    expect(missing, 'routes missing from the permission walk table').toEqual([]);
  });

  it('lists no operation the application does not serve', () => {
    const served = new Set(operations.map((o) => o.key));
    const stale = Object.keys(routeTable).filter((key) => !served.has(key));
    expect(stale, 'table entries with no such route').toEqual([]);
  });

  it('marks as public exactly the operations without a security requirement', () => {
    for (const op of operations) {
      const declared = routeTable[op.key]?.access;
      expect(declared === 'public', op.key).toBe(!op.guarded);
    }
  });

  it('names only permissions that exist in the permission table', () => {
    for (const [key, c] of guardedEntries) {
      expect(Object.keys(permissionTable), key).toContain(c.access);
    }
  });
});

describe.each(guardedEntries)('%s', (key, routeCase) => {
  const permission = routeCase.access as keyof typeof permissionTable;
  const allowed: readonly Role[] = permissionTable[permission];

  it.each(allRoles)('as %s', async (role) => {
    // A fresh caller per request, so logout or password changes never spend a shared token.
    const caller = await createUser(t.app, role);
    const sample = (await routeCase.sample?.(t.app, caller)) ?? {};
    const res = await send(key, sample, bearer(caller.accessToken));
    if (allowed.includes(role)) {
      expect(res.statusCode, res.body).not.toBe(401);
      expect(res.statusCode, res.body).not.toBe(403);
      expect(res.statusCode, res.body).toBeLessThan(500);
      if (routeCase.allowedStatus !== undefined) {
        expect(res.statusCode, res.body).toBe(routeCase.allowedStatus);
      }
    } else {
      expect(res.statusCode, res.body).toBe(403);
      const problem = problemOf(res);
      expect(problem.code).toBe('forbidden');
      expect(problem.status).toBe(403);
    }
    expect(res.body).not.toMatch(/hashed_password/);
  });

  it('without a token: 401 with WWW-Authenticate: Bearer', async () => {
    const res = await send(key, {}, {});
    expect(res.statusCode).toBe(401);
    expect(res.headers['www-authenticate']).toBe('Bearer');
    expect(problemOf(res).code).toBe('unauthorized');
  });

  it('with a forged or malformed token: 401', async () => {
    for (const authorization of [
      'Bearer not.a.jwt',
      'Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.',
      'Basic dXNlcjpwYXNz',
    ]) {
      const res = await send(key, {}, { authorization });
      expect(res.statusCode, authorization).toBe(401);
      expect(res.headers['www-authenticate']).toBe('Bearer');
    }
  });
});

describe('every guarded operation of the document', () => {
  it('answers 401 without a token (covers routes the table may not list)', async () => {
    for (const op of operations.filter((o) => o.guarded)) {
      const res = await send(op.key, {}, {});
      expect(res.statusCode, op.key).toBe(401);
      expect(res.headers['www-authenticate'], op.key).toBe('Bearer');
    }
  });
});

describe('is_superuser', () => {
  it('implies admin on admin-only routes, whatever the stored role', async () => {
    const admin = await createUser(t.app, 'admin');
    const plain = await createUser(t.app, 'user');
    expect((await send('GET /api/v1/users', {}, bearer(plain.accessToken))).statusCode).toBe(403);
    const promote = await send(
      'PATCH /api/v1/users/{id}',
      { params: { id: plain.id }, payload: { is_superuser: true } },
      bearer(admin.accessToken),
    );
    expect(promote.statusCode, promote.body).toBe(200);
    // The promotion ended the old sessions; a new login acts as admin.
    const tokens = await login(t.app, plain.email, plain.password);
    const res = await send('GET /api/v1/users', {}, bearer(tokens.access_token));
    expect(res.statusCode).toBe(200);
  });
});
