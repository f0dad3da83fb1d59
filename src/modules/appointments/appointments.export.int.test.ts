import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  bearer,
  buildTestApp,
  createUser,
  parseCsv,
  type TestApp,
  type TestUser,
  unique,
} from '../../../test/helpers.js';
import { bookAppointment } from './appointments.service.js';
import { workingSlot } from '../../../test/working-hours.js';

let t: TestApp;
let admin: TestUser;
let doctor: TestUser;
let otherDoctor: TestUser;
let receptionist: TestUser;
let plainUser: TestUser;

beforeAll(async () => {
  t = await buildTestApp();
  admin = await createUser(t.app, 'admin');
  doctor = await createUser(t.app, 'doctor');
  otherDoctor = await createUser(t.app, 'doctor');
  receptionist = await createUser(t.app, 'receptionist');
  plainUser = await createUser(t.app, 'user');
});
afterAll(async () => {
  await t.close();
});

const header = [
  'id',
  'patient_id',
  'patient_mrn',
  'doctor_id',
  'starts_at',
  'ends_at',
  'duration_minutes',
  'status',
  'reason',
  'cancel_reason',
  'created_at',
];

async function newPatient() {
  const res = await t.app.inject({
    method: 'POST',
    url: '/api/v1/patients',
    headers: bearer(admin.accessToken),
    payload: { first_name: 'Export', last_name: unique('Patient') },
  });
  expect(res.statusCode).toBe(201);
  return res.json<{ id: string; mrn: string }>();
}

let hour = 0;
async function book(patientId: string, doctorId: string, reason: string) {
  hour += 1;
  const res = await t.app.inject({
    method: 'POST',
    url: '/api/v1/appointments',
    headers: bearer(admin.accessToken),
    payload: {
      patient_id: patientId,
      doctor_id: doctorId,
      starts_at: workingSlot(hour, 60, { firstDay: 2 }),
      duration_minutes: 45,
      reason,
    },
  });
  expect(res.statusCode).toBe(201);
  return res.json<{ id: string; starts_at: string }>();
}

function exportCsv(token: string, query = '') {
  return t.app.inject({
    method: 'GET',
    url: `/api/v1/appointments/export.csv${query}`,
    headers: bearer(token),
  });
}

const rowsOf = (body: string) => parseCsv(body);

describe('GET /appointments/export.csv', () => {
  it('streams every matching appointment with the patient MRN, formulas neutralised', async () => {
    const patient = await newPatient();
    const first = await book(patient.id, doctor.id, '=HYPERLINK("http://evil.test","x")');
    const second = await book(patient.id, doctor.id, 'Follow-up, "quoted"');
    const cancel = await t.app.inject({
      method: 'POST',
      url: `/api/v1/appointments/${second.id}/cancel`,
      headers: bearer(admin.accessToken),
      payload: { reason: '@SUM(1)' },
    });
    expect(cancel.statusCode).toBe(200);

    const res = await exportCsv(receptionist.accessToken, `?patient_id=${patient.id}`);
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('text/csv; charset=utf-8');
    expect(res.headers['content-disposition']).toBe('attachment; filename="appointments.csv"');
    expect(res.headers['cache-control']).toBe('no-store');
    const [head, ...rows] = rowsOf(res.body);
    expect(head).toEqual(header);
    expect(rows.map((row) => row[0])).toEqual([first.id, second.id]);
    expect(rows[0]).toEqual([
      first.id,
      patient.id,
      patient.mrn,
      doctor.id,
      first.starts_at,
      new Date(Date.parse(first.starts_at) + 45 * 60_000).toISOString(),
      '45',
      'scheduled',
      `'=HYPERLINK("http://evil.test","x")`,
      '',
      expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
    ]);
    expect(rows[1]?.[7]).toBe('cancelled');
    expect(rows[1]?.[8]).toBe('Follow-up, "quoted"');
    expect(rows[1]?.[9]).toBe("'@SUM(1)");
  });

  it('applies the list filters', async () => {
    const patient = await newPatient();
    await book(patient.id, doctor.id, 'mine');
    const theirs = await book(patient.id, otherDoctor.id, 'theirs');
    const byDoctor = rowsOf(
      (await exportCsv(admin.accessToken, `?patient_id=${patient.id}&doctor_id=${otherDoctor.id}`))
        .body,
    );
    expect(byDoctor.slice(1).map((row) => row[0])).toEqual([theirs.id]);

    const after = new Date(Date.parse(theirs.starts_at) + 3_600_000).toISOString();
    const late = rowsOf(
      (await exportCsv(admin.accessToken, `?patient_id=${patient.id}&from=${after}`)).body,
    );
    expect(late).toEqual([header]);

    const status = rowsOf(
      (await exportCsv(admin.accessToken, `?patient_id=${patient.id}&status=completed`)).body,
    );
    expect(status).toEqual([header]);
    expect((await exportCsv(admin.accessToken, '?status=bogus')).statusCode).toBe(400);
    expect((await exportCsv(admin.accessToken, '?limit=5')).statusCode).toBe(400);
  });

  it('walks past one keyset batch (500 rows) without losing or repeating a row', async () => {
    const patient = await newPatient();
    const actor = { userId: admin.id, role: 'admin' as const, sessionId: randomUUID() };
    for (let i = 0; i < 501; i++) {
      await bookAppointment(t.app.ctx, actor, {
        patient_id: patient.id,
        doctor_id: otherDoctor.id,
        starts_at: workingSlot(i, 30, { firstDay: 30 }),
      });
    }
    const [, ...rows] = rowsOf(
      (await exportCsv(admin.accessToken, `?patient_id=${patient.id}`)).body,
    );
    expect(rows).toHaveLength(501);
    expect(new Set(rows.map((row) => row[0])).size).toBe(501);
  }, 60_000);

  it('audits the export before streaming and refuses role user', async () => {
    const patient = await newPatient();
    expect((await exportCsv(doctor.accessToken, `?patient_id=${patient.id}`)).statusCode).toBe(200);
    const audit = await t.app.inject({
      method: 'GET',
      url: `/api/v1/admin/audit?action=appointment.export&actor_id=${doctor.id}`,
      headers: bearer(admin.accessToken),
    });
    const items = audit.json<{ items: { patient_id: string | null; details: object }[] }>().items;
    expect(items).toHaveLength(1);
    expect(items[0]).toMatchObject({ patient_id: patient.id, details: { format: 'csv' } });

    const refused = await exportCsv(plainUser.accessToken);
    expect(refused.statusCode).toBe(403);
  });

  it('does not shadow /appointments/{id} or /appointments/{id}.ics', async () => {
    const patient = await newPatient();
    const booked = await book(patient.id, doctor.id, 'routing');
    const read = await t.app.inject({
      method: 'GET',
      url: `/api/v1/appointments/${booked.id}`,
      headers: bearer(admin.accessToken),
    });
    expect(read.statusCode).toBe(200);
    const ics = await t.app.inject({
      method: 'GET',
      url: `/api/v1/appointments/${booked.id}.ics`,
      headers: bearer(admin.accessToken),
    });
    expect(ics.statusCode).toBe(200);
    expect(ics.headers['content-type']).toContain('text/calendar');
    const trailing = await exportCsv(admin.accessToken, '/');
    expect(trailing.statusCode).toBe(200);
  });
});
