import { randomUUID } from 'node:crypto';
import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Role } from '../../db/schema/users.js';
import {
  bearer,
  buildTestApp,
  createUser,
  problemOf,
  unique,
  type TestApp,
  type TestUser,
} from '../../../test/helpers.js';

let t: TestApp;
let admin: TestUser;
let nurse: TestUser;
let receptionist: TestUser;

beforeAll(async () => {
  // Every weekday is a workday so availability can be asked for any date.
  t = await buildTestApp({ WORKDAYS: '1-7' });
  admin = await createUser(t.app, 'admin');
  nurse = await createUser(t.app, 'nurse');
  receptionist = await createUser(t.app, 'receptionist');
});
afterAll(async () => {
  await t.close();
});

type Status = 'scheduled' | 'confirmed' | 'checked_in' | 'completed' | 'cancelled' | 'no_show';

interface AppointmentBody {
  id: string;
  patient_id: string;
  doctor_id: string;
  starts_at: string;
  ends_at: string;
  duration_minutes: number;
  status: Status;
  reason: string | null;
  notes: string | null;
  cancel_reason: string | null;
  created_by: string | null;
  version: number;
  created_at: string;
  updated_at: string;
}
interface PageBody<T> {
  items: T[];
  next_cursor: string | null;
}
interface AvailabilityBody {
  doctor_id: string;
  date: string;
  time_zone: string;
  duration_minutes: number;
  items: { starts_at: string; ends_at: string }[];
  next_cursor: null;
}

type Method = 'GET' | 'POST' | 'PATCH' | 'DELETE';

function call(
  method: Method,
  url: string,
  token?: string,
  payload?: object,
  headers: Record<string, string> = {},
) {
  return t.app.inject({
    method,
    url: `/api/v1${url}`,
    headers: { ...(token === undefined ? {} : bearer(token)), ...headers },
    ...(payload === undefined ? {} : { payload }),
  });
}

const MINUTE = 60_000;
const DAY = 86_400_000;

/** Midnight UTC `days` days from today, as epoch ms. */
function dayStart(days: number): number {
  const now = new Date();
  return Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() + days);
}

