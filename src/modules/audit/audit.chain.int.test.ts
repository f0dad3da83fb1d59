import { asc, eq, sql } from 'drizzle-orm';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  bearer,
  buildTestApp,
  createUser,
  unique,
  type TestApp,
  type TestUser,
} from '../../../test/helpers.js';
import { rowsOf, type DbOrTx } from '../../db/client.js';
import { auditLog } from '../../db/schema/audit.js';
import { countUnsealed, verifyChain } from './audit.repository.js';
import { sealPending } from './audit.sealer.js';
import { sealAll } from './audit.test-support.js';

/**
 * The audit trail's integrity (SECURITY.md "Audit and logs", issue 11): rows are written without
 * a global lock, stay append-only sealed or not, and are linked into one hash chain by a sealer,
 * in an order no late commit can break; verify finds tampering with the sealed chain.
 */
let t: TestApp;
let admin: TestUser;
let doctor: TestUser;
let nurse: TestUser;

beforeAll(async () => {
  // A slow timer, so the tests decide when sealing happens (except the one that waits for it).
  t = await buildTestApp({ AUDIT_SEAL_INTERVAL_MS: '60000' });
  [admin, doctor, nurse] = await Promise.all([
    createUser(t.app, 'admin'),
    createUser(t.app, 'doctor'),
    createUser(t.app, 'nurse'),
  ]);
});
afterAll(async () => {
  await t.close();
});

// Several connections at once need PostgreSQL; PGlite has one (those tests are skipped there).
const onPostgres = process.env.TEST_DATABASE_URL !== undefined;

async function newPatient(app = t.app, by = doctor) {
  const res = await app.inject({
    method: 'POST',
    url: '/api/v1/patients',
    headers: bearer(by.accessToken),
    payload: { first_name: 'Ada', last_name: unique('Chain') },
  });
  expect(res.statusCode).toBe(201);
  return res.json<{ id: string }>();
}

async function verify(app = t.app, by = admin) {
  const res = await app.inject({
    method: 'GET',
    url: '/api/v1/admin/audit/verify',
    headers: bearer(by.accessToken),
  });
  expect(res.statusCode).toBe(200);
  return res.json<{
    ok: boolean;
    rows_checked: number;
    pending_rows: number;
    first_broken_seq: number | null;
    reason: string | null;
  }>();
}

const insertRow = (db: DbOrTx, action = 'auth.login') =>
  db.execute(sql`insert into audit_log (action, outcome) values (${action}, 'success')`);

async function seqOfNewest(db: DbOrTx): Promise<number> {
  const [row] = rowsOf<{ seq: string }>(
    await db.execute(sql`select max(seq)::text as seq from audit_log`),
  );
  return Number(row?.seq);
}

async function placeOf(seq: number): Promise<number | null> {
  const [row] = await t.app.ctx.db
    .select({ pos: auditLog.chainPos })
    .from(auditLog)
    .where(eq(auditLog.seq, seq));
  return row?.pos ?? null;
}

describe('the trail is append-only, sealed or not', () => {
  it('the database refuses UPDATE, DELETE and TRUNCATE', async () => {
    await newPatient();
    for (const statement of [
      'update audit_log set outcome = outcome',
      'delete from audit_log',
      'truncate audit_log',
    ]) {
      const failure: unknown = await t.app.ctx.db.execute(sql.raw(statement)).then(
        () => null,
        (error: unknown) => error,
      );
      expect(String((failure as Error | null)?.cause), statement).toMatch(/append-only/);
    }
  });

  it('an unsealed row cannot be changed, nor sealed with changed content', async () => {
    await insertRow(t.app.ctx.db);
    const seq = await seqOfNewest(t.app.ctx.db);
    for (const statement of [
      `update audit_log set outcome = 'failure' where seq = ${seq}`,
      // Sealing is the one change allowed, and only with every other column as it was.
      `update audit_log set chain_pos = 999999, prev_hash = 'x', hash = 'y', outcome = 'failure' where seq = ${seq}`,
      `delete from audit_log where seq = ${seq}`,
    ]) {
      const failure: unknown = await t.app.ctx.db.execute(sql.raw(statement)).then(
        () => null,
        (error: unknown) => error,
      );
      expect(String((failure as Error | null)?.cause), statement).toMatch(/append-only/);
    }
  });

  it('an inserter cannot choose its place or hashes', async () => {
    await t.app.ctx.db.execute(
      sql`insert into audit_log (action, outcome, seq, tx_id, chain_pos, prev_hash, hash)
          values ('auth.login', 'success', 1, 1, 1, 'forged', 'forged')`,
    );
    const seq = await seqOfNewest(t.app.ctx.db);
    const [row] = await t.app.ctx.db.select().from(auditLog).where(eq(auditLog.seq, seq));
    expect(row).toMatchObject({ chainPos: null, prevHash: '', hash: '' });
    expect(row?.seq).toBeGreaterThan(1);
    expect(row?.txId).toBeGreaterThan(1);
  });
});

