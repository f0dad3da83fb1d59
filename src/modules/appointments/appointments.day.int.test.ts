import { describe, expect, it } from 'vitest';
import {
  api,
  createUser,
  createUsers,
  problemOf,
  unique,
  useTestApp,
  type PageBody,
  type TestApp,
  type TestUser,
} from '../../../test/helpers.js';
import type { AppointmentDto } from './appointments.schemas.js';
import { clinicDay, nextDate, zonedInstant } from './availability.js';

/**
 * The clinic day in one call (issue 14): `doctor_id=me&date=` in a clinic time zone that is not
 * UTC, the patient summary on every appointment answer, bare dates for from/to, and visit notes
 * linked to their appointment.
 */
const zone = 'America/New_York';
let t: TestApp;
let nurse: TestUser;
let receptionist: TestUser;
useTestApp(
  async (app) => {
    t = app;
    [nurse, receptionist] = await createUsers(t.app, 'nurse', 'receptionist');
  },
  { CLINIC_TIMEZONE: zone },
);

const DAY = 86_400_000;

/**
 * A clinic date a few days ahead; the first daylight-saving change within the coming year when
 * there is one (a 23- or 25-hour day, where "24 hours from midnight" would be wrong).
 */
function testDate(): string {
  const today = new Date().toISOString().slice(0, 10);
  let date = today;
  for (let i = 0; i < 3; i++) date = nextDate(date);
  const plain = date;
  for (let i = 0; i < 300; i++) {
    const day = clinicDay(date, zone);
    if (day.endsAt.getTime() - day.startsAt.getTime() !== DAY) return date;
    date = nextDate(date);
  }
  return plain;
}

function previousDate(date: string): string {
  return new Date(Date.parse(`${date}T12:00:00Z`) - DAY).toISOString().slice(0, 10);
}

async function newPatient(): Promise<{ id: string; first_name: string; last_name: string }> {
  const res = await api(t.app)
    .as(nurse)
    .post('/patients', {
      first_name: unique('Day'),
      last_name: unique('Patient'),
      date_of_birth: '1980-02-29',
    });
  expect(res.statusCode, res.body).toBe(201);
  return res.json();
}

/** Books as the doctor in their own calendar; the override lets the test book around midnight. */
async function bookOwn(doctor: TestUser, patientId: string, date: string, hhmm: string) {
  const res = await api(t.app)
    .as(doctor)
    .post('/appointments?allow_outside_hours=true', {
      patient_id: patientId,
      doctor_id: doctor.id,
      starts_at: zonedInstant(date, hhmm, zone).toISOString(),
      duration_minutes: 20,
    });
  expect(res.statusCode, res.body).toBe(201);
  return res.json<AppointmentDto>();
}

describe('GET /appointments?doctor_id=me&date=', () => {
  it("returns exactly the calling doctor's appointments starting that day in the clinic zone", async () => {
    const [doctor, other] = [await createUser(t.app, 'doctor'), await createUser(t.app, 'doctor')];
    const patient = await newPatient();
    const date = testDate();
    const before = await bookOwn(doctor, patient.id, previousDate(date), '23:35');
    const first = await bookOwn(doctor, patient.id, date, '00:05');
    const mid = await bookOwn(doctor, patient.id, date, '10:00');
    const last = await bookOwn(doctor, patient.id, date, '23:35');
    const after = await bookOwn(doctor, patient.id, nextDate(date), '00:05');
    const otherPatient = await newPatient();
    await bookOwn(other, otherPatient.id, date, '10:00');

    const res = await api(t.app).as(doctor).get(`/appointments?doctor_id=me&date=${date}`);
    expect(res.statusCode, res.body).toBe(200);
    const ids = res.json<PageBody<AppointmentDto>>().items.map((a) => a.id);
    expect(ids).toEqual([first.id, mid.id, last.id]);
    expect(ids).not.toContain(before.id);
    expect(ids).not.toContain(after.id);

    // A bare from/to is the whole clinic day: from its start to the end of `to`'s day.
    const range = await api(t.app)
      .as(nurse)
      .get(`/appointments?doctor_id=${doctor.id}&from=${date}&to=${date}`);
    expect(range.statusCode, range.body).toBe(200);
    expect(range.json<PageBody<AppointmentDto>>().items.map((a) => a.id)).toEqual(ids);
    const twoDays = await api(t.app)
      .as(nurse)
      .get(`/appointments?doctor_id=${doctor.id}&from=${date}&to=${nextDate(date)}`);
    expect(twoDays.json<PageBody<AppointmentDto>>().items.map((a) => a.id)).toEqual([
      ...ids,
      after.id,
    ]);
  });

  it('refuses doctor_id=me for a caller who is not a doctor, and date with from/to', async () => {
    const res = await api(t.app).as(nurse).get('/appointments?doctor_id=me');
    expect(res.statusCode).toBe(400);
    const problem = problemOf(res);
    expect(problem.errors).toEqual([
      { field: 'query.doctor_id', message: 'me is only for doctors' },
    ]);
    expect(problem.detail).toContain('only doctors');
    const doctor = await createUser(t.app, 'doctor');
    const both = await api(t.app)
      .as(doctor)
      .get('/appointments?doctor_id=me&date=2030-01-07&from=2030-01-07');
    expect(problemOf(both).errors?.[0]?.field).toBe('query.date');
    const bad = await api(t.app).as(doctor).get('/appointments?date=2030-02-30');
    expect(problemOf(bad).detail).toBe('date must be a date (YYYY-MM-DD)');
    const badFrom = await api(t.app).as(doctor).get('/appointments?from=tomorrow');
    expect(problemOf(badFrom).errors).toEqual([
      {
        field: 'query.from',
        message:
          'must be a date and time (RFC 3339, e.g. 2026-05-04T09:00:00Z) or a date (YYYY-MM-DD)',
      },
    ]);
  });
});

