import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  bearer,
  buildTestApp,
  createUser,
  problemOf,
  testSecret,
  unique,
  type TestApp,
  type TestUser,
} from '../../../test/helpers.js';
import { upload } from '../../../test/documents-support.js';
import { appointments, appointmentStatuses } from '../../db/schema/appointments.js';
import { prescriptionStatuses } from '../../db/schema/prescriptions.js';
import { roles } from '../../db/schema/users.js';
import { newId } from '../../lib/ids.js';
import { onWorkingDay } from '../../../test/working-hours.js';
import { zonedInstant } from '../appointments/availability.js';

/**
 * Admin dashboard figures. Counts are compared before and after this file's own changes, so
 * they hold whatever else the database contains. The clinic is in Kiritimati (UTC+14, no DST):
 * its "today" starts at 10:00 UTC the day before, so a UTC-day count would be visibly wrong.
 */
const CLINIC_TIMEZONE = 'Pacific/Kiritimati';
const ZONE_OFFSET_MS = 14 * 3_600_000;

let t: TestApp;
let admin: TestUser;
let doctor: TestUser;

interface Stats {
  users_by_role: Record<(typeof roles)[number], number>;
  active_users: number;
  patients: number;
  appointments_by_status: Record<(typeof appointmentStatuses)[number], number>;
  appointments_today: number;
  prescriptions_by_status: Record<(typeof prescriptionStatuses)[number], number>;
  documents: { count: number; storage_bytes: number };
  time_zone: string;
  generated_at: string;
}

beforeAll(async () => {
  t = await buildTestApp({ CLINIC_TIMEZONE });
  [admin, doctor] = await Promise.all([createUser(t.app, 'admin'), createUser(t.app, 'doctor')]);
});
afterAll(async () => {
  await t.close();
});

async function stats(): Promise<Stats> {
  const res = await t.app.inject({
    method: 'GET',
    url: '/api/v1/admin/stats',
    headers: bearer(admin.accessToken),
  });
  expect(res.statusCode, res.body).toBe(200);
  return res.json<Stats>();
}

async function post(by: TestUser, url: string, payload: object) {
  const res = await t.app.inject({ method: 'POST', url, headers: bearer(by.accessToken), payload });
  expect(res.statusCode, res.body).toBeLessThan(300);
  return res.json<{ id: string }>();
}

async function newPatient(): Promise<string> {
  return (
    await post(admin, '/api/v1/patients', { first_name: 'Stat', last_name: unique('Patient') })
  ).id;
}

/** The clinic's local day containing `now`, as UTC instants. */
function clinicDay(now = new Date()) {
  const local = new Date(now.getTime() + ZONE_OFFSET_MS);
  const start = Date.UTC(local.getUTCFullYear(), local.getUTCMonth(), local.getUTCDate());
  return {
    start: new Date(start - ZONE_OFFSET_MS),
    end: new Date(start - ZONE_OFFSET_MS + 86_400_000),
  };
}

/**
 * Booking refuses the past, so appointments at chosen instants around the clinic's midnight
 * are written straight to the table; the figures are still read through HTTP.
 */
async function insertAppointment(startsAt: Date, status: (typeof appointmentStatuses)[number]) {
  await t.app.ctx.db.insert(appointments).values({
    id: newId(),
    patientId: await newPatient(),
    doctorId: doctor.id,
    startsAt,
    endsAt: new Date(startsAt.getTime() + 5 * 60_000),
    durationMinutes: 5,
    status,
  });
}

