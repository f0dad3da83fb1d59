import { and, desc, eq } from 'drizzle-orm';
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditLog } from '../../../db/schema/audit.js';
import { refreshTokens } from '../../../db/schema/sessions.js';
import { sha256Hex } from '../../../lib/crypto.js';
import {
  api,
  buildTestApp,
  createUser,
  problemOf,
  testClock,
  type TestApp,
  type TestUser,
} from '../../../../test/helpers.js';
import type { ConsoleSession } from './console.schemas.js';
import {
  CSRF,
  REFRESH,
  REFRESH_PATH,
  consoleCookies,
  consolePost,
  expectCleared,
  expectNoRefreshTokenIn,
  setCookies,
} from './console.test-support.js';

/**
 * The staff console's cookie sessions (POST /auth/console/login|refresh|logout): the refresh
 * token only ever in an HttpOnly cookie, the CSRF header on everything that spends or ends it,
 * and the rotation rules of /auth/refresh through the cookie. The MFA path is in
 * console.mfa.int.test.ts.
 */
const clock = testClock();
let t: TestApp;
let doctor: TestUser;

beforeAll(async () => {
  t = await buildTestApp({}, { clock });
  doctor = await createUser(t.app, 'doctor');
});
afterAll(async () => {
  await t.close();
});

function signIn(user: TestUser = doctor) {
  return consolePost(t.app, 'login', { body: { email: user.email, password: user.password } });
}

async function session(user: TestUser = doctor) {
  const res = await signIn(user);
  expect(res.statusCode, res.body).toBe(200);
  return { ...consoleCookies(res), body: res.json<ConsoleSession>() };
}

function me(accessToken: string) {
  return api(t.app).as(accessToken).get('/users/me');
}

async function spentAt(refresh: string) {
  const [row] = await t.app.ctx.db
    .select({ spentAt: refreshTokens.spentAt })
    .from(refreshTokens)
    .where(eq(refreshTokens.tokenHash, sha256Hex(refresh)));
  return row?.spentAt;
}

async function lastAudit(userId: string, action: string) {
  const [row] = await t.app.ctx.db
    .select()
    .from(auditLog)
    .where(and(eq(auditLog.actorId, userId), eq(auditLog.action, action)))
    .orderBy(desc(auditLog.seq))
    .limit(1);
  return row;
}

describe('POST /auth/console/login', () => {
  it('answers the access token and the user, and sets the refresh and CSRF cookies', async () => {
    const res = await signIn();
    expect(res.statusCode, res.body).toBe(200);
    expect(res.headers['cache-control']).toBe('no-store');
    const body = res.json<ConsoleSession>();
    expect(Object.keys(body).sort()).toEqual(['access_token', 'expires_in', 'token_type', 'user']);
    expect(body).toMatchObject({ token_type: 'bearer', expires_in: 900 });
    expect(body.user).toEqual({
      id: doctor.id,
      email: doctor.email,
      username: doctor.username,
      role: 'doctor',
    });
    expect((await me(body.access_token)).statusCode).toBe(200);

    const cookies = setCookies(res);
    const refresh = cookies.get(REFRESH);
    expect(refresh?.value).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(Object.fromEntries(refresh?.attributes ?? [])).toMatchObject({
      httponly: '',
      secure: '',
      samesite: 'Strict',
      path: REFRESH_PATH,
    });
    // The refresh token's lifetime (14 days), counted down from its issue a moment ago.
    const maxAge = Number(refresh?.attributes.get('max-age'));
    expect(maxAge).toBeGreaterThan(t.config.refreshTokenTtlS - 10);
    expect(maxAge).toBeLessThanOrEqual(t.config.refreshTokenTtlS);
    const csrf = cookies.get(CSRF);
    expect(csrf?.value).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(Object.fromEntries(csrf?.attributes ?? [])).toMatchObject({
      secure: '',
      samesite: 'Strict',
      path: '/',
      'max-age': String(maxAge),
    });
    // The page must read the CSRF token; it must never read the refresh token.
    expect(csrf?.attributes.has('httponly')).toBe(false);
    expectNoRefreshTokenIn(res, refresh?.value);
    // The CSRF token is the session's own.
    const sid = decodeJwt(body.access_token).sid as string;
    expect(t.app.ctx.csrf.matches(sid, csrf?.value)).toBe(true);
  });

  it('refuses a wrong password like /auth/login (401, audited) and sets no cookie', async () => {
    const res = await consolePost(t.app, 'login', {
      body: { email: doctor.email, password: 'not the password' },
    });
    expect(res.statusCode).toBe(401);
    expect(problemOf(res).code).toBe('invalid_credentials');
    expect(res.headers['set-cookie']).toBeUndefined();
    const row = await lastAudit(doctor.id, 'auth.login');
    expect(row).toMatchObject({ outcome: 'failure', details: { reason: 'bad_password' } });
  });

  it('takes a username too, and JSON only (the OAuth2 form is for Swagger UI)', async () => {
    const byName = await consolePost(t.app, 'login', {
      body: { username: doctor.username, password: doctor.password },
    });
    expect(byName.statusCode, byName.body).toBe(200);
    const form = await t.app.inject({
      method: 'POST',
      url: `${REFRESH_PATH}/login`,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: `username=${doctor.username}&password=${encodeURIComponent(doctor.password)}`,
    });
    expect(form.statusCode).toBe(415);
    expect(problemOf(form).code).toBe('unsupported_media_type');
    const empty = await consolePost(t.app, 'login', { body: {} });
    expect(empty.statusCode).toBe(400);
  });
});

