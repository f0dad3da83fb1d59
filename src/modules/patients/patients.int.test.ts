import { randomInt, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  bearer,
  buildTestApp,
  createUser,
  parseCsv,
  problemOf,
  type TestApp,
  type TestUser,
  unique,
} from '../../../test/helpers.js';

let t: TestApp;
let admin: TestUser;
let doctor: TestUser;
let nurse: TestUser;
let receptionist: TestUser;
let plainUser: TestUser;
let guest: TestUser;

beforeAll(async () => {
  t = await buildTestApp();
  admin = await createUser(t.app, 'admin');
  doctor = await createUser(t.app, 'doctor');
  nurse = await createUser(t.app, 'nurse');
  receptionist = await createUser(t.app, 'receptionist');
  plainUser = await createUser(t.app, 'user');
  guest = await createUser(t.app, 'guest');
});
afterAll(async () => {
  await t.close();
});

interface EmergencyContact {
  name: string;
  relationship: string;
  phone: string;
}
interface PatientBody {
  id: string;
  mrn: string;
  first_name: string;
  last_name: string;
  date_of_birth: string | null;
  gender: string | null;
  email: string | null;
  phone: string | null;
  address: string | null;
  location: string | null;
  group: string;
  emergency_contacts: EmergencyContact[];
  initial_complaint: string | null;
  initial_diagnosis: string | null;
  medical_history?: string | null;
  allergies?: string[];
  notes?: string | null;
  assigned_doctor_id: string | null;
  is_favorite: boolean;
  version: number;
  created_at: string;
  updated_at: string;
}
interface NoteBody {
  id: string;
  patient_id: string;
  content: string;
  visit_type: string;
  author_id: string;
  created_at: string;
}
interface PageBody<T> {
  items: T[];
  next_cursor: string | null;
}
interface StatsBody {
  total_patients: number;
  favorite_patients: number;
  groups: { group: string; count: number }[];
}

type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

function call(
  method: Method,
  url: string,
  token?: string,
  payload?: object,
  headers: Record<string, string> = {},
) {
  return t.app.inject({
    method,
    url: `/api/v1${url}`,
    headers: { ...(token === undefined ? {} : bearer(token)), ...headers },
    ...(payload === undefined ? {} : { payload }),
  });
}

const medicalKeys = ['medical_history', 'allergies', 'notes'] as const;

/** Registers a patient (admin by default) and returns the 201 body. */
async function newPatient(
  extra: Record<string, unknown> = {},
  token: string = admin.accessToken,
  query = '',
): Promise<PatientBody> {
  const res = await call('POST', `/patients${query}`, token, {
    first_name: 'Anna',
    last_name: unique('Pat'),
    ...extra,
  });
  expect(res.statusCode, res.body).toBe(201);
  return res.json<PatientBody>();
}

/** A unique, valid group slug. */
function newGroup(prefix = 'g'): string {
  return unique(prefix).toLowerCase();
}

function uniquePhone(): string {
  return `+48 ${randomInt(100, 999)} ${randomInt(100, 999)} ${randomInt(100, 999)}`;
}

async function getPatient(id: string, token: string = admin.accessToken): Promise<PatientBody> {
  const res = await call('GET', `/patients/${id}`, token);
  expect(res.statusCode, res.body).toBe(200);
  return res.json<PatientBody>();
}

async function listPage(query: string, token: string = admin.accessToken) {
  const res = await call('GET', `/patients?${query}`, token);
  expect(res.statusCode, res.body).toBe(200);
  return res.json<PageBody<PatientBody>>();
}

/** Follows next_cursor to the end; returns every item in order and the number of pages. */
async function walk(query: string, limit: number, token: string = admin.accessToken) {
  const items: PatientBody[] = [];
  let cursor: string | null = null;
  for (let pages = 1; pages <= 100; pages++) {
    const page = await listPage(
      `${query}&limit=${limit}${cursor === null ? '' : `&cursor=${cursor}`}`,
      token,
    );
    expect(page.items.length).toBeLessThanOrEqual(limit);
    const seen = new Set(items.map((p) => p.id));
    const repeated = page.items.filter((p) => seen.has(p.id)).map((p) => p.id);
    expect(repeated, `page ${pages} repeats rows of earlier pages`).toEqual([]);
    items.push(...page.items);
    cursor = page.next_cursor;
    if (cursor === null) return { items, pages };
    expect(page.items).toHaveLength(limit);
  }
  throw new Error('the list did not end');
}

async function stats(token: string = admin.accessToken): Promise<StatsBody> {
  const res = await call('GET', '/patients/stats', token);
  expect(res.statusCode, res.body).toBe(200);
  return res.json<StatsBody>();
}

async function groupCount(group: string): Promise<number | undefined> {
  const res = await call('GET', '/patients/groups', receptionist.accessToken);
  expect(res.statusCode, res.body).toBe(200);
  return res.json<PageBody<{ group: string; count: number }>>().items.find((g) => g.group === group)
    ?.count;
}

function expectNoMedicalKeys(patient: object): void {
  for (const key of medicalKeys) expect(Object.keys(patient), key).not.toContain(key);
}

async function exportCsv(token: string) {
  const res = await call('GET', '/patients/export.csv', token);
  expect(res.statusCode, res.body).toBe(200);
  const [header = [], ...rows] = parseCsv(res.body);
  const byId = (id: string): Record<string, string> | undefined => {
    const row = rows.find((r) => r[header.indexOf('id')] === id);
    return row === undefined
      ? undefined
      : Object.fromEntries(header.map((name, i) => [name, row[i] ?? '']));
  };
  return { res, header, rows, byId };
}

