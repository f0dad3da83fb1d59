import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  bearer,
  buildTestApp,
  createUser,
  login,
  problemOf,
  testClock,
  unique,
  type TestApp,
  type TestUser,
} from '../../../test/helpers.js';
import { onWorkingDay } from '../../../test/working-hours.js';

const everyDay = [1, 2, 3, 4, 5, 6, 7];

const clock = testClock();
let t: TestApp;
let admin: TestUser;
let doctor: TestUser;
let receptionist: TestUser;
let plainUser: TestUser;

beforeAll(async () => {
  t = await buildTestApp({ WORKDAYS: '1-7' }, { clock });
  admin = await createUser(t.app, 'admin');
  doctor = await createUser(t.app, 'doctor');
  receptionist = await createUser(t.app, 'receptionist');
  plainUser = await createUser(t.app, 'user');
});
afterAll(async () => {
  await t.close();
});

const DAY = 86_400_000;

/**
 * The text a PDF shows. The summary is written with `compress: false`, so its content streams are
 * plain; pdfkit writes each line as a TJ array of hex strings split at kerning adjustments.
 */
function pdfText(body: Buffer): string {
  const source = body.toString('latin1');
  const lines: string[] = [];
  for (const op of source.matchAll(/\[((?:<[0-9a-fA-F]*>|[-+\d.\s])*)\]\s*TJ/g)) {
    const parts = [...(op[1] ?? '').matchAll(/<([0-9a-fA-F]*)>/g)];
    lines.push(parts.map((hex) => Buffer.from(hex[1] ?? '', 'hex').toString('latin1')).join(''));
  }
  return lines.join('\n');
}

async function newPatient(extra: object = {}) {
  const res = await t.app.inject({
    method: 'POST',
    url: '/api/v1/patients',
    headers: bearer(admin.accessToken),
    payload: {
      first_name: 'Summary',
      last_name: unique('Patient'),
      date_of_birth: '1970-04-02',
      phone: '+44 20 7946 0000',
      emergency_contacts: [{ name: 'Rosa Contact', relationship: 'sister', phone: '+44 1' }],
      allergies: ['penicillin', 'latex'],
      medical_history: 'Type 2 diabetes since 2015',
      ...extra,
    },
  });
  expect(res.statusCode).toBe(201);
  return res.json<{ id: string; mrn: string; last_name: string }>();
}

function summary(id: string, token: string) {
  return t.app.inject({
    method: 'GET',
    url: `/api/v1/patients/${id}/summary.pdf`,
    headers: bearer(token),
  });
}

async function exportRows(patientId: string) {
  const res = await t.app.inject({
    method: 'GET',
    url: `/api/v1/admin/audit?action=patient.export&patient_id=${patientId}`,
    headers: bearer(admin.accessToken),
  });
  expect(res.statusCode).toBe(200);
  return res.json<{ items: { actor_id: string; patient_id: string; details: object }[] }>().items;
}

