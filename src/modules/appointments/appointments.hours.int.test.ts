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
import { onWorkingDay } from '../../../test/working-hours.js';
import type { AppointmentDto } from './appointments.schemas.js';

/**
 * Working hours on bookings (issue 14), on the default configuration: Monday-Friday,
 * 09:00-17:00, UTC. Outside them: 422 outside_working_hours, unless an admin or the doctor in
 * their own calendar passes ?allow_outside_hours=true, which is audited.
 */
let t: TestApp;
let admin: TestUser;
let nurse: TestUser;
let receptionist: TestUser;
useTestApp(async (app) => {
  t = app;
  [admin, nurse, receptionist] = await createUsers(t.app, 'admin', 'nurse', 'receptionist');
});

const DAY = 86_400_000;

/** 10:00 UTC on the next Saturday at least two days ahead. */
function saturday(): string {
  let day = Date.now() + 2 * DAY;
  while (new Date(day).getUTCDay() !== 6) day += DAY;
  const at = new Date(day);
  at.setUTCHours(10, 0, 0, 0);
  return at.toISOString();
}

async function newPatient(): Promise<string> {
  const res = await api(t.app)
    .as(nurse)
    .post('/patients', { first_name: 'Hours', last_name: unique('Patient') });
  expect(res.statusCode, res.body).toBe(201);
  return res.json<{ id: string }>().id;
}

function book(caller: TestUser, body: Record<string, unknown>, override = false) {
  const query = override ? '?allow_outside_hours=true' : '';
  return api(t.app).as(caller).post(`/appointments${query}`, body);
}

async function overrideRows(actorId: string) {
  const res = await api(t.app)
    .as(admin)
    .get(`/admin/audit?action=appointment.outside_hours_override&actor_id=${actorId}`);
  expect(res.statusCode, res.body).toBe(200);
  return res.json<PageBody<{ resource_id: string; patient_id: string }>>().items;
}

describe('bookings outside working hours', () => {
  it('refuses 22:00 on a weekday and 10:00 on a Saturday alike, naming the hours and days', async () => {
    const doctor = await createUser(t.app, 'doctor');
    const patient = await newPatient();
    const base = { patient_id: patient, doctor_id: doctor.id };
    for (const startsAt of [onWorkingDay(1, 22), saturday(), onWorkingDay(1, 8, 45)]) {
      const res = await book(nurse, { ...base, starts_at: startsAt });
      expect(res.statusCode, startsAt).toBe(422);
      const problem = problemOf(res);
      expect(problem.code).toBe('outside_working_hours');
      expect(problem.detail).toContain('Mon-Fri 09:00-17:00 (UTC)');
    }
    // Ending after closing time is outside too; ending exactly at closing time is not.
    const late = await book(nurse, { ...base, starts_at: onWorkingDay(1, 16, 45) });
    expect(problemOf(late).code).toBe('outside_working_hours');
    const last = await book(nurse, { ...base, starts_at: onWorkingDay(1, 16, 30) });
    expect(last.statusCode, last.body).toBe(201);
    const first = await book(nurse, { ...base, starts_at: onWorkingDay(1, 9) });
    expect(first.statusCode, first.body).toBe(201);
  });

  it('lets an admin and the doctor in their own calendar override, and audits it', async () => {
    const [doctor, other] = [await createUser(t.app, 'doctor'), await createUser(t.app, 'doctor')];
    const patient = await newPatient();
    const byAdmin = await book(
      admin,
      { patient_id: patient, doctor_id: doctor.id, starts_at: onWorkingDay(2, 22) },
      true,
    );
    expect(byAdmin.statusCode, byAdmin.body).toBe(201);
    const own = await book(
      doctor,
      { patient_id: patient, doctor_id: doctor.id, starts_at: saturday() },
      true,
    );
    expect(own.statusCode, own.body).toBe(201);
    expect((await overrideRows(admin.id)).map((row) => row.resource_id)).toContain(
      byAdmin.json<AppointmentDto>().id,
    );
    expect(await overrideRows(doctor.id)).toEqual([
      expect.objectContaining({ resource_id: own.json<AppointmentDto>().id, patient_id: patient }),
    ]);
    // Inside working hours the flag changes nothing and nothing is recorded as an override.
    const inside = await book(
      other,
      { patient_id: patient, doctor_id: other.id, starts_at: onWorkingDay(3, 10) },
      true,
    );
    expect(inside.statusCode, inside.body).toBe(201);
    expect(await overrideRows(other.id)).toEqual([]);
  });

  it('refuses the override to a receptionist, a nurse and a doctor for another doctor (403)', async () => {
    const [doctor, other] = [await createUser(t.app, 'doctor'), await createUser(t.app, 'doctor')];
    const patient = await newPatient();
    const body = { patient_id: patient, doctor_id: other.id, starts_at: onWorkingDay(1, 22) };
    for (const caller of [receptionist, nurse]) {
      const res = await book(caller, body, true);
      expect(res.statusCode).toBe(403);
      expect(problemOf(res).detail).toContain('Only an admin, or a doctor in their own calendar');
    }
    const res = await book(doctor, body, true);
    expect(res.statusCode).toBe(403);
    expect(problemOf(res).detail).toMatch(/only for your own calendar|only change their own/);
    const listed = await api(t.app).as(admin).get(`/appointments?doctor_id=${other.id}`);
    expect(listed.json<PageBody<unknown>>().items).toEqual([]);
  });

  it('re-checks working hours on a reschedule, with the same override rules', async () => {
    const doctor = await createUser(t.app, 'doctor');
    const patient = await newPatient();
    const created = await book(nurse, {
      patient_id: patient,
      doctor_id: doctor.id,
      starts_at: onWorkingDay(4, 10),
    });
    expect(created.statusCode, created.body).toBe(201);
    const id = created.json<AppointmentDto>().id;
    const moved = await api(t.app)
      .as(nurse)
      .patch(`/appointments/${id}`, { starts_at: onWorkingDay(4, 21) });
    expect(problemOf(moved).code).toBe('outside_working_hours');
    const longer = await api(t.app)
      .as(nurse)
      .patch(`/appointments/${id}`, { duration_minutes: 480 });
    expect(problemOf(longer).code).toBe('outside_working_hours');
    const refused = await api(t.app)
      .as(nurse)
      .patch(`/appointments/${id}?allow_outside_hours=true`, { starts_at: onWorkingDay(4, 21) });
    expect(refused.statusCode).toBe(403);
    const edited = await api(t.app).as(nurse).patch(`/appointments/${id}`, { reason: 'Review' });
    expect(edited.statusCode, edited.body).toBe(200);
    const byAdmin = await api(t.app)
      .as(admin)
      .patch(`/appointments/${id}?allow_outside_hours=true`, { starts_at: onWorkingDay(4, 21) });
    expect(byAdmin.statusCode, byAdmin.body).toBe(200);
    expect((await overrideRows(admin.id)).map((row) => row.resource_id)).toContain(id);
  });
});
