import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { api, createUser, problemOf, type PageBody } from '../../../test/helpers.js';
import type { AppointmentDto } from './appointments.schemas.js';
import {
  t,
  admin,
  nurse,
  useAppointmentsApp,
  MINUTE,
  DAY,
  at,
  iso,
  newDoctor,
  newPatient,
  book,
  booked,
  actOk,
  conflictingIdOf,
  listAll,
} from './appointments.test-support.js';

useAppointmentsApp();

describe('POST /appointments', () => {
  it('books with 201, Location, ETag, ends_at = starts_at + duration', async () => {
    const doctor = await newDoctor();
    const patient = await newPatient();
    const startsAt = at(3, 10);
    const res = await book(nurse.accessToken, {
      patient_id: patient,
      doctor_id: doctor.id,
      starts_at: startsAt,
      duration_minutes: 45,
      reason: 'check-up',
      notes: 'bring results',
    });
    expect(res.statusCode, res.body).toBe(201);
    const body = res.json<AppointmentDto>();
    expect(res.headers.location).toBe(`/api/v1/appointments/${body.id}`);
    expect(res.headers.etag).toBe(`"v${body.version}"`);
    expect(body).toMatchObject({
      patient_id: patient,
      doctor_id: doctor.id,
      duration_minutes: 45,
      status: 'scheduled',
      reason: 'check-up',
      notes: 'bring results',
      cancel_reason: null,
      created_by: nurse.id,
    });
    expect(Date.parse(body.starts_at)).toBe(Date.parse(startsAt));
    expect(Date.parse(body.ends_at) - Date.parse(body.starts_at)).toBe(45 * MINUTE);

    const read = await api(t.app).as(nurse).get(`/appointments/${body.id}`);
    expect(read.statusCode).toBe(200);
    expect(read.json<AppointmentDto>()).toEqual(body);
    expect(read.headers.etag).toBe(res.headers.etag);
  });

  it('defaults the duration to 30 minutes', async () => {
    const doctor = await newDoctor();
    const patient = await newPatient();
    const body = await booked({ patient_id: patient, doctor_id: doctor.id, starts_at: at(3, 11) });
    expect(body.duration_minutes).toBe(30);
    expect(Date.parse(body.ends_at) - Date.parse(body.starts_at)).toBe(30 * MINUTE);
  });

  it('accepts the duration bounds 5 and 480 and refuses anything outside with 400', async () => {
    const doctor = await newDoctor();
    const patient = await newPatient();
    for (const duration of [4, 481, 0, -5, 30.5]) {
      const res = await book(nurse.accessToken, {
        patient_id: patient,
        doctor_id: doctor.id,
        starts_at: at(3, 9),
        duration_minutes: duration,
      });
      expect(res.statusCode, `duration ${duration}`).toBe(400);
      expect(problemOf(res).code).toBe('validation_failed');
    }
    const five = await booked({
      patient_id: patient,
      doctor_id: doctor.id,
      starts_at: at(3, 9),
      duration_minutes: 5,
    });
    expect(five.duration_minutes).toBe(5);
    const long = await booked({
      patient_id: patient,
      doctor_id: doctor.id,
      starts_at: at(4, 9),
      duration_minutes: 480,
    });
    expect(Date.parse(long.ends_at) - Date.parse(long.starts_at)).toBe(480 * MINUTE);
  });

  it('refuses a start in the past with 400', async () => {
    const doctor = await newDoctor();
    const patient = await newPatient();
    const res = await book(nurse.accessToken, {
      patient_id: patient,
      doctor_id: doctor.id,
      starts_at: iso(Date.now() - 60 * MINUTE),
    });
    expect(res.statusCode).toBe(400);
    const problem = problemOf(res);
    expect(problem.errors?.map((e) => e.field)).toContain('body.starts_at');
    const list = await api(t.app).as(nurse).get(`/appointments?doctor_id=${doctor.id}`);
    expect(list.json<PageBody<AppointmentDto>>().items).toHaveLength(0);
  });

  it('refuses a leap-second start and unusable range filters with 400, never 500', async () => {
    const doctor = await newDoctor();
    const patient = await newPatient();
    const leap = await book(nurse.accessToken, {
      patient_id: patient,
      doctor_id: doctor.id,
      starts_at: `${new Date().getUTCFullYear() + 1}-06-30T23:59:60Z`,
    });
    expect(leap.statusCode).toBe(400);
    expect(problemOf(leap).errors?.map((e) => e.field)).toContain('body.starts_at');
    for (const query of ['from=2016-12-31T23:59:60Z', 'to=0000-01-01T00:00:00Z']) {
      const res = await api(t.app).as(nurse).get(`/appointments?${query}`);
      expect(res.statusCode, query).toBe(400);
    }
  });

  it('refuses a start more than 365 days ahead with 400 but accepts 364 days', async () => {
    const doctor = await newDoctor();
    const patient = await newPatient();
    const tooFar = await book(nurse.accessToken, {
      patient_id: patient,
      doctor_id: doctor.id,
      starts_at: iso(Date.now() + 366 * DAY),
    });
    expect(tooFar.statusCode).toBe(400);
    expect(problemOf(tooFar).errors?.map((e) => e.field)).toContain('body.starts_at');
    const ok = await booked({
      patient_id: patient,
      doctor_id: doctor.id,
      starts_at: at(364, 10),
    });
    expect(ok.status).toBe('scheduled');
  });

  it('refuses a malformed body (bad uuid, bad timestamp, unknown field) with 400', async () => {
    const doctor = await newDoctor();
    const patient = await newPatient();
    const bodies = [
      { patient_id: 'nope', doctor_id: doctor.id, starts_at: at(3, 10) },
      { patient_id: patient, doctor_id: doctor.id, starts_at: 'tomorrow' },
      { patient_id: patient, doctor_id: doctor.id, starts_at: at(3, 10), status: 'completed' },
      { doctor_id: doctor.id, starts_at: at(3, 10) },
    ];
    for (const body of bodies) {
      const res = await api(t.app).as(nurse).post('/appointments', body);
      expect(res.statusCode, JSON.stringify(body)).toBe(400);
      expect(problemOf(res).status).toBe(400);
    }
  });

  it('refuses an inactive doctor, a non-doctor and an unknown doctor with 422', async () => {
    const patient = await newPatient();
    const retired = await newDoctor();
    const del = await api(t.app).as(admin).delete(`/users/${retired.id}`);
    expect([200, 204]).toContain(del.statusCode);
    const notADoctor = await createUser(t.app, 'nurse');
    for (const doctorId of [retired.id, notADoctor.id, randomUUID()]) {
      const res = await book(admin.accessToken, {
        patient_id: patient,
        doctor_id: doctorId,
        starts_at: at(3, 10),
      });
      expect(res.statusCode, res.body).toBe(422);
      const problem = problemOf(res);
      expect(problem.code).toBe('unprocessable');
      expect(problem.errors?.map((e) => e.field)).toContain('body.doctor_id');
    }
  });

  it('refuses an unknown patient with 422', async () => {
    const doctor = await newDoctor();
    const res = await book(nurse.accessToken, {
      patient_id: randomUUID(),
      doctor_id: doctor.id,
      starts_at: at(3, 10),
    });
    expect(res.statusCode).toBe(422);
    const problem = problemOf(res);
    expect(problem.code).toBe('unprocessable');
    expect(problem.errors?.map((e) => e.field)).toContain('body.patient_id');

    // A soft-deleted patient is no longer bookable either.
    const gone = await newPatient();
    const del = await api(t.app).as(admin).delete(`/patients/${gone}`);
    expect([200, 204]).toContain(del.statusCode);
    const res2 = await book(nurse.accessToken, {
      patient_id: gone,
      doctor_id: doctor.id,
      starts_at: at(3, 10),
    });
    expect(res2.statusCode).toBe(422);
    expect(problemOf(res2).code).toBe('unprocessable');
  });

  it('names the doctor first when neither qualifies, even for a taken slot, and books nothing', async () => {
    const doctor = await newDoctor();
    const patient = await newPatient();
    const startsAt = at(4, 9);
    const taken = await book(admin.accessToken, {
      patient_id: patient,
      doctor_id: doctor.id,
      starts_at: startsAt,
    });
    expect(taken.statusCode).toBe(201);
    expect(
      [
        (await api(t.app).as(admin).delete(`/users/${doctor.id}`)).statusCode,
        (await api(t.app).as(admin).delete(`/patients/${patient}`)).statusCode,
      ].every((status) => status === 200 || status === 204),
    ).toBe(true);
    const res = await book(admin.accessToken, {
      patient_id: patient,
      doctor_id: doctor.id,
      starts_at: startsAt,
    });
    expect(res.statusCode, res.body).toBe(422);
    expect(problemOf(res).errors?.map((e) => e.field)).toEqual(['body.doctor_id']);
    const listed = await api(t.app).as(admin).get(`/appointments?doctor_id=${doctor.id}&limit=100`);
    expect(listed.json<PageBody<AppointmentDto>>().items).toHaveLength(1);
  });
});

