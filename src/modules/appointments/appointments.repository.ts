import { and, asc, desc, eq, gt, gte, inArray, lt, ne, or, sql, type SQL } from 'drizzle-orm';
import type { DbOrTx } from '../../db/client.js';
import {
  appointments,
  type AppointmentRow,
  type AppointmentStatus,
} from '../../db/schema/appointments.js';
import { patients } from '../../db/schema/patients.js';
import { users } from '../../db/schema/users.js';

export const activeStatuses: AppointmentStatus[] = ['scheduled', 'confirmed', 'checked_in'];

export async function insertAppointment(
  db: DbOrTx,
  row: typeof appointments.$inferInsert,
): Promise<AppointmentRow> {
  const [created] = await db.insert(appointments).values(row).returning();
  if (!created) throw new Error('insert returned no row');
  return created;
}

/**
 * Inserts a booking only for an active doctor and a live patient, checked by the INSERT itself
 * rather than by two lookups before it: each id is taken from the row that qualifies, so an
 * inactive (or non-doctor) account or a deleted patient leaves its column null and the insert
 * fails with 23502 (not_null_violation). The caller tells which one it was on that failure only.
 */
export async function insertBooking(
  db: DbOrTx,
  row: typeof appointments.$inferInsert,
): Promise<AppointmentRow> {
  const [created] = await db
    .insert(appointments)
    .values({
      ...row,
      // The rule of users.service isActiveDoctor: role doctor and active.
      doctorId: sql`(select ${users.id} from ${users} where ${users.id} = ${row.doctorId} and ${users.role} = 'doctor' and ${users.isActive})`,
      patientId: sql`(select ${patients.id} from ${patients} where ${patients.id} = ${row.patientId} and ${patients.deletedAt} is null)`,
    })
    .returning();
  if (!created) throw new Error('insert returned no row');
  return created;
}

/** The few patient fields a day view needs beside each appointment (joined, never looked up per row). */
const patientSummary = {
  id: patients.id,
  firstName: patients.firstName,
  lastName: patients.lastName,
  mrn: patients.mrn,
  dateOfBirth: patients.dateOfBirth,
};
export interface PatientSummaryRow {
  id: string;
  firstName: string;
  lastName: string;
  mrn: string;
  dateOfBirth: string | null;
}
export interface AppointmentWithPatient {
  appointment: AppointmentRow;
  patient: PatientSummaryRow;
}

/** One appointment with its patient's summary (deleted patients included: the row stays). */
export async function findWithPatient(
  db: DbOrTx,
  id: string,
): Promise<AppointmentWithPatient | undefined> {
  const [row] = await db
    .select({ appointment: appointments, patient: patientSummary })
    .from(appointments)
    .innerJoin(patients, eq(patients.id, appointments.patientId))
    .where(eq(appointments.id, id))
    .limit(1);
  return row;
}

/** The summary of one patient, for the answer of a write that returned only the appointment. */
export async function findPatientSummary(
  db: DbOrTx,
  patientId: string,
): Promise<PatientSummaryRow | undefined> {
  const [row] = await db
    .select(patientSummary)
    .from(patients)
    .where(eq(patients.id, patientId))
    .limit(1);
  return row;
}

export async function findAppointment(db: DbOrTx, id: string): Promise<AppointmentRow | undefined> {
  const [row] = await db.select().from(appointments).where(eq(appointments.id, id)).limit(1);
  return row;
}

/** The active appointment of this doctor or patient overlapping [startsAt, endsAt), if any. */
export async function findOverlap(
  db: DbOrTx,
  slot: { doctorId: string; patientId: string; startsAt: Date; endsAt: Date; exceptId?: string },
): Promise<AppointmentRow | undefined> {
  const [row] = await db
    .select()
    .from(appointments)
    .where(
      and(
        or(eq(appointments.doctorId, slot.doctorId), eq(appointments.patientId, slot.patientId)),
        inArray(appointments.status, activeStatuses),
        lt(appointments.startsAt, slot.endsAt),
        gt(appointments.endsAt, slot.startsAt),
        slot.exceptId === undefined ? undefined : ne(appointments.id, slot.exceptId),
      ),
    )
    .orderBy(asc(appointments.startsAt))
    .limit(1);
  return row;
}

/** Conditional update: applies only from the allowed statuses (and version, when given). */
export async function updateAppointment(
  db: DbOrTx,
  id: string,
  changes: Partial<typeof appointments.$inferInsert>,
  guard: { fromStatuses: AppointmentStatus[]; version?: number },
): Promise<AppointmentRow | undefined> {
  const [row] = await db
    .update(appointments)
    .set({ ...changes, version: sql`${appointments.version} + 1`, updatedAt: sql`now()` })
    .where(
      and(
        eq(appointments.id, id),
        inArray(appointments.status, guard.fromStatuses),
        guard.version === undefined ? undefined : eq(appointments.version, guard.version),
      ),
    )
    .returning();
  return row;
}

