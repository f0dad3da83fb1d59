import { describe, expect, it } from 'vitest';
import {
  api,
  createUsers,
  problemOf,
  unique,
  useTestApp,
  type TestApp,
  type TestUser,
} from './helpers.js';
import { onWorkingDay } from './working-hours.js';

/**
 * Errors a person can act on (issue 14): each validation message names the field as the caller
 * wrote it and, for a choice, every allowed value; a refused status transition says what is
 * possible from the current status.
 */
let t: TestApp;
let nurse: TestUser;
let doctor: TestUser;
useTestApp(async (app) => {
  t = app;
  [nurse, doctor] = await createUsers(t.app, 'nurse', 'doctor');
});

async function problem(res: Promise<{ statusCode: number }>, status = 400) {
  const answer = await res;
  expect(answer.statusCode).toBe(status);
  return problemOf(answer as Parameters<typeof problemOf>[0]);
}

describe('validation messages', () => {
  it('a bad sort names sort and every allowed value, once', async () => {
    const p = await problem(api(t.app).as(nurse).get('/patients?sort=age'));
    expect(p.errors).toEqual([
      { field: 'query.sort', message: 'must be one of: name, created_at, -created_at' },
    ]);
    expect(p.detail).toBe('sort must be one of: name, created_at, -created_at');
  });

  it('says what is missing, too large or of the wrong kind, in words', async () => {
    const noDate = await problem(api(t.app).as(nurse).get(`/doctors/${doctor.id}/availability`));
    expect(noDate.errors).toEqual([{ field: 'query.date', message: 'is required' }]);
    expect(noDate.detail).toBe('date is required');

    const limit = await problem(api(t.app).as(nurse).get('/patients?limit=500'));
    expect(limit.detail).toBe('limit must be at most 100');

    const notObject = await problem(
      api(t.app)
        .as(nurse)
        .post('/patients', '[1]', { headers: { 'content-type': 'application/json' } }),
    );
    expect(notObject.errors).toEqual([{ field: 'body', message: 'must be a JSON object' }]);
    expect(notObject.detail).toBe('body must be a JSON object');

    const email = await problem(
      api(t.app).as(nurse).post('/patients', { first_name: 'A', last_name: 'B', email: 'nope' }),
    );
    expect(email.detail).toBe('email must be a valid email address');

    const status = await problem(api(t.app).as(nurse).get('/appointments?status=done'));
    expect(status.detail).toBe(
      'status must be one of: scheduled, confirmed, checked_in, completed, cancelled, no_show',
    );

    const doctorId = await problem(api(t.app).as(nurse).get('/appointments?doctor_id=abc'));
    expect(doctorId.detail).toBe('doctor_id must be a UUID or "me"');

    const long = await problem(
      api(t.app)
        .as(nurse)
        .post('/patients', { first_name: 'x'.repeat(101), last_name: 'B' }),
    );
    expect(long.detail).toMatch(/^first_name must be at most \d+ characters long$/);
  });
});

describe('refused transitions', () => {
  it('name the transitions possible from the current status, or that it is final', async () => {
    const patient = await api(t.app)
      .as(nurse)
      .post('/patients', { first_name: 'Next', last_name: unique('Steps') });
    const booked = await api(t.app)
      .as(nurse)
      .post('/appointments', {
        patient_id: patient.json<{ id: string }>().id,
        doctor_id: doctor.id,
        starts_at: onWorkingDay(1, 10),
      });
    expect(booked.statusCode, booked.body).toBe(201);
    const id = booked.json<{ id: string }>().id;
    const early = await problem(api(t.app).as(nurse).post(`/appointments/${id}/check-in`), 409);
    expect(early.detail).toBe(
      'Cannot check in an appointment that is scheduled; from scheduled you can: confirm, cancel, mark no-show',
    );
    for (const step of ['confirm', 'check-in', 'complete']) {
      expect((await api(t.app).as(nurse).post(`/appointments/${id}/${step}`)).statusCode).toBe(200);
    }
    const done = await problem(
      api(t.app).as(nurse).post(`/appointments/${id}/cancel`, { reason: 'late' }),
      409,
    );
    expect(done.detail).toBe(
      'Cannot cancel an appointment that is completed; a completed appointment is final',
    );
  });

  it('a prescription that is no longer active says that only an active one can change', async () => {
    const patient = await api(t.app)
      .as(nurse)
      .post('/patients', { first_name: 'Rx', last_name: unique('Steps') });
    const created = await api(t.app).as(doctor).post('/prescriptions', {
      patient_id: patient.json<{ id: string }>().id,
      medication: 'Metformin',
      dosage: '500 mg',
      frequency: 'twice daily',
    });
    expect(created.statusCode, created.body).toBe(201);
    const id = created.json<{ id: string }>().id;
    const rx = api(t.app).as(doctor);
    expect((await rx.post(`/prescriptions/${id}/complete`)).statusCode).toBe(200);
    const again = await problem(rx.post(`/prescriptions/${id}/cancel`, {}), 409);
    expect(again.detail).toBe(
      'A completed prescription can no longer be changed; only an active one can be changed, cancelled or completed',
    );
  });
});
