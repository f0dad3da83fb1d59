import { describe, expect, it } from 'vitest';
import { reserveKey, purgeExpiredKeys } from '../src/plugins/idempotency-store.js';
import { multipart } from './documents-support.js';
import {
  api,
  buildTestApp,
  createUsers,
  problemOf,
  testClock,
  unique,
  useTestApp,
  type PageBody,
  type TestApp,
  type TestUser,
} from './helpers.js';
import { OPEN_ALL_DAY } from './working-hours.js';

/** Idempotency-Key on creates (issue 13, item 4), through HTTP on the configured engine. */

let t: TestApp;
let doctor: TestUser;
let nurse: TestUser;
const clock = testClock();
useTestApp(async (app) => {
  t = app;
  [doctor, nurse] = await createUsers(app.app, 'doctor', 'nurse');
}, OPEN_ALL_DAY);

const keyed = (key: string) => ({ headers: { 'idempotency-key': key } });
const patientBody = () => ({ first_name: unique('Idem'), last_name: unique('Potent') });
const DAY = 86_400_000;
const startAt = (days: number, hour: number) => {
  const now = new Date();
  return new Date(
    Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() + days, hour),
  ).toISOString();
};

async function newPatientId(): Promise<string> {
  const res = await api(t.app).as(doctor).post('/patients', patientBody());
  expect(res.statusCode, res.body).toBe(201);
  return res.json<{ id: string }>().id;
}

describe('Idempotency-Key on POST /patients', () => {
  it('replays the first answer (status, body, Location, ETag) and creates one record', async () => {
    const key = unique('k');
    const body = patientBody();
    const first = await api(t.app).as(doctor).post('/patients', body, keyed(key));
    expect(first.statusCode, first.body).toBe(201);
    expect(first.headers['idempotent-replayed']).toBeUndefined();
    const again = await api(t.app)
      .as(doctor)
      .post('/patients', { ...body }, keyed(key));
    expect(again.statusCode).toBe(201);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.body).toBe(first.body);
    expect(again.headers.location).toBe(first.headers.location);
    expect(again.headers.etag).toBe(first.headers.etag);
    expect(again.headers['content-type']).toBe(first.headers['content-type']);
    // Key order in the JSON does not matter: the body is compared in canonical form.
    const reordered = { last_name: body.last_name, first_name: body.first_name };
    const third = await api(t.app).as(doctor).post('/patients', reordered, keyed(key));
    expect(third.headers['idempotent-replayed']).toBe('true');
    const list = await api(t.app)
      .as(doctor)
      .get(`/patients?q=${encodeURIComponent(body.last_name)}`);
    expect(list.json<PageBody<{ id: string }>>().items.map((p) => p.id)).toEqual([
      first.json<{ id: string }>().id,
    ]);
  });

  it('answers 422 problem+json for the same key with another body', async () => {
    const key = unique('k');
    const first = await api(t.app).as(doctor).post('/patients', patientBody(), keyed(key));
    expect(first.statusCode).toBe(201);
    const other = await api(t.app).as(doctor).post('/patients', patientBody(), keyed(key));
    expect(other.statusCode).toBe(422);
    expect(problemOf(other).code).toBe('idempotency_key_reused');
    // The query is part of the request too.
    const body = patientBody();
    const key2 = unique('k');
    expect((await api(t.app).as(doctor).post('/patients', body, keyed(key2))).statusCode).toBe(201);
    const withQuery = await api(t.app)
      .as(doctor)
      .post('/patients?allow_duplicate=true', body, keyed(key2));
    expect(problemOf(withQuery).code).toBe('idempotency_key_reused');
  });

  it('scopes keys per user: one key from two users makes two records', async () => {
    const key = unique('k');
    const body = patientBody();
    const a = await api(t.app).as(doctor).post('/patients', body, keyed(key));
    const b = await api(t.app).as(nurse).post('/patients?allow_duplicate=true', body, keyed(key));
    expect(a.statusCode).toBe(201);
    expect(b.statusCode, b.body).toBe(201);
    expect(b.headers['idempotent-replayed']).toBeUndefined();
    expect(b.json<{ id: string }>().id).not.toBe(a.json<{ id: string }>().id);
  });

  it('refuses a malformed key with 400', async () => {
    for (const key of ['x'.repeat(256), 'has space', 'naïve']) {
      const res = await api(t.app)
        .as(doctor)
        .post('/patients', patientBody(), { headers: { 'idempotency-key': key } });
      expect(res.statusCode, key).toBe(400);
      expect(problemOf(res).code).toBe('validation_failed');
    }
    const longest = await api(t.app)
      .as(doctor)
      .post('/patients', patientBody(), keyed('x'.repeat(255)));
    expect(longest.statusCode).toBe(201);
  });

  it('answers 409 while the first request with the key is in progress, and takes over a dead one', async () => {
    const key = unique('k');
    const now = new Date();
    // The reservation a first request (on any instance) holds while its handler runs.
    await reserveKey(
      t.app.ctx.db,
      { userId: doctor.id, key, fingerprint: null },
      now,
      new Date(now.getTime() + DAY),
      new Date(0),
    );
    const busy = await api(t.app).as(doctor).post('/patients', patientBody(), keyed(key));
    expect(busy.statusCode).toBe(409);
    expect(problemOf(busy).code).toBe('idempotency_in_progress');
    expect(busy.headers['retry-after']).toBe('1');

    // A reservation whose request died (locked more than two minutes ago) is taken over.
    const deadKey = unique('k');
    const old = new Date(now.getTime() - 5 * 60_000);
    await reserveKey(
      t.app.ctx.db,
      { userId: doctor.id, key: deadKey, fingerprint: null },
      old,
      new Date(now.getTime() + DAY),
      new Date(0),
    );
    const retried = await api(t.app).as(doctor).post('/patients', patientBody(), keyed(deadKey));
    expect(retried.statusCode, retried.body).toBe(201);
  });
});

