import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import pLimit from 'p-limit';
import type { AppContext } from '../../context.js';
import { calendarEvent } from '../appointments/appointments.ics.js';
import { patientRecordEvent, recordAudit } from '../audit/audit.service.js';
import { dropReason, reminderMessage } from './reminders.message.js';
import { countReminder, recordCommitGap } from './reminders.metrics.js';
import * as repo from './reminders.repository.js';

/** Attempts per reminder, the first included; then it is 'failed'. */
export const MAX_ATTEMPTS = 8;
/**
 * How long a claim holds a reminder. Far longer than one send can take (the mailer's connect,
 * greeting and socket timeouts are 5, 5 and 10 s), so a live instance never loses a claim
 * mid-send; after a crash the reminder is claimed again once this has passed.
 */
export const CLAIM_LEASE_MS = 120_000;
/** Reminders claimed per pass, and sent at a time (each send is its own SMTP connection). */
export const BATCH = 20;
const SEND_CONCURRENCY = 4;

/** Wait before attempt n + 1 after attempt n failed: 1, 2, 4, 8, 16, then 30 minutes. */
export function retryDelayMs(failedAttempt: number): number {
  return Math.min(60_000 * 2 ** (failedAttempt - 1), 30 * 60_000);
}

export type ReminderContext = Pick<AppContext, 'db' | 'clock' | 'config' | 'mailer'>;

/** Where failures are told; never given patient data (no address, no name, no error text). */
export interface ReminderLog {
  warn(facts: object, message: string): void;
  error(facts: object, message: string): void;
}

const silent: ReminderLog = { warn: () => undefined, error: () => undefined };

export interface PassOptions {
  log?: ReminderLog;
  /** Set when the app stops: claimed reminders not yet being sent are handed back at once. */
  signal?: AbortSignal;
  batch?: number;
}

/** One send: the message id, when the relay's acceptance arrived and when 'sent' committed. */
export interface SendTiming {
  messageId: string;
  acceptedAt: number;
  committedAt: number;
}

export interface ReminderPass {
  queued: number;
  claimed: number;
  sent: number;
  retried: number;
  failed: number;
  dropped: number;
  released: number;
  /** performance.now() instants: the window in which a crash would cause a second send. */
  timings: SendTiming[];
}

type Outcome = 'sent' | 'retried' | 'failed' | 'dropped' | 'released';

/**
 * One pass of the reminder job: records the reminders that came due (from the appointments
 * table), claims a batch of due ones under a lease, sends each and records the result. Safe to
 * run on every instance at once: the claim hands each reminder to one instance, the primary key
 * keeps one row per (appointment, lead, start). A reminder whose relay accepted it but whose
 * 'sent' was not committed (the process died in between) is sent again after the lease: the one
 * duplicate window, measured in bench/reminders-window.ts.
 */
export async function runDueReminders(
  ctx: ReminderContext,
  options: PassOptions = {},
): Promise<ReminderPass> {
  const pass: ReminderPass = {
    queued: 0,
    claimed: 0,
    sent: 0,
    retried: 0,
    failed: 0,
    dropped: 0,
    released: 0,
    timings: [],
  };
  const leads = ctx.config.reminderLeadMinutes;
  if (leads.length === 0) return pass;
  const now = ctx.clock.now();
  pass.queued = await repo.enqueueDue(ctx.db, now, leads);
  const token = randomUUID();
  const claimed = await repo.claimDue(ctx.db, {
    now,
    leaseEnd: new Date(now.getTime() + CLAIM_LEASE_MS),
    token,
    limit: options.batch ?? BATCH,
  });
  pass.claimed = claimed.length;
  if (claimed.length === 0) return pass;
  const subjects = await repo.findSubjects(
    ctx.db,
    claimed.map((reminder) => reminder.appointmentId),
  );
  const limit = pLimit(SEND_CONCURRENCY);
  const outcomes = await Promise.all(
    claimed.map((reminder) =>
      limit(() =>
        deliver(ctx, reminder, subjects.get(reminder.appointmentId), token, options, pass),
      ),
    ),
  );
  for (const outcome of outcomes) pass[outcome] += 1;
  return pass;
}

