import bcrypt from 'bcryptjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { and, asc, eq } from 'drizzle-orm';
import { decodeJwt } from 'jose';
import { auditLog } from '../../db/schema/audit.js';
import { users } from '../../db/schema/users.js';
import { findAccount } from '../users/users.service.js';
import { startChallenge } from './mfa-verify.service.js';
import { hashPassword } from './passwords.js';
import { signIn } from './sign-in.js';
import {
  bearer,
  buildTestApp,
  createUser,
  login,
  problemOf,
  strongPassword,
  testClock,
  unique,
  type TestApp,
  type TokenPairBody,
} from '../../../test/helpers.js';

const clock = testClock();
let t: TestApp;

beforeAll(async () => {
  t = await buildTestApp({}, { clock });
});
afterAll(async () => {
  await t.close();
});

function post(url: string, payload: unknown, headers: Record<string, string> = {}) {
  return t.app.inject({
    method: 'POST',
    url: `/api/v1/auth${url}`,
    payload: payload as object,
    headers,
  });
}

function me(token: string) {
  return t.app.inject({ method: 'GET', url: '/api/v1/users/me', headers: bearer(token) });
}

describe('register', () => {
  it('creates a `user` account and never returns the hash', async () => {
    const username = unique();
    const res = await post('/register', {
      email: `${username}@example.test`,
      username,
      password: strongPassword,
      full_name: 'Ada Lovelace',
    });
    expect(res.statusCode).toBe(201);
    const body = res.json<Record<string, unknown>>();
    expect(body).toMatchObject({
      username,
      role: 'user',
      is_active: true,
      full_name: 'Ada Lovelace',
    });
    expect(JSON.stringify(body)).not.toMatch(/hashed|argon|password/i);
  });

  it('refuses a duplicate email or username (case-insensitive) with 409', async () => {
    const username = unique();
    const email = `${username}@example.test`;
    expect(
      (await post('/register', { email, username, password: strongPassword })).statusCode,
    ).toBe(201);
    const again = await post('/register', {
      email: email.toUpperCase(),
      username: unique(),
      password: strongPassword,
    });
    expect(again.statusCode).toBe(409);
    expect(problemOf(again).code).toBe('conflict');
    const sameName = await post('/register', {
      email: `${unique()}@example.test`,
      username: username.toUpperCase(),
      password: strongPassword,
    });
    expect(sameName.statusCode).toBe(409);
  });

  it('rejects common, short and over-long passwords', async () => {
    for (const password of ['password123', 'qwertyuiop', 'short', 'x'.repeat(129)]) {
      const username = unique();
      const res = await post('/register', {
        email: `${username}@example.test`,
        username,
        password,
      });
      expect(res.statusCode, password).toBe(400);
      expect(problemOf(res).errors?.[0]?.field).toBe('body.password');
    }
  });

  it('accepts a 128-character password without truncating it', async () => {
    const username = unique();
    const email = `${username}@example.test`;
    const password = 'p'.repeat(100) + 'q'.repeat(28);
    expect((await post('/register', { email, username, password })).statusCode).toBe(201);
    // A password differing only after character 72 (bcrypt's limit) must not log in.
    const almost = 'p'.repeat(100) + 'q'.repeat(27) + 'r';
    expect((await post('/login', { email, password: almost })).statusCode).toBe(401);
    expect((await post('/login', { email, password })).statusCode).toBe(200);
  });

  it('is refused with 403 when registration is closed', async () => {
    const closed = await buildTestApp({ REGISTRATION_MODE: 'closed' });
    try {
      const username = unique();
      const res = await closed.app.inject({
        method: 'POST',
        url: '/api/v1/auth/register',
        payload: { email: `${username}@example.test`, username, password: strongPassword },
      });
      expect(res.statusCode).toBe(403);
    } finally {
      await closed.close();
    }
  });
});

