import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditLog } from '../../db/schema/audit.js';
import { appointmentReminders } from '../../db/schema/reminders.js';
import {
  api,
  buildTestApp,
  createUser,
  createUsers,
  testClock,
  unique,
  type TestApp,
  type TestUser,
} from '../../../test/helpers.js';
import { clearOfMidnight, OPEN_ALL_DAY } from '../../../test/working-hours.js';
import type { AppointmentDto } from '../appointments/appointments.schemas.js';
import type { PatientDto } from '../patients/patients.schemas.js';
import { claimDue, enqueueDue } from './reminders.repository.js';
import {
  CLAIM_LEASE_MS,
  MAX_ATTEMPTS,
  retryDelayMs,
  runDueReminders,
} from './reminders.service.js';
import { headerOf, icsOf, icsUtc, startSmtpSink, type SmtpSink } from './reminders.test-support.js';

/**
 * Reminders end to end: appointments booked through HTTP, the job's passes run with a test clock
 * (no sleeping), mail delivered over real SMTP to an in-process server. Each test makes its own
 * patients and looks only at their mail and rows.
 */

const MIN = 60_000;
const HOUR = 60 * MIN;
const clock = testClock();
const logLines: string[] = [];
let sink: SmtpSink;
let t: TestApp;
let nurse: TestUser;

beforeAll(async () => {
  sink = await startSmtpSink();
  t = await buildTestApp(
    // The app's own runner stays out of the way (60 s); the tests run passes themselves.
    {
      ...OPEN_ALL_DAY,
      SMTP_URL: sink.url,
      JOBS_POLL_INTERVAL_MS: '60000',
      REMINDER_LEAD_MINUTES: '1440,120',
      LOG_LEVEL: 'info',
    },
    { clock, logger: undefined, logStream: { write: (line) => logLines.push(line) } },
  );
  [nurse] = await createUsers(t.app, 'nurse');
});
afterAll(async () => {
  await t.close();
  await sink.stop();
});

const run = () => runDueReminders(t.app.ctx, { log: t.app.log });

async function newPatient(extra: Record<string, unknown> = {}): Promise<PatientDto> {
  const res = await api(t.app)
    .as(nurse)
    .post('/patients', {
      first_name: unique('Rem'),
      last_name: unique('Inder'),
      email: `${unique('rem')}@example.test`,
      ...extra,
    });
  expect(res.statusCode, res.body).toBe(201);
  return res.json<PatientDto>();
}

/**
 * Books an appointment `msAhead` of the test clock, on the minute, with a doctor of its own
 * (appointments of different tests may overlap in time).
 */
async function bookIn(patient: PatientDto, msAhead: number): Promise<AppointmentDto> {
  // Room for the reschedules of a few hours some tests make, on the same (open) clinic day.
  clearOfMidnight(clock, msAhead, 6 * HOUR);
  const startsAt = new Date(Math.ceil((clock.now().getTime() + msAhead) / MIN) * MIN);
  const doctor = await createUser(t.app, 'doctor');
  const res = await api(t.app).as(nurse).post('/appointments', {
    patient_id: patient.id,
    doctor_id: doctor.id,
    starts_at: startsAt.toISOString(),
  });
  expect(res.statusCode, res.body).toBe(201);
  return res.json<AppointmentDto>();
}

/** Moves the test clock to `ms` before the appointment's start. */
function moveTo(appointment: AppointmentDto, msBeforeStart: number): void {
  clock.advance(Date.parse(appointment.starts_at) - msBeforeStart - clock.now().getTime());
}

function rowsOf(appointment: AppointmentDto) {
  return t.app.ctx.db
    .select()
    .from(appointmentReminders)
    .where(eq(appointmentReminders.appointmentId, appointment.id))
    .orderBy(appointmentReminders.startsAt, appointmentReminders.leadMinutes);
}

const mailTo = (patient: PatientDto) => sink.to(patient.email ?? '');

