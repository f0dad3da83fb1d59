import { randomUUID } from 'node:crypto';
import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Role } from '../../db/schema/users.js';
import {
  bearer,
  buildTestApp,
  createUser,
  problemOf,
  unique,
  type TestApp,
  type TestUser,
} from '../../../test/helpers.js';

let t: TestApp;
let admin: TestUser;
let doctor: TestUser;
let otherDoctor: TestUser;
let nurse: TestUser;
let receptionist: TestUser;
let plainUser: TestUser;
let guest: TestUser;

beforeAll(async () => {
  t = await buildTestApp();
  [admin, doctor, otherDoctor, nurse, receptionist, plainUser, guest] = await Promise.all([
    createUser(t.app, 'admin'),
    createUser(t.app, 'doctor'),
    createUser(t.app, 'doctor'),
    createUser(t.app, 'nurse'),
    createUser(t.app, 'receptionist'),
    createUser(t.app, 'user'),
    createUser(t.app, 'guest'),
  ]);
});
afterAll(async () => {
  await t.close();
});

type Status = 'active' | 'cancelled' | 'completed';

interface Warning {
  code: 'allergy_match';
  allergen: string;
  message: string;
}
interface PrescriptionBody {
  id: string;
  patient_id: string;
  prescriber_id: string;
  appointment_id: string | null;
  medication: string;
  dosage: string;
  route: string | null;
  frequency: string;
  duration_days: number | null;
  quantity: number | null;
  refills: number;
  instructions: string | null;
  status: Status;
  cancel_reason: string | null;
  warnings: Warning[];
  version: number;
  created_at: string;
  updated_at: string;
}
interface PageBody<T> {
  items: T[];
  next_cursor: string | null;
}

type Method = 'GET' | 'POST' | 'PATCH' | 'DELETE';

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

function expectProblem(res: LightMyRequestResponse, status: number, code: string) {
  expect(res.statusCode, res.body).toBe(status);
  const problem = problemOf(res);
  expect(problem.status).toBe(status);
  expect(problem.code).toBe(code);
  return problem;
}

async function newPatient(allergies?: string[]): Promise<string> {
  const res = await call('POST', '/patients', doctor.accessToken, {
    first_name: unique('Pat'),
    last_name: unique('Last'),
    ...(allergies === undefined ? {} : { allergies }),
  });
  expect(res.statusCode, res.body).toBe(201);
  return res.json<{ id: string }>().id;
}

function rxBody(patientId: string, extra: Record<string, unknown> = {}) {
  return {
    patient_id: patientId,
    medication: 'Metformin 850 mg',
    dosage: '1 tablet',
    frequency: 'twice daily',
    refills: 2,
    ...extra,
  };
}

async function prescribe(
  patientId: string,
  extra: Record<string, unknown> = {},
  token = doctor.accessToken,
): Promise<PrescriptionBody> {
  const res = await call('POST', '/prescriptions', token, rxBody(patientId, extra));
  expect(res.statusCode, res.body).toBe(201);
  return res.json<PrescriptionBody>();
}

async function fetchRx(id: string, token = doctor.accessToken): Promise<PrescriptionBody> {
  const res = await call('GET', `/prescriptions/${id}`, token);
  expect(res.statusCode, res.body).toBe(200);
  return res.json<PrescriptionBody>();
}

/** Follows next_cursor to the end; returns every id in order. */
async function allIds(url: string, token = doctor.accessToken): Promise<string[]> {
  const ids: string[] = [];
  let cursor: string | null = null;
  const sep = url.includes('?') ? '&' : '?';
  for (let page = 0; page < 50; page++) {
    const res = await call(
      'GET',
      `${url}${cursor === null ? '' : `${sep}cursor=${cursor}`}`,
      token,
    );
    expect(res.statusCode, res.body).toBe(200);
    const body = res.json<PageBody<PrescriptionBody>>();
    ids.push(...body.items.map((item) => item.id));
    cursor = body.next_cursor;
    if (cursor === null) return ids;
  }
  throw new Error('pagination did not end');
}

/** A start time `days` ahead at 10:00 UTC (always in the future for days >= 1). */
function futureStart(days: number): string {
  const now = new Date();
  return new Date(
    Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() + days, 10),
  ).toISOString();
}