describe('double booking', () => {
  it('THE RACE: 20 parallel bookings of one slot give exactly one 201 and nineteen 409', async () => {
    const doctor = await newDoctor();
    const patients = await Promise.all(Array.from({ length: 20 }, () => newPatient()));
    const startsAt = at(5, 14);
    const results = await Promise.all(
      patients.map((patient) =>
        book(nurse.accessToken, { patient_id: patient, doctor_id: doctor.id, starts_at: startsAt }),
      ),
    );
    const created = results.filter((r) => r.statusCode === 201);
    const conflicts = results.filter((r) => r.statusCode === 409);
    const statuses = results.map((r) => r.statusCode).sort();
    expect(created, `statuses ${statuses.join(' ')}: ${results[0]?.body}`).toHaveLength(1);
    expect(conflicts).toHaveLength(19);
    const winner = created[0]?.json<AppointmentDto>();
    expect(winner?.id).toBeDefined();
    for (const res of conflicts) {
      expect(problemOf(res).code).toBe('conflict');
      expect(conflictingIdOf(res)).toBe(winner?.id);
    }
    const list = await listAll(`doctor_id=${doctor.id}`);
    expect(list.map((a) => a.id)).toEqual([winner?.id]);
  });

  it('refuses an overlapping booking for the same doctor, naming the conflict', async () => {
    const doctor = await newDoctor();
    const first = await booked({
      patient_id: await newPatient(),
      doctor_id: doctor.id,
      starts_at: at(3, 10),
    });
    const res = await book(nurse.accessToken, {
      patient_id: await newPatient(),
      doctor_id: doctor.id,
      starts_at: at(3, 9, 45),
    });
    expect(res.statusCode).toBe(409);
    expect(conflictingIdOf(res)).toBe(first.id);
  });

  it('refuses a patient double-booked with two doctors at overlapping times', async () => {
    const patient = await newPatient();
    const doctorA = await newDoctor();
    const doctorB = await newDoctor();
    const first = await booked({
      patient_id: patient,
      doctor_id: doctorA.id,
      starts_at: at(3, 10),
    });
    const res = await book(nurse.accessToken, {
      patient_id: patient,
      doctor_id: doctorB.id,
      starts_at: at(3, 10, 15),
    });
    expect(res.statusCode).toBe(409);
    expect(conflictingIdOf(res)).toBe(first.id);
    const list = await listAll(`patient_id=${patient}`);
    expect(list.map((a) => a.id)).toEqual([first.id]);
  });

  it('allows back-to-back appointments (half-open: one ends 10:30, the next starts 10:30)', async () => {
    const doctor = await newDoctor();
    const patient = await newPatient();
    const first = await booked({ patient_id: patient, doctor_id: doctor.id, starts_at: at(3, 10) });
    expect(Date.parse(first.ends_at)).toBe(Date.parse(at(3, 10, 30)));
    const second = await booked({
      patient_id: patient,
      doctor_id: doctor.id,
      starts_at: at(3, 10, 30),
    });
    const before = await booked({
      patient_id: patient,
      doctor_id: doctor.id,
      starts_at: at(3, 9, 30),
    });
    expect(second.id).not.toBe(first.id);
    const list = await listAll(`doctor_id=${doctor.id}`);
    expect(list.map((a) => a.id)).toEqual([before.id, first.id, second.id]);
  });

  it.each(['cancel', 'no_show'] as const)('a %s appointment frees the slot', async (action) => {
    const doctor = await newDoctor();
    const patient = await newPatient();
    const first = await booked({ patient_id: patient, doctor_id: doctor.id, starts_at: at(3, 10) });
    const blocked = await book(nurse.accessToken, {
      patient_id: await newPatient(),
      doctor_id: doctor.id,
      starts_at: at(3, 10),
    });
    expect(blocked.statusCode).toBe(409);
    await actOk(first.id, action);
    const again = await booked({
      patient_id: patient,
      doctor_id: doctor.id,
      starts_at: at(3, 10),
    });
    expect(again.id).not.toBe(first.id);
    expect(again.status).toBe('scheduled');
  });
});
