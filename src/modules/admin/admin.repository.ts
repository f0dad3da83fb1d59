import { count, isNull, sql } from 'drizzle-orm';
import { rowsOf, type DbOrTx } from '../../db/client.js';
import { appointments } from '../../db/schema/appointments.js';
import { patients } from '../../db/schema/patients.js';
import { prescriptions } from '../../db/schema/prescriptions.js';
import { users } from '../../db/schema/users.js';

export interface RoleCount {
  role: string;
  total: number;
  active: number;
}

/** Accounts per role, and how many of them are active: one pass over `users`. */
export async function countUsersByRole(db: DbOrTx): Promise<RoleCount[]> {
  return db
    .select({
      role: users.role,
      total: sql<number>`count(*)::int`,
      active: sql<number>`(count(*) filter (where ${users.isActive}))::int`,
    })
    .from(users)
    .groupBy(users.role);
}

/** Live (not soft-deleted) patients. */
export async function countLivePatients(db: DbOrTx): Promise<number> {
  const [row] = await db.select({ n: count() }).from(patients).where(isNull(patients.deletedAt));
  return row?.n ?? 0;
}

export interface AppointmentStatusCount {
  status: string;
  total: number;
  /** Of these, how many start on the local day that contains `now` in `timeZone`. */
  today: number;
}

/**
 * Appointments per status, with those starting "today" counted alongside in the same pass. The
 * day's bounds are computed by PostgreSQL in the clinic's zone, so DST days are 23 or 25 hours.
 */
export async function countAppointmentsByStatus(
  db: DbOrTx,
  now: Date,
  timeZone: string,
): Promise<AppointmentStatusCount[]> {
  const localDay = sql`date_trunc('day', ${now.toISOString()}::timestamptz at time zone ${timeZone})`;
  const dayStart = sql`(${localDay}) at time zone ${timeZone}`;
  const dayEnd = sql`(${localDay} + interval '1 day') at time zone ${timeZone}`;
  return db
    .select({
      status: appointments.status,
      total: sql<number>`count(*)::int`,
      today: sql<number>`(count(*) filter (where ${appointments.startsAt} >= ${dayStart} and ${appointments.startsAt} < ${dayEnd}))::int`,
    })
    .from(appointments)
    .groupBy(appointments.status);
}

export async function countPrescriptionsByStatus(
  db: DbOrTx,
): Promise<{ status: string; total: number }[]> {
  return db
    .select({ status: prescriptions.status, total: sql<number>`count(*)::int` })
    .from(prescriptions)
    .groupBy(prescriptions.status);
}

export interface DatabaseFacts {
  serverVersion: string;
  sizeBytes: number;
  migrationsApplied: number;
}

// Where drizzle's migrators record applied migrations (their defaults; db/client.ts passes none).
const MIGRATIONS_TABLE = 'drizzle.__drizzle_migrations';

/** Server version, database size and applied migrations; nothing that names a host or user. */
export async function databaseFacts(db: DbOrTx): Promise<DatabaseFacts> {
  const [facts] = rowsOf<{ server_version: string; size_bytes: number; tracked: boolean }>(
    await db.execute(sql`
      select current_setting('server_version') as server_version,
             pg_database_size(current_database())::float8 as size_bytes,
             to_regclass(${MIGRATIONS_TABLE}) is not null as tracked`),
  );
  if (!facts) throw new Error('the database returned no row');
  let migrationsApplied = 0;
  // A database the app never migrated (MIGRATE_ON_START=false) has no table yet: zero, not 500.
  if (facts.tracked) {
    const [applied] = rowsOf<{ n: number }>(
      await db.execute(sql`select count(*)::int as n from ${sql.raw(MIGRATIONS_TABLE)}`),
    );
    migrationsApplied = applied?.n ?? 0;
  }
  return {
    serverVersion: facts.server_version,
    sizeBytes: facts.size_bytes,
    migrationsApplied,
  };
}