/** An RFC 3339 UTC instant `days` ahead at hh:mm UTC (always in the future for days >= 1). */
function at(days: number, hh: number, mm = 0): string {
  return new Date(dayStart(days) + (hh * 60 + mm) * MINUTE).toISOString();
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

async function newDoctor(): Promise<TestUser> {
  return createUser(t.app, 'doctor');
}

async function newPatient(name = unique('Pat')): Promise<string> {
  const res = await call('POST', '/patients', nurse.accessToken, {
    first_name: name,
    last_name: unique('Last'),
  });
  expect(res.statusCode, res.body).toBe(201);
  return res.json<{ id: string }>().id;
}

function book(
  token: string,
  body: { patient_id: string; doctor_id: string; starts_at: string; [k: string]: unknown },
) {
  return call('POST', '/appointments', token, body);
}

async function booked(
  body: { patient_id: string; doctor_id: string; starts_at: string; [k: string]: unknown },
  token = nurse.accessToken,
): Promise<AppointmentBody> {
  const res = await book(token, body);
  expect(res.statusCode, res.body).toBe(201);
  return res.json<AppointmentBody>();
}

const actionPath = {
  confirm: 'confirm',
  check_in: 'check-in',
  complete: 'complete',
  cancel: 'cancel',
  no_show: 'no-show',
} as const;
type Action = keyof typeof actionPath;

function act(id: string, action: Action, token = nurse.accessToken, reason = 'patient request') {
  return call(
    'POST',
    `/appointments/${id}/${actionPath[action]}`,
    token,
    action === 'cancel' ? { reason } : undefined,
  );
}

async function actOk(id: string, action: Action): Promise<AppointmentBody> {
  const res = await act(id, action);
  expect(res.statusCode, res.body).toBe(200);
  return res.json<AppointmentBody>();
}

/** The actions that lead from a fresh (scheduled) appointment to each status. */
const pathTo: Record<Status, Action[]> = {
  scheduled: [],
  confirmed: ['confirm'],
  checked_in: ['confirm', 'check_in'],
  completed: ['confirm', 'check_in', 'complete'],
  cancelled: ['cancel'],
  no_show: ['no_show'],
};

function conflictingIdOf(res: LightMyRequestResponse): unknown {
  const problem = problemOf(res);
  expect(problem.status).toBe(409);
  return (problem as unknown as Record<string, unknown>).conflicting_appointment_id;
}

async function listAll(query: string, token = nurse.accessToken): Promise<AppointmentBody[]> {
  const out: AppointmentBody[] = [];
  let cursor: string | null = null;
  for (let page = 0; page < 100; page++) {
    const sep = query === '' ? '?' : `?${query}&`;
    const url: string =
      cursor === null ? `/appointments${sep}limit=100` : `/appointments${sep}cursor=${cursor}`;
    const res = await call('GET', url, token);
    expect(res.statusCode, res.body).toBe(200);
    const body = res.json<PageBody<AppointmentBody>>();
    out.push(...body.items);
    cursor = body.next_cursor;
    if (cursor === null) return out;
  }
  throw new Error('appointment list did not end');
}

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
    const body = res.json<AppointmentBody>();
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

    const read = await call('GET', `/appointments/${body.id}`, nurse.accessToken);
    expect(read.statusCode).toBe(200);
    expect(read.json<AppointmentBody>()).toEqual(body);
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
        starts_at: at(3, 8),
        duration_minutes: duration,
      });
      expect(res.statusCode, `duration ${duration}`).toBe(400);
      expect(problemOf(res).code).toBe('validation_failed');
    }
    const five = await booked({
      patient_id: patient,
      doctor_id: doctor.id,
      starts_at: at(3, 8),
      duration_minutes: 5,
    });
    expect(five.duration_minutes).toBe(5);
    const long = await booked({
      patient_id: patient,
      doctor_id: doctor.id,
      starts_at: at(4, 8),
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
    const list = await call('GET', `/appointments?doctor_id=${doctor.id}`, nurse.accessToken);
    expect(list.json<PageBody<AppointmentBody>>().items).toHaveLength(0);
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
      const res = await call('GET', `/appointments?${query}`, nurse.accessToken);
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
      const res = await call('POST', '/appointments', nurse.accessToken, body);
      expect(res.statusCode, JSON.stringify(body)).toBe(400);
      expect(problemOf(res).status).toBe(400);
    }
  });

  it('refuses an inactive doctor, a non-doctor and an unknown doctor with 422', async () => {
    const patient = await newPatient();
    const retired = await newDoctor();
    const del = await call('DELETE', `/users/${retired.id}`, admin.accessToken);
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
    const del = await call('DELETE', `/patients/${gone}`, admin.accessToken);
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
        (await call('DELETE', `/users/${doctor.id}`, admin.accessToken)).statusCode,
        (await call('DELETE', `/patients/${patient}`, admin.accessToken)).statusCode,
      ].every((status) => status === 200 || status === 204),
    ).toBe(true);
    const res = await book(admin.accessToken, {
      patient_id: patient,
      doctor_id: doctor.id,
      starts_at: startsAt,
    });
    expect(res.statusCode, res.body).toBe(422);
    expect(problemOf(res).errors?.map((e) => e.field)).toEqual(['body.doctor_id']);
    const listed = await call(
      'GET',
      `/appointments?doctor_id=${doctor.id}&limit=100`,
      admin.accessToken,
    );
    expect(listed.json<PageBody<AppointmentBody>>().items).toHaveLength(1);
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
    expect(created).toHaveLength(1);
    expect(conflicts).toHaveLength(19);
    const winner = created[0]?.json<AppointmentBody>();
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
    const read = await call('GET', `/appointments/${appt.id}`, nurse.accessToken);
    expect(read.json<AppointmentBody>().status).toBe('completed');
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
          starts_at: iso(dayStart(7) + slot++ * 30 * MINUTE),
        });
        for (const step of pathTo[status]) await actOk(appt.id, step);
        const res = await act(appt.id, action);
        const label = `${action} from ${status}`;
        const after = await call('GET', `/appointments/${appt.id}`, nurse.accessToken);
        if (allowed[action].from.includes(status)) {
          okCount++;
          expect(res.statusCode, `${label}: ${res.body}`).toBe(200);
          expect(res.json<AppointmentBody>().status, label).toBe(allowed[action].to);
          expect(after.json<AppointmentBody>().status, label).toBe(allowed[action].to);
        } else {
          expect(res.statusCode, `${label}: ${res.body}`).toBe(409);
          expect(problemOf(res).code, label).toBe('conflict');
          expect(after.json<AppointmentBody>().status, label).toBe(status);
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
      const res = await call('POST', `/appointments/${appt.id}/cancel`, nurse.accessToken, payload);
      expect(res.statusCode, JSON.stringify(payload)).toBe(400);
      expect(problemOf(res).status).toBe(400);
    }
    const still = await call('GET', `/appointments/${appt.id}`, nurse.accessToken);
    expect(still.json<AppointmentBody>().status).toBe('scheduled');
    const cancelled = await act(appt.id, 'cancel', nurse.accessToken, 'feeling better');
    expect(cancelled.statusCode).toBe(200);
    expect(cancelled.json<AppointmentBody>()).toMatchObject({
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
    const read = await call('GET', `/appointments/${appt.id}`, nurse.accessToken);
    expect(read.json<AppointmentBody>()).toMatchObject({ status: 'confirmed', version: 2 });
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
    const res = await call(
      'PATCH',
      `/appointments/${appt.id}`,
      nurse.accessToken,
      { starts_at: at(3, 13), duration_minutes: 20 },
      { 'if-match': `"v${appt.version}"` },
    );
    expect(res.statusCode, res.body).toBe(200);
    const body = res.json<AppointmentBody>();
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
    const res = await call('PATCH', `/appointments/${appt.id}`, nurse.accessToken, {
      starts_at: at(3, 10, 45),
    });
    expect(res.statusCode).toBe(409);
    expect(conflictingIdOf(res)).toBe(other.id);
    // Lengthening into the next appointment is a conflict too.
    const longer = await call('PATCH', `/appointments/${appt.id}`, nurse.accessToken, {
      duration_minutes: 61,
    });
    expect(longer.statusCode).toBe(409);
    expect(conflictingIdOf(longer)).toBe(other.id);
    // Exactly up to the next one is fine (half-open), and overlapping itself is not a conflict.
    const upTo = await call('PATCH', `/appointments/${appt.id}`, nurse.accessToken, {
      duration_minutes: 60,
      starts_at: at(3, 10),
    });
    expect(upTo.statusCode, upTo.body).toBe(200);
    const read = await call('GET', `/appointments/${appt.id}`, nurse.accessToken);
    expect(Date.parse(read.json<AppointmentBody>().ends_at)).toBe(Date.parse(at(3, 11)));
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
        call('PATCH', `/appointments/${appt.id}`, nurse.accessToken, { starts_at: at(3, 15) }),
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
    const res = await call(
      'PATCH',
      `/appointments/${appt.id}`,
      nurse.accessToken,
      { starts_at: at(3, 12) },
      { 'if-match': `"v${appt.version}"` },
    );
    expect(res.statusCode).toBe(412);
    expect(problemOf(res).code).toBe('precondition_failed');
    const read = await call('GET', `/appointments/${appt.id}`, nurse.accessToken);
    expect(Date.parse(read.json<AppointmentBody>().starts_at)).toBe(Date.parse(at(3, 10)));
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
      const res = await call('PATCH', `/appointments/${appt.id}`, nurse.accessToken, {
        starts_at: at(3, 15),
      });
      expect(res.statusCode).toBe(409);
      expect(problemOf(res).code).toBe('conflict');
      const read = await call('GET', `/appointments/${appt.id}`, nurse.accessToken);
      expect(read.json<AppointmentBody>()).toMatchObject({ status });
      expect(Date.parse(read.json<AppointmentBody>().starts_at)).toBe(Date.parse(at(3, 10)));
    },
  );

  it('rescheduling into the past is 400', async () => {
    const doctor = await newDoctor();
    const appt = await booked({
      patient_id: await newPatient(),
      doctor_id: doctor.id,
      starts_at: at(3, 10),
    });
    const res = await call('PATCH', `/appointments/${appt.id}`, nurse.accessToken, {
      starts_at: iso(Date.now() - DAY),
    });
    expect(res.statusCode).toBe(400);
    expect(problemOf(res).errors?.map((e) => e.field)).toContain('body.starts_at');
  });

  it('an unknown appointment is 404', async () => {
    const res = await call('PATCH', `/appointments/${randomUUID()}`, nurse.accessToken, {
      starts_at: at(3, 10),
    });
    expect(res.statusCode).toBe(404);
  });
});

