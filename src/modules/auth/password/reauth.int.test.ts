import { and, asc, eq } from 'drizzle-orm';
import { Secret, TOTP } from 'otpauth';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditLog } from '../../../db/schema/audit.js';
import { users } from '../../../db/schema/users.js';
import {
  api,
  buildTestApp,
  createUser,
  problemOf,
  testClock,
  unique,
  type ApiResponse,
  type TestApp,
  type TestUser,
} from '../../../../test/helpers.js';

/**
 * Re-authentication inside a session (SECURITY.md lockout): every check of the current password
 * (email change, password change, MFA setup and disable) counts a wrong password toward the
 * account's lockout exactly like a failed login, and audits it.
 */

const clock = testClock();
let t: TestApp;

beforeAll(async () => {
  t = await buildTestApp({}, { clock });
});
afterAll(async () => {
  await t.close();
});

const second = 1_000;
const wrong = 'not the password at all';

function login(user: TestUser, password = user.password) {
  return api(t.app).post('/auth/login', { email: user.email, password });
}

async function userRow(id: string) {
  const [row] = await t.app.ctx.db.select().from(users).where(eq(users.id, id));
  if (!row) throw new Error('no such user');
  return row;
}

function auditOf(userId: string, action: string) {
  return t.app.ctx.db
    .select()
    .from(auditLog)
    .where(and(eq(auditLog.actorId, userId), eq(auditLog.action, action)))
    .orderBy(asc(auditLog.seq));
}

/** Asserts the generic 401 that login answers for a locked account (and a wrong password). */
function expectRefusedLogin(res: ApiResponse): void {
  expect(res.statusCode).toBe(401);
  expect(problemOf(res).code).toBe('invalid_credentials');
}

async function enrolTotp(user: TestUser): Promise<void> {
  const client = api(t.app).as(user);
  const setup = await client.post('/auth/mfa/totp/setup', { password: user.password });
  expect(setup.statusCode, setup.body).toBe(200);
  const { secret } = setup.json<{ secret: string }>();
  const code = new TOTP({ secret: Secret.fromBase32(secret) }).generate({
    timestamp: clock.now().getTime(),
  });
  const enable = await client.post('/auth/mfa/totp/enable', { code });
  expect(enable.statusCode, enable.body).toBe(200);
}

function changeEmail(user: TestUser, currentPassword?: string) {
  return api(t.app)
    .as(user)
    .patch('/users/me', {
      email: `${unique('moved')}@example.test`,
      ...(currentPassword === undefined ? {} : { current_password: currentPassword }),
    });
}