describe('Idempotency-Key on POST /appointments and /prescriptions', () => {
  it('20 concurrent bookings with one key create one appointment, and no 5xx', async () => {
    const patientId = await newPatientId();
    const key = unique('k');
    const body = { patient_id: patientId, doctor_id: doctor.id, starts_at: startAt(3, 10) };
    const answers = await Promise.all(
      Array.from({ length: 20 }, () =>
        api(t.app).as(nurse).post('/appointments', body, keyed(key)),
      ),
    );
    const statuses = answers.map((res) => res.statusCode);
    expect(
      statuses.every((s) => s === 201 || s === 409),
      statuses.join(','),
    ).toBe(true);
    const created = answers.filter((res) => res.statusCode === 201);
    expect(created.length).toBeGreaterThanOrEqual(1);
    expect(new Set(created.map((res) => res.json<{ id: string }>().id)).size).toBe(1);
    expect(created.filter((res) => res.headers['idempotent-replayed'] !== 'true')).toHaveLength(1);
    for (const res of answers.filter((r) => r.statusCode === 409)) {
      expect(problemOf(res).code).toBe('idempotency_in_progress');
    }
    const list = await api(t.app).as(nurse).get(`/appointments?patient_id=${patientId}`);
    expect(list.json<PageBody<{ id: string }>>().items).toHaveLength(1);
  });

  it('keeps a final 4xx answer, but runs a 409 conflict again on retry', async () => {
    // 422 (an unknown patient) is final: the retry gets the same answer, replayed.
    const key = unique('k');
    const unknown = {
      patient_id: '01900000-0000-7000-8000-000000000000',
      medication: 'Amoxicillin 500 mg',
      dosage: '1 capsule',
      frequency: 'three times daily',
    };
    const first = await api(t.app).as(doctor).post('/prescriptions', unknown, keyed(key));
    expect(first.statusCode, first.body).toBe(422);
    const again = await api(t.app).as(doctor).post('/prescriptions', unknown, keyed(key));
    expect(again.statusCode).toBe(422);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.body).toBe(first.body);

    // An overlap (409) describes a passing state: not kept, the retry books once the slot is free.
    const patientId = await newPatientId();
    const slot = startAt(4, 11);
    const blocker = await api(t.app)
      .as(nurse)
      .post('/appointments', { patient_id: patientId, doctor_id: doctor.id, starts_at: slot });
    expect(blocker.statusCode).toBe(201);
    const other = await newPatientId();
    const body = { patient_id: other, doctor_id: doctor.id, starts_at: slot };
    const bookKey = unique('k');
    const refused = await api(t.app).as(nurse).post('/appointments', body, keyed(bookKey));
    expect(refused.statusCode).toBe(409);
    const cancel = await api(t.app)
      .as(nurse)
      .post(`/appointments/${blocker.json<{ id: string }>().id}/cancel`, { reason: 'slot freed' });
    expect(cancel.statusCode, cancel.body).toBe(200);
    const retried = await api(t.app).as(nurse).post('/appointments', body, keyed(bookKey));
    expect(retried.statusCode, retried.body).toBe(201);
    expect(retried.headers['idempotent-replayed']).toBeUndefined();
  });

  it('replays a prescription', async () => {
    const patientId = await newPatientId();
    const key = unique('k');
    const body = {
      patient_id: patientId,
      medication: 'Metformin 850 mg',
      dosage: '1',
      frequency: 'daily',
    };
    const first = await api(t.app).as(doctor).post('/prescriptions', body, keyed(key));
    expect(first.statusCode, first.body).toBe(201);
    const again = await api(t.app).as(doctor).post('/prescriptions', body, keyed(key));
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.json()).toEqual(first.json());
    const list = await api(t.app).as(doctor).get(`/prescriptions?patient_id=${patientId}`);
    expect(list.json<PageBody<unknown>>().items).toHaveLength(1);
  });
});