describe('sealing', () => {
  it('the sealer links rows on its own, within a few of its intervals', async () => {
    const own = await buildTestApp({ AUDIT_SEAL_INTERVAL_MS: '50' });
    try {
      const boss = await createUser(own.app, 'admin');
      await newPatient(own.app, boss);
      const deadline = Date.now() + 5_000;
      while ((await countUnsealed(own.app.ctx.db)) > 0 && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
      expect(await countUnsealed(own.app.ctx.db)).toBe(0);
      expect(await verifyChain(own.app.ctx.db)).toMatchObject({ firstBroken: null });
    } finally {
      await own.close();
    }
  });

  it('verify seals what it can and reports what waits', async () => {
    await newPatient();
    expect(await countUnsealed(t.app.ctx.db)).toBeGreaterThan(0);
    const result = await verify();
    expect(result).toMatchObject({ ok: true, pending_rows: 0, first_broken_seq: null });
    expect(result.rows_checked).toBeGreaterThan(0);
  });

  it('a row of a transaction still open is not sealed, nor anything written after it', async () => {
    // Inside one transaction: its own row is above the horizon (the transaction is open).
    const ownSeq = await t.app.ctx.db.transaction(async (tx) => {
      await insertRow(tx, 'auth.logout');
      expect(await sealPending(tx)).toBe(0);
      return seqOfNewest(tx);
    });
    expect(await placeOf(ownSeq)).toBeNull();
    await sealPending(t.app.ctx.db);
    expect(await placeOf(ownSeq)).not.toBeNull();
  });

  it.skipIf(!onPostgres)(
    'a late commit is sealed after the rows before it, never before a sealed row',
    async () => {
      await sealPending(t.app.ctx.db);
      const early = new pg.Client({ connectionString: t.config.databaseUrl });
      await early.connect();
      try {
        // An early transaction writes its row, then stays open while later ones commit.
        await early.query('begin');
        await early.query(
          `insert into audit_log (action, outcome) values ('auth.login', 'success')`,
        );
        const earlySeq = Number(
          (await early.query<{ seq: string }>('select max(seq)::text as seq from audit_log'))
            .rows[0]?.seq,
        );
        await newPatient();
        const laterSeq = await seqOfNewest(t.app.ctx.db);
        await sealPending(t.app.ctx.db);
        expect(await placeOf(laterSeq)).toBeNull();
        // The early row is not even visible yet; the later one waits behind it.
        expect((await verify()).pending_rows).toBeGreaterThanOrEqual(1);
        await early.query('commit');
        await sealPending(t.app.ctx.db);
        const [earlyPos, laterPos] = [await placeOf(earlySeq), await placeOf(laterSeq)];
        expect(earlyPos).not.toBeNull();
        expect(laterPos).toBeGreaterThan(earlyPos ?? Infinity);
        expect(await verify()).toMatchObject({ ok: true, pending_rows: 0 });
      } finally {
        await early.end();
      }
    },
  );

  it('sealers racing each other form one unbroken chain, each row sealed once', async () => {
    const patient = await newPatient();
    const reads = await Promise.all(
      Array.from({ length: 30 }, () =>
        t.app.inject({
          method: 'GET',
          url: `/api/v1/patients/${patient.id}`,
          headers: bearer(nurse.accessToken),
        }),
      ),
    );
    expect(reads.every((r) => r.statusCode === 200)).toBe(true);
    // Five sealers at once, in small batches: the try-lock lets one work at a time.
    await Promise.all(Array.from({ length: 5 }, () => sealPending(t.app.ctx.db, 7)));
    const result = await verify();
    expect(result).toMatchObject({ ok: true, first_broken_seq: null, pending_rows: 0 });
    expect(result.rows_checked).toBeGreaterThan(30);
    // Small batches: the links across batch boundaries are checked too.
    expect(await verifyChain(t.app.ctx.db, 7)).toEqual({
      rows: result.rows_checked,
      firstBroken: null,
    });
    const [places] = rowsOf<{ rows: string; places: string }>(
      await t.app.ctx.db.execute(
        sql`select count(*)::text as rows, count(distinct chain_pos)::text as places from audit_log`,
      ),
    );
    expect(places?.places).toBe(places?.rows);
  });

  it('refuses to seal under REPEATABLE READ, which could fork the chain', async () => {
    const failure: unknown = await t.app.ctx.db
      .transaction(async (tx) => sealPending(tx), { isolationLevel: 'repeatable read' })
      .then(
        () => null,
        (error: unknown) => error,
      );
    expect(String((failure as Error | null)?.cause)).toMatch(/READ COMMITTED/);
  });
});

describe('no lock on the request path', () => {
  it('writing an audit row takes no advisory lock', async () => {
    const held = await t.app.ctx.db.transaction(async (tx) => {
      await insertRow(tx);
      return rowsOf<{ n: string }>(
        await tx.execute(
          sql`select count(*)::text as n from pg_locks
              where locktype = 'advisory' and pid = pg_backend_pid()`,
        ),
      )[0]?.n;
    });
    expect(held).toBe('0');
  });

  it.skipIf(!onPostgres)('50 concurrent audited writers never wait on one another', async () => {
    const clients = Array.from(
      { length: 50 },
      () => new pg.Client({ connectionString: t.config.databaseUrl }),
    );
    await Promise.all(clients.map((client) => client.connect()));
    try {
      await Promise.all(clients.map((client) => client.query('begin')));
      // Every insert completes while all 50 transactions are still open. With a lock held to
      // commit, the second insert would wait for the first commit, which never comes here.
      const inserted = await Promise.race([
        Promise.all(
          clients.map((client) =>
            client.query(
              `insert into audit_log (action, outcome) values ('patient.read', 'success')`,
            ),
          ),
        ).then(() => true),
        new Promise<false>((resolve) => {
          setTimeout(() => {
            resolve(false);
          }, 5_000);
        }),
      ]);
      expect(inserted).toBe(true);
      await Promise.all(clients.map((client) => client.query('commit')));
    } finally {
      await Promise.all(clients.map((client) => client.end().catch(() => undefined)));
    }
  });

  it.skipIf(!onPostgres)(
    '50 concurrent patient reads answer while another audited transaction stays open',
    async () => {
      const patient = await newPatient();
      const open = new pg.Client({ connectionString: t.config.databaseUrl });
      await open.connect();
      try {
        await open.query('begin');
        await open.query(
          `insert into audit_log (action, outcome) values ('auth.login', 'success')`,
        );
        const reads = await Promise.all(
          Array.from({ length: 50 }, () =>
            t.app.inject({
              method: 'GET',
              url: `/api/v1/patients/${patient.id}`,
              headers: bearer(nurse.accessToken),
            }),
          ),
        );
        expect(reads.map((r) => r.statusCode)).toEqual(Array.from({ length: 50 }, () => 200));
        await open.query('commit');
      } finally {
        await open.end();
      }
      expect(await verify()).toMatchObject({ ok: true, pending_rows: 0 });
    },
  );
});

describe('verify finds tampering with the sealed chain done behind the triggers', () => {
  // Each case gets its own database: a tampered chain stays broken.
  async function tamperedApp(tamper: string) {
    const own = await buildTestApp({ AUDIT_SEAL_INTERVAL_MS: '60000' });
    try {
      const boss = await createUser(own.app, 'admin');
      const { id } = await newPatient(own.app, boss);
      for (let i = 0; i < 3; i++) {
        await own.app.inject({
          method: 'GET',
          url: `/api/v1/patients/${id}`,
          headers: bearer(boss.accessToken),
        });
      }
      // Sealed first: another database's open transaction on a shared server can hold the
      // horizon back for a moment (transaction ids are cluster-wide).
      await sealAll(own.app.ctx.db);
      expect((await verify(own.app, boss)).pending_rows).toBe(0);
      const [target] = await own.app.ctx.db
        .select({ seq: auditLog.seq })
        .from(auditLog)
        .where(eq(auditLog.action, 'patient.read'))
        .orderBy(asc(auditLog.seq))
        .limit(1);
      const seq = target?.seq ?? 0;
      // What an attacker with database access would do: switch the triggers off, then edit.
      await own.app.ctx.db.transaction(async (tx) => {
        await tx.execute(sql`set local session_replication_role = replica`);
        for (const statement of tamper.split(';')) {
          await tx.execute(sql.raw(statement.replaceAll('$SEQ', String(seq))));
        }
      });
      const result = await verify(own.app, boss);
      // The same verdict when the walk crosses batch boundaries on every second row.
      const batched = await verifyChain(own.app.ctx.db, 2);
      return { seq, batched: batched.firstBroken, result };
    } finally {
      await own.close();
    }
  }

  it('a modified row is a hash mismatch at that row', async () => {
    const { seq, result, batched } = await tamperedApp(
      "update audit_log set actor_role = 'guest' where seq = $SEQ",
    );
    expect(result).toMatchObject({ ok: false, first_broken_seq: seq, reason: 'hash_mismatch' });
    expect(batched).toEqual({ seq, reason: 'hash_mismatch' });
  });

  it('a deleted row breaks the link of the row after it', async () => {
    const { seq, result, batched } = await tamperedApp('delete from audit_log where seq = $SEQ');
    expect(result).toMatchObject({ ok: false, first_broken_seq: seq + 1, reason: 'chain_break' });
    expect(batched).toEqual({ seq: seq + 1, reason: 'chain_break' });
  });

  it('a row rewritten with a recomputed hash still breaks the next link', async () => {
    const { seq, result, batched } = await tamperedApp(
      "update audit_log set ip = '10.6.6.6' where seq = $SEQ; update audit_log a set hash = audit_row_hash(a) where seq = $SEQ",
    );
    expect(result).toMatchObject({ ok: false, first_broken_seq: seq + 1, reason: 'chain_break' });
    expect(batched).toEqual({ seq: seq + 1, reason: 'chain_break' });
  });

  it('two rows swapped in the chain break the link at the first of them', async () => {
    const { seq, result, batched } = await tamperedApp(
      'update audit_log set chain_pos = -chain_pos where seq in ($SEQ, $SEQ + 1);' +
        'update audit_log a set chain_pos = (select -b.chain_pos from audit_log b where b.seq = case when a.seq = $SEQ then $SEQ + 1 else $SEQ end) where seq in ($SEQ, $SEQ + 1)',
    );
    // The row now first in the chain is seq + 1, whose prev_hash names another predecessor.
    expect(result).toMatchObject({ ok: false, first_broken_seq: seq + 1, reason: 'chain_break' });
    expect(batched).toEqual({ seq: seq + 1, reason: 'chain_break' });
  });

  it('a forged row inserted into the chain breaks the link of the row after it', async () => {
    // Make room after the target, then insert a row that links correctly to the target and
    // carries a correct hash of its own: only the next row's link can give it away.
    const { seq, result, batched } = await tamperedApp(
      'update audit_log set chain_pos = chain_pos + 1000000 where chain_pos > (select chain_pos from audit_log where seq = $SEQ);' +
        "insert into audit_log (seq, action, outcome, tx_id, chain_pos, prev_hash, hash) select 900000, 'patient.read', 'success', 0, chain_pos + 1, hash, '' from audit_log where seq = $SEQ;" +
        'update audit_log a set hash = audit_row_hash(a) where seq = 900000',
    );
    expect(result).toMatchObject({ ok: false, first_broken_seq: seq + 1, reason: 'chain_break' });
    expect(batched).toEqual({ seq: seq + 1, reason: 'chain_break' });
  });
});