describe('login', () => {
  it('accepts JSON with email or username, and the OAuth2 password form', async () => {
    const user = await createUser(t.app);
    const byEmail = await post('/login', { email: user.email, password: user.password });
    expect(byEmail.statusCode).toBe(200);
    expect(byEmail.json()).toMatchObject({ token_type: 'bearer', expires_in: 900 });
    const byUsername = await post('/login', { username: user.username, password: user.password });
    expect(byUsername.statusCode).toBe(200);
    const form = await t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: new URLSearchParams({
        username: user.email,
        password: user.password,
        grant_type: 'password',
      }).toString(),
    });
    expect(form.statusCode).toBe(200);
    const pair = form.json<TokenPairBody>();
    expect(pair.refresh_expires_in).toBeGreaterThan(13 * 86_400);
    expect((await me(pair.access_token)).json()).toMatchObject({ id: user.id });
  });

  it('answers an unknown account exactly like a wrong password', async () => {
    const user = await createUser(t.app);
    const wrong = await post('/login', { email: user.email, password: 'not the password' });
    const unknown = await post('/login', {
      email: `${unique()}@example.test`,
      password: 'whatever1',
    });
    expect(wrong.statusCode).toBe(401);
    expect(unknown.statusCode).toBe(401);
    const strip = (body: Record<string, unknown>) => ({ ...body, request_id: undefined });
    expect(strip(wrong.json())).toEqual(strip(unknown.json()));
    expect(wrong.headers['www-authenticate']).toBe('Bearer');
  });

  it('refuses a deactivated account with the same generic 401', async () => {
    const user = await createUser(t.app);
    await t.app.ctx.db.update(users).set({ isActive: false }).where(eq(users.id, user.id));
    const res = await post('/login', { email: user.email, password: user.password });
    expect(res.statusCode).toBe(401);
    expect(problemOf(res).code).toBe('invalid_credentials');
  });

  it('needs an email or a username (400), and rejects form bodies elsewhere (415)', async () => {
    expect((await post('/login', { password: 'abcdefgh' })).statusCode).toBe(400);
    const form = await t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/register',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: 'email=a%40b.co&username=abc&password=abcdefghij',
    });
    expect(form.statusCode).toBe(415);
  });

  it('verifies a legacy bcrypt hash and re-hashes it to Argon2id', async () => {
    const user = await createUser(t.app);
    const legacy = await bcrypt.hash('legacy password 1', 10);
    await t.app.ctx.db.update(users).set({ hashedPassword: legacy }).where(eq(users.id, user.id));
    expect(
      (await post('/login', { email: user.email, password: 'legacy password 1' })).statusCode,
    ).toBe(200);
    const [row] = await t.app.ctx.db.select().from(users).where(eq(users.id, user.id));
    expect(row?.hashedPassword).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
    expect(
      (await post('/login', { email: user.email, password: 'legacy password 1' })).statusCode,
    ).toBe(200);
  });
});