describe('GET /appointments', () => {
  it('filters by doctor_id, patient_id and status, sorted by starts_at', async () => {
    const doctorA = await newDoctor();
    const doctorB = await newDoctor();
    const p1 = await newPatient();
    const p2 = await newPatient();
    // Booked out of order to prove the sort.
    const a3 = await booked({ patient_id: p1, doctor_id: doctorA.id, starts_at: at(6, 12) });
    const a1 = await booked({ patient_id: p2, doctor_id: doctorA.id, starts_at: at(6, 9) });
    const a2 = await booked({ patient_id: p1, doctor_id: doctorA.id, starts_at: at(6, 10) });
    const b1 = await booked({ patient_id: p2, doctor_id: doctorB.id, starts_at: at(6, 11) });
    await actOk(a2.id, 'confirm');

    const byDoctor = await listAll(`doctor_id=${doctorA.id}`);
    expect(byDoctor.map((a) => a.id)).toEqual([a1.id, a2.id, a3.id]);
    const byPatient = await listAll(`patient_id=${p2}`);
    expect(byPatient.map((a) => a.id)).toEqual([a1.id, b1.id]);
    const confirmed = await listAll(`doctor_id=${doctorA.id}&status=confirmed`);
    expect(confirmed.map((a) => a.id)).toEqual([a2.id]);
    const both = await listAll(`doctor_id=${doctorA.id}&patient_id=${p1}&status=scheduled`);
    expect(both.map((a) => a.id)).toEqual([a3.id]);

    const slash = await call('GET', `/appointments/?doctor_id=${doctorA.id}`, nurse.accessToken);
    expect(slash.statusCode).toBe(200);
    expect(slash.json<PageBody<AppointmentBody>>().items).toHaveLength(3);

    const everything = await listAll('');
    const starts = everything.map((a) => Date.parse(a.starts_at));
    expect(starts).toEqual([...starts].sort((x, y) => x - y));
    expect(everything.map((a) => a.id)).toEqual(expect.arrayContaining([a1.id, a2.id, b1.id]));
  });

  it('from/to select appointments overlapping the range (half-open)', async () => {
    const doctor = await newDoctor();
    const appt = await booked({
      patient_id: await newPatient(),
      doctor_id: doctor.id,
      starts_at: at(6, 10),
    });
    const ids = async (range: string) =>
      (await listAll(`doctor_id=${doctor.id}&${range}`)).map((a) => a.id);
    const q = (from?: string, to?: string) =>
      [from && `from=${encodeURIComponent(from)}`, to && `to=${encodeURIComponent(to)}`]
        .filter(Boolean)
        .join('&');
    expect(await ids(q(at(6, 10, 15), at(6, 10, 20)))).toEqual([appt.id]); // inside
    expect(await ids(q(at(6, 9), at(6, 11)))).toEqual([appt.id]); // covering
    expect(await ids(q(at(6, 10, 29)))).toEqual([appt.id]); // from before the end
    expect(await ids(q(at(6, 10, 30)))).toEqual([]); // from exactly at the end
    expect(await ids(q(undefined, at(6, 10, 1)))).toEqual([appt.id]); // to after the start
    expect(await ids(q(undefined, at(6, 10)))).toEqual([]); // to exactly at the start
    expect(await ids(q(at(6, 11), at(6, 12)))).toEqual([]); // disjoint
  });

  it('keyset pagination walks every row exactly once, ties on starts_at included', async () => {
    const doctor = await newDoctor();
    const patient = await newPatient();
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const appt = await booked({
        patient_id: patient,
        doctor_id: doctor.id,
        starts_at: at(8, 9 + i),
      });
      ids.push(appt.id);
    }
    // Cancel-and-rebook leaves three rows with the same starts_at: the id breaks the tie.
    let active = ids[0] ?? '';
    for (let i = 0; i < 2; i++) {
      await actOk(active, 'cancel');
      const again = await booked({
        patient_id: patient,
        doctor_id: doctor.id,
        starts_at: at(8, 9),
      });
      ids.push(again.id);
      active = again.id;
    }
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const url: string =
        `/appointments?doctor_id=${doctor.id}&limit=2` +
        (cursor === null ? '' : `&cursor=${cursor}`);
      const res = await call('GET', url, nurse.accessToken);
      expect(res.statusCode, res.body).toBe(200);
      const page = res.json<PageBody<AppointmentBody>>();
      expect(page.items.length).toBeLessThanOrEqual(2);
      seen.push(...page.items.map((a) => a.id));
      cursor = page.next_cursor;
      pages++;
    } while (cursor !== null && pages < 20);
    expect(cursor).toBeNull();
    expect(seen).toHaveLength(7);
    expect(new Set(seen).size).toBe(7);
    const all = await listAll(`doctor_id=${doctor.id}`);
    expect(seen).toEqual(all.map((a) => a.id));
    expect([...seen].sort()).toEqual([...ids].sort());
    expect(pages).toBe(4);
  });

  it('a tampered cursor or bad filter is 400', async () => {
    for (const query of ['cursor=notacursor', 'status=done', 'doctor_id=123', 'from=yesterday']) {
      const res = await call('GET', `/appointments?${query}`, nurse.accessToken);
      expect(res.statusCode, query).toBe(400);
      expect(problemOf(res).status).toBe(400);
    }
  });
});