describe('Idempotency-Key on document uploads', () => {
  it('replays the same file (even with another multipart boundary); another file is a 422', async () => {
    const patientId = await newPatientId();
    const key = unique('k');
    const content = Buffer.from('idempotent hello');
    const first = await uploadKeyed(patientId, content, key);
    expect(first.statusCode, first.body).toBe(201);
    const again = await uploadKeyed(patientId, content, key);
    expect(again.statusCode).toBe(201);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.body).toBe(first.body);
    expect(again.headers.location).toBe(first.headers.location);
    const other = await uploadKeyed(patientId, Buffer.from('another text'), key);
    expect(other.statusCode).toBe(422);
    expect(problemOf(other).code).toBe('idempotency_key_reused');
    const list = await api(t.app).as(doctor).get(`/patients/${patientId}/documents`);
    expect(list.json<PageBody<unknown>>().items).toHaveLength(1);
  });

  it('gives the key back when an upload is refused, so a corrected retry runs', async () => {
    const patientId = await newPatientId();
    const key = unique('k');
    const refused = await uploadKeyed(patientId, Buffer.from([0x00, 0x01, 0x02, 0xff]), key);
    expect(refused.statusCode).toBe(415);
    const fixed = await uploadKeyed(patientId, Buffer.from('plain text now'), key);
    expect(fixed.statusCode, fixed.body).toBe(201);
    expect(fixed.headers['idempotent-replayed']).toBeUndefined();
  });
});

async function uploadKeyed(patientId: string, content: Buffer, key: string) {
  const body = multipart({ category: 'lab_result' }, [{ filename: 'a.txt', content }]);
  return t.app.inject({
    method: 'POST',
    url: `/api/v1/patients/${patientId}/documents`,
    headers: {
      authorization: `Bearer ${doctor.accessToken}`,
      'idempotency-key': key,
      ...body.headers,
    },
    payload: body.payload,
  });
}

describe('Idempotency-Key expiry', () => {
  it('forgets a key after IDEMPOTENCY_TTL_S and purges the row', async () => {
    const timed = await buildTestApp({ ...OPEN_ALL_DAY, IDEMPOTENCY_TTL_S: '60' }, { clock });
    try {
      const [user] = await createUsers(timed.app, 'doctor');
      const key = unique('k');
      const first = await api(timed.app).as(user).post('/patients', patientBody(), keyed(key));
      expect(first.statusCode).toBe(201);
      const reused = await api(timed.app).as(user).post('/patients', patientBody(), keyed(key));
      expect(reused.statusCode).toBe(422);
      clock.advance(61_000);
      const fresh = await api(timed.app).as(user).post('/patients', patientBody(), keyed(key));
      expect(fresh.statusCode, fresh.body).toBe(201);
      expect(fresh.headers['idempotent-replayed']).toBeUndefined();
      clock.advance(61_000);
      expect(await purgeExpiredKeys(timed.app.ctx.db, clock.now())).toBeGreaterThanOrEqual(1);
    } finally {
      await timed.close();
    }
  });
});
