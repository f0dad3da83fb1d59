import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { api, problemOf } from '../../../test/helpers.js';
import type { AppointmentDto } from './appointments.schemas.js';
import {
  t,
  nurse,
  useAppointmentsApp,
  type Status,
  DAY,
  at,
  iso,
  newDoctor,
  newPatient,
  booked,
  actionPath,
  type Action,
  act,
  actOk,
  pathTo,
  conflictingIdOf,
  listAll,
} from './appointments.test-support.js';
import { workingSlot } from '../../../test/working-hours.js';

const everyDay = [1, 2, 3, 4, 5, 6, 7];

useAppointmentsApp();

describe('status machine', () => {
  it('walks the happy path scheduled -> confirmed -> checked_in -> completed', async () => {
    const doctor = await newDoctor();
    const appt = await booked({
      patient_id: await newPatient(),
      doctor_id: doctor.id,
      starts_at: at(3, 10),
    });
    const confirmed = await actOk(appt.id, 'confirm');
    expect(confirmed.status).toBe('confirmed');
    expect(confirmed.version).toBeGreaterThan(appt.version);
    const checkedIn = await actOk(appt.id, 'check_in');
    expect(checkedIn.status).toBe('checked_in');
    const completed = await actOk(appt.id, 'complete');
    expect(completed.status).toBe('completed');
    const read = await api(t.app).as(nurse).get(`/appointments/${appt.id}`);
    expect(read.json<AppointmentDto>().status).toBe('completed');
  });

  it('gives 200 for every allowed and 409 for every disallowed transition (6 x 5)', async () => {
    const allowed: Record<Action, { from: Status[]; to: Status }> = {
      confirm: { from: ['scheduled'], to: 'confirmed' },
      check_in: { from: ['confirmed'], to: 'checked_in' },
      complete: { from: ['checked_in'], to: 'completed' },
      cancel: { from: ['scheduled', 'confirmed'], to: 'cancelled' },
      no_show: { from: ['scheduled', 'confirmed', 'checked_in'], to: 'no_show' },
    };
    const doctor = await newDoctor();
    const patient = await newPatient();
    const statuses = Object.keys(pathTo) as Status[];
    const actions = Object.keys(actionPath) as Action[];
    let slot = 0;
    let okCount = 0;
    for (const status of statuses) {
      for (const action of actions) {
        // Each case gets its own slot: terminal statuses free theirs, active ones keep it.
        const appt = await booked({
          patient_id: patient,
          doctor_id: doctor.id,
          starts_at: workingSlot(slot++, 30, { firstDay: 7, workdays: everyDay }),
        });
        for (const step of pathTo[status]) await actOk(appt.id, step);
        const res = await act(appt.id, action);
        const label = `${action} from ${status}`;
        const after = await api(t.app).as(nurse).get(`/appointments/${appt.id}`);
        if (allowed[action].from.includes(status)) {
          okCount++;
          expect(res.statusCode, `${label}: ${res.body}`).toBe(200);
          expect(res.json<AppointmentDto>().status, label).toBe(allowed[action].to);
          expect(after.json<AppointmentDto>().status, label).toBe(allowed[action].to);
        } else {
          expect(res.statusCode, `${label}: ${res.body}`).toBe(409);
          expect(problemOf(res).code, label).toBe('conflict');
          expect(after.json<AppointmentDto>().status, label).toBe(status);
        }
      }
    }
    expect(okCount).toBe(8);
  });

  it('cancel records the reason; cancel without a reason is 400', async () => {
    const doctor = await newDoctor();
    const appt = await booked({
      patient_id: await newPatient(),
      doctor_id: doctor.id,
      starts_at: at(3, 10),
    });
    for (const payload of [undefined, {}, { reason: '' }]) {
      const res = await api(t.app).as(nurse).post(`/appointments/${appt.id}/cancel`, payload);
      expect(res.statusCode, JSON.stringify(payload)).toBe(400);
      expect(problemOf(res).status).toBe(400);
    }
    const still = await api(t.app).as(nurse).get(`/appointments/${appt.id}`);
    expect(still.json<AppointmentDto>().status).toBe('scheduled');
    const cancelled = await act(appt.id, 'cancel', nurse.accessToken, 'feeling better');
    expect(cancelled.statusCode).toBe(200);
    expect(cancelled.json<AppointmentDto>()).toMatchObject({
      status: 'cancelled',
      cancel_reason: 'feeling better',
    });
  });

  it('parallel transitions of one appointment: exactly one wins', async () => {
    const doctor = await newDoctor();
    const appt = await booked({
      patient_id: await newPatient(),
      doctor_id: doctor.id,
      starts_at: at(3, 10),
    });
    const results = await Promise.all(Array.from({ length: 8 }, () => act(appt.id, 'confirm')));
    expect(results.filter((r) => r.statusCode === 200)).toHaveLength(1);
    expect(results.filter((r) => r.statusCode === 409)).toHaveLength(7);
    const read = await api(t.app).as(nurse).get(`/appointments/${appt.id}`);
    expect(read.json<AppointmentDto>()).toMatchObject({ status: 'confirmed', version: 2 });
  });

  it('a transition of an unknown appointment is 404', async () => {
    const res = await act(randomUUID(), 'confirm');
    expect(res.statusCode).toBe(404);
    expect(problemOf(res).code).toBe('not_found');
  });
});