describe('legacy re-hash racing a password change', () => {
  // A login verifies the old bcrypt hash, then (while it re-hashes) a reset or change commits a
  // new password: the login's re-hash of the OLD password must not overwrite the new hash.
  const meta = { requestId: 'rehash-race', ip: '127.0.0.1', userAgent: undefined };

  async function legacyUserReadThenChanged() {
    const user = await createUser(t.app);
    const legacy = await bcrypt.hash('legacy password 1', 4);
    await t.app.ctx.db.update(users).set({ hashedPassword: legacy }).where(eq(users.id, user.id));
    const stale = await findAccount(t.app.ctx, user.id);
    if (!stale) throw new Error('no such user');
    const rehashed = await hashPassword('legacy password 1');
    const current = await hashPassword('the new password 22');
    await t.app.ctx.db.update(users).set({ hashedPassword: current }).where(eq(users.id, user.id));
    return { user, stale, rehashed, current };
  }

  async function storedHash(id: string) {
    const [row] = await t.app.ctx.db.select().from(users).where(eq(users.id, id));
    return row?.hashedPassword;
  }

  it('password-only login: the re-hash is skipped, the new password stays', async () => {
    const { user, stale, rehashed, current } = await legacyUserReadThenChanged();
    const pair = await t.app.ctx.db.transaction((tx) =>
      signIn(t.app.ctx, tx, stale, meta, { action: 'auth.login', rehashed }),
    );
    expect(pair).not.toBeNull();
    expect(await storedHash(user.id)).toBe(current);
    expect(
      (await post('/login', { email: user.email, password: 'legacy password 1' })).statusCode,
    ).toBe(401);
    expect(
      (await post('/login', { email: user.email, password: 'the new password 22' })).statusCode,
    ).toBe(200);
  });

  it('MFA password step: the re-hash is skipped, the new password stays', async () => {
    const { user, stale, rehashed, current } = await legacyUserReadThenChanged();
    await startChallenge(t.app.ctx, stale, meta, rehashed);
    expect(await storedHash(user.id)).toBe(current);
  });

  it('without a race the re-hash is still stored (both paths)', async () => {
    const user = await createUser(t.app);
    const legacy = await bcrypt.hash('legacy password 1', 4);
    await t.app.ctx.db.update(users).set({ hashedPassword: legacy }).where(eq(users.id, user.id));
    const fresh = await findAccount(t.app.ctx, user.id);
    if (!fresh) throw new Error('no such user');
    const rehashed = await hashPassword('legacy password 1');
    await startChallenge(t.app.ctx, fresh, meta, rehashed);
    expect(await storedHash(user.id)).toBe(rehashed);
  });
});

describe('refresh', () => {
  it('rotates: a new pair, the old token spent', async () => {
    const user = await createUser(t.app);
    const res = await post('/refresh', { refresh_token: user.refreshToken });
    expect(res.statusCode).toBe(200);
    const pair = res.json<TokenPairBody>();
    expect(pair.refresh_token).not.toBe(user.refreshToken);
    expect((await me(pair.access_token)).statusCode).toBe(200);
    const next = await post('/refresh', { refresh_token: pair.refresh_token });
    expect(next.statusCode).toBe(200);
  });

  it('returns the identical pair for a replay within the grace window', async () => {
    const user = await createUser(t.app);
    const first = await post('/refresh', { refresh_token: user.refreshToken });
    const replay = await post('/refresh', { refresh_token: user.refreshToken });
    expect(replay.statusCode).toBe(200);
    expect(replay.json()).toEqual(first.json());
  });

  it('revokes the whole family when a spent token comes back after the grace', async () => {
    const user = await createUser(t.app);
    const first = (
      await post('/refresh', { refresh_token: user.refreshToken })
    ).json<TokenPairBody>();
    clock.advance(11_000);
    const replay = await post('/refresh', { refresh_token: user.refreshToken });
    expect(replay.statusCode).toBe(401);
    // The successor, and the access token issued with it, die with the family.
    expect((await post('/refresh', { refresh_token: first.refresh_token })).statusCode).toBe(401);
    expect((await me(first.access_token)).statusCode).toBe(401);
    expect((await me(user.accessToken)).statusCode).toBe(401);
  });

  it('10 parallel refreshes of one token produce exactly one rotation', async () => {
    const user = await createUser(t.app);
    const results = await Promise.all(
      Array.from({ length: 10 }, () => post('/refresh', { refresh_token: user.refreshToken })),
    );
    expect(results.map((r) => r.statusCode)).toEqual(Array(10).fill(200));
    const tokens = new Set(results.map((r) => r.json<TokenPairBody>().refresh_token));
    expect(tokens.size).toBe(1);
    const [only] = [...tokens];
    expect((await post('/refresh', { refresh_token: only })).statusCode).toBe(200);
  });

  it('expires after 14 idle days (sliding) and 30 days in all (absolute)', async () => {
    const day = 86_400_000;
    const idle = await createUser(t.app);
    clock.advance(15 * day);
    expect((await post('/refresh', { refresh_token: idle.refreshToken })).statusCode).toBe(401);

    const active = await createUser(t.app);
    let token = active.refreshToken;
    for (let i = 0; i < 2; i++) {
      clock.advance(10 * day);
      const res = await post('/refresh', { refresh_token: token });
      expect(res.statusCode).toBe(200);
      const pair = res.json<TokenPairBody>();
      token = pair.refresh_token;
      // The last token of a family never outlives the family's absolute end.
      expect(pair.refresh_expires_in).toBeLessThanOrEqual(30 * 86_400 - (i + 1) * 10 * 86_400);
    }
    clock.advance(10 * day + 1_000);
    expect((await post('/refresh', { refresh_token: token })).statusCode).toBe(401);
  });

  it('refuses unknown tokens and malformed bodies', async () => {
    expect((await post('/refresh', { refresh_token: 'nope' })).statusCode).toBe(401);
    expect((await post('/refresh', {})).statusCode).toBe(400);
    expect((await post('/refresh', { refresh_token: 42 })).statusCode).toBe(400);
  });
});

