import { and, eq, inArray, sql } from 'drizzle-orm';
import { rowsOf, type DbOrTx } from '../../db/client.js';
import { appointments, type AppointmentRow } from '../../db/schema/appointments.js';
import { patients } from '../../db/schema/patients.js';
import { appointmentReminders } from '../../db/schema/reminders.js';
import { users } from '../../db/schema/users.js';

/**
 * Reminder queries. They read the appointments, patients and users tables directly (the source
 * of truth for what is due); only this module writes appointment_reminders.
 */

/** The key of one reminder: at most one delivered send per key (the table's primary key). */
export interface ReminderKey {
  appointmentId: string;
  leadMinutes: number;
  startsAt: Date;
}

export interface ClaimedReminder extends ReminderKey {
  /** Counting this one. */
  attempts: number;
}

const ts = (at: Date) => sql`${at.toISOString()}::timestamptz`;

function byKey(key: ReminderKey) {
  return and(
    eq(appointmentReminders.appointmentId, key.appointmentId),
    eq(appointmentReminders.leadMinutes, key.leadMinutes),
    eq(appointmentReminders.startsAt, key.startsAt),
  );
}

/**
 * Records the reminders that have come due: for each active appointment of a patient who has an
 * email and has not opted out, whose start is still ahead, the smallest lead whose time has
 * come, unless a row with that or a smaller lead exists for the same start. So a reminder missed
 * while the service was down still goes out before the start, and an appointment booked (or
 * found) late gets only the nearest reminder, not every lead at once. ON CONFLICT makes
 * instances racing here harmless. Returns how many rows were added.
 */
export async function enqueueDue(db: DbOrTx, now: Date, leads: readonly number[]): Promise<number> {
  const maxLead = Math.max(...leads);
  const leadList = sql.join(
    leads.map((lead) => sql`${lead}`),
    sql`, `,
  );
  const result = await db.execute(sql`
    insert into appointment_reminders (appointment_id, lead_minutes, starts_at, next_attempt_at)
    select distinct on (a.id) a.id, l.lead, a.starts_at, ${ts(now)}
      from appointments a
      join patients p on p.id = a.patient_id
      cross join unnest(array[${leadList}]::int[]) as l(lead)
     where a.status in ('scheduled', 'confirmed')
       and a.starts_at > ${ts(now)}
       and a.starts_at <= ${ts(now)} + make_interval(mins => ${maxLead}::int)
       and a.starts_at <= ${ts(now)} + make_interval(mins => l.lead)
       and p.deleted_at is null and p.email is not null and not p.reminders_opt_out
       and not exists (
         select 1 from appointment_reminders r
          where r.appointment_id = a.id and r.starts_at = a.starts_at
            and r.lead_minutes <= l.lead)
     order by a.id, l.lead
    on conflict do nothing`);
  return (result as { rowCount?: number | null }).rowCount ?? 0;
}

/**
 * Claims up to `limit` reminders whose (next) attempt is due, or whose lease ran out (the
 * instance that claimed them stopped): one statement, rows locked with SKIP LOCKED, so two
 * instances never claim the same row. A claimed row is 'sending' until `leaseEnd`, under `token`.
 */
export async function claimDue(
  db: DbOrTx,
  claim: { now: Date; leaseEnd: Date; token: string; limit: number },
): Promise<ClaimedReminder[]> {
  const rows = rowsOf<{
    appointment_id: string;
    lead_minutes: number;
    starts_at: string | Date;
    attempts: number;
  }>(
    await db.execute(sql`
      update appointment_reminders r
         set status = 'sending', claim_token = ${claim.token}::uuid,
             attempts = r.attempts + 1, next_attempt_at = ${ts(claim.leaseEnd)}
        from (select appointment_id, lead_minutes, starts_at from appointment_reminders
               where status in ('pending', 'sending') and next_attempt_at <= ${ts(claim.now)}
               order by next_attempt_at
               limit ${claim.limit}
               for update skip locked) due
       where r.appointment_id = due.appointment_id and r.lead_minutes = due.lead_minutes
         and r.starts_at = due.starts_at
      returning r.appointment_id, r.lead_minutes, r.starts_at, r.attempts`),
  );
  return rows.map((row) => ({
    appointmentId: row.appointment_id,
    leadMinutes: row.lead_minutes,
    startsAt: new Date(row.starts_at),
    attempts: row.attempts,
  }));
}

