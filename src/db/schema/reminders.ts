import { sql } from 'drizzle-orm';
import {
  check,
  index,
  integer,
  pgTable,
  primaryKey,
  text,
  timestamp,
  uuid,
} from 'drizzle-orm/pg-core';
import { appointments } from './appointments.js';

/**
 * pending: due, waiting for (another) attempt at next_attempt_at; sending: claimed by an instance
 * until next_attempt_at (its lease); sent; failed: gave up after the last attempt; dropped: no
 * longer to send (cancelled, rescheduled, started, opted out or no email before it went out).
 */
export const reminderStatuses = ['pending', 'sending', 'sent', 'failed', 'dropped'] as const;
export type ReminderStatus = (typeof reminderStatuses)[number];

/**
 * One row per reminder due (migration 0018_reminders.sql). The primary key (appointment, lead
 * time, start) is the once-only guarantee: a rescheduled appointment gets new keys.
 */
export const appointmentReminders = pgTable(
  'appointment_reminders',
  {
    appointmentId: uuid('appointment_id')
      .notNull()
      .references(() => appointments.id, { onDelete: 'cascade' }),
    leadMinutes: integer('lead_minutes').notNull(),
    startsAt: timestamp('starts_at', { withTimezone: true }).notNull(),
    status: text('status').$type<ReminderStatus>().notNull().default('pending'),
    attempts: integer('attempts').notNull().default(0),
    nextAttemptAt: timestamp('next_attempt_at', { withTimezone: true }).notNull(),
    claimToken: uuid('claim_token'),
    lastError: text('last_error'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    sentAt: timestamp('sent_at', { withTimezone: true }),
  },
  (t) => [
    primaryKey({
      name: 'appointment_reminders_pk',
      columns: [t.appointmentId, t.leadMinutes, t.startsAt],
    }),
    index('appointment_reminders_due_idx')
      .on(t.nextAttemptAt)
      .where(sql`${t.status} in ('pending', 'sending')`),
    check(
      'appointment_reminders_status_ck',
      sql`${t.status} in ('pending', 'sending', 'sent', 'failed', 'dropped')`,
    ),
    check('appointment_reminders_lead_ck', sql`${t.leadMinutes} between 1 and 43200`),
  ],
);

export type ReminderRow = typeof appointmentReminders.$inferSelect;
