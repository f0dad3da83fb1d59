import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { Role } from '../../db/schema/users.js';
import { api, createUser, problemOf, type Method } from '../../../test/helpers.js';
import type { AppointmentDto } from './appointments.schemas.js';
import {
  t,
  admin,
  nurse,
  receptionist,
  useAppointmentsApp,
  at,
  newDoctor,
  newPatient,
  book,
  booked,
  actionPath,
  type Action,
  act,
  listAll,
} from './appointments.test-support.js';

useAppointmentsApp();

describe('permissions', () => {
  it('a doctor books for themselves but not for another doctor (403)', async () => {
    const doctor = await newDoctor();
    const other = await newDoctor();
    const patient = await newPatient();
    const own = await booked(
      { patient_id: patient, doctor_id: doctor.id, starts_at: at(3, 10) },
      doctor.accessToken,
    );
    expect(own.created_by).toBe(doctor.id);
    const res = await book(doctor.accessToken, {
      patient_id: patient,
      doctor_id: other.id,
      starts_at: at(3, 12),
    });
    expect(res.statusCode).toBe(403);
    expect(problemOf(res).code).toBe('forbidden');
    expect(await listAll(`doctor_id=${other.id}`)).toHaveLength(0);
    // Own appointment: transitions are allowed.
    const confirmed = await act(own.id, 'confirm', doctor.accessToken);
    expect(confirmed.statusCode).toBe(200);
  });

  it("a doctor cannot transition or change another doctor's appointment but can read it", async () => {
    const doctor = await newDoctor();
    const other = await newDoctor();
    const appt = await booked({
      patient_id: await newPatient(),
      doctor_id: other.id,
      starts_at: at(3, 10),
    });
    for (const action of Object.keys(actionPath) as Action[]) {
      const res = await act(appt.id, action, doctor.accessToken);
      expect(res.statusCode, action).toBe(403);
      expect(problemOf(res).code).toBe('forbidden');
    }
    const patch = await api(t.app)
      .as(doctor)
      .patch(`/appointments/${appt.id}`, {
        starts_at: at(3, 14),
      });
    expect(patch.statusCode).toBe(403);
    const unchanged = await api(t.app).as(doctor).get(`/appointments/${appt.id}`);
    expect(unchanged.statusCode).toBe(200);
    expect(unchanged.json<AppointmentDto>()).toMatchObject({ status: 'scheduled', version: 1 });

    // Taking over another doctor's appointment via doctor_id is refused too.
    const mine = await booked(
      { patient_id: await newPatient(), doctor_id: doctor.id, starts_at: at(3, 12) },
      doctor.accessToken,
    );
    const handOver = await api(t.app).as(doctor).patch(`/appointments/${mine.id}`, {
      doctor_id: other.id,
    });
    expect(handOver.statusCode).toBe(403);

    // Reading is open to doctors for every appointment.
    expect((await api(t.app).as(doctor).get(`/appointments/${appt.id}.ics`)).statusCode).toBe(200);
    const list = await listAll(`doctor_id=${other.id}`, doctor.accessToken);
    expect(list.map((a) => a.id)).toEqual([appt.id]);
    const availability = await api(t.app)
      .as(doctor)
      .get(`/doctors/${other.id}/availability?date=${at(3, 0).slice(0, 10)}`);
    expect(availability.statusCode).toBe(200);
    const patientList = await api(t.app)
      .as(doctor)
      .get(`/patients/${appt.patient_id}/appointments`);
    expect(patientList.statusCode).toBe(200);
  });

  it.each(['nurse', 'receptionist', 'admin'] as const)(
    'a %s can book, change and transition for any doctor',
    async (role) => {
      const staff = role === 'nurse' ? nurse : role === 'receptionist' ? receptionist : admin;
      const doctor = await newDoctor();
      const appt = await booked(
        { patient_id: await newPatient(), doctor_id: doctor.id, starts_at: at(3, 10) },
        staff.accessToken,
      );
      expect(appt.created_by).toBe(staff.id);
      const patch = await api(t.app)
        .as(staff)
        .patch(`/appointments/${appt.id}`, {
          starts_at: at(3, 11),
        });
      expect(patch.statusCode, patch.body).toBe(200);
      const confirmed = await act(appt.id, 'confirm', staff.accessToken);
      expect(confirmed.statusCode).toBe(200);
      expect(confirmed.json<AppointmentDto>().status).toBe('confirmed');
    },
  );

  it.each(['user', 'guest'] as Role[])(
    'a %s gets 403 on every appointments route',
    async (role) => {
      const outsider = await createUser(t.app, role);
      const doctor = await newDoctor();
      const patient = await newPatient();
      const appt = await booked({
        patient_id: patient,
        doctor_id: doctor.id,
        starts_at: at(3, 10),
      });
      const requests: [Method, string, object?][] = [
        ['GET', '/appointments'],
        [
          'POST',
          '/appointments',
          { patient_id: patient, doctor_id: doctor.id, starts_at: at(3, 12) },
        ],
        ['GET', `/appointments/${appt.id}`],
        ['GET', `/appointments/${appt.id}.ics`],
        ['PATCH', `/appointments/${appt.id}`, { starts_at: at(3, 13) }],
        ['POST', `/appointments/${appt.id}/confirm`],
        ['POST', `/appointments/${appt.id}/check-in`],
        ['POST', `/appointments/${appt.id}/complete`],
        ['POST', `/appointments/${appt.id}/cancel`, { reason: 'x' }],
        ['POST', `/appointments/${appt.id}/no-show`],
        ['GET', `/doctors/${doctor.id}/availability?date=${at(3, 0).slice(0, 10)}`],
        ['GET', `/patients/${patient}/appointments`],
      ];
      for (const [method, url, payload] of requests) {
        const res = await api(t.app).as(outsider).request(method, url, payload);
        expect(res.statusCode, `${method} ${url}`).toBe(403);
        expect(problemOf(res).code).toBe('forbidden');
      }
      const unchanged = await api(t.app).as(nurse).get(`/appointments/${appt.id}`);
      expect(unchanged.json<AppointmentDto>()).toMatchObject({ status: 'scheduled', version: 1 });
      expect(await listAll(`doctor_id=${doctor.id}`)).toHaveLength(1);
    },
  );

  it('without a token every appointments route is 401', async () => {
    const res = await api(t.app).get('/appointments');
    expect(res.statusCode).toBe(401);
    expect(res.headers['www-authenticate']).toMatch(/^Bearer/);
    const post = await api(t.app).post(`/appointments/${randomUUID()}/confirm`);
    expect(post.statusCode).toBe(401);
  });
});
