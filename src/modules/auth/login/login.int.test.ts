import bcrypt from 'bcryptjs';
import { describe, expect, it } from 'vitest';
import { eq } from 'drizzle-orm';
import { users } from '../../../db/schema/users.js';
import { findAccount } from '../../users/users.service.js';
import { startChallenge } from '../mfa/mfa-verify.service.js';
import { hashPassword } from '../../../lib/passwords.js';
import { signIn } from './sign-in.js';
import {
  buildTestApp,
  createUser,
  problemOf,
  strongPassword,
  unique,
  type TokenPairBody,
} from '../../../../test/helpers.js';
import { t, useAuthApp, post, me } from '../auth.test-support.js';

useAuthApp();

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
