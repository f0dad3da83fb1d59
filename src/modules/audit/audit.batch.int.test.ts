import { eq, inArray, sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { bearer, unique } from '../../../test/helpers.js';
import { rowsOf, type DbOrTx } from '../../db/client.js';
import { auditLog } from '../../db/schema/audit.js';
import { writeAuditRow } from './audit.batch.js';
import type { NewAuditRow } from './audit.repository.js';
import { t, admin, doctor, useAuditApp, newPatient, sealAll } from './audit.test-support.js';

/**
 * Audit rows written outside a transaction are group-committed (audit.batch.ts): rows of
 * concurrent requests share one INSERT, each request still waits for its own row, and one row
 * the database refuses fails only its own request.
 */
useAuditApp();

function row(requestId: string, extra: Partial<NewAuditRow> = {}): NewAuditRow {
  return { action: 'patient.read', outcome: 'success', requestId, ...extra };
}

/** How many transactions wrote this file's batch rows while `run` ran. */
async function transactionsDuring(run: () => Promise<unknown>): Promise<number> {
  const count = async () =>
    rowsOf<{ n: number }>(
      await t.app.ctx.db.execute(
        sql`select count(distinct tx_id)::int as n from audit_log where request_id like 'batch-%'`,
      ),
    )[0]?.n ?? 0;
  const before = await count();
  await run();
  return (await count()) - before;
}

describe('group commit of audit rows', () => {
  it('writes every row of 50 concurrent writers, in fewer transactions than rows', async () => {
    const tag = `batch-${unique()}`;
    const ids = Array.from({ length: 50 }, (_, i) => `${tag}-${String(i)}`);
    const transactions = await transactionsDuring(() =>
      Promise.all(ids.map((id) => writeAuditRow(t.app.ctx.db, row(id)))),
    );
    const written = await t.app.ctx.db
      .select({ requestId: auditLog.requestId, seq: auditLog.seq, txId: auditLog.txId })
      .from(auditLog)
      .where(inArray(auditLog.requestId, ids));
    expect(written.map((r) => r.requestId).sort()).toEqual([...ids].sort());
    // Every writer resolved after its row was committed, and they shared commits.
    expect(transactions).toBeGreaterThanOrEqual(1);
    expect(transactions).toBeLessThan(ids.length);
    // The rows of one batch (one transaction) keep the order they were queued in; batches in
    // flight at the same time may commit in either order.
    for (const txId of new Set(written.map((r) => r.txId))) {
      const batch = written.filter((r) => r.txId === txId);
      const bySeq = [...batch].sort((a, b) => a.seq - b.seq).map((r) => r.requestId);
      expect(bySeq).toEqual(ids.filter((id) => bySeq.includes(id)));
    }
  });

  it('carries every column: patient ids, details, role, ip', async () => {
    const patient = await newPatient(doctor);
    const tag = `batch-${unique()}`;
    await Promise.all([
      writeAuditRow(
        t.app.ctx.db,
        row(`${tag}-a`, {
          actorId: doctor.id,
          actorRole: 'doctor',
          patientIds: [patient.id, patient.id],
          details: { count: 2, note: 'x' },
          ip: '10.0.0.1',
        }),
      ),
      writeAuditRow(t.app.ctx.db, row(`${tag}-b`, { patientId: patient.id, outcome: 'denied' })),
    ]);
    const [a] = await t.app.ctx.db
      .select()
      .from(auditLog)
      .where(eq(auditLog.requestId, `${tag}-a`));
    expect(a).toMatchObject({
      actorId: doctor.id,
      actorRole: 'doctor',
      patientIds: [patient.id, patient.id],
      details: { count: 2, note: 'x' },
      ip: '10.0.0.1',
      patientId: null,
    });
    const [b] = await t.app.ctx.db
      .select()
      .from(auditLog)
      .where(eq(auditLog.requestId, `${tag}-b`));
    expect(b).toMatchObject({ patientId: patient.id, outcome: 'denied', details: null });
  });

  it('a row the database refuses fails its own writer only', async () => {
    const tag = `batch-${unique()}`;
    const results = await Promise.allSettled([
      writeAuditRow(t.app.ctx.db, row(`${tag}-1`)),
      writeAuditRow(t.app.ctx.db, row(`${tag}-2`, { patientId: 'not-a-uuid' })),
      writeAuditRow(t.app.ctx.db, row(`${tag}-3`)),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    const written = await t.app.ctx.db
      .select({ requestId: auditLog.requestId })
      .from(auditLog)
      .where(inArray(auditLog.requestId, [`${tag}-1`, `${tag}-2`, `${tag}-3`]));
    expect(written.map((r) => r.requestId).sort()).toEqual([`${tag}-1`, `${tag}-3`]);
  });

  it('inside a transaction the row commits or rolls back with it', async () => {
    const tag = `batch-${unique()}`;
    await expect(
      t.app.ctx.db.transaction(async (tx: DbOrTx) => {
        await writeAuditRow(tx, row(`${tag}-rolled-back`));
        throw new Error('change failed');
      }),
    ).rejects.toThrow('change failed');
    const rows = await t.app.ctx.db
      .select()
      .from(auditLog)
      .where(eq(auditLog.requestId, `${tag}-rolled-back`));
    expect(rows).toEqual([]);
  });

  it('50 concurrent patient reads each get their audit row, and the chain verifies', async () => {
    const patient = await newPatient(doctor);
    const reads = await Promise.all(
      Array.from({ length: 50 }, () =>
        t.app.inject({
          method: 'GET',
          url: `/api/v1/patients/${patient.id}`,
          headers: bearer(doctor.accessToken),
        }),
      ),
    );
    expect(reads.map((r) => r.statusCode)).toEqual(reads.map(() => 200));
    const rows = await t.app.ctx.db
      .select({ requestId: auditLog.requestId })
      .from(auditLog)
      .where(sql`${auditLog.patientId} = ${patient.id} and ${auditLog.action} = 'patient.read'`);
    expect(new Set(rows.map((r) => r.requestId)).size).toBe(50);
    await sealAll(t.app.ctx.db);
    const verify = await t.app.inject({
      method: 'GET',
      url: '/api/v1/admin/audit/verify',
      headers: bearer(admin.accessToken),
    });
    expect(verify.json()).toMatchObject({ ok: true });
  });
});