describe('GET /appointments/{id}, /patients/{id}/appointments', () => {
  it('reads one appointment and answers 404 for an unknown id', async () => {
    const doctor = await newDoctor();
    const appt = await booked({
      patient_id: await newPatient(),
      doctor_id: doctor.id,
      starts_at: at(3, 10),
    });
    const res = await call('GET', `/appointments/${appt.id}`, receptionist.accessToken);
    expect(res.statusCode).toBe(200);
    expect(res.json<AppointmentBody>().id).toBe(appt.id);
    const missing = await call('GET', `/appointments/${randomUUID()}`, nurse.accessToken);
    expect(missing.statusCode).toBe(404);
    expect(problemOf(missing).code).toBe('not_found');
  });

  it("lists a patient's appointments only, and 404 for an unknown patient", async () => {
    const patient = await newPatient();
    const otherPatient = await newPatient();
    const doctorA = await newDoctor();
    const doctorB = await newDoctor();
    const second = await booked({
      patient_id: patient,
      doctor_id: doctorA.id,
      starts_at: at(4, 9),
    });
    const first = await booked({ patient_id: patient, doctor_id: doctorB.id, starts_at: at(3, 9) });
    await booked({ patient_id: otherPatient, doctor_id: doctorA.id, starts_at: at(3, 9) });
    const res = await call('GET', `/patients/${patient}/appointments`, nurse.accessToken);
    expect(res.statusCode).toBe(200);
    const page = res.json<PageBody<AppointmentBody>>();
    expect(page.items.map((a) => a.id)).toEqual([first.id, second.id]);
    expect(page.next_cursor).toBeNull();

    const paged = await call('GET', `/patients/${patient}/appointments?limit=1`, nurse.accessToken);
    const p1 = paged.json<PageBody<AppointmentBody>>();
    expect(p1.items.map((a) => a.id)).toEqual([first.id]);
    expect(p1.next_cursor).not.toBeNull();
    const next = await call(
      'GET',
      `/patients/${patient}/appointments?limit=1&cursor=${p1.next_cursor}`,
      nurse.accessToken,
    );
    expect(next.json<PageBody<AppointmentBody>>().items.map((a) => a.id)).toEqual([second.id]);

    const missing = await call('GET', `/patients/${randomUUID()}/appointments`, nurse.accessToken);
    expect(missing.statusCode).toBe(404);
    expect(problemOf(missing).code).toBe('not_found');
  });
});