/** What a reminder needs to be checked and written, per appointment, as of now. */
export interface ReminderSubject {
  appointment: AppointmentRow;
  email: string | null;
  mrn: string;
  optedOut: boolean;
  patientDeleted: boolean;
  doctor: string;
  /** The smallest lead recorded for the appointment's current start (a nearer one supersedes). */
  nearestLead: number | null;
}

export async function findSubjects(
  db: DbOrTx,
  appointmentIds: readonly string[],
): Promise<Map<string, ReminderSubject>> {
  if (appointmentIds.length === 0) return new Map();
  const rows = await db
    .select({
      appointment: appointments,
      email: patients.email,
      mrn: patients.mrn,
      optedOut: patients.remindersOptOut,
      patientDeleted: sql<boolean>`${patients.deletedAt} is not null`,
      doctor: sql<string>`coalesce(${users.fullName}, ${users.username})`,
      nearestLead: sql<number | null>`(select min(r.lead_minutes) from appointment_reminders r
        where r.appointment_id = ${appointments.id} and r.starts_at = ${appointments.startsAt})`,
    })
    .from(appointments)
    .innerJoin(patients, eq(patients.id, appointments.patientId))
    .innerJoin(users, eq(users.id, appointments.doctorId))
    .where(inArray(appointments.id, [...new Set(appointmentIds)]));
  return new Map(rows.map((row) => [row.appointment.id, row]));
}

/**
 * Marks a claimed reminder sent. Only under the claim's token: false means the lease ran out and
 * another instance claimed the row meanwhile (it may send it again).
 */
export async function markSent(
  db: DbOrTx,
  key: ReminderKey,
  token: string,
  at: Date,
): Promise<boolean> {
  const rows = await db
    .update(appointmentReminders)
    .set({ status: 'sent', sentAt: at, claimToken: null, lastError: null })
    .where(and(byKey(key), eq(appointmentReminders.claimToken, token)))
    .returning({ lead: appointmentReminders.leadMinutes });
  return rows.length > 0;
}

/**
 * Ends a claim without a send: back to 'pending' for another attempt at `nextAttemptAt`, or
 * 'failed' / 'dropped' for good. `attemptsDelta` -1 gives back an attempt that never started.
 */
export async function release(
  db: DbOrTx,
  key: ReminderKey,
  token: string,
  outcome: {
    status: 'pending' | 'failed' | 'dropped';
    nextAttemptAt?: Date;
    lastError: string | null;
    attemptsDelta?: number;
  },
): Promise<void> {
  await db
    .update(appointmentReminders)
    .set({
      status: outcome.status,
      claimToken: null,
      lastError: outcome.lastError,
      ...(outcome.nextAttemptAt === undefined ? {} : { nextAttemptAt: outcome.nextAttemptAt }),
      ...(outcome.attemptsDelta === undefined
        ? {}
        : { attempts: sql`${appointmentReminders.attempts} + ${outcome.attemptsDelta}` }),
    })
    .where(and(byKey(key), eq(appointmentReminders.claimToken, token)));
}

/** Reminders still to send and how long the oldest has been due (for metrics and ops). */
export async function backlog(
  db: DbOrTx,
  now: Date,
): Promise<{ due: number; oldestDueAt: Date | null }> {
  const [row] = rowsOf<{ due: number; oldest: string | Date | null }>(
    await db.execute(sql`
      select count(*)::int as due, min(next_attempt_at) as oldest from appointment_reminders
       where status in ('pending', 'sending') and next_attempt_at <= ${ts(now)}`),
  );
  return {
    due: row?.due ?? 0,
    oldestDueAt: row?.oldest == null ? null : new Date(row.oldest),
  };
}
