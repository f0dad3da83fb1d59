import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { Role } from '../../db/schema/users.js';
import { api, type PageBody } from '../../../test/helpers.js';
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
  rxBody,
  prescribe,
  fetchRx,
  bookAppointment,
} from './prescriptions.test-support.js';

usePrescriptionsApp();

describe('POST /prescriptions', () => {
  it('a doctor prescribes: 201 active, prescriber is the doctor, Location and ETag', async () => {
    const patientId = await newPatient();
    const res = await api(t.app)
      .as(doctor)
      .post(
        '/prescriptions',
        rxBody(patientId, {
          route: 'oral',
          duration_days: 30,
          quantity: 60,
          instructions: 'Take with meals.',
        }),
      );
    expect(res.statusCode, res.body).toBe(201);
    const body = res.json<PrescriptionDto>();
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
    const read = await api(t.app)
      .as(nurse)
      .get(String(res.headers.location).replace('/api/v1', ''));
    expect(read.statusCode).toBe(200);
    expect(read.json<PrescriptionDto>()).toEqual(body);
    expect(read.headers.etag).toBe('"v1"');
  });

  it('refills default to 0 and accept the bounds 0 and 12', async () => {
    const patientId = await newPatient();
    const withoutRefills = { ...rxBody(patientId) } as Record<string, unknown>;
    delete withoutRefills.refills;
    const res = await api(t.app).as(doctor).post('/prescriptions', withoutRefills);
    expect(res.statusCode, res.body).toBe(201);
    expect(res.json<PrescriptionDto>().refills).toBe(0);
    expect((await prescribe(patientId, { refills: 0 })).refills).toBe(0);
    expect((await prescribe(patientId, { refills: 12 })).refills).toBe(12);
  });

  it.each([-1, 13, 100, 1.5])('refills %s -> 400', async (refills) => {
    const patientId = await newPatient();
    const res = await api(t.app).as(doctor).post('/prescriptions', rxBody(patientId, { refills }));
    const problem = expectProblem(res, 400, 'validation_failed');
    expect(problem.errors?.some((error) => error.field.includes('refills'))).toBe(true);
    // Nothing was stored for that patient.
    const list = await api(t.app).as(doctor).get(`/prescriptions?patient_id=${patientId}`);
    expect(list.json<PageBody<PrescriptionDto>>().items).toEqual([]);
  });

  it('missing required fields or unknown fields -> 400', async () => {
    const patientId = await newPatient();
    for (const field of ['medication', 'dosage', 'frequency', 'patient_id']) {
      const body = Object.fromEntries(
        Object.entries(rxBody(patientId)).filter(([key]) => key !== field),
      );
      const res = await api(t.app).as(doctor).post('/prescriptions', body);
      expectProblem(res, 400, 'validation_failed');
    }
    const extra = await api(t.app)
      .as(doctor)
      .post('/prescriptions', rxBody(patientId, { prescriber_id: otherDoctor.id }));
    expectProblem(extra, 400, 'validation_failed');
  });

  it('an unknown patient -> 422 naming patient_id', async () => {
    const res = await api(t.app).as(doctor).post('/prescriptions', rxBody(randomUUID()));
    const problem = expectProblem(res, 422, 'unprocessable');
    expect(problem.errors?.map((error) => error.field)).toEqual(['body.patient_id']);
  });

  it('a deleted patient -> 422', async () => {
    const patientId = await newPatient();
    const del = await api(t.app).as(admin).delete(`/patients/${patientId}`);
    expect(del.statusCode, del.body).toBeLessThan(300);
    const res = await api(t.app).as(doctor).post('/prescriptions', rxBody(patientId));
    expectProblem(res, 422, 'unprocessable');
  });

  it("an appointment of another patient -> 422; the patient's own appointment is linked", async () => {
    const patientA = await newPatient();
    const patientB = await newPatient();
    const appointmentOfB = await bookAppointment(patientB, 3);

    const wrong = await api(t.app)
      .as(doctor)
      .post('/prescriptions', rxBody(patientA, { appointment_id: appointmentOfB }));
    const problem = expectProblem(wrong, 422, 'unprocessable');
    expect(problem.errors?.map((error) => error.field)).toEqual(['body.appointment_id']);

    const unknown = await api(t.app)
      .as(doctor)
      .post('/prescriptions', rxBody(patientA, { appointment_id: randomUUID() }));
    expectProblem(unknown, 422, 'unprocessable');

    const linked = await prescribe(patientB, { appointment_id: appointmentOfB });
    expect(linked.appointment_id).toBe(appointmentOfB);
    expect(linked.patient_id).toBe(patientB);
    // Neither refused request stored anything for patient A.
    const list = await api(t.app).as(doctor).get(`/patients/${patientA}/prescriptions`);
    expect(list.json<PageBody<PrescriptionDto>>().items).toEqual([]);
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
      const res = await api(t.app).as(token).post('/prescriptions', rxBody(patientId));
      expectProblem(res, 403, 'forbidden');
      const list = await api(t.app).as(doctor).get(`/prescriptions?patient_id=${patientId}`);
      expect(list.json<PageBody<PrescriptionDto>>().items).toEqual([]);
    },
  );

  it('without a token -> 401 with WWW-Authenticate', async () => {
    const patientId = await newPatient();
    const res = await api(t.app).post('/prescriptions', rxBody(patientId));
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
    const list = await api(t.app).as(nurse).get(`/patients/${patientId}/prescriptions`);
    expect(list.json<PageBody<PrescriptionDto>>().items[0]?.warnings).toEqual(created.warnings);
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
