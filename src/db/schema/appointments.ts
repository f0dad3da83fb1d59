import { sql } from 'drizzle-orm';
import { check, index, integer, pgTable, text, timestamp, unique, uuid } from 'drizzle-orm/pg-core';
import { patients } from './patients.js';
import { users } from './users.js';

export const appointmentStatuses = [
  'scheduled',
  'confirmed',
  'checked_in',
  'completed',
  'cancelled',
  'no_show',
] as const;
export type AppointmentStatus = (typeof appointmentStatuses)[number];

/**
 * Appointments. "No doctor and no patient in two overlapping active appointments" is enforced by
 * two exclusion constraints (btree_gist) added in a hand-written migration, because drizzle-kit
 * cannot express EXCLUDE: see migrations/0003_appointment_overlap.sql.
 */
export const appointments = pgTable(
  'appointments',
  {
    id: uuid('id').primaryKey(),
    patientId: uuid('patient_id')
      .notNull()
      .references(() => patients.id),
    doctorId: uuid('doctor_id')
      .notNull()
      .references(() => users.id),
    startsAt: timestamp('starts_at', { withTimezone: true }).notNull(),
    endsAt: timestamp('ends_at', { withTimezone: true }).notNull(),
    durationMinutes: integer('duration_minutes').notNull(),
    status: text('status').$type<AppointmentStatus>().notNull().default('scheduled'),
    reason: text('reason'),
    notes: text('notes'),
    cancelReason: text('cancel_reason'),
    createdBy: uuid('created_by').references(() => users.id),
    version: integer('version').notNull().default(1),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    index('appointments_starts_idx').on(t.startsAt, t.id),
    index('appointments_doctor_idx').on(t.doctorId, t.startsAt),
    index('appointments_patient_idx').on(t.patientId, t.startsAt),
    // The target of visit_notes' (appointment_id, patient_id) foreign key (migration 0019).
    unique('appointments_id_patient_uq').on(t.id, t.patientId),
    check('appointments_duration_ck', sql`${t.durationMinutes} between 5 and 480`),
    check('appointments_ends_ck', sql`${t.endsAt} > ${t.startsAt}`),
    check(
      'appointments_status_ck',
      sql`${t.status} in ('scheduled', 'confirmed', 'checked_in', 'completed', 'cancelled', 'no_show')`,
    ),
  ],
);

export type AppointmentRow = typeof appointments.$inferSelect;