async function bookAppointment(patientId: string, days: number): Promise<string> {
  const res = await call('POST', '/appointments', doctor.accessToken, {
    patient_id: patientId,
    doctor_id: doctor.id,
    starts_at: futureStart(days),
  });
  expect(res.statusCode, res.body).toBe(201);
  return res.json<{ id: string }>().id;
}

describe('POST /prescriptions', () => {
  it('a doctor prescribes: 201 active, prescriber is the doctor, Location and ETag', async () => {
    const patientId = await newPatient();
    const res = await call(
      'POST',
      '/prescriptions',
      doctor.accessToken,
      rxBody(patientId, {
        route: 'oral',
        duration_days: 30,
        quantity: 60,
        instructions: 'Take with meals.',
      }),
    );
    expect(res.statusCode, res.body).toBe(201);
    const body = res.json<PrescriptionBody>();
    expect(body).toMatchObject({
      patient_id: patientId,
      prescriber_id: doctor.id,
      appointment_id: null,
      medication: 'Metformin 850 mg',
      dosage: '1 tablet',
      route: 'oral',
      frequency: 'twice daily',
      duration_days: 30,
      quantity: 60,
      refills: 2,
      instructions: 'Take with meals.',
      status: 'active',
      cancel_reason: null,
      warnings: [],
      version: 1,
    });
    expect(body.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(res.headers.location).toBe(`/api/v1/prescriptions/${body.id}`);
    expect(res.headers.etag).toBe('"v1"');
    expect(new Date(body.created_at).toISOString()).toBe(body.created_at);

    // The Location names the record, and it reads back the same.
    const read = await call(
      'GET',
      String(res.headers.location).replace('/api/v1', ''),
      nurse.accessToken,
    );
    expect(read.statusCode).toBe(200);
    expect(read.json<PrescriptionBody>()).toEqual(body);
    expect(read.headers.etag).toBe('"v1"');
  });

  it('refills default to 0 and accept the bounds 0 and 12', async () => {
    const patientId = await newPatient();
    const withoutRefills = { ...rxBody(patientId) } as Record<string, unknown>;
    delete withoutRefills.refills;
    const res = await call('POST', '/prescriptions', doctor.accessToken, withoutRefills);
    expect(res.statusCode, res.body).toBe(201);
    expect(res.json<PrescriptionBody>().refills).toBe(0);
    expect((await prescribe(patientId, { refills: 0 })).refills).toBe(0);
    expect((await prescribe(patientId, { refills: 12 })).refills).toBe(12);
  });

  it.each([-1, 13, 100, 1.5])('refills %s -> 400', async (refills) => {
    const patientId = await newPatient();
    const res = await call(
      'POST',
      '/prescriptions',
      doctor.accessToken,
      rxBody(patientId, { refills }),
    );
    const problem = expectProblem(res, 400, 'validation_failed');
    expect(problem.errors?.some((error) => error.field.includes('refills'))).toBe(true);
    // Nothing was stored for that patient.
    const list = await call('GET', `/prescriptions?patient_id=${patientId}`, doctor.accessToken);
    expect(list.json<PageBody<PrescriptionBody>>().items).toEqual([]);
  });

  it('missing required fields or unknown fields -> 400', async () => {
    const patientId = await newPatient();
    for (const field of ['medication', 'dosage', 'frequency', 'patient_id']) {
      const body = Object.fromEntries(
        Object.entries(rxBody(patientId)).filter(([key]) => key !== field),
      );
      const res = await call('POST', '/prescriptions', doctor.accessToken, body);
      expectProblem(res, 400, 'validation_failed');
    }
    const extra = await call(
      'POST',
      '/prescriptions',
      doctor.accessToken,
      rxBody(patientId, { prescriber_id: otherDoctor.id }),
    );
    expectProblem(extra, 400, 'validation_failed');
  });

  it('an unknown patient -> 422 naming patient_id', async () => {
    const res = await call('POST', '/prescriptions', doctor.accessToken, rxBody(randomUUID()));
    const problem = expectProblem(res, 422, 'unprocessable');
    expect(problem.errors?.map((error) => error.field)).toEqual(['body.patient_id']);
  });

  it('a deleted patient -> 422', async () => {
    const patientId = await newPatient();
    const del = await call('DELETE', `/patients/${patientId}`, admin.accessToken);
    expect(del.statusCode, del.body).toBeLessThan(300);
    const res = await call('POST', '/prescriptions', doctor.accessToken, rxBody(patientId));
    expectProblem(res, 422, 'unprocessable');
  });

  it("an appointment of another patient -> 422; the patient's own appointment is linked", async () => {
    const patientA = await newPatient();
    const patientB = await newPatient();
    const appointmentOfB = await bookAppointment(patientB, 3);

    const wrong = await call(
      'POST',
      '/prescriptions',
      doctor.accessToken,
      rxBody(patientA, { appointment_id: appointmentOfB }),
    );
    const problem = expectProblem(wrong, 422, 'unprocessable');
    expect(problem.errors?.map((error) => error.field)).toEqual(['body.appointment_id']);

    const unknown = await call(
      'POST',
      '/prescriptions',
      doctor.accessToken,
      rxBody(patientA, { appointment_id: randomUUID() }),
    );
    expectProblem(unknown, 422, 'unprocessable');

    const linked = await prescribe(patientB, { appointment_id: appointmentOfB });
    expect(linked.appointment_id).toBe(appointmentOfB);
    expect(linked.patient_id).toBe(patientB);
    // Neither refused request stored anything for patient A.
    const list = await call('GET', `/patients/${patientA}/prescriptions`, doctor.accessToken);
    expect(list.json<PageBody<PrescriptionBody>>().items).toEqual([]);
  });

  it.each(['nurse', 'receptionist', 'admin', 'user', 'guest'] as Role[])(
    '%s gets 403 and nothing is stored',
    async (role) => {
      const token = {
        nurse: () => nurse,
        receptionist: () => receptionist,
        admin: () => admin,
        user: () => plainUser,
        guest: () => guest,
        doctor: () => doctor,
      }[role]().accessToken;
      const patientId = await newPatient();
      const res = await call('POST', '/prescriptions', token, rxBody(patientId));
      expectProblem(res, 403, 'forbidden');
      const list = await call('GET', `/prescriptions?patient_id=${patientId}`, doctor.accessToken);
      expect(list.json<PageBody<PrescriptionBody>>().items).toEqual([]);
    },
  );

  it('without a token -> 401 with WWW-Authenticate', async () => {
    const patientId = await newPatient();
    const res = await call('POST', '/prescriptions', undefined, rxBody(patientId));
    expect(res.statusCode).toBe(401);
    expect(String(res.headers['www-authenticate'])).toMatch(/^Bearer/);
  });
});

describe('allergy warnings', () => {
  it('a penicillin allergy flags amoxicillin: 201 with an allergy_match warning, persisted', async () => {
    const patientId = await newPatient(['penicillin']);
    const created = await prescribe(patientId, { medication: 'Amoxicillin 500 mg' });
    expect(created.status).toBe('active');
    expect(created.warnings).toHaveLength(1);
    expect(created.warnings[0]).toMatchObject({ code: 'allergy_match', allergen: 'penicillin' });
    expect(created.warnings[0]?.message).toContain('penicillin');
    expect(Object.keys(created.warnings[0] ?? {}).sort()).toEqual(['allergen', 'code', 'message']);

    // Kept with the record: the read and the lists show what the prescriber saw.
    expect((await fetchRx(created.id)).warnings).toEqual(created.warnings);
    const list = await call('GET', `/patients/${patientId}/prescriptions`, nurse.accessToken);
    expect(list.json<PageBody<PrescriptionBody>>().items[0]?.warnings).toEqual(created.warnings);
  });

  it("a direct name match ('Penicillin V') warns too", async () => {
    const patientId = await newPatient(['penicillin']);
    const created = await prescribe(patientId, { medication: 'Penicillin V 250 mg' });
    expect(created.warnings.map((w) => [w.code, w.allergen])).toEqual([
      ['allergy_match', 'penicillin'],
    ]);
  });

  it("an unrelated drug ('Metformin') has warnings []", async () => {
    const patientId = await newPatient(['penicillin', 'latex']);
    const created = await prescribe(patientId, { medication: 'Metformin 850 mg' });
    expect(created.warnings).toEqual([]);
    expect((await fetchRx(created.id)).warnings).toEqual([]);
  });

  it('several recorded allergens: one warning per matching allergen only', async () => {
    const patientId = await newPatient(['latex', 'sulfa', 'nsaids']);
    const created = await prescribe(patientId, { medication: 'Ibuprofen 400 mg' });
    expect(created.warnings.map((w) => w.allergen)).toEqual(['nsaids']);
  });

  it('a patient without allergies gets no warnings', async () => {
    const patientId = await newPatient();
    expect((await prescribe(patientId, { medication: 'Amoxicillin 500 mg' })).warnings).toEqual([]);
  });
});

describe('GET /prescriptions (list)', () => {
  let patientA: string;
  let patientB: string;
  let docA: TestUser;
  let docB: TestUser;
  const created: PrescriptionBody[] = [];

  /** The id of the i-th prescription created in this block. */
  function idAt(index: number): string {
    const found = created[index];
    if (!found) throw new Error(`no prescription #${String(index)}`);
    return found.id;
  }

  beforeAll(async () => {
    [docA, docB] = await Promise.all([createUser(t.app, 'doctor'), createUser(t.app, 'doctor')]);
    patientA = await newPatient();
    patientB = await newPatient();
    // Sequential, so creation order is well defined.
    created.push(await prescribe(patientA, { medication: 'Rx A1' }, docA.accessToken));
    created.push(await prescribe(patientA, { medication: 'Rx A2' }, docB.accessToken));
    created.push(await prescribe(patientB, { medication: 'Rx B1' }, docA.accessToken));
    created.push(await prescribe(patientA, { medication: 'Rx A3' }, docA.accessToken));
    created.push(await prescribe(patientA, { medication: 'Rx A4' }, docA.accessToken));
    const cancel = await call('POST', `/prescriptions/${idAt(1)}/cancel`, docB.accessToken);
    expect(cancel.statusCode, cancel.body).toBe(200);
    const complete = await call('POST', `/prescriptions/${idAt(3)}/complete`, docA.accessToken);
    expect(complete.statusCode, complete.body).toBe(200);
  });

  function idsOf(...indexes: number[]): string[] {
    return indexes.map(idAt);
  }

  it('answers {items, next_cursor} and includes new records', async () => {
    const res = await call('GET', '/prescriptions?limit=100', nurse.accessToken);
    expect(res.statusCode).toBe(200);
    const body = res.json<PageBody<PrescriptionBody>>();
    expect(Object.keys(body).sort()).toEqual(['items', 'next_cursor']);
    // Newest first: the last one created heads the unfiltered list too.
    expect(body.items[0]?.id).toBe(idAt(4));
  });

  it('filters by patient_id, newest first', async () => {
    expect(await allIds(`/prescriptions?patient_id=${patientA}`)).toEqual(idsOf(4, 3, 1, 0));
    expect(await allIds(`/prescriptions?patient_id=${patientB}`)).toEqual(idsOf(2));
  });

  it('filters by prescriber_id', async () => {
    expect(await allIds(`/prescriptions?prescriber_id=${docA.id}`)).toEqual(idsOf(4, 3, 2, 0));
    expect(await allIds(`/prescriptions?prescriber_id=${docB.id}`)).toEqual(idsOf(1));
  });

  it('filters by status, and filters combine', async () => {
    expect(await allIds(`/prescriptions?patient_id=${patientA}&status=active`)).toEqual(
      idsOf(4, 0),
    );
    expect(await allIds(`/prescriptions?patient_id=${patientA}&status=cancelled`)).toEqual(
      idsOf(1),
    );
    expect(await allIds(`/prescriptions?prescriber_id=${docA.id}&status=completed`)).toEqual(
      idsOf(3),
    );
    expect(await allIds(`/prescriptions?prescriber_id=${docB.id}&patient_id=${patientB}`)).toEqual(
      [],
    );
    const res = await call(
      'GET',
      `/prescriptions?status=active&patient_id=${patientA}`,
      doctor.accessToken,
    );
    for (const item of res.json<PageBody<PrescriptionBody>>().items) {
      expect(item.status).toBe('active');
      expect(item.patient_id).toBe(patientA);
    }
  });

  it('keyset pagination: pages of 1 and 3 walk the list without gaps or repeats', async () => {
    const expected = idsOf(4, 3, 1, 0);
    expect(await allIds(`/prescriptions?patient_id=${patientA}&limit=1`)).toEqual(expected);
    expect(await allIds(`/prescriptions?patient_id=${patientA}&limit=3`)).toEqual(expected);

    const first = await call(
      'GET',
      `/prescriptions?patient_id=${patientA}&limit=2`,
      doctor.accessToken,
    );
    const page1 = first.json<PageBody<PrescriptionBody>>();
    expect(page1.items.map((i) => i.id)).toEqual(idsOf(4, 3));
    expect(page1.next_cursor).toEqual(expect.any(String));
    const second = await call(
      'GET',
      `/prescriptions?patient_id=${patientA}&limit=2&cursor=${page1.next_cursor}`,
      doctor.accessToken,
    );
    const page2 = second.json<PageBody<PrescriptionBody>>();
    expect(page2.items.map((i) => i.id)).toEqual(idsOf(1, 0));
    expect(page2.next_cursor).toBeNull();
  });

  it('a bad cursor, status or id filter -> 400', async () => {
    expectProblem(
      await call('GET', '/prescriptions?cursor=bm9wZQ', doctor.accessToken),
      400,
      'validation_failed',
    );
    expectProblem(
      await call('GET', '/prescriptions?status=expired', doctor.accessToken),
      400,
      'validation_failed',
    );
    expectProblem(
      await call('GET', '/prescriptions?patient_id=nope', doctor.accessToken),
      400,
      'validation_failed',
    );
    expectProblem(
      await call('GET', '/prescriptions?limit=0', doctor.accessToken),
      400,
      'validation_failed',
    );
  });
});

describe('GET /prescriptions/{id}', () => {
  it('returns the record with its ETag to every clinical role', async () => {
    const created = await prescribe(await newPatient());
    for (const user of [doctor, otherDoctor, nurse, admin]) {
      const res = await call('GET', `/prescriptions/${created.id}`, user.accessToken);
      expect(res.statusCode, `${user.role}: ${res.body}`).toBe(200);
      expect(res.json<PrescriptionBody>()).toEqual(created);
      expect(res.headers.etag).toBe('"v1"');
    }
  });

  it('an unknown id -> 404; a malformed id -> 400', async () => {
    expectProblem(
      await call('GET', `/prescriptions/${randomUUID()}`, doctor.accessToken),
      404,
      'not_found',
    );
    expectProblem(
      await call('GET', '/prescriptions/not-a-uuid', doctor.accessToken),
      400,
      'validation_failed',
    );
  });
});

describe('PATCH /prescriptions/{id}', () => {
  it('the prescriber edits: 200, version and ETag move on', async () => {
    const created = await prescribe(await newPatient());
    const res = await call('PATCH', `/prescriptions/${created.id}`, doctor.accessToken, {
      dosage: '2 tablets',
      refills: 5,
      instructions: 'With water.',
    });
    expect(res.statusCode, res.body).toBe(200);
    const body = res.json<PrescriptionBody>();
    expect(body).toMatchObject({
      dosage: '2 tablets',
      refills: 5,
      instructions: 'With water.',
      medication: created.medication,
      prescriber_id: doctor.id,
      status: 'active',
      version: 2,
    });
    expect(res.headers.etag).toBe('"v2"');
    expect(await fetchRx(created.id)).toEqual(body);
  });

  it('changing the medication recomputes the allergy warnings', async () => {
    const patientId = await newPatient(['penicillin']);
    const created = await prescribe(patientId, { medication: 'Metformin 850 mg' });
    expect(created.warnings).toEqual([]);

    const toAmoxicillin = await call('PATCH', `/prescriptions/${created.id}`, doctor.accessToken, {
      medication: 'Amoxicillin 500 mg',
    });
    expect(toAmoxicillin.statusCode, toAmoxicillin.body).toBe(200);
    const warned = toAmoxicillin.json<PrescriptionBody>();
    expect(warned.warnings.map((w) => [w.code, w.allergen])).toEqual([
      ['allergy_match', 'penicillin'],
    ]);
    expect((await fetchRx(created.id)).warnings).toEqual(warned.warnings);

    // Other edits keep the warnings as they are.
    const dosage = await call('PATCH', `/prescriptions/${created.id}`, doctor.accessToken, {
      dosage: '1 capsule',
    });
    expect(dosage.json<PrescriptionBody>().warnings).toEqual(warned.warnings);

    const back = await call('PATCH', `/prescriptions/${created.id}`, doctor.accessToken, {
      medication: 'Atorvastatin 20 mg',
    });
    expect(back.statusCode, back.body).toBe(200);
    expect(back.json<PrescriptionBody>().warnings).toEqual([]);
    expect((await fetchRx(created.id)).warnings).toEqual([]);
  });

  it('another doctor -> 403, a nurse -> 403; the record is unchanged', async () => {
    const created = await prescribe(await newPatient());
    expectProblem(
      await call('PATCH', `/prescriptions/${created.id}`, otherDoctor.accessToken, { refills: 9 }),
      403,
      'forbidden',
    );
    expectProblem(
      await call('PATCH', `/prescriptions/${created.id}`, nurse.accessToken, { refills: 9 }),
      403,
      'forbidden',
    );
    expectProblem(
      await call('PATCH', `/prescriptions/${created.id}`, receptionist.accessToken, { refills: 9 }),
      403,
      'forbidden',
    );
    expect(await fetchRx(created.id)).toEqual(created);
  });

  it('an admin edits: 200, the prescriber stays', async () => {
    const created = await prescribe(await newPatient());
    const res = await call('PATCH', `/prescriptions/${created.id}`, admin.accessToken, {
      frequency: 'once daily',
    });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json<PrescriptionBody>()).toMatchObject({
      frequency: 'once daily',
      prescriber_id: doctor.id,
      version: 2,
    });
  });

  it('If-Match: the current ETag -> 200, a stale one -> 412 and nothing changes', async () => {
    const created = await prescribe(await newPatient());
    const ok = await call(
      'PATCH',
      `/prescriptions/${created.id}`,
      doctor.accessToken,
      { refills: 3 },
      { 'if-match': '"v1"' },
    );
    expect(ok.statusCode, ok.body).toBe(200);
    expect(ok.headers.etag).toBe('"v2"');

    const stale = await call(
      'PATCH',
      `/prescriptions/${created.id}`,
      doctor.accessToken,
      { refills: 7 },
      { 'if-match': '"v1"' },
    );
    expectProblem(stale, 412, 'precondition_failed');
    const current = await fetchRx(created.id);
    expect(current.refills).toBe(3);
    expect(current.version).toBe(2);
  });

  it('invalid values and read-only fields -> 400', async () => {
    const created = await prescribe(await newPatient());
    for (const body of [
      { refills: 13 },
      { refills: -1 },
      { medication: '' },
      { status: 'completed' },
      { prescriber_id: otherDoctor.id },
    ]) {
      const res = await call('PATCH', `/prescriptions/${created.id}`, doctor.accessToken, body);
      expectProblem(res, 400, 'validation_failed');
    }
    expect(await fetchRx(created.id)).toEqual(created);
  });

  it('an unknown id -> 404', async () => {
    expectProblem(
      await call('PATCH', `/prescriptions/${randomUUID()}`, doctor.accessToken, { refills: 1 }),
      404,
      'not_found',
    );
  });
});