describe('logout and sessions', () => {
  it('logout revokes this session: access and refresh tokens stop working', async () => {
    const user = await createUser(t.app);
    const other = await login(t.app, user.email, user.password);
    const res = await post('/logout', undefined, bearer(user.accessToken));
    expect(res.statusCode).toBe(204);
    expect((await me(user.accessToken)).statusCode).toBe(401);
    expect((await post('/refresh', { refresh_token: user.refreshToken })).statusCode).toBe(401);
    // The other session is untouched.
    expect((await me(other.access_token)).statusCode).toBe(200);
  });

  it('logout-all revokes every session of the user', async () => {
    const user = await createUser(t.app);
    const other = await login(t.app, user.email, user.password);
    expect((await post('/logout-all', undefined, bearer(user.accessToken))).statusCode).toBe(204);
    expect((await me(user.accessToken)).statusCode).toBe(401);
    expect((await me(other.access_token)).statusCode).toBe(401);
  });

  it('lists live sessions and revokes one by id; others’ ids are 404', async () => {
    const user = await createUser(t.app);
    const second = await login(t.app, user.email, user.password);
    const list = await t.app.inject({
      method: 'GET',
      url: '/api/v1/auth/sessions',
      headers: { ...bearer(user.accessToken), 'user-agent': 'vitest' },
    });
    expect(list.statusCode).toBe(200);
    const body = list.json<{ items: { id: string; current: boolean }[]; next_cursor: null }>();
    expect(body.items).toHaveLength(2);
    expect(body.next_cursor).toBeNull();
    const secondSid = body.items.find((s) => !s.current)?.id ?? '';
    const stranger = await createUser(t.app);
    const foreign = await t.app.inject({
      method: 'DELETE',
      url: `/api/v1/auth/sessions/${secondSid}`,
      headers: bearer(stranger.accessToken),
    });
    expect(foreign.statusCode).toBe(404);
    const revoke = await t.app.inject({
      method: 'DELETE',
      url: `/api/v1/auth/sessions/${secondSid}`,
      headers: bearer(user.accessToken),
    });
    expect(revoke.statusCode).toBe(204);
    expect((await me(second.access_token)).statusCode).toBe(401);
    expect((await me(user.accessToken)).statusCode).toBe(200);
  });
});

describe('password change', () => {
  it('needs the current password, ends other sessions, keeps this one', async () => {
    const user = await createUser(t.app);
    const other = await login(t.app, user.email, user.password);
    const wrong = await post(
      '/password/change',
      { current_password: 'wrong one!', new_password: 'a brand new phrase' },
      bearer(user.accessToken),
    );
    expect(wrong.statusCode).toBe(400);
    const common = await post(
      '/password/change',
      { current_password: user.password, new_password: 'password1' },
      bearer(user.accessToken),
    );
    expect(common.statusCode).toBe(400);
    const ok = await post(
      '/password/change',
      { current_password: user.password, new_password: 'a brand new phrase' },
      bearer(user.accessToken),
    );
    expect(ok.statusCode).toBe(204);
    expect((await me(user.accessToken)).statusCode).toBe(200);
    expect((await me(other.access_token)).statusCode).toBe(401);
    expect((await post('/login', { email: user.email, password: user.password })).statusCode).toBe(
      401,
    );
    expect(
      (await post('/login', { email: user.email, password: 'a brand new phrase' })).statusCode,
    ).toBe(200);
  });
});

