import { randomUUID } from 'node:crypto';
import { and, asc, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditLog } from '../../../db/schema/audit.js';
import { users } from '../../../db/schema/users.js';
import {
  bearer,
  buildTestApp,
  createUser,
  problemOf,
  testClock,
  unique,
  type TestApp,
  type TestUser,
} from '../../../../test/helpers.js';

/** SECURITY.md: 5 failures in 15 min lock an account; 60 s, doubling, at most 15 min. */

const clock = testClock();
let t: TestApp;
let admin: TestUser;

beforeAll(async () => {
  t = await buildTestApp({}, { clock });
  admin = await createUser(t.app, 'admin');
});
afterAll(async () => {
  await t.close();
});

const second = 1_000;

function login(email: string, password: string, requestId?: string) {
  return t.app.inject({
    method: 'POST',
    url: '/api/v1/auth/login',
    payload: { email, password },
    headers: requestId === undefined ? {} : { 'x-request-id': requestId },
  });
}

async function fail(user: TestUser, times: number): Promise<void> {
  for (let i = 0; i < times; i++) {
    const res = await login(user.email, 'not the password');
    expect(res.statusCode).toBe(401);
  }
}

/** 200 for the right password now, or the generic 401. */
async function rightPassword(user: TestUser): Promise<number> {
  return (await login(user.email, user.password)).statusCode;
}

function unlock(id: string, token = admin.accessToken) {
  return t.app.inject({
    method: 'POST',
    url: `/api/v1/admin/users/${id}/unlock`,
    headers: bearer(token),
  });
}

async function userRow(id: string) {
  const [row] = await t.app.ctx.db.select().from(users).where(eq(users.id, id));
  if (!row) throw new Error('no such user');
  return row;
}

function auditOf(actorId: string, action: string) {
  return t.app.ctx.db
    .select()
    .from(auditLog)
    .where(and(eq(auditLog.actorId, actorId), eq(auditLog.action, action)))
    .orderBy(asc(auditLog.seq));
}

const strip = (body: Record<string, unknown>) => ({ ...body, request_id: undefined });

describe('lockout', () => {
  it('locks after 5 failures: even the right password then gets the generic 401', async () => {
    const user = await createUser(t.app);
    await fail(user, 4);
    // Four are not enough.
    expect(await rightPassword(user)).toBe(200);
    await fail(user, 5);
    const locked = await login(user.email, user.password);
    const wrong = await login(user.email, 'not the password');
    expect(locked.statusCode).toBe(401);
    expect(problemOf(locked).code).toBe('invalid_credentials');
    expect(locked.headers['www-authenticate']).toBe('Bearer');
    // Nothing in the answer tells a locked account from a wrong password.
    expect(strip(locked.json())).toEqual(strip(wrong.json()));
    expect(locked.headers['retry-after']).toBeUndefined();

    const [lock] = await auditOf(user.id, 'auth.lockout');
    expect(lock?.details).toMatchObject({ wait_s: 60, lockout_count: 1 });
    const failures = await auditOf(user.id, 'auth.login');
    expect(failures.filter((r) => r.outcome === 'failure').map((r) => r.details)).toContainEqual({
      reason: 'locked',
    });
  });

  it('a successful login resets the count', async () => {
    const user = await createUser(t.app);
    await fail(user, 4);
    expect(await rightPassword(user)).toBe(200);
    await fail(user, 4);
    expect(await rightPassword(user)).toBe(200);
    expect((await userRow(user.id)).failedLoginCount).toBe(0);
  });

  it('counts failures within 15 minutes only', async () => {
    const user = await createUser(t.app);
    await fail(user, 4);
    clock.advance(15 * 60 * second + second);
    await fail(user, 4);
    expect(await rightPassword(user)).toBe(200);
  });

  it('the first lock lasts 60 s, then each lock doubles the wait, up to 15 min', async () => {
    const user = await createUser(t.app);
    const waits = [60, 120, 240, 480, 900, 900];
    for (const wait of waits) {
      await fail(user, 5);
      clock.advance((wait - 2) * second);
      expect(await rightPassword(user), `still locked before ${wait} s`).toBe(401);
      // No successful login in between (it would reset the doubling): the next round's failures
      // only lock again because this lock has ended.
      clock.advance(3 * second);
    }
    expect(await rightPassword(user)).toBe(200);
    const locks = await auditOf(user.id, 'auth.lockout');
    expect(locks.map((r) => r.details?.wait_s)).toEqual(waits);
  });

  it('a failure during a lock neither counts nor extends it', async () => {
    const user = await createUser(t.app);
    await fail(user, 5);
    clock.advance(30 * second);
    await fail(user, 10);
    clock.advance(31 * second);
    expect(await rightPassword(user)).toBe(200);
    expect((await auditOf(user.id, 'auth.lockout')).length).toBe(1);
  });

  it('parallel failures are all counted (atomic in SQL): 5 at once lock the account', async () => {
    const user = await createUser(t.app);
    const results = await Promise.all(
      Array.from({ length: 5 }, () => login(user.email, 'not the password')),
    );
    expect(results.map((r) => r.statusCode)).toEqual(Array(5).fill(401));
    expect(await rightPassword(user)).toBe(401);
    const row = await userRow(user.id);
    expect(row.lockoutCount).toBe(1);
    expect(row.lockedUntil?.getTime()).toBeGreaterThan(clock.now().getTime());
  });

  it('still verifies the password while locked, so timing does not reveal the lock', async () => {
    const user = await createUser(t.app);
    await fail(user, 5);
    const median = async (attempt: () => Promise<unknown>) => {
      const times: number[] = [];
      for (let i = 0; i < 7; i++) {
        const started = performance.now();
        await attempt();
        times.push(performance.now() - started);
      }
      return times.sort((a, b) => a - b)[3] ?? 0;
    };
    // An unknown account costs one (dummy) Argon2 verification; a locked one must cost as much.
    const unknown = await median(() => login(`${unique('nobody')}@example.test`, 'x-password'));
    const locked = await median(() => login(user.email, user.password));
    expect(locked).toBeGreaterThan(unknown * 0.5);
  });

  it('applies to the OAuth2 form login too', async () => {
    const user = await createUser(t.app);
    await fail(user, 5);
    const form = await t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: new URLSearchParams({
        username: user.username,
        password: user.password,
        grant_type: 'password',
      }).toString(),
    });
    expect(form.statusCode).toBe(401);
  });
});

