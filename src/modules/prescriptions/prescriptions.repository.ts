import { and, desc, eq, lt, sql } from 'drizzle-orm';
import type { DbOrTx } from '../../db/client.js';
import {
  prescriptions,
  type PrescriptionRow,
  type PrescriptionStatus,
} from '../../db/schema/prescriptions.js';

type NewPrescription = typeof prescriptions.$inferInsert;

export async function insertPrescription(
  db: DbOrTx,
  row: NewPrescription,
): Promise<PrescriptionRow> {
  const [created] = await db.insert(prescriptions).values(row).returning();
  if (!created) throw new Error('insert returned no row');
  return created;
}

export async function findPrescription(
  db: DbOrTx,
  id: string,
): Promise<PrescriptionRow | undefined> {
  const [row] = await db.select().from(prescriptions).where(eq(prescriptions.id, id)).limit(1);
  return row;
}

/** Applies only while the prescription is active (and at the expected version, if given). */
export async function updateActivePrescription(
  db: DbOrTx,
  id: string,
  changes: Partial<NewPrescription>,
  version?: number,
): Promise<PrescriptionRow | undefined> {
  const [row] = await db
    .update(prescriptions)
    .set({ ...changes, version: sql`${prescriptions.version} + 1`, updatedAt: sql`now()` })
    .where(
      and(
        eq(prescriptions.id, id),
        eq(prescriptions.status, 'active'),
        version === undefined ? undefined : eq(prescriptions.version, version),
      ),
    )
    .returning();
  return row;
}

export interface PrescriptionFilter {
  patientId?: string | undefined;
  prescriberId?: string | undefined;
  status?: PrescriptionStatus | undefined;
  beforeId?: string | undefined;
  limit: number;
}

/** Newest first (UUIDv7 ids are creation-ordered). */
export async function listPrescriptions(
  db: DbOrTx,
  filter: PrescriptionFilter,
): Promise<PrescriptionRow[]> {
  return db
    .select()
    .from(prescriptions)
    .where(
      and(
        filter.patientId === undefined ? undefined : eq(prescriptions.patientId, filter.patientId),
        filter.prescriberId === undefined
          ? undefined
          : eq(prescriptions.prescriberId, filter.prescriberId),
        filter.status === undefined ? undefined : eq(prescriptions.status, filter.status),
        filter.beforeId === undefined ? undefined : lt(prescriptions.id, filter.beforeId),
      ),
    )
    .orderBy(desc(prescriptions.id))
    .limit(filter.limit + 1);
}