describe('cancel and complete', () => {
  it('cancel without a body: 200 cancelled, no reason', async () => {
    const created = await prescribe(await newPatient());
    const res = await call('POST', `/prescriptions/${created.id}/cancel`, doctor.accessToken);
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json<PrescriptionBody>()).toMatchObject({
      id: created.id,
      status: 'cancelled',
      cancel_reason: null,
      version: 2,
    });
    expect((await fetchRx(created.id)).status).toBe('cancelled');
  });

  it('cancel with an empty body or a reason: 200, the reason is kept', async () => {
    const first = await prescribe(await newPatient());
    const empty = await call('POST', `/prescriptions/${first.id}/cancel`, doctor.accessToken, {});
    expect(empty.statusCode, empty.body).toBe(200);
    expect(empty.json<PrescriptionBody>().cancel_reason).toBeNull();

    const second = await prescribe(await newPatient());
    const withReason = await call(
      'POST',
      `/prescriptions/${second.id}/cancel`,
      doctor.accessToken,
      {
        reason: 'Patient reported nausea',
      },
    );
    expect(withReason.statusCode, withReason.body).toBe(200);
    expect(withReason.json<PrescriptionBody>()).toMatchObject({
      status: 'cancelled',
      cancel_reason: 'Patient reported nausea',
    });
    expect((await fetchRx(second.id)).cancel_reason).toBe('Patient reported nausea');
  });

  it('cancel with an invalid body -> 400, still active', async () => {
    const created = await prescribe(await newPatient());
    for (const body of [{ reason: '' }, { why: 'x' }]) {
      const res = await call(
        'POST',
        `/prescriptions/${created.id}/cancel`,
        doctor.accessToken,
        body,
      );
      expectProblem(res, 400, 'validation_failed');
    }
    expect((await fetchRx(created.id)).status).toBe('active');
  });

  it('complete by the prescriber: 200 completed', async () => {
    const created = await prescribe(await newPatient());
    const res = await call('POST', `/prescriptions/${created.id}/complete`, doctor.accessToken);
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json<PrescriptionBody>()).toMatchObject({ status: 'completed', version: 2 });
  });

  it.each(['cancel', 'complete'] as const)(
    'after %s, a second cancel, complete or PATCH -> 409 and the status stays',
    async (first) => {
      const created = await prescribe(await newPatient());
      const done = await call('POST', `/prescriptions/${created.id}/${first}`, doctor.accessToken);
      expect(done.statusCode, done.body).toBe(200);
      const ended = done.json<PrescriptionBody>();

      expectProblem(
        await call('POST', `/prescriptions/${created.id}/cancel`, doctor.accessToken),
        409,
        'conflict',
      );
      expectProblem(
        await call('POST', `/prescriptions/${created.id}/complete`, doctor.accessToken),
        409,
        'conflict',
      );
      expectProblem(
        await call('PATCH', `/prescriptions/${created.id}`, doctor.accessToken, { refills: 1 }),
        409,
        'conflict',
      );
      // An admin is refused the same way.
      expectProblem(
        await call('POST', `/prescriptions/${created.id}/cancel`, admin.accessToken),
        409,
        'conflict',
      );
      expect(await fetchRx(created.id)).toEqual(ended);
    },
  );

  it('another doctor or a nurse may not cancel or complete (403); an admin may (200)', async () => {
    const created = await prescribe(await newPatient());
    for (const user of [otherDoctor, nurse, receptionist]) {
      for (const action of ['cancel', 'complete']) {
        expectProblem(
          await call('POST', `/prescriptions/${created.id}/${action}`, user.accessToken),
          403,
          'forbidden',
        );
      }
    }
    expect((await fetchRx(created.id)).status).toBe('active');
    const res = await call('POST', `/prescriptions/${created.id}/cancel`, admin.accessToken, {
      reason: 'Entered in error',
    });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json<PrescriptionBody>()).toMatchObject({
      status: 'cancelled',
      cancel_reason: 'Entered in error',
    });
  });

  it('unknown ids -> 404', async () => {
    for (const action of ['cancel', 'complete']) {
      expectProblem(
        await call('POST', `/prescriptions/${randomUUID()}/${action}`, doctor.accessToken),
        404,
        'not_found',
      );
    }
  });
});

