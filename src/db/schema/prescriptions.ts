import { sql } from 'drizzle-orm';
import { check, index, integer, jsonb, pgTable, text, timestamp, uuid } from 'drizzle-orm/pg-core';
import { appointments } from './appointments.js';
import { patients } from './patients.js';
import { users } from './users.js';

export const prescriptionStatuses = ['active', 'cancelled', 'completed'] as const;
export type PrescriptionStatus = (typeof prescriptionStatuses)[number];

export interface PrescriptionWarning {
  code: 'allergy_match';
  allergen: string;
  message: string;
}

export const prescriptions = pgTable(
  'prescriptions',
  {
    id: uuid('id').primaryKey(),
    patientId: uuid('patient_id')
      .notNull()
      .references(() => patients.id),
    prescriberId: uuid('prescriber_id')
      .notNull()
      .references(() => users.id),
    appointmentId: uuid('appointment_id').references(() => appointments.id),
    medication: text('medication').notNull(),
    dosage: text('dosage').notNull(),
    route: text('route'),
    frequency: text('frequency').notNull(),
    durationDays: integer('duration_days'),
    quantity: integer('quantity'),
    refills: integer('refills').notNull().default(0),
    instructions: text('instructions'),
    status: text('status').$type<PrescriptionStatus>().notNull().default('active'),
    // Allergy warnings found when prescribing, kept so the record shows what the prescriber saw.
    warnings: jsonb('warnings').$type<PrescriptionWarning[]>().notNull().default([]),
    cancelReason: text('cancel_reason'),
    version: integer('version').notNull().default(1),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    index('prescriptions_patient_idx').on(t.patientId, t.id),
    index('prescriptions_prescriber_idx').on(t.prescriberId, t.id),
    check('prescriptions_refills_ck', sql`${t.refills} between 0 and 12`),
    check('prescriptions_status_ck', sql`${t.status} in ('active', 'cancelled', 'completed')`),
  ],
);

export type PrescriptionRow = typeof prescriptions.$inferSelect;
