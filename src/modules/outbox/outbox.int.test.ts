import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { rowsOf } from '../../db/client.js';
import {
  api,
  createUsers,
  useTestApp,
  type TestApp,
  type TestUser,
} from '../../../test/helpers.js';
import { OPEN_ALL_DAY } from '../../../test/working-hours.js';
import { multipart } from '../../../test/documents-support.js';
import type { StoredEvent } from './outbox.service.js';
import { bookOne, eventsOf, newPatient, nextStart, waitFor } from './outbox.test-support.js';

let t: TestApp;
let doctor: TestUser;
let receptionist: TestUser;
let nurse: TestUser;

useTestApp(async (app) => {
  t = app;
  [doctor, receptionist, nurse] = await createUsers(t.app, 'doctor', 'receptionist', 'nurse');
}, OPEN_ALL_DAY);

describe('events are written with the change', () => {
  it('every appointment change writes its event in the same transaction', async () => {
    const patient = await newPatient(t.app, nurse);
    const appt = await bookOne(t.app, receptionist, doctor, patient);
    const as = api(t.app).as(doctor);
    const moved = await as.patch(
      `/appointments/${appt.id}`,
      { starts_at: nextStart() },
      { headers: { 'if-match': '"v1"' } },
    );
    expect(moved.statusCode, moved.body).toBe(200);
    const edited = await as.patch(
      `/appointments/${appt.id}`,
      { notes: 'fasting' },
      { headers: { 'if-match': '"v2"' } },
    );
    expect(edited.statusCode, edited.body).toBe(200);
    for (const step of ['confirm', 'check-in', 'complete']) {
      expect((await as.post(`/appointments/${appt.id}/${step}`)).statusCode).toBe(200);
    }
    const second = await bookOne(t.app, receptionist, doctor, patient);
    expect((await as.post(`/appointments/${second.id}/cancel`, { reason: 'ill' })).statusCode).toBe(
      200,
    );
    const third = await bookOne(t.app, receptionist, doctor, patient);
    expect((await as.post(`/appointments/${third.id}/no-show`)).statusCode).toBe(200);

    const topics = (await eventsOf(t.app, appt.id)).map((row) => row.topic);
    expect(topics).toEqual([
      'appointment.booked',
      'appointment.rescheduled',
      'appointment.updated',
      'appointment.confirmed',
      'appointment.checked_in',
      'appointment.completed',
    ]);
    expect((await eventsOf(t.app, second.id)).map((row) => row.topic)).toEqual([
      'appointment.booked',
      'appointment.cancelled',
    ]);
    expect((await eventsOf(t.app, third.id)).map((row) => row.topic)).toEqual([
      'appointment.booked',
      'appointment.no_show',
    ]);
    // The payload is the appointment as the API showed it after the change.
    const [booked] = await eventsOf(t.app, appt.id);
    expect(booked?.payload).toEqual(appt);
  });

  it('a refused change (409 double-booking, 409 transition, 412 stale) writes no event', async () => {
    const patient = await newPatient(t.app, nurse);
    const startsAt = nextStart();
    const appt = await bookOne(t.app, receptionist, doctor, patient, startsAt);
    const otherPatient = await newPatient(t.app, nurse);
    const clash = await api(t.app).as(receptionist).post('/appointments', {
      patient_id: otherPatient,
      doctor_id: doctor.id,
      starts_at: startsAt,
    });
    expect(clash.statusCode).toBe(409);
    const as = api(t.app).as(doctor);
    expect((await as.post(`/appointments/${appt.id}/complete`)).statusCode).toBe(409);
    const stale = await as.patch(
      `/appointments/${appt.id}`,
      { notes: 'x' },
      { headers: { 'if-match': '"v7"' } },
    );
    expect(stale.statusCode).toBe(412);
    expect((await eventsOf(t.app, appt.id)).map((row) => row.topic)).toEqual([
      'appointment.booked',
    ]);
    // Nothing for the patient whose booking was refused.
    const rows = rowsOf<{ n: number }>(
      await t.app.ctx.db.execute(
        sql`select count(*)::int as n from outbox_events where payload->>'patient_id' = ${otherPatient}`,
      ),
    );
    expect(rows[0]?.n).toBe(0);
  });

  it('prescriptions and documents raise events too', async () => {
    const patient = await newPatient(t.app, nurse);
    const created = await api(t.app).as(doctor).post('/prescriptions', {
      patient_id: patient,
      medication: 'Metformin 850 mg',
      dosage: '1 tablet',
      frequency: 'twice daily',
      refills: 1,
    });
    expect(created.statusCode, created.body).toBe(201);
    const rx = created.json<{ id: string }>();
    const updated = await api(t.app)
      .as(doctor)
      .patch(`/prescriptions/${rx.id}`, { refills: 2 }, { headers: { 'if-match': '"v1"' } });
    expect(updated.statusCode, updated.body).toBe(200);
    expect(
      (await api(t.app).as(doctor).post(`/prescriptions/${rx.id}/cancel`, { reason: 'no' }))
        .statusCode,
    ).toBe(200);
    expect((await eventsOf(t.app, rx.id)).map((row) => row.topic)).toEqual([
      'prescription.created',
      'prescription.updated',
      'prescription.cancelled',
    ]);

    const body = multipart({ category: 'lab_result' }, [
      { filename: 'a.txt', content: Buffer.from('hello'), contentType: 'text/plain' },
    ]);
    const uploaded = await t.app.inject({
      method: 'POST',
      url: `/api/v1/patients/${patient}/documents`,
      headers: { authorization: `Bearer ${doctor.accessToken}`, ...body.headers },
      payload: body.payload,
    });
    expect(uploaded.statusCode, uploaded.body).toBe(201);
    const doc = uploaded.json<{ id: string }>();
    const [added] = await eventsOf(t.app, doc.id);
    expect(added?.topic).toBe('document.added');
    expect(added?.payload).toEqual(uploaded.json());
  });
});

