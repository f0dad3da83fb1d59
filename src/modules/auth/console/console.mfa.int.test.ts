import { decodeJwt } from 'jose';
import { describe, expect, it } from 'vitest';
import { bearer, problemOf } from '../../../../test/helpers.js';
import { auditOf, enrol, nextCode, t, useMfaApp, wrongCode } from '../mfa/mfa.test-support.js';
import type { ConsoleSession } from './console.schemas.js';
import {
  consoleCookies,
  consolePost,
  expectNoRefreshTokenIn,
  setCookies,
} from './console.test-support.js';

/** The console's sign-in for accounts with MFA on: the challenge of /auth/login, then the code. */
useMfaApp();

async function challenge(user: { email: string; password: string }): Promise<string> {
  const res = await consolePost(t.app, 'login', {
    body: { email: user.email, password: user.password },
  });
  expect(res.statusCode, res.body).toBe(200);
  // Exactly the challenge /auth/login answers, and no cookie before the second factor.
  const body = res.json<{ mfa_required: boolean; mfa_token: string; expires_in: number }>();
  expect(Object.keys(body).sort()).toEqual(['expires_in', 'mfa_required', 'mfa_token']);
  expect(body).toMatchObject({ mfa_required: true, expires_in: 300 });
  expect(res.headers['set-cookie']).toBeUndefined();
  expectNoRefreshTokenIn(res);
  return body.mfa_token;
}

describe('console sign-in with MFA on', () => {
  it('sets the cookies only after a correct TOTP code', async () => {
    const user = await enrol();
    const mfaToken = await challenge(user);

    const wrong = await consolePost(t.app, 'mfa', {
      body: { mfa_token: mfaToken, code: wrongCode(user.secret) },
    });
    expect(wrong.statusCode).toBe(401);
    expect(problemOf(wrong).code).toBe('invalid_credentials');
    expect(setCookies(wrong).size).toBe(0);

    const res = await consolePost(t.app, 'mfa', {
      body: { mfa_token: mfaToken, code: nextCode(user.secret) },
    });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.headers['cache-control']).toBe('no-store');
    const { refresh, csrf } = consoleCookies(res);
    expectNoRefreshTokenIn(res, refresh);
    const body = res.json<ConsoleSession>();
    expect(body.user).toMatchObject({ id: user.id, role: 'doctor' });
    const me = await t.app.inject({ url: '/api/v1/users/me', headers: bearer(body.access_token) });
    expect(me.statusCode).toBe(200);
    const sid = decodeJwt(body.access_token).sid as string;
    expect(t.app.ctx.csrf.matches(sid, csrf)).toBe(true);
    // Audited as the MFA step of /auth/mfa/verify is.
    const rows = await auditOf(user.id, 'auth.mfa_verify');
    expect(rows.map((row) => row.outcome)).toEqual(['failure', 'success']);

    // The session refreshes through the cookie like any console session.
    const rotated = await consolePost(t.app, 'refresh', { refresh, csrf });
    expect(rotated.statusCode, rotated.body).toBe(200);
  });

  it('takes a backup code, once', async () => {
    const user = await enrol('receptionist');
    const code = user.backupCodes[0] ?? '';
    const res = await consolePost(t.app, 'mfa', {
      body: { mfa_token: await challenge(user), code },
    });
    expect(res.statusCode, res.body).toBe(200);
    consoleCookies(res);
    expect(res.json<ConsoleSession>().user.role).toBe('receptionist');
    const again = await consolePost(t.app, 'mfa', {
      body: { mfa_token: await challenge(user), code },
    });
    expect(again.statusCode).toBe(401);
    expect(setCookies(again).size).toBe(0);
  });

  it('refuses an unknown mfa_token like /auth/mfa/verify', async () => {
    const res = await consolePost(t.app, 'mfa', {
      body: { mfa_token: 'not-a-token', code: '123456' },
    });
    expect(res.statusCode).toBe(401);
    expect(problemOf(res).code).toBe('invalid_token');
    expect(setCookies(res).size).toBe(0);
  });
});