describe('admin unlock', () => {
  it('releases a lock at once (204), forgets earlier locks, and is audited', async () => {
    const user = await createUser(t.app);
    await fail(user, 5);
    expect(await rightPassword(user)).toBe(401);
    const res = await unlock(user.id);
    expect(res.statusCode).toBe(204);
    expect(await rightPassword(user)).toBe(200);
    const row = await userRow(user.id);
    expect(row).toMatchObject({ lockedUntil: null, lockoutCount: 0, failedLoginCount: 0 });
    // The next lock starts at the base wait again.
    await fail(user, 5);
    clock.advance(61 * second);
    expect(await rightPassword(user)).toBe(200);

    const [audit] = await auditOf(admin.id, 'user.unlock').then((rows) =>
      rows.filter((r) => r.resourceId === user.id),
    );
    expect(audit).toMatchObject({
      actorRole: 'admin',
      resourceType: 'user',
      outcome: 'success',
      details: { was_locked: true },
    });
  });

  it('answers 404 for an unknown account, 400 for a malformed id, 403 to non-admins', async () => {
    expect((await unlock(randomUUID())).statusCode).toBe(404);
    expect((await unlock('not-a-uuid')).statusCode).toBe(400);
    const nurse = await createUser(t.app, 'nurse');
    const forbidden = await unlock(nurse.id, nurse.accessToken);
    expect(forbidden.statusCode).toBe(403);
    expect(problemOf(forbidden).code).toBe('forbidden');
    expect(
      (await t.app.inject({ method: 'POST', url: `/api/v1/admin/users/${nurse.id}/unlock` }))
        .statusCode,
    ).toBe(401);
  });
});

describe('login audit', () => {
  it('records success and failure with the account as actor, never the typed secrets', async () => {
    const user = await createUser(t.app);
    const failId = `req-${unique()}`;
    const okId = `req-${unique()}`;
    expect((await login(user.email, 'Secret-Typo-123', failId)).statusCode).toBe(401);
    expect((await login(user.email, user.password, okId)).statusCode).toBe(200);
    const [failure] = await t.app.ctx.db
      .select()
      .from(auditLog)
      .where(eq(auditLog.requestId, failId));
    const [success] = await t.app.ctx.db
      .select()
      .from(auditLog)
      .where(eq(auditLog.requestId, okId));
    expect(failure).toMatchObject({
      action: 'auth.login',
      outcome: 'failure',
      actorId: user.id,
      actorRole: 'user',
      details: { reason: 'bad_password' },
    });
    expect(success).toMatchObject({
      action: 'auth.login',
      outcome: 'success',
      actorId: user.id,
      resourceType: 'session',
    });
    expect(failure?.ip).toBeTruthy();
    expect(JSON.stringify(failure)).not.toContain('Secret-Typo-123');
    expect(JSON.stringify(failure)).not.toContain(user.email);
  });

  it('records an unknown account with no actor and without the identifier', async () => {
    const email = `${unique('ghost')}@example.test`;
    const requestId = `req-${unique()}`;
    expect((await login(email, 'whatever-password', requestId)).statusCode).toBe(401);
    const rows = await t.app.ctx.db
      .select()
      .from(auditLog)
      .where(eq(auditLog.requestId, requestId));
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      action: 'auth.login',
      outcome: 'failure',
      actorId: null,
      details: { reason: 'unknown_account' },
    });
    expect(JSON.stringify(rows[0])).not.toContain(email);
    expect(JSON.stringify(rows[0])).not.toContain('whatever-password');
  });
});