describe('GET /patients/{id}/summary.pdf', () => {
  it('gives a doctor the full summary, as an uncached attachment, and audits it', async () => {
    const patient = await newPatient();
    const booked = await t.app.inject({
      method: 'POST',
      url: '/api/v1/appointments',
      headers: bearer(admin.accessToken),
      payload: {
        patient_id: patient.id,
        doctor_id: doctor.id,
        starts_at: onWorkingDay(2, 10, 0, { workdays: everyDay }),
        reason: 'Annual review',
      },
    });
    expect(booked.statusCode).toBe(201);
    const rx = await t.app.inject({
      method: 'POST',
      url: '/api/v1/prescriptions',
      headers: bearer(doctor.accessToken),
      payload: {
        patient_id: patient.id,
        medication: 'Metformin',
        dosage: '500 mg',
        frequency: 'twice daily',
      },
    });
    expect(rx.statusCode).toBe(201);

    const res = await summary(patient.id, doctor.accessToken);
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('application/pdf');
    expect(res.headers['content-disposition']).toBe(
      `attachment; filename="patient-${patient.mrn}-summary.pdf"`,
    );
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.rawPayload.subarray(0, 5).toString('latin1')).toBe('%PDF-');
    const pages = res.rawPayload.toString('latin1').match(/\/Type \/Page\b/g) ?? [];
    expect(pages.length).toBe(1);
    const text = pdfText(res.rawPayload);
    expect(text).toContain(patient.last_name);
    expect(text).toContain(patient.mrn);
    expect(text).toContain('Rosa Contact');
    expect(text).toContain('penicillin, latex');
    expect(text).toContain('Type 2 diabetes');
    expect(text).toContain('Metformin 500 mg');
    expect(text).toContain('Annual review');

    const rows = await exportRows(patient.id);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      actor_id: doctor.id,
      patient_id: patient.id,
      details: { format: 'pdf', medical_fields: true },
    });
  });

  it('leaves allergies, history and prescriptions out for a receptionist', async () => {
    const patient = await newPatient({ allergies: ['sulfonamide'] });
    const res = await summary(patient.id, receptionist.accessToken);
    expect(res.statusCode).toBe(200);
    const text = pdfText(res.rawPayload);
    expect(text).toContain(patient.last_name);
    expect(text).toContain('Rosa Contact');
    expect(text).not.toContain('sulfonamide');
    expect(text).not.toContain('Allergies');
    expect(text).not.toContain('Type 2 diabetes');
    expect(text).not.toContain('Active prescriptions');
    expect(res.rawPayload.toString('latin1')).not.toContain('sulfonamide');
    const rows = await exportRows(patient.id);
    expect(rows).toHaveLength(1);
    expect(rows[0]?.details).toEqual({ format: 'pdf', medical_fields: false });
  });

  it('answers 404 for an unknown or deleted patient, and 403 to role user', async () => {
    const unknown = await summary('0190a0a0-0000-7000-8000-000000000000', doctor.accessToken);
    expect(unknown.statusCode).toBe(404);
    expect(problemOf(unknown).code).toBe('not_found');

    const patient = await newPatient();
    const read = await t.app.inject({
      method: 'GET',
      url: `/api/v1/patients/${patient.id}`,
      headers: bearer(admin.accessToken),
    });
    const removed = await t.app.inject({
      method: 'DELETE',
      url: `/api/v1/patients/${patient.id}`,
      headers: { ...bearer(admin.accessToken), 'if-match': read.headers.etag as string },
    });
    expect(removed.statusCode).toBe(204);
    expect((await summary(patient.id, doctor.accessToken)).statusCode).toBe(404);
    expect(await exportRows(patient.id)).toHaveLength(0);

    expect((await summary(patient.id, plainUser.accessToken)).statusCode).toBe(403);
  });

  // Last: it moves the clock a day on.
  it('lists past appointments as recent ones', async () => {
    const patient = await newPatient();
    const booked = await t.app.inject({
      method: 'POST',
      url: '/api/v1/appointments',
      headers: bearer(admin.accessToken),
      payload: {
        patient_id: patient.id,
        doctor_id: doctor.id,
        // Tomorrow 09:00 UTC (inside working hours), which two days on lies in the past.
        starts_at: onWorkingDay(0, 9, 0, { workdays: everyDay }),
        reason: 'Wound check',
      },
    });
    expect(booked.statusCode).toBe(201);
    clock.advance(2 * DAY);
    const fresh = await login(t.app, doctor.email, doctor.password);
    const text = pdfText((await summary(patient.id, fresh.access_token)).rawPayload);
    const recent = text.indexOf('Recent appointments');
    expect(recent).toBeGreaterThan(text.indexOf('Upcoming appointments'));
    expect(text.indexOf('Wound check')).toBeGreaterThan(recent);
  });
});