describe('PATCH /users/me: the current password for an email change', () => {
  it('five wrong current passwords lock the account: login is then refused as locked', async () => {
    const user = await createUser(t.app, 'receptionist');
    for (let i = 0; i < 5; i++) {
      const res = await changeEmail(user, wrong);
      expect(res.statusCode).toBe(400);
      // The answer is unchanged: the same field error as before the lockout counted.
      expect(problemOf(res)).toMatchObject({
        code: 'validation_failed',
        detail: 'Changing the email needs your current password',
        errors: [{ field: 'body.current_password', message: 'missing or incorrect' }],
      });
    }
    const row = await userRow(user.id);
    expect(row.lockedUntil?.getTime()).toBeGreaterThan(clock.now().getTime());
    expect(row.email).toBe(user.email);

    // Locked exactly as after five failed logins: even the right password gets the generic 401.
    const refused = await login(user);
    expectRefusedLogin(refused);
    const logins = await auditOf(user.id, 'auth.login');
    expect(logins.map((r) => [r.outcome, r.details])).toContainEqual([
      'failure',
      { reason: 'locked' },
    ]);

    // Audited: five refusals under the change's action, then the lockout (60 s, the first).
    const failures = await auditOf(user.id, 'user.update');
    expect(failures.map((r) => [r.outcome, r.resourceId, r.details])).toEqual(
      Array(5).fill(['failure', user.id, { fields: 'email', reason: 'bad_password' }]),
    );
    const locks = await auditOf(user.id, 'auth.lockout');
    expect(locks).toHaveLength(1);
    expect(locks[0]).toMatchObject({
      resourceType: 'user',
      resourceId: user.id,
      details: { wait_s: 60, lockout_count: 1 },
    });
    expect(JSON.stringify([...failures, ...locks])).not.toContain(wrong);
  });

  it('while locked, the right current password is refused too; after the wait it works', async () => {
    const user = await createUser(t.app, 'user');
    for (let i = 0; i < 5; i++) expect((await changeEmail(user, wrong)).statusCode).toBe(400);

    const during = await changeEmail(user, user.password);
    expect(during.statusCode).toBe(400);
    expect(problemOf(during).errors?.[0]?.field).toBe('body.current_password');
    expect((await userRow(user.id)).email).toBe(user.email);
    const reasons = (await auditOf(user.id, 'user.update')).map((r) => r.details?.reason);
    expect(reasons.at(-1)).toBe('locked');
    // A refusal during the lock neither counts nor extends it.
    expect(await auditOf(user.id, 'auth.lockout')).toHaveLength(1);

    clock.advance(61 * second);
    const after = await changeEmail(user, user.password);
    expect(after.statusCode, after.body).toBe(200);
    expect(
      (await login({ ...user, email: after.json<{ email: string }>().email })).statusCode,
    ).toBe(200);
  });

  it('shares the counter with login: four wrong current passwords and one failed login lock', async () => {
    const user = await createUser(t.app, 'user');
    for (let i = 0; i < 4; i++) expect((await changeEmail(user, wrong)).statusCode).toBe(400);
    expect((await userRow(user.id)).failedLoginCount).toBe(4);
    expectRefusedLogin(await login(user, wrong));
    expectRefusedLogin(await login(user));
    expect(await auditOf(user.id, 'auth.lockout')).toHaveLength(1);
  });

  it('a missing current password is refused and audited but not counted: nothing was guessed', async () => {
    const user = await createUser(t.app, 'user');
    for (let i = 0; i < 5; i++) {
      const res = await changeEmail(user);
      expect(res.statusCode).toBe(400);
      expect(problemOf(res).errors?.[0]?.field).toBe('body.current_password');
    }
    expect((await userRow(user.id)).failedLoginCount).toBe(0);
    expect((await login(user)).statusCode).toBe(200);
    const reasons = (await auditOf(user.id, 'user.update')).map((r) => r.details?.reason);
    expect(reasons).toEqual(Array(5).fill('missing_password'));
  });
});

describe('every other in-session password check counts toward the lockout too', () => {
  const sites: {
    name: string;
    action: string;
    field: string;
    prepare?: (user: TestUser) => Promise<void>;
    send: (user: TestUser, password: string) => Promise<ApiResponse>;
  }[] = [
    {
      name: 'POST /auth/password/change',
      action: 'auth.password_change',
      field: 'body.current_password',
      send: (user, password) =>
        api(t.app).as(user).post('/auth/password/change', {
          current_password: password,
          new_password: 'a brand new passphrase 7',
        }),
    },
    {
      name: 'POST /auth/mfa/totp/setup',
      action: 'auth.mfa_setup',
      field: 'body.password',
      send: (user, password) => api(t.app).as(user).post('/auth/mfa/totp/setup', { password }),
    },
    {
      name: 'POST /auth/mfa/totp/disable',
      action: 'auth.mfa_disable',
      field: 'body.password',
      prepare: enrolTotp,
      send: (user, password) =>
        api(t.app).as(user).post('/auth/mfa/totp/disable', { password, code: '000000' }),
    },
  ];

  for (const site of sites) {
    it(`${site.name}: one wrong password counts and is audited; five lock the account`, async () => {
      const user = await createUser(t.app, 'doctor');
      await site.prepare?.(user);
      const first = await site.send(user, wrong);
      expect(first.statusCode, first.body).toBe(400);
      expect(problemOf(first).errors?.[0]).toEqual({ field: site.field, message: 'is incorrect' });
      expect((await userRow(user.id)).failedLoginCount).toBe(1);

      for (let i = 0; i < 4; i++) expect((await site.send(user, wrong)).statusCode).toBe(400);
      expectRefusedLogin(await login(user));
      const failures = (await auditOf(user.id, site.action)).filter((r) => r.outcome === 'failure');
      expect(failures.map((r) => [r.resourceId, r.details])).toEqual(
        Array(5).fill([user.id, { reason: 'bad_password' }]),
      );
      const locks = await auditOf(user.id, 'auth.lockout');
      expect(locks.map((r) => r.details)).toMatchObject([{ wait_s: 60, lockout_count: 1 }]);
    });
  }
});