describe('GET /appointments/{id}.ics', () => {
  it('returns text/calendar with the UID and a UTC DTSTART, without the patient name', async () => {
    const doctor = await newDoctor();
    const firstName = unique('Zebulon');
    const patient = await newPatient(firstName);
    const appt = await booked({
      patient_id: patient,
      doctor_id: doctor.id,
      starts_at: at(3, 10, 15),
      duration_minutes: 45,
    });
    const res = await call('GET', `/appointments/${appt.id}.ics`, nurse.accessToken);
    expect(res.statusCode, res.body).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/calendar/);
    const ics = res.body.replace(/\r\n[ \t]/g, ''); // unfold folded lines
    expect(ics.startsWith('BEGIN:VCALENDAR')).toBe(true);
    expect(ics).toContain('BEGIN:VEVENT');
    expect(ics).toContain(`UID:${appt.id}`);
    const d = new Date(appt.starts_at);
    const utc = d
      .toISOString()
      .replace(/[-:]/g, '')
      .replace(/\.\d{3}/, '');
    expect(ics).toMatch(new RegExp(`DTSTART(;VALUE=DATE-TIME)?:${utc}\\r?\\n`));
    expect(utc.endsWith('Z')).toBe(true);
    expect(ics).not.toContain(firstName);
    expect(ics.toLowerCase()).not.toContain(firstName.toLowerCase());
  });

  it('is 404 for an unknown appointment', async () => {
    const res = await call('GET', `/appointments/${randomUUID()}.ics`, nurse.accessToken);
    expect(res.statusCode).toBe(404);
  });
});