describe('GET /prescriptions/{id}/pdf', () => {
  it('a printable PDF, as an attachment', async () => {
    const patientId = await newPatient(['penicillin']);
    const created = await prescribe(patientId, { medication: 'Amoxicillin 500 mg' });
    for (const user of [doctor, nurse, admin]) {
      const res = await call('GET', `/prescriptions/${created.id}/pdf`, user.accessToken);
      expect(res.statusCode, res.body).toBe(200);
      expect(res.headers['content-type']).toMatch(/^application\/pdf/);
      expect(String(res.headers['content-disposition'])).toMatch(/^attachment;/);
      expect(String(res.headers['content-disposition'])).toContain(
        `prescription-${created.id}.pdf`,
      );
      expect(res.headers['x-content-type-options']).toBe('nosniff');
      const bytes = res.rawPayload;
      expect(bytes.subarray(0, 5).toString('latin1')).toBe('%PDF-');
      expect(bytes.subarray(-8).toString('latin1')).toContain('%%EOF');
      expect(bytes.length).toBeGreaterThan(500);
    }
  });

  it('unknown -> 404; receptionist -> 403', async () => {
    expectProblem(
      await call('GET', `/prescriptions/${randomUUID()}/pdf`, doctor.accessToken),
      404,
      'not_found',
    );
    const created = await prescribe(await newPatient());
    expectProblem(
      await call('GET', `/prescriptions/${created.id}/pdf`, receptionist.accessToken),
      403,
      'forbidden',
    );
  });
});