describe('PATCH /appointments/{id}', () => {
  it('reschedules, bumps the version and ETag, and keeps ends_at consistent', async () => {
    const doctor = await newDoctor();
    const appt = await booked({
      patient_id: await newPatient(),
      doctor_id: doctor.id,
      starts_at: at(3, 10),
    });
    const res = await api(t.app)
      .as(nurse)
      .patch(
        `/appointments/${appt.id}`,
        { starts_at: at(3, 13), duration_minutes: 20 },
        { headers: { 'if-match': `"v${appt.version}"` } },
      );
    expect(res.statusCode, res.body).toBe(200);
    const body = res.json<AppointmentDto>();
    expect(Date.parse(body.starts_at)).toBe(Date.parse(at(3, 13)));
    expect(Date.parse(body.ends_at)).toBe(Date.parse(at(3, 13, 20)));
    expect(body.duration_minutes).toBe(20);
    expect(body.version).toBe(appt.version + 1);
    expect(res.headers.etag).toBe(`"v${body.version}"`);
    // The old slot is free again.
    await booked({ patient_id: await newPatient(), doctor_id: doctor.id, starts_at: at(3, 10) });
  });

  it('re-checks conflicts: moving onto a booked slot is 409 naming the conflict', async () => {
    const doctor = await newDoctor();
    const other = await booked({
      patient_id: await newPatient(),
      doctor_id: doctor.id,
      starts_at: at(3, 11),
    });
    const appt = await booked({
      patient_id: await newPatient(),
      doctor_id: doctor.id,
      starts_at: at(3, 10),
    });
    const res = await api(t.app)
      .as(nurse)
      .patch(`/appointments/${appt.id}`, {
        starts_at: at(3, 10, 45),
      });
    expect(res.statusCode).toBe(409);
    expect(conflictingIdOf(res)).toBe(other.id);
    // Lengthening into the next appointment is a conflict too.
    const longer = await api(t.app).as(nurse).patch(`/appointments/${appt.id}`, {
      duration_minutes: 61,
    });
    expect(longer.statusCode).toBe(409);
    expect(conflictingIdOf(longer)).toBe(other.id);
    // Exactly up to the next one is fine (half-open), and overlapping itself is not a conflict.
    const upTo = await api(t.app)
      .as(nurse)
      .patch(`/appointments/${appt.id}`, {
        duration_minutes: 60,
        starts_at: at(3, 10),
      });
    expect(upTo.statusCode, upTo.body).toBe(200);
    const read = await api(t.app).as(nurse).get(`/appointments/${appt.id}`);
    expect(Date.parse(read.json<AppointmentDto>().ends_at)).toBe(Date.parse(at(3, 11)));
  });

  it('two appointments rescheduled into one slot at once: one 200, one 409', async () => {
    const doctor = await newDoctor();
    const first = await booked({
      patient_id: await newPatient(),
      doctor_id: doctor.id,
      starts_at: at(3, 9),
    });
    const second = await booked({
      patient_id: await newPatient(),
      doctor_id: doctor.id,
      starts_at: at(3, 11),
    });
    const [r1, r2] = await Promise.all(
      [first, second].map((appt) =>
        api(t.app)
          .as(nurse)
          .patch(`/appointments/${appt.id}`, { starts_at: at(3, 15) }),
      ),
    );
    const codes = [r1?.statusCode, r2?.statusCode].sort();
    expect(codes).toEqual([200, 409]);
    const loser = r1?.statusCode === 409 ? r1 : r2;
    const winnerId = r1?.statusCode === 200 ? first.id : second.id;
    if (loser) expect(conflictingIdOf(loser)).toBe(winnerId);
    const atThree = await listAll(
      `doctor_id=${doctor.id}&from=${encodeURIComponent(at(3, 15))}&to=${encodeURIComponent(at(3, 15, 30))}`,
    );
    expect(atThree.map((a) => a.id)).toEqual([winnerId]);
  });

  it('a stale If-Match is 412 and changes nothing', async () => {
    const doctor = await newDoctor();
    const appt = await booked({
      patient_id: await newPatient(),
      doctor_id: doctor.id,
      starts_at: at(3, 10),
    });
    await actOk(appt.id, 'confirm');
    const res = await api(t.app)
      .as(nurse)
      .patch(
        `/appointments/${appt.id}`,
        { starts_at: at(3, 12) },
        { headers: { 'if-match': `"v${appt.version}"` } },
      );
    expect(res.statusCode).toBe(412);
    expect(problemOf(res).code).toBe('precondition_failed');
    const read = await api(t.app).as(nurse).get(`/appointments/${appt.id}`);
    expect(Date.parse(read.json<AppointmentDto>().starts_at)).toBe(Date.parse(at(3, 10)));
  });

  it.each(['completed', 'cancelled', 'no_show', 'checked_in'] as const)(
    'a %s appointment cannot be rescheduled (409)',
    async (status) => {
      const doctor = await newDoctor();
      const appt = await booked({
        patient_id: await newPatient(),
        doctor_id: doctor.id,
        starts_at: at(3, 10),
      });
      for (const step of pathTo[status]) await actOk(appt.id, step);
      const res = await api(t.app)
        .as(nurse)
        .patch(`/appointments/${appt.id}`, {
          starts_at: at(3, 15),
        });
      expect(res.statusCode).toBe(409);
      expect(problemOf(res).code).toBe('conflict');
      const read = await api(t.app).as(nurse).get(`/appointments/${appt.id}`);
      expect(read.json<AppointmentDto>()).toMatchObject({ status });
      expect(Date.parse(read.json<AppointmentDto>().starts_at)).toBe(Date.parse(at(3, 10)));
    },
  );

  it('rescheduling into the past is 400', async () => {
    const doctor = await newDoctor();
    const appt = await booked({
      patient_id: await newPatient(),
      doctor_id: doctor.id,
      starts_at: at(3, 10),
    });
    const res = await api(t.app)
      .as(nurse)
      .patch(`/appointments/${appt.id}`, {
        starts_at: iso(Date.now() - DAY),
      });
    expect(res.statusCode).toBe(400);
    expect(problemOf(res).errors?.map((e) => e.field)).toContain('body.starts_at');
  });

  it('an unknown appointment is 404', async () => {
    const res = await api(t.app)
      .as(nurse)
      .patch(`/appointments/${randomUUID()}`, {
        starts_at: at(3, 10),
      });
    expect(res.statusCode).toBe(404);
  });
});