describe('audit trail of auth events', () => {
  function auditBy(actorId: string) {
    return t.app.ctx.db
      .select()
      .from(auditLog)
      .where(eq(auditLog.actorId, actorId))
      .orderBy(asc(auditLog.seq));
  }

  it('records register, login, refresh, session revoke, logout and logout-all', async () => {
    const username = unique();
    const requestId = `req-${unique()}`;
    const created = await post(
      '/register',
      { email: `${username}@example.test`, username, password: strongPassword },
      { 'x-request-id': requestId },
    );
    expect(created.statusCode).toBe(201);
    const id = created.json<{ id: string }>().id;
    const first = await login(t.app, `${username}@example.test`, strongPassword);
    const second = await login(t.app, username, strongPassword);
    const rotated = (
      await post('/refresh', { refresh_token: first.refresh_token })
    ).json<TokenPairBody>();
    const secondSid = decodeJwt(second.access_token).sid as string;
    const revoke = await t.app.inject({
      method: 'DELETE',
      url: `/api/v1/auth/sessions/${secondSid}`,
      headers: bearer(rotated.access_token),
    });
    expect(revoke.statusCode).toBe(204);
    const third = await login(t.app, username, strongPassword);
    expect((await post('/logout', undefined, bearer(third.access_token))).statusCode).toBe(204);
    expect((await post('/logout-all', undefined, bearer(rotated.access_token))).statusCode).toBe(
      204,
    );

    const rows = await auditBy(id);
    expect(rows.map((r) => r.action)).toEqual([
      'auth.register',
      'auth.login',
      'auth.login',
      'auth.refresh',
      'auth.session_revoke',
      'auth.login',
      'auth.logout',
      'auth.logout_all',
    ]);
    expect(rows.every((r) => r.outcome === 'success' && r.actorRole === 'user')).toBe(true);
    expect(rows[0]).toMatchObject({ requestId, resourceType: 'user', resourceId: id });
    expect(rows[4]).toMatchObject({ resourceType: 'session', resourceId: secondSid });
    expect(rows[7]?.details).toEqual({ sessions_ended: 1 });
    const dump = JSON.stringify(rows);
    for (const secret of [strongPassword, first.refresh_token, rotated.access_token]) {
      expect(dump).not.toContain(secret);
    }
  });

  it('records password changes, failed ones included, and refused refreshes', async () => {
    const user = await createUser(t.app);
    await post(
      '/password/change',
      { current_password: 'wrong one!', new_password: 'another fine phrase' },
      bearer(user.accessToken),
    );
    await post(
      '/password/change',
      { current_password: user.password, new_password: 'another fine phrase' },
      bearer(user.accessToken),
    );
    await post('/logout', undefined, bearer(user.accessToken));
    expect((await post('/refresh', { refresh_token: user.refreshToken })).statusCode).toBe(401);
    const changes = await t.app.ctx.db
      .select()
      .from(auditLog)
      .where(and(eq(auditLog.actorId, user.id), eq(auditLog.action, 'auth.password_change')))
      .orderBy(asc(auditLog.seq));
    expect(changes.map((r) => [r.outcome, r.details])).toEqual([
      ['failure', { reason: 'bad_password' }],
      ['success', { sessions_ended: 0 }],
    ]);
    const refused = await t.app.ctx.db
      .select()
      .from(auditLog)
      .where(and(eq(auditLog.actorId, user.id), eq(auditLog.action, 'auth.refresh')));
    expect(refused.map((r) => [r.outcome, r.details])).toEqual([
      ['failure', { reason: 'session_revoked' }],
    ]);
  });
});