describe('POST /auth/console/refresh', () => {
  it('rotates the cookie for a new access token, keeping the session and its CSRF token', async () => {
    const first = await session();
    const res = await consolePost(t.app, 'refresh', { refresh: first.refresh, csrf: first.csrf });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.headers['cache-control']).toBe('no-store');
    const next = consoleCookies(res);
    expect(next.refresh).not.toBe(first.refresh);
    expect(next.csrf).toBe(first.csrf);
    expectNoRefreshTokenIn(res, next.refresh);
    const body = res.json<ConsoleSession>();
    expect(body.user.id).toBe(doctor.id);
    expect(decodeJwt(body.access_token).sid).toBe(decodeJwt(first.body.access_token).sid);
    expect((await me(body.access_token)).statusCode).toBe(200);
    expect(await spentAt(first.refresh)).toBeInstanceOf(Date);
    expect(await lastAudit(doctor.id, 'auth.refresh')).toMatchObject({ outcome: 'success' });
  });

  it('is 403 without the CSRF header, or with another value, and rotates nothing', async () => {
    const mine = await session();
    const other = await session();
    const forged = (mine.csrf.startsWith('A') ? 'B' : 'A') + mine.csrf.slice(1);
    for (const csrf of [undefined, '', other.csrf, forged]) {
      // The CSRF cookie alone does not count: the header is what a foreign page cannot send.
      const res = await consolePost(t.app, 'refresh', {
        refresh: mine.refresh,
        csrfCookie: mine.csrf,
        ...(csrf === undefined ? {} : { csrf }),
      });
      expect(res.statusCode, String(csrf)).toBe(403);
      expect(problemOf(res).code).toBe('csrf_failed');
      expect(res.headers['set-cookie']).toBeUndefined();
      expectNoRefreshTokenIn(res, mine.refresh);
    }
    expect(await spentAt(mine.refresh)).toBeNull();
    expect(await lastAudit(doctor.id, 'auth.refresh')).toMatchObject({
      outcome: 'failure',
      details: { reason: 'csrf_mismatch' },
    });
    // Still the live token: it rotates once the header is right.
    const res = await consolePost(t.app, 'refresh', { refresh: mine.refresh, csrf: mine.csrf });
    expect(res.statusCode, res.body).toBe(200);
  });

  it('is 401 without the cookie, or with one that is not ours, and clears both cookies', async () => {
    const { csrf } = await session();
    for (const refresh of [undefined, '', 'x'.repeat(43), 'y'.repeat(500)]) {
      const res = await consolePost(t.app, 'refresh', {
        csrf,
        ...(refresh === undefined ? {} : { refresh }),
      });
      expect(res.statusCode, String(refresh)).toBe(401);
      expect(problemOf(res).code).toBe('invalid_token');
      expectCleared(res);
    }
  });

  it('replays the same rotation within the grace, and revokes the family on reuse later', async () => {
    const first = await session();
    const rotated = await consolePost(t.app, 'refresh', {
      refresh: first.refresh,
      csrf: first.csrf,
    });
    const second = consoleCookies(rotated);
    // A lost answer retried at once: the same successor, not a new family.
    const retry = await consolePost(t.app, 'refresh', { refresh: first.refresh, csrf: first.csrf });
    expect(retry.statusCode, retry.body).toBe(200);
    expect(consoleCookies(retry).refresh).toBe(second.refresh);

    clock.advance((t.config.refreshReuseGraceS + 1) * 1000);
    const reuse = await consolePost(t.app, 'refresh', { refresh: first.refresh, csrf: first.csrf });
    expect(reuse.statusCode).toBe(401);
    expect(problemOf(reuse).code).toBe('invalid_token');
    expectCleared(reuse);
    expect(await lastAudit(doctor.id, 'auth.refresh_reuse')).toMatchObject({
      outcome: 'failure',
      details: { family_revoked: true },
    });
    // The whole family is gone: the successor cookie and its access token too.
    const successor = await consolePost(t.app, 'refresh', {
      refresh: second.refresh,
      csrf: second.csrf,
    });
    expect(successor.statusCode).toBe(401);
    expectCleared(successor);
    expect((await me(rotated.json<ConsoleSession>().access_token)).statusCode).toBe(401);
  });

  it('is 401 and clears the cookies once the session is revoked or expired', async () => {
    const revoked = await session();
    const out = await api(t.app).as(revoked.body.access_token).post('/auth/logout-all');
    expect(out.statusCode).toBe(204);
    const afterRevoke = await consolePost(t.app, 'refresh', {
      refresh: revoked.refresh,
      csrf: revoked.csrf,
    });
    expect(afterRevoke.statusCode).toBe(401);
    expectCleared(afterRevoke);

    const idle = await session();
    clock.advance((t.config.refreshTokenTtlS + 1) * 1000);
    const expired = await consolePost(t.app, 'refresh', { refresh: idle.refresh, csrf: idle.csrf });
    expect(expired.statusCode).toBe(401);
    expectCleared(expired);
  });
});