async function deliver(
  ctx: ReminderContext,
  reminder: repo.ClaimedReminder,
  subject: repo.ReminderSubject | undefined,
  token: string,
  options: PassOptions,
  pass: ReminderPass,
): Promise<Outcome> {
  const log = options.log ?? silent;
  const now = ctx.clock.now();
  if (options.signal?.aborted === true) {
    // Not started: give the claim back (and the attempt) so another instance sends it now.
    await repo.release(ctx.db, reminder, token, {
      status: 'pending',
      nextAttemptAt: now,
      lastError: null,
      attemptsDelta: -1,
    });
    return 'released';
  }
  const reason = dropReason(reminder, subject, now);
  if (reason !== undefined || subject?.email == null) {
    await repo.release(ctx.db, reminder, token, {
      status: 'dropped',
      lastError: reason ?? 'no_email',
    });
    countReminder('dropped');
    return 'dropped';
  }
  if (reminder.attempts > MAX_ATTEMPTS) {
    // Only after claims that expired again and again (instances dying mid-send).
    await repo.release(ctx.db, reminder, token, { status: 'failed', lastError: 'lease_expired' });
    countReminder('failed');
    return 'failed';
  }
  const message = reminderMessage(
    reminder,
    { ...subject, email: subject.email },
    {
      timeZone: ctx.config.clinicTimeZone,
      ics: calendarEvent(subject.appointment, { mrn: subject.mrn, doctor: subject.doctor }),
      domain: new URL(ctx.config.publicUrl).hostname,
    },
  );
  try {
    await ctx.mailer.send(message);
  } catch (error) {
    return failed(ctx, reminder, token, error, log);
  }
  const acceptedAt = performance.now();
  const recorded = await ctx.db.transaction(async (tx) => {
    const marked = await repo.markSent(tx, reminder, token, ctx.clock.now());
    if (marked) {
      await recordAudit(
        tx,
        {},
        patientRecordEvent('appointment.reminder', 'appointment', subject.appointment, {
          lead_minutes: reminder.leadMinutes,
        }),
      );
    }
    return marked;
  });
  const committedAt = performance.now();
  if (!recorded) {
    countReminder('leaseLost');
    log.error(
      { appointment_id: reminder.appointmentId, lead_minutes: reminder.leadMinutes },
      'a reminder was sent after its claim ran out; another instance may send it again',
    );
  }
  countReminder('sent');
  recordCommitGap(committedAt - acceptedAt);
  pass.timings.push({ messageId: message.messageId ?? '', acceptedAt, committedAt });
  return 'sent';
}

/** What a failed send may log: the SMTP or socket code, never the error text (it may hold the address). */
export function failureCode(error: unknown): string {
  const { code, responseCode } = (error ?? {}) as { code?: unknown; responseCode?: unknown };
  const parts = [
    typeof code === 'string' && /^[A-Z_]{1,32}$/.test(code) ? code : 'ERROR',
    ...(typeof responseCode === 'number' ? [String(responseCode)] : []),
  ];
  return parts.join(' ');
}

async function failed(
  ctx: ReminderContext,
  reminder: repo.ClaimedReminder,
  token: string,
  error: unknown,
  log: ReminderLog,
): Promise<Outcome> {
  const code = failureCode(error);
  countReminder('attemptFailures');
  const facts = {
    appointment_id: reminder.appointmentId,
    lead_minutes: reminder.leadMinutes,
    attempt: reminder.attempts,
    code,
  };
  if (reminder.attempts >= MAX_ATTEMPTS) {
    await repo.release(ctx.db, reminder, token, { status: 'failed', lastError: code });
    countReminder('failed');
    log.error(facts, 'reminder email failed; giving up after the last attempt');
    return 'failed';
  }
  const nextAttemptAt = new Date(ctx.clock.now().getTime() + retryDelayMs(reminder.attempts));
  await repo.release(ctx.db, reminder, token, {
    status: 'pending',
    nextAttemptAt,
    lastError: code,
  });
  log.warn(
    { ...facts, next_attempt_at: nextAttemptAt.toISOString() },
    'reminder email failed; retrying',
  );
  return 'retried';
}

/** Reminders due and not yet sent, and how long the oldest has waited (seconds), for metrics. */
export async function reminderBacklog(
  ctx: Pick<AppContext, 'db' | 'clock'>,
): Promise<{ due: number; oldestAgeSeconds: number }> {
  const now = ctx.clock.now();
  const { due, oldestDueAt } = await repo.backlog(ctx.db, now);
  return {
    due,
    oldestAgeSeconds:
      oldestDueAt === null ? 0 : Math.max(0, (now.getTime() - oldestDueAt.getTime()) / 1_000),
  };
}
