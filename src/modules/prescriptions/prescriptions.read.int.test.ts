import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { api, createUser, type PageBody, type TestUser } from '../../../test/helpers.js';
import type { PrescriptionDto } from './prescriptions.schemas.js';
import {
  t,
  admin,
  doctor,
  otherDoctor,
  nurse,
  receptionist,
  plainUser,
  guest,
  usePrescriptionsApp,
  expectProblem,
  newPatient,
  prescribe,
  fetchRx,
  allIds,
} from './prescriptions.test-support.js';

usePrescriptionsApp();

describe('GET /prescriptions (list)', () => {
  let patientA: string;
  let patientB: string;
  let docA: TestUser;
  let docB: TestUser;
  const created: PrescriptionDto[] = [];

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
    const cancel = await api(t.app)
      .as(docB)
      .post(`/prescriptions/${idAt(1)}/cancel`);
    expect(cancel.statusCode, cancel.body).toBe(200);
    const complete = await api(t.app)
      .as(docA)
      .post(`/prescriptions/${idAt(3)}/complete`);
    expect(complete.statusCode, complete.body).toBe(200);
  });

  function idsOf(...indexes: number[]): string[] {
    return indexes.map(idAt);
  }

  it('answers {items, next_cursor} and includes new records', async () => {
    const res = await api(t.app).as(nurse).get('/prescriptions?limit=100');
    expect(res.statusCode).toBe(200);
    const body = res.json<PageBody<PrescriptionDto>>();
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
    const res = await api(t.app)
      .as(doctor)
      .get(`/prescriptions?status=active&patient_id=${patientA}`);
    for (const item of res.json<PageBody<PrescriptionDto>>().items) {
      expect(item.status).toBe('active');
      expect(item.patient_id).toBe(patientA);
    }
  });

  it('keyset pagination: pages of 1 and 3 walk the list without gaps or repeats', async () => {
    const expected = idsOf(4, 3, 1, 0);
    expect(await allIds(`/prescriptions?patient_id=${patientA}&limit=1`)).toEqual(expected);
    expect(await allIds(`/prescriptions?patient_id=${patientA}&limit=3`)).toEqual(expected);

    const first = await api(t.app).as(doctor).get(`/prescriptions?patient_id=${patientA}&limit=2`);
    const page1 = first.json<PageBody<PrescriptionDto>>();
    expect(page1.items.map((i) => i.id)).toEqual(idsOf(4, 3));
    expect(page1.next_cursor).toEqual(expect.any(String));
    const second = await api(t.app)
      .as(doctor)
      .get(`/prescriptions?patient_id=${patientA}&limit=2&cursor=${page1.next_cursor}`);
    const page2 = second.json<PageBody<PrescriptionDto>>();
    expect(page2.items.map((i) => i.id)).toEqual(idsOf(1, 0));
    expect(page2.next_cursor).toBeNull();
  });

  it('a bad cursor, status or id filter -> 400', async () => {
    expectProblem(
      await api(t.app).as(doctor).get('/prescriptions?cursor=bm9wZQ'),
      400,
      'validation_failed',
    );
    expectProblem(
      await api(t.app).as(doctor).get('/prescriptions?status=expired'),
      400,
      'validation_failed',
    );
    expectProblem(
      await api(t.app).as(doctor).get('/prescriptions?patient_id=nope'),
      400,
      'validation_failed',
    );
    expectProblem(
      await api(t.app).as(doctor).get('/prescriptions?limit=0'),
      400,
      'validation_failed',
    );
  });
});

describe('GET /prescriptions/{id}', () => {
  it('returns the record with its ETag to every clinical role', async () => {
    const created = await prescribe(await newPatient());
    for (const user of [doctor, otherDoctor, nurse, admin]) {
      const res = await api(t.app).as(user).get(`/prescriptions/${created.id}`);
      expect(res.statusCode, `${user.role}: ${res.body}`).toBe(200);
      expect(res.json<PrescriptionDto>()).toEqual(created);
      expect(res.headers.etag).toBe('"v1"');
    }
  });

  it('an unknown id -> 404; a malformed id -> 400', async () => {
    expectProblem(
      await api(t.app).as(doctor).get(`/prescriptions/${randomUUID()}`),
      404,
      'not_found',
    );
    expectProblem(
      await api(t.app).as(doctor).get('/prescriptions/not-a-uuid'),
      400,
      'validation_failed',
    );
  });
});

describe('GET /prescriptions/{id}/pdf', () => {
  it('a printable PDF, as an attachment', async () => {
    const patientId = await newPatient(['penicillin']);
    const created = await prescribe(patientId, { medication: 'Amoxicillin 500 mg' });
    for (const user of [doctor, nurse, admin]) {
      const res = await api(t.app).as(user).get(`/prescriptions/${created.id}/pdf`);
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
      await api(t.app).as(doctor).get(`/prescriptions/${randomUUID()}/pdf`),
      404,
      'not_found',
    );
    const created = await prescribe(await newPatient());
    expectProblem(
      await api(t.app).as(receptionist).get(`/prescriptions/${created.id}/pdf`),
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
    const page = await api(t.app).as(doctor).get(`/patients/${patientId}/prescriptions?limit=2`);
    expect(page.json<PageBody<PrescriptionDto>>().next_cursor).toEqual(expect.any(String));
  });

  it('an unknown patient -> 404; a patient without prescriptions -> empty list', async () => {
    expectProblem(
      await api(t.app).as(doctor).get(`/patients/${randomUUID()}/prescriptions`),
      404,
      'not_found',
    );
    const patientId = await newPatient();
    const res = await api(t.app).as(doctor).get(`/patients/${patientId}/prescriptions`);
    expect(res.statusCode).toBe(200);
    expect(res.json<PageBody<PrescriptionDto>>()).toEqual({ items: [], next_cursor: null });
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
      const res = await api(t.app).as(token).get(url);
      expect(res.statusCode, `${url}: ${res.body}`).toBe(403);
      expect(res.body).not.toContain(created.medication);
    }
  });

  it('nurse reads lists and records (200)', async () => {
    const patientId = await newPatient();
    const created = await prescribe(patientId);
    const list = await api(t.app).as(nurse).get(`/prescriptions?patient_id=${patientId}`);
    expect(list.statusCode).toBe(200);
    expect(list.json<PageBody<PrescriptionDto>>().items.map((i) => i.id)).toEqual([created.id]);
    expect((await fetchRx(created.id, nurse.accessToken)).id).toBe(created.id);
  });

  it('reads without a token -> 401', async () => {
    const res = await api(t.app).get('/prescriptions');
    expect(res.statusCode).toBe(401);
    expect(String(res.headers['www-authenticate'])).toMatch(/^Bearer/);
  });
});
