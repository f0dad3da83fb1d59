import { sql } from 'drizzle-orm';
import {
  boolean,
  date,
  index,
  integer,
  jsonb,
  pgSequence,
  pgTable,
  primaryKey,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core';
import { users } from './users.js';

export const genders = ['female', 'male', 'other', 'unknown'] as const;
export type Gender = (typeof genders)[number];

export interface EmergencyContact {
  name: string;
  relationship: string;
  phone: string;
}

/** MRNs come from a database sequence, so every instance hands out unique numbers. */
export const patientMrnSeq = pgSequence('patient_mrn_seq', { startWith: 100001 });

export const patients = pgTable(
  'patients',
  {
    id: uuid('id').primaryKey(),
    mrn: text('mrn')
      .notNull()
      .default(sql`'MRN' || lpad(nextval('patient_mrn_seq')::text, 8, '0')`),
    firstName: text('first_name').notNull(),
    lastName: text('last_name').notNull(),
    dateOfBirth: date('date_of_birth', { mode: 'string' }),
    gender: text('gender').$type<Gender>(),
    email: text('email'),
    phone: text('phone'),
    address: text('address'),
    location: text('location'),
    group: text('group').notNull().default('general'),
    emergencyContacts: jsonb('emergency_contacts')
      .$type<EmergencyContact[]>()
      .notNull()
      .default([]),
    initialComplaint: text('initial_complaint'),
    initialDiagnosis: text('initial_diagnosis'),
    medicalHistory: text('medical_history'),
    allergies: jsonb('allergies').$type<string[]>().notNull().default([]),
    notes: text('notes'),
    assignedDoctorId: uuid('assigned_doctor_id').references(() => users.id),
    // Appointment reminder emails are not sent to this patient (migration 0018).
    remindersOptOut: boolean('reminders_opt_out').notNull().default(false),
    createdBy: uuid('created_by').references(() => users.id),
    version: integer('version').notNull().default(1),
    // Millisecond precision, like JavaScript dates: keyset cursors carry it exactly.
    createdAt: timestamp('created_at', { withTimezone: true, precision: 3 }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
    // Soft delete: the record stays for the audit trail but disappears from the API.
    deletedAt: timestamp('deleted_at', { withTimezone: true }),
    // Typo-tolerant matching and ranking run on the short name only (cheap per row)...
    nameText: text('name_text').generatedAlwaysAs(sql`lower(first_name || ' ' || last_name)`),
    // ...while substring matching covers names, email, phone and MRN.
    searchText: text('search_text').generatedAlwaysAs(
      sql`lower(first_name || ' ' || last_name || ' ' || coalesce(email, '') || ' ' || coalesce(phone, '') || ' ' || mrn)`,
    ),
  },
  (t) => [
    uniqueIndex('patients_mrn_uq').on(t.mrn),
    uniqueIndex('patients_email_lower_uq')
      .on(sql`lower(${t.email})`)
      .where(sql`${t.deletedAt} is null and ${t.email} is not null`),
    // No pending list (fastupdate off): a search never scans recent inserts linearly (about 3 MB
    // after a bulk load, 4 ms of every search); patients are created far less often than searched.
    index('patients_search_trgm_idx')
      .using('gin', sql`${t.searchText} gin_trgm_ops`)
      .with({ fastupdate: false }),
    // Fuzzy search probes the live patients of one name in id order (migration 0020).
    index('patients_live_name_idx')
      .on(t.nameText, t.id)
      .where(sql`${t.deletedAt} is null`),
    index('patients_name_idx').on(t.lastName, t.firstName, t.id),
    index('patients_created_idx').on(t.createdAt, t.id),
    index('patients_doctor_idx').on(t.assignedDoctorId),
    index('patients_group_idx').on(t.group),
    index('patients_dob_idx').on(t.dateOfBirth),
    // Prompt redaction asks which words of a prompt are patients' names (exact, any case).
    index('patients_first_name_lower_idx').on(sql`lower(${t.firstName})`),
    index('patients_last_name_lower_idx').on(sql`lower(${t.lastName})`),
  ],
);

export type PatientRow = typeof patients.$inferSelect;

/**
 * Every name (`patients.name_text`) a patient has had, once: typo-tolerant search finds the
 * closest names here (a few thousand rows where patients are a hundred thousand, and equal names
 * are one row), then reads each name's patients from patients_live_name_idx. Kept by a trigger on
 * patients (migration 0020); it only grows: a name no patient has any more costs a search one
 * empty index probe.
 */
export const patientNames = pgTable(
  'patient_names',
  { nameText: text('name_text').primaryKey() },
  (t) => [
    index('patient_names_knn_idx').using('gist', sql`${t.nameText} gist_trgm_ops (siglen = 256)`),
  ],
);
export type NewPatientRow = typeof patients.$inferInsert;

export const visitTypes = [
  'regular',
  'follow_up',
  'emergency',
  'consultation',
  'phone',
  'video',
  'home_visit',
] as const;
export type VisitType = (typeof visitTypes)[number];

export const visitNotes = pgTable(
  'visit_notes',
  {
    id: uuid('id').primaryKey(),
    patientId: uuid('patient_id')
      .notNull()
      .references(() => patients.id),
    authorId: uuid('author_id')
      .notNull()
      .references(() => users.id),
    visitType: text('visit_type').$type<VisitType>().notNull(),
    content: text('content').notNull(),
    // The appointment the note belongs to, if any: a foreign key over (appointment_id,
    // patient_id) to appointments (migration 0019, hand-written: appointments.ts imports this
    // file, so the reference is not declared here) keeps it to the same patient's appointments.
    appointmentId: uuid('appointment_id'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    index('visit_notes_patient_idx').on(t.patientId, t.id),
    index('visit_notes_appointment_idx')
      .on(t.appointmentId)
      .where(sql`${t.appointmentId} is not null`),
  ],
);

export type VisitNoteRow = typeof visitNotes.$inferSelect;

export const patientFavorites = pgTable(
  'patient_favorites',
  {
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id),
    patientId: uuid('patient_id')
      .notNull()
      .references(() => patients.id),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.userId, t.patientId] })],
);