describe('GET /patients/{id}/prescriptions', () => {
  it("lists only that patient's prescriptions, newest first, with pagination", async () => {
    const patientId = await newPatient();
    const otherPatient = await newPatient();
    const first = await prescribe(patientId, { medication: 'Rx one' });
    await prescribe(otherPatient, { medication: 'Rx other' });
    const second = await prescribe(patientId, { medication: 'Rx two' }, otherDoctor.accessToken);
    const third = await prescribe(patientId, { medication: 'Rx three' });

    expect(await allIds(`/patients/${patientId}/prescriptions`, nurse.accessToken)).toEqual([
      third.id,
      second.id,
      first.id,
    ]);
    expect(await allIds(`/patients/${patientId}/prescriptions?limit=2`)).toEqual([
      third.id,
      second.id,
      first.id,
    ]);
    const page = await call(
      'GET',
      `/patients/${patientId}/prescriptions?limit=2`,
      doctor.accessToken,
    );
    expect(page.json<PageBody<PrescriptionBody>>().next_cursor).toEqual(expect.any(String));
  });

  it('an unknown patient -> 404; a patient without prescriptions -> empty list', async () => {
    expectProblem(
      await call('GET', `/patients/${randomUUID()}/prescriptions`, doctor.accessToken),
      404,
      'not_found',
    );
    const patientId = await newPatient();
    const res = await call('GET', `/patients/${patientId}/prescriptions`, doctor.accessToken);
    expect(res.statusCode).toBe(200);
    expect(res.json<PageBody<PrescriptionBody>>()).toEqual({ items: [], next_cursor: null });
  });
});

