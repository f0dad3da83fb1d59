import { describe, expect, it } from 'vitest';
import { and, asc, eq } from 'drizzle-orm';
import { decodeJwt } from 'jose';
import { auditLog } from '../../../db/schema/audit.js';
import {
  bearer,
  createUser,
  login,
  strongPassword,
  unique,
  type TokenPairBody,
} from '../../../../test/helpers.js';
import { clock, t, useAuthApp, post, me } from '../auth.test-support.js';

useAuthApp();

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