describe('POST /auth/console/logout', () => {
  it('needs the CSRF header: 403 leaves the session alive', async () => {
    const mine = await session();
    for (const csrf of [undefined, (await session()).csrf]) {
      const res = await consolePost(t.app, 'logout', {
        refresh: mine.refresh,
        ...(csrf === undefined ? {} : { csrf }),
      });
      expect(res.statusCode).toBe(403);
      expect(problemOf(res).code).toBe('csrf_failed');
      expect(res.headers['set-cookie']).toBeUndefined();
    }
    expect((await me(mine.body.access_token)).statusCode).toBe(200);
    expect(await lastAudit(doctor.id, 'auth.logout')).toMatchObject({
      outcome: 'failure',
    });
  });

  it('ends the session, clears both cookies and answers 204', async () => {
    const mine = await session();
    const res = await consolePost(t.app, 'logout', { refresh: mine.refresh, csrf: mine.csrf });
    expect(res.statusCode, res.body).toBe(204);
    expect(res.body).toBe('');
    expectCleared(res);
    expect((await me(mine.body.access_token)).statusCode).toBe(401);
    const sid = decodeJwt(mine.body.access_token).sid as string;
    expect(await lastAudit(doctor.id, 'auth.logout')).toMatchObject({
      outcome: 'success',
      resourceId: sid,
    });
    const again = await consolePost(t.app, 'refresh', { refresh: mine.refresh, csrf: mine.csrf });
    expect(again.statusCode).toBe(401);
    expectCleared(again);
    // Another session of the same account lives on.
    const other = await session();
    expect((await me(other.body.access_token)).statusCode).toBe(200);
  });

  it('is 401 without a cookie, and clears both cookies', async () => {
    const res = await consolePost(t.app, 'logout', { csrf: 'anything' });
    expect(res.statusCode).toBe(401);
    expectCleared(res);
    const unknown = await consolePost(t.app, 'logout', { refresh: 'z'.repeat(43), csrf: 'x' });
    expect(unknown.statusCode).toBe(401);
    expectCleared(unknown);
  });
});

describe('the console routes in the OpenAPI document', () => {
  it('describe ConsoleSession and the CSRF header, and are public (cookie, not bearer)', async () => {
    const doc = (await t.app.inject('/openapi.json')).json<{
      paths: Record<
        string,
        Record<string, { security?: unknown; parameters?: { name: string }[] }>
      >;
      components: { schemas: Record<string, { properties?: Record<string, unknown> }> };
    }>();
    expect(Object.keys(doc.components.schemas.ConsoleSession?.properties ?? {}).sort()).toEqual([
      'access_token',
      'expires_in',
      'token_type',
      'user',
    ]);
    for (const action of ['refresh', 'logout']) {
      const op = doc.paths[`${REFRESH_PATH}/${action}`]?.post;
      expect(op?.security).toBeUndefined();
      expect(op?.parameters?.map((p) => p.name)).toContain('x-csrf-token');
    }
  });
});

describe('rate limits', () => {
  it('count the console routes in the per-IP budget of /auth/*', async () => {
    const limited = await buildTestApp({
      RATE_LIMIT_ENABLED: 'true',
      RATE_LIMIT_AUTH_PER_MIN: '2',
    });
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 3; i++) {
        const res = await consolePost(limited.app, 'refresh', {});
        statuses.push(res.statusCode);
      }
      expect(statuses).toEqual([401, 401, 429]);
    } finally {
      await limited.close();
    }
  });
});

describe('the bearer routes', () => {
  it('still answer the refresh token in the body for non-browser clients', async () => {
    const res = await api(t.app).post('/auth/login', {
      email: doctor.email,
      password: doctor.password,
    });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toHaveProperty('refresh_token');
    expect(res.headers['set-cookie']).toBeUndefined();
  });
});