describe('GET /doctors/{id}/availability', () => {
  function dateIn(days: number): string {
    return new Date(dayStart(days)).toISOString().slice(0, 10);
  }

  it('lists working-hour slots (UTC, 09:00-17:00, step 15) minus booked ones', async () => {
    const doctor = await newDoctor();
    const date = dateIn(4);
    const before = await call(
      'GET',
      `/doctors/${doctor.id}/availability?date=${date}`,
      receptionist.accessToken,
    );
    expect(before.statusCode, before.body).toBe(200);
    const free = before.json<AvailabilityBody>();
    expect(free).toMatchObject({
      doctor_id: doctor.id,
      date,
      time_zone: 'UTC',
      duration_minutes: 30,
      next_cursor: null,
    });
    // 09:00 .. 16:30 every 15 minutes.
    expect(free.items).toHaveLength(31);
    expect(free.items[0]?.starts_at).toBe(`${date}T09:00:00.000Z`);
    expect(free.items.at(-1)?.ends_at).toBe(`${date}T17:00:00.000Z`);

    const appt = await booked({
      patient_id: await newPatient(),
      doctor_id: doctor.id,
      starts_at: `${date}T10:00:00.000Z`,
    });
    const after = await call(
      'GET',
      `/doctors/${doctor.id}/availability?date=${date}`,
      receptionist.accessToken,
    );
    const starts = after.json<AvailabilityBody>().items.map((s) => s.starts_at.slice(11, 16));
    expect(starts).toHaveLength(28);
    for (const gone of ['09:45', '10:00', '10:15']) expect(starts).not.toContain(gone);
    for (const kept of ['09:30', '10:30']) expect(starts).toContain(kept);

    // A cancelled appointment no longer blocks.
    await actOk(appt.id, 'cancel');
    const freed = await call(
      'GET',
      `/doctors/${doctor.id}/availability?date=${date}&duration_minutes=60`,
      receptionist.accessToken,
    );
    const hourly = freed.json<AvailabilityBody>();
    expect(hourly.duration_minutes).toBe(60);
    expect(hourly.items).toHaveLength(29); // 09:00 .. 16:00
    for (const slot of hourly.items) {
      expect(Date.parse(slot.ends_at) - Date.parse(slot.starts_at)).toBe(60 * MINUTE);
    }
  });

  it('is 404 for a non-doctor or unknown id', async () => {
    for (const id of [nurse.id, randomUUID()]) {
      const res = await call(
        'GET',
        `/doctors/${id}/availability?date=${dateIn(4)}`,
        nurse.accessToken,
      );
      expect(res.statusCode).toBe(404);
      expect(problemOf(res).code).toBe('not_found');
    }
  });

  it('a bad or missing date is 400', async () => {
    const doctor = await newDoctor();
    for (const query of ['date=2026-13-01', 'date=tomorrow', 'date=2026-02-30', '']) {
      const res = await call(
        'GET',
        `/doctors/${doctor.id}/availability?${query}`,
        nurse.accessToken,
      );
      expect(res.statusCode, query).toBe(400);
      expect(problemOf(res).status).toBe(400);
    }
  });
});

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
    const patch = await call('PATCH', `/appointments/${appt.id}`, doctor.accessToken, {
      starts_at: at(3, 14),
    });
    expect(patch.statusCode).toBe(403);
    const unchanged = await call('GET', `/appointments/${appt.id}`, doctor.accessToken);
    expect(unchanged.statusCode).toBe(200);
    expect(unchanged.json<AppointmentBody>()).toMatchObject({ status: 'scheduled', version: 1 });

    // Taking over another doctor's appointment via doctor_id is refused too.
    const mine = await booked(
      { patient_id: await newPatient(), doctor_id: doctor.id, starts_at: at(3, 12) },
      doctor.accessToken,
    );
    const handOver = await call('PATCH', `/appointments/${mine.id}`, doctor.accessToken, {
      doctor_id: other.id,
    });
    expect(handOver.statusCode).toBe(403);

    // Reading is open to doctors for every appointment.
    expect((await call('GET', `/appointments/${appt.id}.ics`, doctor.accessToken)).statusCode).toBe(
      200,
    );
    const list = await listAll(`doctor_id=${other.id}`, doctor.accessToken);
    expect(list.map((a) => a.id)).toEqual([appt.id]);
    const availability = await call(
      'GET',
      `/doctors/${other.id}/availability?date=${at(3, 0).slice(0, 10)}`,
      doctor.accessToken,
    );
    expect(availability.statusCode).toBe(200);
    const patientList = await call(
      'GET',
      `/patients/${appt.patient_id}/appointments`,
      doctor.accessToken,
    );
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
      const patch = await call('PATCH', `/appointments/${appt.id}`, staff.accessToken, {
        starts_at: at(3, 11),
      });
      expect(patch.statusCode, patch.body).toBe(200);
      const confirmed = await act(appt.id, 'confirm', staff.accessToken);
      expect(confirmed.statusCode).toBe(200);
      expect(confirmed.json<AppointmentBody>().status).toBe('confirmed');
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
        const res = await call(method, url, outsider.accessToken, payload);
        expect(res.statusCode, `${method} ${url}`).toBe(403);
        expect(problemOf(res).code).toBe('forbidden');
      }
      const unchanged = await call('GET', `/appointments/${appt.id}`, nurse.accessToken);
      expect(unchanged.json<AppointmentBody>()).toMatchObject({ status: 'scheduled', version: 1 });
      expect(await listAll(`doctor_id=${doctor.id}`)).toHaveLength(1);
    },
  );

  it('without a token every appointments route is 401', async () => {
    const res = await call('GET', '/appointments');
    expect(res.statusCode).toBe(401);
    expect(res.headers['www-authenticate']).toMatch(/^Bearer/);
    const post = await call('POST', `/appointments/${randomUUID()}/confirm`);
    expect(post.statusCode).toBe(401);
  });
});