describe('POST /patients', () => {
  it('registers a patient: 201, generated MRN, Location, ETag, fields round-trip', async () => {
    const email = `${unique('pt')}@example.test`;
    const contacts = [
      { name: 'Jan Kowalski', relationship: 'spouse', phone: '+48 600 100 200' },
      { name: 'Ewa Nowak', relationship: 'daughter', phone: '(22) 555-01-02' },
    ];
    const res = await call('POST', '/patients', admin.accessToken, {
      first_name: 'Maria',
      last_name: 'Skłodowska',
      date_of_birth: '1967-11-07',
      gender: 'female',
      email,
      phone: '+48 22 123 45 67',
      address: 'ul. Freta 16, Warszawa',
      location: 'Ward B',
      group: 'cardiology',
      emergency_contacts: contacts,
      initial_complaint: 'chest pain',
      initial_diagnosis: 'angina?',
      medical_history: 'hypertension since 2010',
      notes: 'prefers mornings',
      assigned_doctor_id: doctor.id,
    });
    expect(res.statusCode, res.body).toBe(201);
    const body = res.json<PatientBody>();
    expect(body).toMatchObject({
      first_name: 'Maria',
      last_name: 'Skłodowska',
      date_of_birth: '1967-11-07',
      gender: 'female',
      email,
      phone: '+48 22 123 45 67',
      address: 'ul. Freta 16, Warszawa',
      location: 'Ward B',
      group: 'cardiology',
      emergency_contacts: contacts,
      initial_complaint: 'chest pain',
      initial_diagnosis: 'angina?',
      medical_history: 'hypertension since 2010',
      allergies: [],
      notes: 'prefers mornings',
      assigned_doctor_id: doctor.id,
      is_favorite: false,
      version: 1,
    });
    expect(body.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(body.mrn).toMatch(/^MRN\d{8}$/);
    expect(Date.parse(body.created_at)).not.toBeNaN();
    expect(res.headers.location).toBe(`/api/v1/patients/${body.id}`);
    expect(res.headers.etag).toBe(`"v${body.version}"`);

    // The stored record reads back the same, emergency contacts included.
    const again = await call('GET', `/patients/${body.id}`, admin.accessToken);
    expect(again.statusCode).toBe(200);
    expect(again.json<PatientBody>()).toEqual(body);
    expect(again.headers.etag).toBe(res.headers.etag);
  });

  it('defaults: group general, no contacts, nullable fields null', async () => {
    const p = await newPatient({ first_name: 'Min', last_name: unique('Imal') });
    expect(p).toMatchObject({
      group: 'general',
      emergency_contacts: [],
      date_of_birth: null,
      email: null,
      assigned_doctor_id: null,
      allergies: [],
      medical_history: null,
      notes: null,
    });
  });

  it('generates a distinct MRN for every patient', async () => {
    const created = await Promise.all([newPatient(), newPatient(), newPatient(), newPatient()]);
    const mrns = created.map((p) => p.mrn);
    expect(new Set(mrns).size).toBe(4);
    for (const mrn of mrns) expect(mrn).toMatch(/^MRN\d{8}$/);
  });

  it('normalizes allergies: trimmed, lower-case, duplicates removed', async () => {
    const p = await newPatient(
      { allergies: [' Penicillin ', 'penicillin', 'LATEX', 'Latex', 'peanuts'] },
      doctor.accessToken,
    );
    expect(p.allergies).toEqual(['penicillin', 'latex', 'peanuts']);
    expect((await getPatient(p.id)).allergies).toEqual(['penicillin', 'latex', 'peanuts']);
  });

  it('refuses a duplicate email, whatever its case, with 409', async () => {
    const email = `${unique('dup')}@example.test`;
    await newPatient({ email });
    const res = await call('POST', '/patients', admin.accessToken, {
      first_name: 'Other',
      last_name: unique('Person'),
      email: email.toUpperCase(),
    });
    expect(res.statusCode, res.body).toBe(409);
    const problem = problemOf(res);
    expect(problem.code).toBe('conflict');
    expect(problem.errors?.[0]?.field).toBe('body.email');
  });

  it('frees the email of a deleted patient', async () => {
    const email = `${unique('freed')}@example.test`;
    const gone = await newPatient({ email });
    expect((await call('DELETE', `/patients/${gone.id}`, admin.accessToken)).statusCode).toBe(204);
    const again = await newPatient({ email });
    expect(again.email).toBe(email);
    expect(again.id).not.toBe(gone.id);
  });

  it('refuses a likely duplicate person with 409 unless ?allow_duplicate=true', async () => {
    const last = unique('Twin');
    const first = await newPatient({
      first_name: 'Zofia',
      last_name: last,
      date_of_birth: '1980-05-17',
    });
    const dup = await call('POST', '/patients', receptionist.accessToken, {
      first_name: 'ZOFIA',
      last_name: last.toLowerCase(),
      date_of_birth: '1980-05-17',
    });
    expect(dup.statusCode, dup.body).toBe(409);
    const problem = problemOf(dup);
    expect(problem.code).toBe('conflict');
    expect(problem.detail).toContain(first.id);

    // Same name, another birth date: a different person.
    await newPatient({ first_name: 'Zofia', last_name: last, date_of_birth: '1981-05-17' });

    const allowed = await call('POST', '/patients?allow_duplicate=true', receptionist.accessToken, {
      first_name: 'Zofia',
      last_name: last,
      date_of_birth: '1980-05-17',
    });
    expect(allowed.statusCode, allowed.body).toBe(201);
    expect(allowed.json<PatientBody>().id).not.toBe(first.id);
    expect(allowed.json<PatientBody>().mrn).not.toBe(first.mrn);
  });

  it('refuses impossible and future birth dates with 400', async () => {
    const tomorrow = new Date(Date.now() + 2 * 86_400_000).toISOString().slice(0, 10);
    for (const date_of_birth of ['2023-02-30', '2021-13-01', '1990-1-1', tomorrow, '2999-01-01']) {
      const res = await call('POST', '/patients', admin.accessToken, {
        first_name: 'Bad',
        last_name: unique('Date'),
        date_of_birth,
      });
      expect(res.statusCode, date_of_birth).toBe(400);
      const problem = problemOf(res);
      expect(problem.code).toBe('validation_failed');
      expect(
        problem.errors?.some((e) => e.field.includes('date_of_birth')),
        date_of_birth,
      ).toBe(true);
    }
    // A leap day is a real date.
    expect((await newPatient({ date_of_birth: '2020-02-29' })).date_of_birth).toBe('2020-02-29');
  });

  it('refuses an assigned_doctor_id that is not an active doctor with 422', async () => {
    for (const assigned_doctor_id of [nurse.id, admin.id, randomUUID()]) {
      const res = await call('POST', '/patients', admin.accessToken, {
        first_name: 'No',
        last_name: unique('Doc'),
        assigned_doctor_id,
      });
      expect(res.statusCode, res.body).toBe(422);
      const problem = problemOf(res);
      expect(problem.code).toBe('unprocessable');
      expect(problem.errors?.[0]?.field).toBe('body.assigned_doctor_id');
    }
  });

  it('rejects unknown properties and missing names with 400', async () => {
    const unknown = await call('POST', '/patients', admin.accessToken, {
      first_name: 'A',
      last_name: 'B',
      mrn: 'MRN00000001',
    });
    expect(unknown.statusCode).toBe(400);
    expect(problemOf(unknown).errors?.[0]?.field).toBe('body.mrn');

    const missing = await call('POST', '/patients', admin.accessToken, { first_name: 'A' });
    expect(missing.statusCode).toBe(400);
    expect(problemOf(missing).code).toBe('validation_failed');

    const badContact = await call('POST', '/patients', admin.accessToken, {
      first_name: 'A',
      last_name: 'B',
      emergency_contacts: [{ name: 'X', relationship: 'y', phone: '12345', extra: 1 }],
    });
    expect(badContact.statusCode).toBe(400);
  });
});

describe('medical fields (field-level access)', () => {
  it('are absent (not null) for a receptionist on GET, list and create', async () => {
    const group = newGroup('rx');
    const secret = unique('history');
    const p = await newPatient(
      { group, medical_history: secret, allergies: ['latex'], notes: 'private' },
      doctor.accessToken,
    );

    const one = await call('GET', `/patients/${p.id}`, receptionist.accessToken);
    expect(one.statusCode).toBe(200);
    expectNoMedicalKeys(one.json<PatientBody>());
    expect(one.json<PatientBody>()).toMatchObject({ id: p.id, mrn: p.mrn, group });
    expect(one.body).not.toContain(secret);
    expect(one.body).not.toContain('latex');

    const list = await listPage(`group=${group}`, receptionist.accessToken);
    expect(list.items.map((i) => i.id)).toEqual([p.id]);
    expectNoMedicalKeys(list.items[0] ?? {});
    expect(JSON.stringify(list)).not.toContain(secret);

    const created = await newPatient({ group }, receptionist.accessToken);
    expectNoMedicalKeys(created);

    const patched = await call('PATCH', `/patients/${p.id}`, receptionist.accessToken, {
      location: 'Front desk',
    });
    expect(patched.statusCode, patched.body).toBe(200);
    expectNoMedicalKeys(patched.json<PatientBody>());
    // The receptionist's edit left the medical fields untouched.
    expect(await getPatient(p.id, doctor.accessToken)).toMatchObject({
      location: 'Front desk',
      medical_history: secret,
      allergies: ['latex'],
      notes: 'private',
    });
  });

  it('a receptionist writing any of them gets 403 (create and update), nothing changes', async () => {
    const group = newGroup('rxw');
    for (const [field, value] of [
      ['allergies', ['penicillin']],
      ['allergies', []],
      ['medical_history', 'x'],
      ['notes', null],
    ] as const) {
      const res = await call('POST', '/patients', receptionist.accessToken, {
        first_name: 'Rx',
        last_name: unique('Write'),
        group,
        [field]: value,
      });
      expect(res.statusCode, `${field} ${res.body}`).toBe(403);
      const problem = problemOf(res);
      expect(problem.code).toBe('forbidden');
      expect(problem.errors?.[0]?.field).toBe(`body.${field}`);
    }
    expect(await groupCount(group)).toBeUndefined();

    const p = await newPatient({ medical_history: 'kept' }, doctor.accessToken);
    const res = await call('PATCH', `/patients/${p.id}`, receptionist.accessToken, {
      phone: '+1 555 0100',
      notes: 'sneaky',
    });
    expect(res.statusCode).toBe(403);
    // Refused as a whole: the permitted field in the same request was not applied either.
    const after = await getPatient(p.id);
    expect(after).toMatchObject({ phone: null, notes: null, medical_history: 'kept', version: 1 });
  });

  it('a nurse sees them but may not write them (403 on POST and PATCH)', async () => {
    const p = await newPatient(
      { medical_history: 'asthma', allergies: ['Aspirin'], notes: 'n1' },
      doctor.accessToken,
    );
    expect(await getPatient(p.id, nurse.accessToken)).toMatchObject({
      medical_history: 'asthma',
      allergies: ['aspirin'],
      notes: 'n1',
    });
    const listed = await listPage(`q=${p.last_name}`, nurse.accessToken);
    expect(listed.items[0]).toMatchObject({ id: p.id, allergies: ['aspirin'] });

    for (const patch of [
      { medical_history: 'none' },
      { allergies: ['latex'] },
      { notes: 'changed' },
      { notes: null },
    ]) {
      const res = await call('PATCH', `/patients/${p.id}`, nurse.accessToken, patch);
      expect(res.statusCode, JSON.stringify(patch)).toBe(403);
      expect(problemOf(res).code).toBe('forbidden');
    }
    const create = await call('POST', '/patients', nurse.accessToken, {
      first_name: 'N',
      last_name: unique('Nurse'),
      allergies: ['latex'],
    });
    expect(create.statusCode).toBe(403);

    expect(await getPatient(p.id)).toMatchObject({
      medical_history: 'asthma',
      allergies: ['aspirin'],
      notes: 'n1',
      version: 1,
    });
    // Demographics are fine for a nurse.
    const ok = await call('PATCH', `/patients/${p.id}`, nurse.accessToken, { location: 'ICU' });
    expect(ok.statusCode, ok.body).toBe(200);
    expect(ok.json<PatientBody>()).toMatchObject({ location: 'ICU', medical_history: 'asthma' });
  });

  it('doctors and admins may write them', async () => {
    for (const writer of [doctor, admin]) {
      const p = await newPatient(
        { medical_history: 'h1', allergies: ['Iodine'], notes: 'a' },
        writer.accessToken,
      );
      expect(p).toMatchObject({ medical_history: 'h1', allergies: ['iodine'], notes: 'a' });
      const res = await call('PATCH', `/patients/${p.id}`, writer.accessToken, {
        medical_history: 'h2',
        allergies: ['Sulfa', 'SULFA'],
        notes: null,
      });
      expect(res.statusCode, res.body).toBe(200);
      expect(res.json<PatientBody>()).toMatchObject({
        medical_history: 'h2',
        allergies: ['sulfa'],
        notes: null,
        version: 2,
      });
    }
  });
});

describe('GET /patients/{id}', () => {
  it('returns the patient with an ETag', async () => {
    const p = await newPatient();
    const res = await call('GET', `/patients/${p.id}`, nurse.accessToken);
    expect(res.statusCode).toBe(200);
    expect(res.headers.etag).toBe('"v1"');
    expect(res.json<PatientBody>()).toMatchObject({ id: p.id, mrn: p.mrn });
  });

  it('404 for an unknown id, 400 for a malformed one', async () => {
    const res = await call('GET', `/patients/${randomUUID()}`, admin.accessToken);
    expect(res.statusCode).toBe(404);
    expect(problemOf(res).code).toBe('not_found');
    const bad = await call('GET', '/patients/not-a-uuid', admin.accessToken);
    expect(bad.statusCode).toBe(400);
  });
});

describe('PATCH /patients/{id}', () => {
  it('honours If-Match: stale -> 412 (unchanged), current -> 200 with a new ETag', async () => {
    const p = await newPatient({ phone: '+1 555 0000' });
    const first = await call(
      'PATCH',
      `/patients/${p.id}`,
      receptionist.accessToken,
      { phone: '+1 555 0001' },
      { 'if-match': '"v1"' },
    );
    expect(first.statusCode, first.body).toBe(200);
    expect(first.headers.etag).toBe('"v2"');
    expect(first.json<PatientBody>()).toMatchObject({ phone: '+1 555 0001', version: 2 });
    expect(Date.parse(first.json<PatientBody>().updated_at)).toBeGreaterThanOrEqual(
      Date.parse(p.updated_at),
    );

    const stale = await call(
      'PATCH',
      `/patients/${p.id}`,
      receptionist.accessToken,
      { phone: '+1 555 0002' },
      { 'if-match': '"v1"' },
    );
    expect(stale.statusCode).toBe(412);
    expect(problemOf(stale).code).toBe('precondition_failed');
    expect(await getPatient(p.id)).toMatchObject({ phone: '+1 555 0001', version: 2 });

    const weak = await call(
      'PATCH',
      `/patients/${p.id}`,
      receptionist.accessToken,
      { phone: '+1 555 0003' },
      { 'if-match': 'W/"v2"' },
    );
    expect(weak.statusCode).toBe(412);

    const current = await call(
      'PATCH',
      `/patients/${p.id}`,
      receptionist.accessToken,
      { first_name: 'Renamed', gender: 'other' },
      { 'if-match': first.headers.etag as string },
    );
    expect(current.statusCode, current.body).toBe(200);
    expect(current.headers.etag).toBe('"v3"');
    expect(current.json<PatientBody>()).toMatchObject({
      first_name: 'Renamed',
      gender: 'other',
      phone: '+1 555 0001',
      version: 3,
    });
  });

  it('validates like create: duplicate email 409, bad doctor 422, bad date 400, unknown 404', async () => {
    const email = `${unique('taken')}@example.test`;
    await newPatient({ email });
    const p = await newPatient();
    const dup = await call('PATCH', `/patients/${p.id}`, admin.accessToken, {
      email: email.toUpperCase(),
    });
    expect(dup.statusCode).toBe(409);
    const doc = await call('PATCH', `/patients/${p.id}`, admin.accessToken, {
      assigned_doctor_id: receptionist.id,
    });
    expect(doc.statusCode).toBe(422);
    const date = await call('PATCH', `/patients/${p.id}`, admin.accessToken, {
      date_of_birth: '2023-02-30',
    });
    expect(date.statusCode).toBe(400);
    const extra = await call('PATCH', `/patients/${p.id}`, admin.accessToken, { version: 9 });
    expect(extra.statusCode).toBe(400);
    expect((await getPatient(p.id)).version).toBe(1);

    const missing = await call('PATCH', `/patients/${randomUUID()}`, admin.accessToken, {
      location: 'x',
    });
    expect(missing.statusCode).toBe(404);

    // Assigning a real doctor, then un-assigning.
    const assign = await call('PATCH', `/patients/${p.id}`, admin.accessToken, {
      assigned_doctor_id: doctor.id,
    });
    expect(assign.json<PatientBody>().assigned_doctor_id).toBe(doctor.id);
    const unassign = await call('PATCH', `/patients/${p.id}`, admin.accessToken, {
      assigned_doctor_id: null,
    });
    expect(unassign.json<PatientBody>().assigned_doctor_id).toBeNull();
  });
});

describe('DELETE /patients/{id}', () => {
  it('soft-deletes: 204, then 404 everywhere and absent from lists', async () => {
    const group = newGroup('del');
    const keep = await newPatient({ group });
    const gone = await newPatient({ group });
    expect(await groupCount(group)).toBe(2);

    const res = await call('DELETE', `/patients/${gone.id}`, receptionist.accessToken);
    expect(res.statusCode).toBe(204);
    expect(res.body).toBe('');

    expect((await call('GET', `/patients/${gone.id}`, admin.accessToken)).statusCode).toBe(404);
    expect(
      (await call('PATCH', `/patients/${gone.id}`, admin.accessToken, { location: 'x' }))
        .statusCode,
    ).toBe(404);
    expect((await call('DELETE', `/patients/${gone.id}`, admin.accessToken)).statusCode).toBe(404);
    expect((await call('PUT', `/patients/${gone.id}/favorite`, admin.accessToken)).statusCode).toBe(
      404,
    );
    expect((await call('GET', `/patients/${gone.id}/notes`, admin.accessToken)).statusCode).toBe(
      404,
    );

    const list = await listPage(`group=${group}`);
    expect(list.items.map((p) => p.id)).toEqual([keep.id]);
    expect((await listPage(`q=${gone.mrn}`)).items).toEqual([]);
    expect(await groupCount(group)).toBe(1);

    const csv = await exportCsv(admin.accessToken);
    expect(csv.byId(gone.id)).toBeUndefined();
    expect(csv.byId(keep.id)).toBeDefined();
  });

  it('honours If-Match: stale -> 412 and the patient stays', async () => {
    const p = await newPatient();
    const stale = await call('DELETE', `/patients/${p.id}`, admin.accessToken, undefined, {
      'if-match': '"v7"',
    });
    expect(stale.statusCode).toBe(412);
    expect((await getPatient(p.id)).id).toBe(p.id);
    const ok = await call('DELETE', `/patients/${p.id}`, admin.accessToken, undefined, {
      'if-match': '"v1"',
    });
    expect(ok.statusCode).toBe(204);
  });

  it('404 for an unknown id', async () => {
    const res = await call('DELETE', `/patients/${randomUUID()}`, admin.accessToken);
    expect(res.statusCode).toBe(404);
  });
});

describe('GET /patients (search and filters)', () => {
  it('q matches by name, email, phone and MRN (case-insensitive)', async () => {
    const last = unique('Searchy');
    const email = `${unique('mail')}@example.test`;
    const phone = uniquePhone();
    const p = await newPatient({ first_name: 'Quentin', last_name: last, email, phone });
    const other = await newPatient();

    for (const q of [
      last,
      last.toUpperCase(),
      `Quentin ${last}`,
      email,
      email.split('@')[0] ?? '',
      phone,
      p.mrn,
      p.mrn.toLowerCase(),
    ]) {
      const page = await listPage(`q=${encodeURIComponent(q)}`);
      const ids = page.items.map((i) => i.id);
      expect(ids, q).toContain(p.id);
      expect(ids, q).not.toContain(other.id);
      expect(ids[0], q).toBe(p.id);
    }
  });

  it('q tolerates a typo and ranks the closest name first', async () => {
    const group = newGroup('typo');
    const target = await newPatient({ first_name: 'Jan', last_name: 'Kowalczyk', group });
    await newPatient({ first_name: 'Piotr', last_name: 'Kowalski', group });
    const unrelated = await newPatient({ first_name: 'Ewa', last_name: 'Nowak', group });

    const page = await listPage(`q=Kowalcyzk&group=${group}`);
    expect(page.items[0]?.id).toBe(target.id);
    expect(page.items.map((i) => i.id)).not.toContain(unrelated.id);

    const swapped = await listPage(`q=${encodeURIComponent('jan kowalcyk')}&group=${group}`);
    expect(swapped.items[0]?.id).toBe(target.id);

    const nothing = await listPage(`q=zzqqxxvv&group=${group}`);
    expect(nothing).toEqual({ items: [], next_cursor: null });
  });

  it('q treats % and _ literally', async () => {
    const group = newGroup('lit');
    await newPatient({ group, last_name: 'Plain' });
    const page = await listPage(`q=${encodeURIComponent('%')}&group=${group}`);
    expect(page.items).toEqual([]);
  });

  it('filters by group, assigned_doctor_id and date_of_birth, combined', async () => {
    const group = newGroup('flt');
    const myDoctor = await createUser(t.app, 'doctor');
    const a = await newPatient({
      group,
      assigned_doctor_id: myDoctor.id,
      date_of_birth: '1970-01-02',
    });
    const b = await newPatient({ group, assigned_doctor_id: myDoctor.id });
    const c = await newPatient({ group, date_of_birth: '1970-01-02' });
    const elsewhere = await newPatient({ assigned_doctor_id: myDoctor.id });

    const ids = async (query: string) => (await walk(query, 100)).items.map((p) => p.id).sort();

    expect(await ids(`group=${group}`)).toEqual([a.id, b.id, c.id].sort());
    expect(await ids(`assigned_doctor_id=${myDoctor.id}`)).toEqual(
      [a.id, b.id, elsewhere.id].sort(),
    );
    expect(await ids(`group=${group}&date_of_birth=1970-01-02`)).toEqual([a.id, c.id].sort());
    expect(
      await ids(`group=${group}&date_of_birth=1970-01-02&assigned_doctor_id=${myDoctor.id}`),
    ).toEqual([a.id]);
    expect(await ids(`assigned_doctor_id=${randomUUID()}`)).toEqual([]);
  });

  it('rejects invalid filters and unknown parameters with 400', async () => {
    for (const query of [
      'group=Not A Slug',
      'date_of_birth=yesterday',
      'assigned_doctor_id=nope',
      'sort=relevance',
      'sort=email',
      'limit=0',
      'limit=101',
      'favorites_only=maybe',
      'colour=blue',
    ]) {
      const res = await call('GET', `/patients?${query}`, admin.accessToken);
      expect(res.statusCode, query).toBe(400);
      expect(problemOf(res).code, query).toBe('validation_failed');
    }
  });
});

describe('GET /patients (keyset pagination)', () => {
  /** Seven patients in one group, some sharing a last name, created one after another. */
  async function seedGroup() {
    const group = newGroup('page');
    const stem = `Zq${unique('').replace(/[0-9]/g, (d) => String.fromCharCode(97 + Number(d)))}`;
    const names: [string, string][] = [
      ['Carl', `${stem}beta`],
      ['Anna', `${stem}alpha`],
      ['Bert', `${stem}alpha`],
      ['Anna', `${stem}alpha`],
      ['Dora', `${stem}gamma`],
      ['Eve', stem],
      ['Fred', `${stem}delta`],
    ];
    const created: PatientBody[] = [];
    for (const [first_name, last_name] of names) {
      created.push(
        await newPatient(
          { first_name, last_name, group },
          admin.accessToken,
          '?allow_duplicate=true',
        ),
      );
    }
    return { group, stem, created };
  }

  function expectWalkedOnce(items: PatientBody[], created: PatientBody[]) {
    const ids = items.map((p) => p.id);
    expect(new Set(ids).size, 'no duplicates across pages').toBe(ids.length);
    expect([...ids].sort()).toEqual(created.map((p) => p.id).sort());
  }

  it('sort=name walks every row exactly once, by last name, first name', async () => {
    const { group, created } = await seedGroup();
    for (const limit of [1, 2, 3]) {
      const { items, pages } = await walk(`group=${group}&sort=name`, limit);
      expectWalkedOnce(items, created);
      expect(pages).toBe(Math.ceil(created.length / limit));
      const keys = items.map((p) => `${p.last_name}\u0000${p.first_name}`);
      expect(keys).toEqual([...keys].sort());
    }
    // Default sort without q is name.
    const dflt = await walk(`group=${group}`, 2);
    expect(dflt.items.map((p) => p.id)).toEqual(
      (await walk(`group=${group}&sort=name`, 7)).items.map((p) => p.id),
    );
  });

  it('sort=created_at walks every row exactly once, oldest first', async () => {
    const { group, created } = await seedGroup();
    for (const limit of [1, 2, 3]) {
      const { items } = await walk(`group=${group}&sort=created_at`, limit);
      expectWalkedOnce(items, created);
      expect(items.map((p) => p.id)).toEqual(created.map((p) => p.id));
    }
  });

  it('sort=-created_at walks every row exactly once, newest first', async () => {
    const { group, created } = await seedGroup();
    for (const limit of [1, 2, 3]) {
      const { items } = await walk(`group=${group}&sort=-created_at`, limit);
      expectWalkedOnce(items, created);
      expect(items.map((p) => p.id)).toEqual(created.map((p) => p.id).reverse());
    }
  });

  it('relevance (q without sort) walks every match exactly once, best first', async () => {
    const { group, stem, created } = await seedGroup();
    const all = await walk(`group=${group}&q=${stem}`, 100);
    expectWalkedOnce(all.items, created);
    // The exact surname is the closest match.
    expect(all.items[0]?.last_name).toBe(stem);
    for (const limit of [1, 2, 3]) {
      const { items } = await walk(`group=${group}&q=${stem}`, limit);
      expectWalkedOnce(items, created);
      expect(items.map((p) => p.id)).toEqual(all.items.map((p) => p.id));
    }
  });

  it('next_cursor is null on the last page and on an exactly full page', async () => {
    const { group } = await seedGroup();
    const full = await listPage(`group=${group}&limit=7`);
    expect(full.items).toHaveLength(7);
    expect(full.next_cursor).toBeNull();
    const first = await listPage(`group=${group}&limit=5`);
    expect(first.next_cursor).toEqual(expect.any(String));
    const last = await listPage(`group=${group}&limit=5&cursor=${first.next_cursor}`);
    expect(last.items).toHaveLength(2);
    expect(last.next_cursor).toBeNull();
  });

  it('a garbage or mismatched cursor is a 400, never a 500', async () => {
    const { group } = await seedGroup();
    const nameCursor = (await listPage(`group=${group}&limit=2&sort=name`)).next_cursor ?? '';
    const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
    for (const cursor of [
      'garbage',
      '!!!',
      b64('just a string'),
      b64({ c: 'not a date', id: randomUUID() }),
      b64({ c: new Date().toISOString(), id: 'not-a-uuid' }),
      b64({ r: 'NaN?', id: randomUUID() }),
    ]) {
      const res = await call(
        'GET',
        `/patients?group=${group}&sort=created_at&cursor=${encodeURIComponent(cursor)}`,
        admin.accessToken,
      );
      expect(res.statusCode, cursor).toBe(400);
      expect(problemOf(res).code).toBe('validation_failed');
    }
    // A name cursor does not fit the created_at or relevance order.
    for (const query of [`sort=created_at`, `q=abc`]) {
      const res = await call(
        'GET',
        `/patients?group=${group}&${query}&cursor=${nameCursor}`,
        admin.accessToken,
      );
      expect(res.statusCode, query).toBe(400);
    }
  });
});

describe('favourites', () => {
  it('PUT/DELETE are idempotent 204s, per user, and drive is_favorite and favorites_only', async () => {
    const group = newGroup('fav');
    const p = await newPatient({ group });
    const q = await newPatient({ group });
    const mine = await createUser(t.app, 'nurse');
    const theirs = await createUser(t.app, 'receptionist');

    for (let i = 0; i < 2; i++) {
      const res = await call('PUT', `/patients/${p.id}/favorite`, mine.accessToken);
      expect(res.statusCode).toBe(204);
      expect(res.body).toBe('');
    }
    expect((await getPatient(p.id, mine.accessToken)).is_favorite).toBe(true);
    expect((await getPatient(q.id, mine.accessToken)).is_favorite).toBe(false);
    expect((await getPatient(p.id, theirs.accessToken)).is_favorite).toBe(false);

    const listed = await listPage(`group=${group}`, mine.accessToken);
    expect(Object.fromEntries(listed.items.map((i) => [i.id, i.is_favorite]))).toEqual({
      [p.id]: true,
      [q.id]: false,
    });

    const favs = await listPage(`favorites_only=true`, mine.accessToken);
    expect(favs.items.map((i) => i.id)).toEqual([p.id]);
    expect((await listPage(`favorites_only=true`, theirs.accessToken)).items).toEqual([]);
    expect(
      (await listPage(`favorites_only=false&group=${group}`, mine.accessToken)).items,
    ).toHaveLength(2);

    const patched = await call('PATCH', `/patients/${p.id}`, mine.accessToken, { location: 'A' });
    expect(patched.json<PatientBody>().is_favorite).toBe(true);

    for (let i = 0; i < 2; i++) {
      const res = await call('DELETE', `/patients/${p.id}/favorite`, mine.accessToken);
      expect(res.statusCode).toBe(204);
    }
    expect((await getPatient(p.id, mine.accessToken)).is_favorite).toBe(false);
    expect((await listPage(`favorites_only=true`, mine.accessToken)).items).toEqual([]);
  });

  it('404 for an unknown patient', async () => {
    for (const method of ['PUT', 'DELETE'] as const) {
      const res = await call(method, `/patients/${randomUUID()}/favorite`, admin.accessToken);
      expect(res.statusCode, method).toBe(404);
    }
  });

  it('a deleted favourite drops out of the favourites list', async () => {
    const me = await createUser(t.app, 'doctor');
    const p = await newPatient();
    await call('PUT', `/patients/${p.id}/favorite`, me.accessToken);
    expect((await listPage('favorites_only=true', me.accessToken)).items).toHaveLength(1);
    await call('DELETE', `/patients/${p.id}`, admin.accessToken);
    expect((await listPage('favorites_only=true', me.accessToken)).items).toEqual([]);
    expect((await stats(me.accessToken)).favorite_patients).toBe(0);
  });
});

describe('GET /patients/groups and /patients/stats', () => {
  it('groups lists every group in use with its count', async () => {
    const group = newGroup('grp');
    expect(await groupCount(group)).toBeUndefined();
    await newPatient({ group });
    await newPatient({ group });
    await newPatient({ group });
    const res = await call('GET', '/patients/groups', nurse.accessToken);
    expect(res.statusCode).toBe(200);
    const body = res.json<PageBody<{ group: string; count: number }>>();
    expect(body.next_cursor).toBeNull();
    expect(body.items).toContainEqual({ group, count: 3 });
    expect(body.items.some((g) => g.group === 'general')).toBe(true);
    const names = body.items.map((g) => g.group);
    expect(new Set(names).size).toBe(names.length);
  });

  it('stats: totals, the caller’s favourites and per-group counts move with the data', async () => {
    const me = await createUser(t.app, 'receptionist');
    const group = newGroup('st');
    const before = await stats(me.accessToken);
    expect(before.favorite_patients).toBe(0);
    expect(before.groups.find((g) => g.group === group)).toBeUndefined();

    const a = await newPatient({ group });
    const b = await newPatient({ group });
    await call('PUT', `/patients/${a.id}/favorite`, me.accessToken);
    // Someone else's favourite is not mine.
    await call('PUT', `/patients/${b.id}/favorite`, admin.accessToken);

    const after = await stats(me.accessToken);
    expect(after.total_patients - before.total_patients).toBe(2);
    expect(after.favorite_patients).toBe(1);
    expect(after.groups).toContainEqual({ group, count: 2 });

    await call('DELETE', `/patients/${b.id}`, admin.accessToken);
    const last = await stats(me.accessToken);
    expect(last.total_patients - after.total_patients).toBe(-1);
    expect(last.groups).toContainEqual({ group, count: 1 });
  });
});

describe('visit notes', () => {
  it('POST: 201 {id, content, visit_type, author_id, created_at}', async () => {
    const p = await newPatient();
    const res = await call('POST', `/patients/${p.id}/notes`, nurse.accessToken, {
      content: 'BP 120/80.\nNo complaints.',
      visit_type: 'follow_up',
    });
    expect(res.statusCode, res.body).toBe(201);
    const note = res.json<NoteBody>();
    expect(note).toMatchObject({
      content: 'BP 120/80.\nNo complaints.',
      visit_type: 'follow_up',
      author_id: nurse.id,
    });
    expect(note.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(Date.parse(note.created_at)).not.toBeNaN();
    for (const key of ['id', 'content', 'visit_type', 'author_id', 'created_at']) {
      expect(Object.keys(note)).toContain(key);
    }
  });

  it('GET: newest first, paginated, every note once', async () => {
    const p = await newPatient();
    const types = ['regular', 'follow_up', 'emergency', 'consultation', 'phone'];
    const written: NoteBody[] = [];
    for (const [i, visit_type] of types.entries()) {
      const author = i % 2 === 0 ? doctor : admin;
      const res = await call('POST', `/patients/${p.id}/notes`, author.accessToken, {
        content: `note ${i}`,
        visit_type,
      });
      expect(res.statusCode, res.body).toBe(201);
      written.push(res.json<NoteBody>());
    }
    // Another patient's note never shows up here.
    const other = await newPatient();
    await call('POST', `/patients/${other.id}/notes`, doctor.accessToken, {
      content: 'elsewhere',
      visit_type: 'video',
    });

    const all = await call('GET', `/patients/${p.id}/notes`, nurse.accessToken);
    expect(all.statusCode).toBe(200);
    const body = all.json<PageBody<NoteBody>>();
    expect(body.next_cursor).toBeNull();
    expect(body.items.map((n) => n.content)).toEqual([
      'note 4',
      'note 3',
      'note 2',
      'note 1',
      'note 0',
    ]);
    expect(body.items[4]).toMatchObject({ ...written[0] });

    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const res = await call(
        'GET',
        `/patients/${p.id}/notes?limit=2${cursor === null ? '' : `&cursor=${cursor}`}`,
        doctor.accessToken,
      );
      expect(res.statusCode, res.body).toBe(200);
      const page = res.json<PageBody<NoteBody>>();
      seen.push(...page.items.map((n) => n.id));
      cursor = page.next_cursor;
      pages++;
    } while (cursor !== null && pages < 10);
    expect(pages).toBe(3);
    expect(seen).toEqual(written.map((n) => n.id).reverse());

    const bad = await call('GET', `/patients/${p.id}/notes?cursor=garbage`, doctor.accessToken);
    expect(bad.statusCode).toBe(400);
  });

  it('refuses a bad visit_type, empty content or extra keys with 400', async () => {
    const p = await newPatient();
    for (const payload of [
      { content: 'x', visit_type: 'house_call' },
      { content: 'x' },
      { content: '', visit_type: 'regular' },
      { content: 'x', visit_type: 'regular', author_id: admin.id },
    ]) {
      const res = await call('POST', `/patients/${p.id}/notes`, doctor.accessToken, payload);
      expect(res.statusCode, JSON.stringify(payload)).toBe(400);
      expect(problemOf(res).code).toBe('validation_failed');
    }
    const list = await call('GET', `/patients/${p.id}/notes`, doctor.accessToken);
    expect(list.json<PageBody<NoteBody>>().items).toEqual([]);
  });

  it('404 for an unknown patient', async () => {
    const id = randomUUID();
    expect((await call('GET', `/patients/${id}/notes`, doctor.accessToken)).statusCode).toBe(404);
    const res = await call('POST', `/patients/${id}/notes`, doctor.accessToken, {
      content: 'x',
      visit_type: 'regular',
    });
    expect(res.statusCode).toBe(404);
    expect(problemOf(res).code).toBe('not_found');
  });

  it('receptionists may neither read nor write them (403)', async () => {
    const p = await newPatient();
    await call('POST', `/patients/${p.id}/notes`, doctor.accessToken, {
      content: 'clinical detail',
      visit_type: 'regular',
    });
    const read = await call('GET', `/patients/${p.id}/notes`, receptionist.accessToken);
    expect(read.statusCode).toBe(403);
    expect(read.body).not.toContain('clinical detail');
    const write = await call('POST', `/patients/${p.id}/notes`, receptionist.accessToken, {
      content: 'x',
      visit_type: 'regular',
    });
    expect(write.statusCode).toBe(403);
    expect(problemOf(write).code).toBe('forbidden');
  });
});

describe('GET /patients/export.csv', () => {
  it('streams a CSV attachment with medical columns for a doctor', async () => {
    const p = await newPatient(
      {
        first_name: 'Csv',
        last_name: unique('Export'),
        email: `${unique('csv')}@example.test`,
        group: 'oncology',
        address: 'Main St 1, "Flat" 2',
        medical_history: 'line one\nline two',
        allergies: ['Latex', 'penicillin'],
        notes: 'n',
      },
      doctor.accessToken,
    );
    const { res, header, byId } = await exportCsv(doctor.accessToken);
    expect(res.headers['content-type']).toMatch(/^text\/csv/);
    expect(res.headers['content-disposition']).toMatch(/^attachment; filename="[^"]+\.csv"$/);
    expect(header).toEqual(
      expect.arrayContaining(['id', 'mrn', 'first_name', 'last_name', 'email', 'group']),
    );
    for (const key of medicalKeys) expect(header).toContain(key);
    expect(byId(p.id)).toMatchObject({
      mrn: p.mrn,
      first_name: 'Csv',
      last_name: p.last_name,
      email: p.email,
      group: 'oncology',
      address: 'Main St 1, "Flat" 2',
      medical_history: 'line one\nline two',
      allergies: 'latex; penicillin',
      notes: 'n',
    });
  });

  it('leaves the medical columns out for a receptionist', async () => {
    const secret = unique('secret');
    const p = await newPatient({ medical_history: secret }, doctor.accessToken);
    const { header, byId, res } = await exportCsv(receptionist.accessToken);
    for (const key of medicalKeys) expect(header).not.toContain(key);
    expect(byId(p.id)).toMatchObject({ mrn: p.mrn, last_name: p.last_name });
    expect(res.body).not.toContain(secret);
  });

  it('neutralizes spreadsheet formulas with a leading quote', async () => {
    const formulas = ['=HYPERLINK("http://evil.test","click")', '+1+1', '-2+3', '@SUM(A1)'];
    const created = [];
    for (const first_name of formulas) {
      created.push(await newPatient({ first_name, last_name: unique('Formula') }));
    }
    const { byId } = await exportCsv(admin.accessToken);
    for (const [i, p] of created.entries()) {
      expect(byId(p.id)?.first_name).toBe(`'${formulas[i]}`);
    }
    // The stored value itself is unchanged.
    expect((await getPatient(created[0]?.id ?? '')).first_name).toBe(formulas[0]);
  });
});

describe('access to patient routes', () => {
  async function every(id: string): Promise<[Method, string, object?][]> {
    return [
      ['GET', '/patients'],
      ['POST', '/patients', { first_name: 'X', last_name: unique('Y') }],
      ['GET', '/patients/groups'],
      ['GET', '/patients/stats'],
      ['GET', '/patients/export.csv'],
      ['GET', `/patients/${id}`],
      ['PATCH', `/patients/${id}`, { location: 'nope' }],
      ['DELETE', `/patients/${id}`],
      ['PUT', `/patients/${id}/favorite`],
      ['DELETE', `/patients/${id}/favorite`],
      ['GET', `/patients/${id}/notes`],
      ['POST', `/patients/${id}/notes`, { content: 'x', visit_type: 'regular' }],
    ];
  }

  it('user and guest get 403 on every patients route, and nothing changes', async () => {
    const p = await newPatient();
    for (const who of [plainUser, guest]) {
      for (const [method, url, payload] of await every(p.id)) {
        const res = await call(method, url, who.accessToken, payload);
        expect(res.statusCode, `${who.role} ${method} ${url}`).toBe(403);
        expect(problemOf(res).code).toBe('forbidden');
        expect(res.body).not.toContain(p.mrn);
      }
    }
    expect(await getPatient(p.id)).toMatchObject({ version: 1, location: null });
  });

  it('without a token every patients route is 401 with WWW-Authenticate', async () => {
    const p = await newPatient();
    for (const [method, url, payload] of await every(p.id)) {
      const res = await call(method, url, undefined, payload);
      expect(res.statusCode, `${method} ${url}`).toBe(401);
      expect(res.headers['www-authenticate']).toBe('Bearer');
    }
  });

  it('answers with or without a trailing slash', async () => {
    const p = await newPatient();
    const res = await call('GET', `/patients/${p.id}/`, receptionist.accessToken);
    expect(res.statusCode).toBe(200);
    expect(res.json<PatientBody>().id).toBe(p.id);
    const list = await call('GET', `/patients/?q=${p.mrn}`, receptionist.accessToken);
    expect(list.statusCode).toBe(200);
    // An exact MRN ranks first (longer MRNs containing it may follow).
    expect(list.json<PageBody<PatientBody>>().items[0]?.id).toBe(p.id);
  });
});
