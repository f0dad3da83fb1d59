import { count, eq, inArray } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../app.js';
import { loadConfig } from '../../config.js';
import { appointmentReminders } from '../../db/schema/reminders.js';
import {
  api,
  buildTestApp,
  createUsers,
  testClock,
  testSecret,
  unique,
  type TestApp,
  type TestUser,
} from '../../../test/helpers.js';
import { clearOfMidnight, OPEN_ALL_DAY } from '../../../test/working-hours.js';
import type { AppointmentDto } from '../appointments/appointments.schemas.js';
import type { PatientDto } from '../patients/patients.schemas.js';
import { startReminderRunner, type ReminderRunner } from './reminders.runner.js';
import { runDueReminders } from './reminders.service.js';
import { startSmtpSink, type SmtpSink } from './reminders.test-support.js';

/**
 * The job as it runs in production: runners started with the app, on every instance at once.
 * Two more runners with their own claims run beside the app's own; on PostgreSQL
 * (TEST_DATABASE_URL) a second app with its own pool on the same database runs its runner too
 * (the embedded database belongs to one process).
 */

const MIN = 60_000;
const HOUR = 60 * MIN;
const POLL_MS = '20';
const clock = testClock();
let sink: SmtpSink;
let t: TestApp;
let second: FastifyInstance | undefined;
const extraRunners: ReminderRunner[] = [];
let nurse: TestUser;
let doctor: TestUser;

beforeAll(async () => {
  sink = await startSmtpSink();
  const env = {
    ...OPEN_ALL_DAY,
    SMTP_URL: sink.url,
    JOBS_POLL_INTERVAL_MS: POLL_MS,
    REMINDER_LEAD_MINUTES: '1440,120',
  };
  t = await buildTestApp(env, { clock });
  for (let i = 0; i < 2; i++) {
    extraRunners.push(startReminderRunner(t.app.ctx, Number(POLL_MS), t.app.log));
  }
  if (t.config.databaseUrl !== undefined) {
    second = await buildApp(
      loadConfig({
        NODE_ENV: 'test',
        LOG_LEVEL: 'silent',
        DATA_DIR: 'memory://',
        JWT_SECRET: testSecret,
        RATE_LIMIT_ENABLED: 'false',
        DATABASE_URL: t.config.databaseUrl,
        ...env,
      }),
      { clock, logger: false },
    );
  }
  [nurse, doctor] = await createUsers(t.app, 'nurse', 'doctor');
});
afterAll(async () => {
  for (const runner of extraRunners) await runner.stop();
  await second?.close();
  await t.close();
  await sink.stop();
});

async function waitFor(done: () => boolean | Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await done()) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

async function newPatient(app: FastifyInstance, token: string): Promise<PatientDto> {
  const res = await api(app)
    .as(token)
    .post('/patients', {
      first_name: 'Many',
      last_name: unique('Instances'),
      email: `${unique('many')}@example.test`,
    });
  expect(res.statusCode, res.body).toBe(201);
  return res.json<PatientDto>();
}

describe('reminders with every instance running the job', () => {
  it('delivers each due reminder exactly once at the SMTP sink', async () => {
    const count_ = 40;
    // 40 back-to-back 5-minute visits on one (open) clinic day.
    clearOfMidnight(clock, 25 * HOUR, count_ * 5 * MIN + MIN);
    const base = Math.ceil((clock.now().getTime() + 25 * HOUR) / MIN) * MIN;
    const patients: PatientDto[] = [];
    const appointments: AppointmentDto[] = [];
    for (let i = 0; i < count_; i++) {
      const patient = await newPatient(t.app, nurse.accessToken);
      const res = await api(t.app)
        .as(nurse)
        .post('/appointments', {
          patient_id: patient.id,
          doctor_id: doctor.id,
          starts_at: new Date(base + i * 5 * MIN).toISOString(),
          duration_minutes: 5,
        });
      expect(res.statusCode, res.body).toBe(201);
      patients.push(patient);
      appointments.push(res.json<AppointmentDto>());
    }
    // Nothing is due yet; then every appointment's 1440 reminder comes due at the same moment,
    // for all runners at once.
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(sink.inbox.length).toBe(0);
    clock.advance(21 * HOUR);

    const addresses = patients.map((p) => p.email ?? '');
    const mine = () => sink.inbox.filter((mail) => addresses.includes(mail.to[0] ?? ''));
    await waitFor(() => mine().length >= count_, 30_000);
    // Time for a late duplicate to arrive, several poll intervals.
    await new Promise((resolve) => setTimeout(resolve, 300));
    const perAddress = addresses.map((address) => sink.to(address).length);
    expect(perAddress).toEqual(addresses.map(() => 1));

    const rows = await t.app.ctx.db
      .select({ status: appointmentReminders.status, attempts: appointmentReminders.attempts })
      .from(appointmentReminders)
      .where(
        inArray(
          appointmentReminders.appointmentId,
          appointments.map((a) => a.id),
        ),
      );
    expect(rows).toHaveLength(count_);
    expect(rows.every((row) => row.status === 'sent' && row.attempts === 1)).toBe(true);
  });

  it('runs no job when REMINDER_LEAD_MINUTES=0', async () => {
    const off = await buildTestApp(
      {
        ...OPEN_ALL_DAY,
        SMTP_URL: sink.url,
        JOBS_POLL_INTERVAL_MS: '10',
        REMINDER_LEAD_MINUTES: '0',
      },
      { clock },
    );
    try {
      const [offNurse, offDoctor] = await createUsers(off.app, 'nurse', 'doctor');
      const patient = await newPatient(off.app, offNurse.accessToken);
      clearOfMidnight(clock, 30 * MIN, 30 * MIN);
      const booked = await api(off.app)
        .as(offNurse)
        .post('/appointments', {
          patient_id: patient.id,
          doctor_id: offDoctor.id,
          starts_at: new Date(clock.now().getTime() + 30 * MIN).toISOString(),
        });
      expect(booked.statusCode, booked.body).toBe(201);
      // Many poll intervals: an enabled job would have sent it (the test above).
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(sink.to(patient.email ?? '')).toHaveLength(0);
      const [rows] = await off.app.ctx.db
        .select({ n: count() })
        .from(appointmentReminders)
        .where(eq(appointmentReminders.appointmentId, booked.json<AppointmentDto>().id));
      expect(rows?.n).toBe(0);
      expect(await runDueReminders(off.app.ctx)).toMatchObject({ queued: 0, claimed: 0 });
    } finally {
      await off.close();
    }
  });
});