describe('the patient summary on appointments', () => {
  it('is on the list items, GET by id, the booking, a transition and the patient list', async () => {
    const doctor = await createUser(t.app, 'doctor');
    const patient = await newPatient();
    const expected = {
      id: patient.id,
      first_name: patient.first_name,
      last_name: patient.last_name,
      mrn: expect.stringMatching(/^MRN\d{8}$/) as unknown as string,
      date_of_birth: '1980-02-29',
    };
    const booked = await bookOwn(doctor, patient.id, testDate(), '11:00');
    expect(booked.patient).toEqual(expected);
    const list = await api(t.app).as(receptionist).get(`/appointments?doctor_id=${doctor.id}`);
    expect(list.json<PageBody<AppointmentDto>>().items[0]?.patient).toEqual(expected);
    const one = await api(t.app).as(receptionist).get(`/appointments/${booked.id}`);
    expect(one.json<AppointmentDto>().patient).toEqual(expected);
    const confirmed = await api(t.app).as(nurse).post(`/appointments/${booked.id}/confirm`);
    expect(confirmed.json<AppointmentDto>().patient).toEqual(expected);
    const ofPatient = await api(t.app).as(nurse).get(`/patients/${patient.id}/appointments`);
    expect(ofPatient.json<PageBody<AppointmentDto>>().items[0]?.patient).toEqual(expected);
  });
});

describe('visit notes linked to an appointment', () => {
  it('echoes appointment_id (null without one) and refuses another patient’s or an unknown one', async () => {
    const doctor = await createUser(t.app, 'doctor');
    const patient = await newPatient();
    const other = await newPatient();
    const appointment = await bookOwn(doctor, patient.id, testDate(), '14:00');
    const theirs = await bookOwn(doctor, other.id, testDate(), '15:00');
    const notes = api(t.app).as(doctor);
    const linked = await notes.post(`/patients/${patient.id}/notes`, {
      content: 'Seen for the booked visit',
      visit_type: 'regular',
      appointment_id: appointment.id,
    });
    expect(linked.statusCode, linked.body).toBe(201);
    expect(linked.json<{ appointment_id: string | null }>().appointment_id).toBe(appointment.id);
    const plain = await notes.post(`/patients/${patient.id}/notes`, {
      content: 'Phone call',
      visit_type: 'phone',
    });
    expect(plain.json<{ appointment_id: string | null }>().appointment_id).toBeNull();
    const listed = await notes.get(`/patients/${patient.id}/notes`);
    expect(
      listed.json<PageBody<{ appointment_id: string | null }>>().items.map((n) => n.appointment_id),
    ).toEqual([null, appointment.id]);

    const wrong = await notes.post(`/patients/${patient.id}/notes`, {
      content: 'Wrong link',
      visit_type: 'regular',
      appointment_id: theirs.id,
    });
    expect(wrong.statusCode).toBe(422);
    expect(problemOf(wrong).errors).toEqual([
      { field: 'body.appointment_id', message: "is another patient's appointment" },
    ]);
    const unknown = await notes.post(`/patients/${patient.id}/notes`, {
      content: 'Unknown link',
      visit_type: 'regular',
      appointment_id: '01a20000-0000-7000-8000-000000000000',
    });
    expect(unknown.statusCode).toBe(422);
    expect(problemOf(unknown).detail).toBe('appointment_id does not name a known appointment');
    const count = await notes.get(`/patients/${patient.id}/notes`);
    expect(count.json<PageBody<unknown>>().items).toHaveLength(2);
  });
});