describe('read access', () => {
  it.each([
    ['receptionist', () => receptionist],
    ['user', () => plainUser],
    ['guest', () => guest],
  ] as const)('%s gets 403 on every read', async (_role, who) => {
    const patientId = await newPatient();
    const created = await prescribe(patientId);
    const token = who().accessToken;
    for (const url of [
      '/prescriptions',
      `/prescriptions?patient_id=${patientId}`,
      `/prescriptions/${created.id}`,
      `/prescriptions/${created.id}/pdf`,
      `/patients/${patientId}/prescriptions`,
    ]) {
      const res = await call('GET', url, token);
      expect(res.statusCode, `${url}: ${res.body}`).toBe(403);
      expect(res.body).not.toContain(created.medication);
    }
  });

  it('nurse reads lists and records (200)', async () => {
    const patientId = await newPatient();
    const created = await prescribe(patientId);
    const list = await call('GET', `/prescriptions?patient_id=${patientId}`, nurse.accessToken);
    expect(list.statusCode).toBe(200);
    expect(list.json<PageBody<PrescriptionBody>>().items.map((i) => i.id)).toEqual([created.id]);
    expect((await fetchRx(created.id, nurse.accessToken)).id).toBe(created.id);
  });

  it('reads without a token -> 401', async () => {
    const res = await call('GET', '/prescriptions');
    expect(res.statusCode).toBe(401);
    expect(String(res.headers['www-authenticate'])).toMatch(/^Bearer/);
  });
});