describe('appointment reminders', () => {
  it('sends each lead time once, when it comes due, with the .ics of the appointment', async () => {
    const patient = await newPatient();
    const appointment = await bookIn(patient, 25 * HOUR);
    await run();
    expect(mailTo(patient)).toHaveLength(0);

    moveTo(appointment, 24 * HOUR + MIN);
    await run();
    expect(mailTo(patient)).toHaveLength(0);
    moveTo(appointment, 24 * HOUR - MIN);
    await run();
    await run();
    const [day] = mailTo(patient);
    expect(mailTo(patient)).toHaveLength(1);
    expect(day?.to).toEqual([patient.email]);
    expect(headerOf(day?.raw ?? '', 'subject')).toMatch(/^Appointment reminder: /);
    expect(headerOf(day?.raw ?? '', 'message-id')).toContain(`${appointment.id}.1440.`);
    const ics = icsOf(day?.raw ?? '') ?? '';
    expect(ics).toContain('BEGIN:VCALENDAR');
    expect(ics).toContain(`DTSTART:${icsUtc(appointment.starts_at)}`);
    expect(ics).toContain(`UID:${appointment.id}@medcore`);
    // Minimum necessary: the patient's name is not in the mail.
    expect(day?.raw).not.toContain(patient.last_name);

    moveTo(appointment, 2 * HOUR + MIN);
    await run();
    expect(mailTo(patient)).toHaveLength(1);
    moveTo(appointment, 2 * HOUR - MIN);
    await run();
    moveTo(appointment, 10 * MIN);
    await run();
    clock.advance(HOUR);
    await run();
    const mails = mailTo(patient);
    expect(mails).toHaveLength(2);
    expect(headerOf(mails[1]?.raw ?? '', 'message-id')).toContain(`${appointment.id}.120.`);
    expect(icsOf(mails[1]?.raw ?? '')).toContain(`DTSTART:${icsUtc(appointment.starts_at)}`);

    const rows = await rowsOf(appointment);
    expect(rows.map((r) => [r.leadMinutes, r.status, r.attempts])).toEqual([
      [120, 'sent', 1],
      [1440, 'sent', 1],
    ]);
    // Each send is in the audit trail, by the system (no actor), against the patient.
    const audited = await t.app.ctx.db
      .select()
      .from(auditLog)
      .where(
        and(eq(auditLog.action, 'appointment.reminder'), eq(auditLog.resourceId, appointment.id)),
      );
    expect(audited).toHaveLength(2);
    expect(audited[0]).toMatchObject({ actorId: null, patientId: patient.id });
  });

  it('sends only the nearest lead when several are due at once (booked late, or missed while down)', async () => {
    // Both bookings must see one clock: bookIn moves the clock past midnight when the booking is
    // near it, and moving it for the second booking put the first one in the past (this failed
    // whenever the shared clock stood late in the day). At 06:00 neither booking moves it.
    const now = clock.now().getTime();
    clock.advance(Math.ceil((now - 6 * HOUR) / (24 * HOUR)) * 24 * HOUR + 6 * HOUR - now);
    const late = await newPatient();
    const soon = await bookIn(late, 30 * MIN);
    const missed = await newPatient();
    // 23 h ahead: the 1440 reminder's time has passed (as if the service had been down).
    const tomorrow = await bookIn(missed, 23 * HOUR);
    await run();
    await run();
    expect(mailTo(late)).toHaveLength(1);
    expect(headerOf(mailTo(late)[0]?.raw ?? '', 'message-id')).toContain('.120.');
    expect((await rowsOf(soon)).map((r) => r.leadMinutes)).toEqual([120]);
    expect(mailTo(missed)).toHaveLength(1);
    expect(headerOf(mailTo(missed)[0]?.raw ?? '', 'message-id')).toContain('.1440.');

    moveTo(tomorrow, 2 * HOUR - MIN);
    await run();
    expect(mailTo(missed)).toHaveLength(2);
    expect(mailTo(late)).toHaveLength(1);
  });

  it('sends none for a cancelled appointment, and drops one cancelled while it waits for a retry', async () => {
    const patient = await newPatient();
    const appointment = await bookIn(patient, 25 * HOUR);
    const cancel = await api(t.app)
      .as(nurse)
      .post(`/appointments/${appointment.id}/cancel`, { reason: 'patient request' });
    expect(cancel.statusCode, cancel.body).toBe(200);
    moveTo(appointment, 24 * HOUR - MIN);
    await run();
    moveTo(appointment, 2 * HOUR - MIN);
    await run();
    expect(mailTo(patient)).toHaveLength(0);
    expect(await rowsOf(appointment)).toHaveLength(0);

    const other = await newPatient();
    const pending = await bookIn(other, 90 * MIN);
    sink.refuseNext(1);
    await run();
    expect((await rowsOf(pending))[0]).toMatchObject({ status: 'pending', attempts: 1 });
    await api(t.app)
      .as(nurse)
      .post(`/appointments/${pending.id}/cancel`, { reason: 'patient request' });
    clock.advance(retryDelayMs(1) + 1_000);
    await run();
    expect(mailTo(other)).toHaveLength(0);
    expect((await rowsOf(pending))[0]).toMatchObject({
      status: 'dropped',
      lastError: 'appointment_cancelled',
    });
  });

  it('after a reschedule, sends reminders for the new time only', async () => {
    const patient = await newPatient();
    const appointment = await bookIn(patient, 25 * HOUR);
    moveTo(appointment, 24 * HOUR - MIN);
    await run();
    expect(mailTo(patient)).toHaveLength(1);

    const newStart = new Date(Date.parse(appointment.starts_at) + 3 * HOUR).toISOString();
    const moved = await api(t.app)
      .as(nurse)
      .patch(`/appointments/${appointment.id}`, { starts_at: newStart });
    expect(moved.statusCode, moved.body).toBe(200);
    const rescheduled = moved.json<AppointmentDto>();

    // The old time's 120 would be due now: nothing goes out for it.
    moveTo(appointment, 2 * HOUR - MIN);
    await run();
    const afterOld = mailTo(patient);
    // The new time's 1440 came due 3 h after the old one's: it goes out, for the new time.
    expect(afterOld).toHaveLength(2);
    expect(icsOf(afterOld[1]?.raw ?? '')).toContain(`DTSTART:${icsUtc(newStart)}`);
    expect(headerOf(afterOld[1]?.raw ?? '', 'message-id')).toContain('.1440.');

    moveTo(rescheduled, 2 * HOUR - MIN);
    await run();
    const mails = mailTo(patient);
    expect(mails).toHaveLength(3);
    expect(icsOf(mails[2]?.raw ?? '')).toContain(`DTSTART:${icsUtc(newStart)}`);
    expect(mails.slice(1).every((m) => !icsOf(m.raw)?.includes(icsUtc(appointment.starts_at))));

    // A reminder still pending (relay down) when the appointment moved is dropped unsent.
    const other = await newPatient();
    const soon = await bookIn(other, 90 * MIN);
    sink.refuseNext(1);
    await run();
    const later = new Date(Date.parse(soon.starts_at) + 5 * HOUR).toISOString();
    await api(t.app).as(nurse).patch(`/appointments/${soon.id}`, { starts_at: later });
    clock.advance(retryDelayMs(1) + 1_000);
    await run();
    // The old start's reminder is dropped; the new start's nearest due lead (1440) goes out.
    expect((await rowsOf(soon)).map((r) => [r.leadMinutes, r.status, r.lastError])).toEqual([
      [120, 'dropped', 'rescheduled'],
      [1440, 'sent', null],
    ]);
    expect(mailTo(other)).toHaveLength(1);
    expect(icsOf(mailTo(other)[0]?.raw ?? '')).toContain(`DTSTART:${icsUtc(later)}`);
    moveTo({ ...soon, starts_at: later }, 2 * HOUR - MIN);
    await run();
    expect(mailTo(other)).toHaveLength(2);
    expect(icsOf(mailTo(other)[1]?.raw ?? '')).toContain(`DTSTART:${icsUtc(later)}`);
  });

  it('respects reminders_opt_out, also when set after the reminder came due', async () => {
    const optedOut = await newPatient({ reminders_opt_out: true });
    const noEmail = await newPatient({ email: null });
    const a = await bookIn(optedOut, 30 * MIN);
    const b = await bookIn(noEmail, 30 * MIN);
    await run();
    expect(mailTo(optedOut)).toHaveLength(0);
    expect(await rowsOf(a)).toHaveLength(0);
    expect(await rowsOf(b)).toHaveLength(0);

    const changesMind = await newPatient();
    const c = await bookIn(changesMind, 30 * MIN);
    sink.refuseNext(1);
    await run();
    const patch = await api(t.app)
      .as(nurse)
      .patch(`/patients/${changesMind.id}`, { reminders_opt_out: true });
    expect(patch.statusCode, patch.body).toBe(200);
    clock.advance(retryDelayMs(1) + 1_000);
    await run();
    expect(mailTo(changesMind)).toHaveLength(0);
    expect((await rowsOf(c))[0]).toMatchObject({ status: 'dropped', lastError: 'opted_out' });
  });

  it('retries a refused send with backoff, then delivers it once; logs no patient data', async () => {
    const patient = await newPatient();
    const appointment = await bookIn(patient, 30 * MIN);
    const refusedBefore = sink.refused;
    sink.refuseNext(2);
    await run();
    expect(sink.refused - refusedBefore).toBe(1);
    const [first] = await rowsOf(appointment);
    expect(first).toMatchObject({ status: 'pending', attempts: 1, lastError: 'EMESSAGE 451' });
    // Due one backoff step after the failure (the test clock runs on with real time).
    const wait = (first?.nextAttemptAt.getTime() ?? 0) - clock.now().getTime();
    expect(wait).toBeGreaterThan(retryDelayMs(1) - 5_000);
    expect(wait).toBeLessThanOrEqual(retryDelayMs(1));

    await run(); // not due yet: no attempt
    clock.advance(retryDelayMs(1) - 1_000);
    await run();
    expect(sink.refused - refusedBefore).toBe(1);
    clock.advance(2_000);
    await run();
    expect(sink.refused - refusedBefore).toBe(2);
    clock.advance(retryDelayMs(2) + 1_000);
    await run();
    await run();
    expect(mailTo(patient)).toHaveLength(1);
    expect((await rowsOf(appointment))[0]).toMatchObject({ status: 'sent', attempts: 3 });

    const warnings = logLines.filter((line) => line.includes('reminder email failed'));
    expect(warnings.length).toBeGreaterThanOrEqual(2);
    for (const line of logLines) {
      expect(line).not.toContain(patient.email);
      expect(line).not.toContain(patient.last_name);
    }
  });

  it('retries while the relay is down, then delivers once it is back', async () => {
    const patient = await newPatient();
    const appointment = await bookIn(patient, 30 * MIN);
    await sink.stop();
    try {
      await run();
      const [row] = await rowsOf(appointment);
      expect(row).toMatchObject({ status: 'pending', attempts: 1 });
      expect(row?.lastError).toMatch(/^E[A-Z]+/);
    } finally {
      await sink.start();
    }
    clock.advance(retryDelayMs(1) + 1_000);
    await run();
    expect(mailTo(patient)).toHaveLength(1);
    expect((await rowsOf(appointment))[0]).toMatchObject({ status: 'sent', attempts: 2 });
  });

  it(`gives up after ${MAX_ATTEMPTS} attempts`, async () => {
    const patient = await newPatient();
    const appointment = await bookIn(patient, 119 * MIN);
    sink.refuseNext(MAX_ATTEMPTS);
    for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
      await run();
      expect((await rowsOf(appointment))[0], `attempt ${attempt}`).toMatchObject({
        attempts: attempt,
        status: attempt < MAX_ATTEMPTS ? 'pending' : 'failed',
      });
      clock.advance(retryDelayMs(attempt) + 1_000);
    }
    await run();
    expect(mailTo(patient)).toHaveLength(0);
    expect((await rowsOf(appointment))[0]).toMatchObject({
      status: 'failed',
      attempts: MAX_ATTEMPTS,
      lastError: 'EMESSAGE 451',
    });
  });

  it('sends a reminder claimed by an instance that died, once its lease has run out', async () => {
    const patient = await newPatient();
    const appointment = await bookIn(patient, 30 * MIN);
    await run();
    expect(mailTo(patient)).toHaveLength(1);

    const other = await newPatient();
    const orphan = await bookIn(other, 30 * MIN);
    // An instance records and claims it, then dies before sending.
    const now = clock.now();
    await enqueueDue(t.app.ctx.db, now, t.app.ctx.config.reminderLeadMinutes);
    const claimed = await claimDue(t.app.ctx.db, {
      now,
      leaseEnd: new Date(now.getTime() + CLAIM_LEASE_MS),
      token: crypto.randomUUID(),
      limit: 100,
    });
    expect(claimed.map((c) => c.appointmentId)).toContain(orphan.id);
    await run();
    expect(mailTo(other)).toHaveLength(0);
    clock.advance(CLAIM_LEASE_MS + 1_000);
    await run();
    await run();
    expect(mailTo(other)).toHaveLength(1);
    expect((await rowsOf(orphan))[0]).toMatchObject({ status: 'sent', attempts: 2 });
    expect(mailTo(patient)).toHaveLength(1);
    expect((await rowsOf(appointment))[0]?.status).toBe('sent');
  });

  it('hands claimed reminders back unsent when the app is stopping', async () => {
    const patient = await newPatient();
    const appointment = await bookIn(patient, 30 * MIN);
    const stopping = await runDueReminders(t.app.ctx, { signal: AbortSignal.abort() });
    expect(stopping.released).toBeGreaterThanOrEqual(1);
    expect(mailTo(patient)).toHaveLength(0);
    expect((await rowsOf(appointment))[0]).toMatchObject({ status: 'pending', attempts: 0 });
    await run();
    expect(mailTo(patient)).toHaveLength(1);
    expect((await rowsOf(appointment))[0]).toMatchObject({ status: 'sent', attempts: 1 });
  });
});