export interface AppointmentFilter {
  doctorId?: string | undefined;
  patientId?: string | undefined;
  status?: AppointmentStatus | undefined;
  from?: Date | undefined;
  to?: Date | undefined;
  /** Starting within [startsFrom, startsBefore): a clinic day (`date`), unlike from/to's overlap. */
  startsFrom?: Date | undefined;
  startsBefore?: Date | undefined;
  after?: { s: string; id: string } | undefined;
  limit: number;
}

/** The WHERE of a list or export: filters plus the keyset position. */
function filterConditions(filter: AppointmentFilter): SQL | undefined {
  const conditions: (SQL | undefined)[] = [];
  if (filter.doctorId !== undefined) conditions.push(eq(appointments.doctorId, filter.doctorId));
  if (filter.patientId !== undefined) conditions.push(eq(appointments.patientId, filter.patientId));
  if (filter.status !== undefined) conditions.push(eq(appointments.status, filter.status));
  if (filter.from !== undefined) conditions.push(gt(appointments.endsAt, filter.from));
  if (filter.to !== undefined) conditions.push(lt(appointments.startsAt, filter.to));
  if (filter.startsFrom !== undefined)
    conditions.push(gte(appointments.startsAt, filter.startsFrom));
  if (filter.startsBefore !== undefined) {
    conditions.push(lt(appointments.startsAt, filter.startsBefore));
  }
  if (filter.after !== undefined) {
    const at = new Date(filter.after.s);
    conditions.push(
      or(
        gt(appointments.startsAt, at),
        and(eq(appointments.startsAt, at), gt(appointments.id, filter.after.id)),
      ),
    );
  }
  return and(...conditions);
}

/** Sorted by start; `from`/`to` select appointments overlapping that range. */
export async function listAppointments(
  db: DbOrTx,
  filter: AppointmentFilter,
): Promise<AppointmentWithPatient[]> {
  return db
    .select({ appointment: appointments, patient: patientSummary })
    .from(appointments)
    .innerJoin(patients, eq(patients.id, appointments.patientId))
    .where(filterConditions(filter))
    .orderBy(asc(appointments.startsAt), asc(appointments.id))
    .limit(filter.limit + 1);
}

/** Like listAppointments, with each patient's MRN (for exports; deleted patients included). */
export async function listAppointmentsWithMrn(
  db: DbOrTx,
  filter: AppointmentFilter,
): Promise<{ appointment: AppointmentRow; mrn: string }[]> {
  return db
    .select({ appointment: appointments, mrn: patients.mrn })
    .from(appointments)
    .innerJoin(patients, eq(patients.id, appointments.patientId))
    .where(filterConditions(filter))
    .orderBy(asc(appointments.startsAt), asc(appointments.id))
    .limit(filter.limit + 1);
}

/**
 * One patient's appointments on one side of `now`: upcoming (soonest first, cancelled ones left
 * out) or recent (latest first, every status).
 */
export async function listPatientAround(
  db: DbOrTx,
  patientId: string,
  now: Date,
  side: 'upcoming' | 'recent',
  limit: number,
): Promise<AppointmentRow[]> {
  const upcoming = side === 'upcoming';
  return db
    .select()
    .from(appointments)
    .where(
      and(
        eq(appointments.patientId, patientId),
        upcoming ? gte(appointments.startsAt, now) : lt(appointments.startsAt, now),
        upcoming ? ne(appointments.status, 'cancelled') : undefined,
      ),
    )
    .orderBy(
      upcoming ? asc(appointments.startsAt) : desc(appointments.startsAt),
      upcoming ? asc(appointments.id) : desc(appointments.id),
    )
    .limit(limit);
}

/** Active appointments of a doctor overlapping a window (for availability). */
export async function busyIntervals(
  db: DbOrTx,
  doctorId: string,
  from: Date,
  to: Date,
): Promise<{ startsAt: Date; endsAt: Date }[]> {
  return db
    .select({ startsAt: appointments.startsAt, endsAt: appointments.endsAt })
    .from(appointments)
    .where(
      and(
        eq(appointments.doctorId, doctorId),
        inArray(appointments.status, activeStatuses),
        lt(appointments.startsAt, to),
        gt(appointments.endsAt, from),
      ),
    )
    .orderBy(asc(appointments.startsAt));
}