describe('GET /admin/stats', () => {
  it('lists every role and status, zeros included, with the clinic zone and a timestamp', async () => {
    const body = await stats();
    expect(Object.keys(body.users_by_role).sort()).toEqual([...roles].sort());
    expect(Object.keys(body.appointments_by_status).sort()).toEqual(
      [...appointmentStatuses].sort(),
    );
    expect(Object.keys(body.prescriptions_by_status).sort()).toEqual(
      [...prescriptionStatuses].sort(),
    );
    for (const n of [
      ...Object.values(body.users_by_role),
      ...Object.values(body.appointments_by_status),
      ...Object.values(body.prescriptions_by_status),
    ]) {
      expect(Number.isInteger(n) && n >= 0).toBe(true);
    }
    // Nothing has been booked or prescribed in this file yet: present as 0, not missing.
    expect(body.appointments_by_status.no_show).toBe(0);
    expect(body.prescriptions_by_status.completed).toBe(0);
    expect(body.time_zone).toBe(CLINIC_TIMEZONE);
    expect(Math.abs(Date.parse(body.generated_at) - Date.now())).toBeLessThan(60_000);
    expect(Object.keys(body).sort()).toEqual(
      [
        'active_users',
        'appointments_by_status',
        'appointments_today',
        'documents',
        'generated_at',
        'patients',
        'prescriptions_by_status',
        'time_zone',
        'users_by_role',
      ].sort(),
    );
  });

  it('counts users by role and active users', async () => {
    const before = await stats();
    const [, , guest] = await Promise.all([
      createUser(t.app, 'doctor'),
      createUser(t.app, 'doctor'),
      createUser(t.app, 'guest'),
    ]);
    const res = await t.app.inject({
      method: 'DELETE',
      url: `/api/v1/users/${guest.id}`,
      headers: bearer(admin.accessToken),
    });
    expect(res.statusCode, res.body).toBe(204);
    const after = await stats();
    expect(after.users_by_role.doctor - before.users_by_role.doctor).toBe(2);
    // A deactivated account still has its role; it is no longer active.
    expect(after.users_by_role.guest - before.users_by_role.guest).toBe(1);
    expect(after.users_by_role.nurse).toBe(before.users_by_role.nurse);
    expect(after.active_users - before.active_users).toBe(2);
  });

  it('counts live documents and the bytes they hold', async () => {
    const before = await stats();
    const patientId = await newPatient();
    const ids: string[] = [];
    for (const text of ['first lab note', 'second, longer lab note']) {
      const res = await upload(t.app, admin.accessToken, patientId, {
        filename: 'lab.txt',
        content: Buffer.from(text),
      });
      expect(res.statusCode, res.body).toBe(201);
      ids.push(res.json<{ id: string }>().id);
    }
    const del = await t.app.inject({
      method: 'DELETE',
      url: `/api/v1/documents/${ids[0] ?? ''}`,
      headers: bearer(admin.accessToken),
    });
    expect(del.statusCode).toBe(204);
    const after = await stats();
    expect(after.documents.count - before.documents.count).toBe(1);
    expect(after.documents.storage_bytes - before.documents.storage_bytes).toBe(
      Buffer.byteLength('second, longer lab note'),
    );
  });

  it('counts live patients only', async () => {
    const before = await stats();
    const [, gone] = await Promise.all([newPatient(), newPatient()]);
    const res = await t.app.inject({
      method: 'DELETE',
      url: `/api/v1/patients/${gone}`,
      headers: bearer(admin.accessToken),
    });
    expect(res.statusCode, res.body).toBe(204);
    const after = await stats();
    expect(after.patients - before.patients).toBe(1);
  });

  /** 10:00 in the clinic's zone on the `index`-th working day ahead: inside working hours. */
  const clinicTen = (index: number) =>
    zonedInstant(onWorkingDay(index, 0).slice(0, 10), '10:00', CLINIC_TIMEZONE).toISOString();

  it('counts appointments by status and prescriptions by status', async () => {
    const before = await stats();
    const patientId = await newPatient();
    await post(admin, '/api/v1/appointments', {
      patient_id: patientId,
      doctor_id: doctor.id,
      starts_at: clinicTen(2),
    });
    const toCancel = await post(admin, '/api/v1/appointments', {
      patient_id: patientId,
      doctor_id: doctor.id,
      starts_at: clinicTen(3),
    });
    await post(admin, `/api/v1/appointments/${toCancel.id}/cancel`, { reason: 'moved away' });
    await post(doctor, '/api/v1/prescriptions', {
      patient_id: patientId,
      medication: 'Amoxicillin',
      dosage: '500 mg',
      frequency: 'three times daily',
    });
    const after = await stats();
    const delta = (key: (typeof appointmentStatuses)[number]) =>
      after.appointments_by_status[key] - before.appointments_by_status[key];
    expect(delta('scheduled')).toBe(1);
    expect(delta('cancelled')).toBe(1);
    expect(delta('confirmed')).toBe(0);
    expect(after.prescriptions_by_status.active - before.prescriptions_by_status.active).toBe(1);
  });

  it("counts today's active appointments in the clinic time zone", async () => {
    const before = await stats();
    const { start, end } = clinicDay();
    const minute = 60_000;
    // Today in Kiritimati: just after its midnight, and just before the next one.
    await insertAppointment(new Date(start.getTime() + minute), 'confirmed');
    await insertAppointment(new Date(end.getTime() - 10 * minute), 'checked_in');
    // Not counted: a cancelled and a completed one today, and the minutes either side of the day
    // (on the same UTC date as the first, so a UTC day would count it).
    await insertAppointment(new Date(start.getTime() + 60 * minute), 'cancelled');
    await insertAppointment(new Date(start.getTime() + 120 * minute), 'completed');
    await insertAppointment(new Date(start.getTime() - 10 * minute), 'scheduled');
    await insertAppointment(new Date(end.getTime()), 'scheduled');
    const after = await stats();
    expect(after.appointments_today - before.appointments_today).toBe(2);
    expect(after.appointments_by_status.scheduled - before.appointments_by_status.scheduled).toBe(
      2,
    );
  });
});