describe('dispatch', () => {
  it('numbers events and marks them dispatched soon after the commit', async () => {
    const patient = await newPatient(t.app, nurse);
    const appt = await bookOne(t.app, receptionist, doctor, patient);
    await waitFor(async () => (await eventsOf(t.app, appt.id))[0]?.dispatched_at != null, 2_000);
    const [row] = await eventsOf(t.app, appt.id);
    expect(row?.id).toBeGreaterThan(0);
  });

  it('hands events to consumers; a failing consumer is retried without re-running the others or holding up other events', async () => {
    const seen: { consumer: string; id: number; at: number }[] = [];
    let failuresLeft = 1;
    const patient = await newPatient(t.app, nurse);
    t.app.ctx.outbox.register({
      name: 'test-flaky',
      topics: ['appointment.'],
      handle: async (event: StoredEvent) => {
        // The first event of this test's patient fails once.
        if (event.payload.patient_id === patient && failuresLeft > 0) {
          failuresLeft -= 1;
          seen.push({ consumer: 'flaky-failed', id: event.id, at: Date.now() });
          throw new Error('temporarily down');
        }
        seen.push({ consumer: 'flaky', id: event.id, at: Date.now() });
        await Promise.resolve();
      },
    });
    t.app.ctx.outbox.register({
      name: 'test-steady',
      topics: ['appointment.'],
      handle: async (event: StoredEvent) => {
        seen.push({ consumer: 'steady', id: event.id, at: Date.now() });
        await Promise.resolve();
      },
    });
    const first = await bookOne(t.app, receptionist, doctor, patient);
    await waitFor(async () => (await eventsOf(t.app, first.id))[0]?.id != null, 2_000);
    const second = await bookOne(t.app, receptionist, doctor, patient);
    await waitFor(async () => (await eventsOf(t.app, first.id))[0]?.dispatched_at != null, 5_000);
    await waitFor(async () => (await eventsOf(t.app, second.id))[0]?.dispatched_at != null);
    const [firstRow] = await eventsOf(t.app, first.id);
    const [secondRow] = await eventsOf(t.app, second.id);
    const firstId = firstRow?.id ?? -1;
    const of = (consumer: string, id: number) =>
      seen.filter((s) => s.consumer === consumer && s.id === id);
    expect(of('flaky-failed', firstId)).toHaveLength(1);
    expect(of('flaky', firstId)).toHaveLength(1);
    // The steady consumer got the event once, not again on the retry.
    expect(of('steady', firstId)).toHaveLength(1);
    expect(firstRow?.attempts).toBe(2);
    expect(firstRow?.done_consumers.sort()).toEqual(['test-flaky', 'test-steady']);
    // The second event went through while the first waited for its retry.
    const secondDone = of('flaky', secondRow?.id ?? -1)[0]?.at ?? Infinity;
    expect(secondDone).toBeLessThan(of('flaky', firstId)[0]?.at ?? 0);
  });
});
