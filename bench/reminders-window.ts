/**
 * The reminders' one duplicate window (issue 13): a reminder is sent again only if the process
 * dies after the SMTP relay accepted the message and before 'sent' is committed. This measures
 * that gap over many sends, from the relay's side: the moment an in-process smtp-server answers
 * 250 to the moment the pass's commit of 'sent' (and its audit row) returned.
 *
 *   npx tsx bench/reminders-window.ts                 # embedded PGlite
 *   BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres npx tsx bench/reminders-window.ts
 *
 * BENCH_REMINDERS (default 500) appointments are made due at once; passes run back to back as the
 * job's runner would run them after a full batch (20 claimed, 4 sent at a time).
 */
import { randomUUID } from 'node:crypto';
import { buildApp } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { appointments } from '../src/db/schema/appointments.js';
import { patients } from '../src/db/schema/patients.js';
import { runDueReminders, type SendTiming } from '../src/modules/reminders/reminders.service.js';
import { headerOf, startSmtpSink } from '../src/modules/reminders/reminders.test-support.js';
import { createAccount } from '../src/modules/users/users.service.js';
import { createScratchDatabase } from './pg-database.js';

const total = Number(process.env.BENCH_REMINDERS ?? 500);
const serverUrl = process.env.BENCH_DATABASE_URL;

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN;
}

const fmt = (ms: number) => ms.toFixed(2);

async function main(): Promise<void> {
  const sink = await startSmtpSink();
  const scratch = serverUrl === undefined ? undefined : await createScratchDatabase(serverUrl);
  const app = await buildApp(
    loadConfig({
      NODE_ENV: 'test',
      LOG_LEVEL: 'silent',
      DATA_DIR: 'memory://',
      JWT_SECRET: 'bench-secret-that-is-long-enough-0123456789',
      SMTP_URL: sink.url,
      // Every appointment below is within the lead time at once; the app's runner stays idle.
      REMINDER_LEAD_MINUTES: '43200',
      JOBS_POLL_INTERVAL_MS: '60000',
      ...(scratch === undefined ? {} : { DATABASE_URL: scratch.url }),
    }),
    { logger: false },
  );
  try {
    const doctor = await createAccount(
      app.ctx,
      { email: 'bench-doctor@example.test', username: 'benchdoctor', password: randomUUID() },
      'doctor',
    );
    const start = Math.ceil(Date.now() / 3_600_000) * 3_600_000 + 3_600_000;
    for (let from = 0; from < total; from += 100) {
      const ids = Array.from({ length: Math.min(100, total - from) }, () => randomUUID());
      await app.ctx.db.insert(patients).values(
        ids.map((id, i) => ({
          id,
          firstName: 'Bench',
          lastName: `Window${from + i}`,
          email: `window${from + i}@example.test`,
        })),
      );
      await app.ctx.db.insert(appointments).values(
        ids.map((patientId, i) => ({
          id: randomUUID(),
          patientId,
          doctorId: doctor.id,
          // One doctor, back to back: 30 minutes each, all within the 30-day lead.
          startsAt: new Date(start + (from + i) * 30 * 60_000),
          endsAt: new Date(start + ((from + i) * 30 + 30) * 60_000),
          durationMinutes: 30,
        })),
      );
    }
    const timings: SendTiming[] = [];
    const started = performance.now();
    for (;;) {
      const pass = await runDueReminders(app.ctx);
      timings.push(...pass.timings);
      if (pass.claimed === 0) break;
    }
    const seconds = (performance.now() - started) / 1_000;
    const accepted = new Map(
      sink.inbox.map((mail) => [headerOf(mail.raw, 'message-id') ?? '', mail.acceptedAt]),
    );
    const serverGaps: number[] = [];
    const clientGaps: number[] = [];
    for (const timing of timings) {
      const at = accepted.get(timing.messageId);
      if (at !== undefined) serverGaps.push(timing.committedAt - at);
      clientGaps.push(timing.committedAt - timing.acceptedAt);
    }
    serverGaps.sort((a, b) => a - b);
    clientGaps.sort((a, b) => a - b);
    // What every instance pays each JOBS_POLL_INTERVAL_MS once everything is sent: a pass that
    // finds nothing new among `total` appointments within the lead time.
    const idleStarted = performance.now();
    for (let i = 0; i < 20; i++) await runDueReminders(app.ctx);
    const idleMs = (performance.now() - idleStarted) / 20;
    const engine = scratch === undefined ? 'PGlite (embedded)' : 'PostgreSQL';
    console.log(`reminders duplicate window on ${engine}, Node ${process.version}`);
    console.log(
      `sent ${timings.length} of ${total} (sink received ${sink.inbox.length}) in ${seconds.toFixed(1)} s`,
    );
    console.log(
      `relay 250 -> 'sent' committed: p50 ${fmt(percentile(serverGaps, 50))} ms, p99 ${fmt(percentile(serverGaps, 99))} ms, max ${fmt(serverGaps.at(-1) ?? NaN)} ms (n=${serverGaps.length})`,
    );
    console.log(
      `client sees 250 -> 'sent' committed: p50 ${fmt(percentile(clientGaps, 50))} ms, p99 ${fmt(percentile(clientGaps, 99))} ms, max ${fmt(clientGaps.at(-1) ?? NaN)} ms`,
    );
    console.log(`an idle pass over ${total} appointments within the lead: ${fmt(idleMs)} ms`);
  } finally {
    await app.close();
    await scratch?.drop();
    await sink.stop();
  }
}

await main();