interface System {
  version: string;
  uptime_s: number;
  node_version: string;
  database: {
    engine: string;
    server_version: string;
    size_bytes: number;
    migrations_applied: number;
    migrations_known: number;
  };
  redis: string;
  storage: { driver: string; encrypted: boolean; virus_scanning: string };
  prompt_generation: string;
  queue_backlog: number;
  rate_limits: { enabled: boolean; per_min: number; auth_per_min: number };
  generated_at: string;
}

describe('GET /admin/system', () => {
  it('reports version, uptime, runtime, database and optional parts, typed', async () => {
    const res = await t.app.inject({
      method: 'GET',
      url: '/api/v1/admin/system',
      headers: bearer(admin.accessToken),
    });
    expect(res.statusCode, res.body).toBe(200);
    const body = res.json<System>();
    const health = (await t.app.inject('/health')).json<{ version: string }>();
    expect(body.version).toBe(health.version);
    expect(Number.isInteger(body.uptime_s) && body.uptime_s >= 0).toBe(true);
    expect(body.node_version).toBe(process.version);
    expect(body.database.engine).toBe(t.config.databaseUrl === undefined ? 'pglite' : 'postgresql');
    expect(body.database.server_version).toMatch(/^\d+(\.\d+)?/);
    expect(Number.isInteger(body.database.size_bytes)).toBe(true);
    expect(body.database.size_bytes).toBeGreaterThan(0);
    // Migrated on start: everything this release ships is applied.
    expect(body.database.migrations_known).toBeGreaterThan(0);
    expect(body.database.migrations_applied).toBe(body.database.migrations_known);
    expect(body.redis).toBe(t.config.redisUrl === undefined ? 'not_configured' : 'configured');
    expect(body.storage).toEqual({
      driver: 'local',
      encrypted: false,
      virus_scanning: 'not_configured',
    });
    expect(body.prompt_generation).toBe('not_configured');
    expect(Number.isInteger(body.queue_backlog) && body.queue_backlog >= 0).toBe(true);
    expect(body.rate_limits).toEqual({
      enabled: false,
      per_min: t.config.rateLimitPerMin,
      auth_per_min: t.config.rateLimitAuthPerMin,
    });
    expect(Math.abs(Date.parse(body.generated_at) - Date.now())).toBeLessThan(60_000);

    // No secrets: neither the signing key nor any connection URL (or its host and password).
    expect(res.body).not.toContain(testSecret);
    for (const url of [t.config.databaseUrl, t.config.redisUrl]) {
      if (url === undefined) continue;
      expect(res.body).not.toContain(url);
      expect(res.body).not.toContain(new URL(url).host);
    }
    expect(res.body).not.toMatch(/postgres(ql)?:\/\/|redis:\/\//);
  });
});

describe('access', () => {
  it.each(['doctor', 'nurse', 'receptionist', 'user', 'guest'] as const)(
    '%s gets 403 from both routes',
    async (role) => {
      const caller = await createUser(t.app, role);
      for (const url of ['/api/v1/admin/stats', '/api/v1/admin/system']) {
        const res = await t.app.inject({ method: 'GET', url, headers: bearer(caller.accessToken) });
        expect(res.statusCode, `${role} ${url}`).toBe(403);
        expect(problemOf(res).code).toBe('forbidden');
      }
    },
  );

  it('an anonymous caller gets 401', async () => {
    for (const url of ['/api/v1/admin/stats', '/api/v1/admin/system']) {
      const res = await t.app.inject({ method: 'GET', url });
      expect(res.statusCode).toBe(401);
    }
  });
});
