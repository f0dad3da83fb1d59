import { and, asc, eq } from 'drizzle-orm';
import { expect } from 'vitest';
import {
  bearer,
  unique,
  type TestApp,
  type TestUser,
  createUsers,
  useTestApp,
} from '../../../test/helpers.js';
import type { DbOrTx } from '../../db/client.js';
import { auditLog, type AuditRow } from '../../db/schema/audit.js';
import { countUnsealed } from './audit.repository.js';
import { sealPending } from './audit.sealer.js';

/** What audit.rows.int.test.ts and audit.queries.int.test.ts share. */
export let t: TestApp;
export let admin: TestUser;
export let doctor: TestUser;
export let otherDoctor: TestUser;
export let nurse: TestUser;
export let receptionist: TestUser;

/**
 * Registers the file's hooks: an app on its own database, an admin, two doctors, a nurse and a
 * receptionist.
 */
export function useAuditApp(): void {
  useTestApp(async (app) => {
    t = app;
    const roles = ['admin', 'doctor', 'doctor', 'nurse', 'receptionist'] as const;
    [admin, doctor, otherDoctor, nurse, receptionist] = await createUsers(t.app, ...roles);
  });
}

export async function newPatient(by: TestUser, extra: Record<string, unknown> = {}) {
  const res = await t.app.inject({
    method: 'POST',
    url: '/api/v1/patients',
    headers: bearer(by.accessToken),
    payload: { first_name: 'Ada', last_name: unique('Audit'), ...extra },
  });
  expect(res.statusCode).toBe(201);
  return res.json<{ id: string; version: number }>();
}

export async function rowsFor(filter: { patientId?: string; actorId?: string; action?: string }) {
  return t.app.ctx.db
    .select()
    .from(auditLog)
    .where(
      and(
        filter.patientId === undefined ? undefined : eq(auditLog.patientId, filter.patientId),
        filter.actorId === undefined ? undefined : eq(auditLog.actorId, filter.actorId),
        filter.action === undefined ? undefined : eq(auditLog.action, filter.action),
      ),
    )
    .orderBy(asc(auditLog.seq));
}

export function only(rows: AuditRow[]): AuditRow {
  expect(rows).toHaveLength(1);
  return rows[0] as AuditRow;
}

/**
 * Seals until nothing waits. One sealPending call may seal nothing: the app's own sealer can hold
 * the try-lock at that moment, and on a shared PostgreSQL server another database's open
 * transaction holds the sealing horizon back for a while (transaction ids are cluster-wide).
 */
export async function sealAll(db: DbOrTx, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    await sealPending(db);
    const waiting = await countUnsealed(db);
    if (waiting === 0) return;
    if (Date.now() > deadline) throw new Error(`${waiting} audit rows still unsealed`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
