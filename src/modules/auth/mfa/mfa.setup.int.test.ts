import { eq } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { mfaBackupCodes } from '../../../db/schema/security.js';
import { users } from '../../../db/schema/users.js';
import { bearer, createUser, problemOf, type TokenPairBody } from '../../../../test/helpers.js';
import {
  t,
  admin,
  useMfaApp,
  post,
  codeNow,
  nextCode,
  wrongCode,
  enrol,
  passwordStep,
  verify,
  userRow,
  auditOf,
} from './mfa.test-support.js';

useMfaApp();

describe('TOTP setup and enable', () => {
  it('setup returns an otpauth:// URI and a base32 secret, stored only encrypted', async () => {
    const user = await createUser(t.app);
    const res = await post(
      '/mfa/totp/setup',
      { password: user.password },
      bearer(user.accessToken),
    );
    expect(res.statusCode).toBe(200);
    expect(res.headers['cache-control']).toBe('no-store');
    const body = res.json<{
      secret: string;
      otpauth_uri: string;
      digits: number;
      period: number;
    }>();
    expect(body.secret).toMatch(/^[A-Z2-7]{32}$/);
    expect(body.otpauth_uri).toMatch(/^otpauth:\/\/totp\//);
    expect(body.otpauth_uri).toContain(`secret=${body.secret}`);
    expect(body).toMatchObject({ digits: 6, period: 30, issuer: 'MedCore' });

    const row = await userRow(user.id);
    expect(row.totpPendingSecretEnc).toBeTruthy();
    expect(row.mfaEnabled).toBe(false);
    expect(JSON.stringify(row)).not.toContain(body.secret);
    expect(JSON.stringify(row).toLowerCase()).not.toContain(body.secret.toLowerCase());
    // Not active yet: the password alone still logs in.
    const login = await post('/login', { email: user.email, password: user.password });
    expect(login.json<TokenPairBody>().access_token).toBeTruthy();
  });

  it('enable needs a valid code, returns 10 backup codes once, and stores them hashed', async () => {
    const user = await createUser(t.app);
    const { secret } = (
      await post('/mfa/totp/setup', { password: user.password }, bearer(user.accessToken))
    ).json<{
      secret: string;
    }>();
    const wrong = await post(
      '/mfa/totp/enable',
      { code: wrongCode(secret) },
      bearer(user.accessToken),
    );
    expect(wrong.statusCode).toBe(400);
    expect(problemOf(wrong).errors?.[0]?.field).toBe('body.code');
    expect((await userRow(user.id)).mfaEnabled).toBe(false);

    const res = await post('/mfa/totp/enable', { code: codeNow(secret) }, bearer(user.accessToken));
    expect(res.statusCode).toBe(200);
    const codes = res.json<{ backup_codes: string[] }>().backup_codes;
    expect(codes).toHaveLength(10);
    expect(new Set(codes).size).toBe(10);
    for (const code of codes) expect(code).toMatch(/^[0-9a-z]{4}-[0-9a-z]{4}-[0-9a-z]{4}$/);

    const row = await userRow(user.id);
    expect(row).toMatchObject({ mfaEnabled: true, totpPendingSecretEnc: null });
    expect(row.totpSecretEnc).toBeTruthy();
    expect(JSON.stringify(row)).not.toContain(secret);
    const stored = await t.app.ctx.db
      .select()
      .from(mfaBackupCodes)
      .where(eq(mfaBackupCodes.userId, user.id));
    expect(stored).toHaveLength(10);
    const dump = JSON.stringify(stored);
    for (const code of codes) {
      expect(dump).not.toContain(code);
      expect(dump).not.toContain(code.replace(/-/g, ''));
    }
    expect((await auditOf(user.id, 'auth.mfa_enable')).map((r) => r.outcome)).toEqual([
      'failure',
      'success',
    ]);
  });

  it('refuses setup or enable while on (409), and enable without setup (409)', async () => {
    const user = await enrol();
    expect(
      (await post('/mfa/totp/setup', { password: user.password }, bearer(user.accessToken)))
        .statusCode,
    ).toBe(409);
    const again = await post(
      '/mfa/totp/enable',
      { code: nextCode(user.secret) },
      bearer(user.accessToken),
    );
    expect(again.statusCode).toBe(409);
    const fresh = await createUser(t.app);
    const early = await post('/mfa/totp/enable', { code: '123456' }, bearer(fresh.accessToken));
    expect(early.statusCode).toBe(409);
  });

  it('setup needs the current password (a stolen access token alone cannot enrol), audited', async () => {
    const user = await createUser(t.app);
    for (const payload of [
      undefined,
      {},
      { password: '' },
      { password: 42 },
      { password: 'x', a: 1 },
    ]) {
      const res = await post('/mfa/totp/setup', payload, bearer(user.accessToken));
      expect(res.statusCode, JSON.stringify(payload)).toBe(400);
    }
    const wrong = await post(
      '/mfa/totp/setup',
      { password: 'not the password' },
      bearer(user.accessToken),
    );
    expect(wrong.statusCode).toBe(400);
    expect(problemOf(wrong).errors?.[0]?.field).toBe('body.password');
    expect(wrong.body).not.toContain('otpauth');
    expect((await userRow(user.id)).totpPendingSecretEnc).toBeNull();
    const ok = await post('/mfa/totp/setup', { password: user.password }, bearer(user.accessToken));
    expect(ok.statusCode).toBe(200);
    const rows = await auditOf(user.id, 'auth.mfa_setup');
    expect(rows.map((r) => [r.outcome, r.details])).toEqual([
      ['failure', { reason: 'bad_password' }],
      ['success', null],
    ]);
    expect(JSON.stringify(rows)).not.toContain(ok.json<{ secret: string }>().secret);
  });

  it('rejects malformed bodies with 400', async () => {
    const user = await createUser(t.app);
    for (const payload of [{}, { code: '12345' }, { code: '12345a' }, { code: 123456 }]) {
      const res = await post('/mfa/totp/enable', payload, bearer(user.accessToken));
      expect(res.statusCode, JSON.stringify(payload)).toBe(400);
    }
  });
});

describe('TOTP disable', () => {
  it('needs the password and a code; afterwards the password alone logs in', async () => {
    const user = await enrol();
    const pending = await passwordStep(user);
    const wrongPassword = await post(
      '/mfa/totp/disable',
      { password: 'not it at all', code: nextCode(user.secret) },
      bearer(user.accessToken),
    );
    expect(wrongPassword.statusCode).toBe(400);
    expect(problemOf(wrongPassword).errors?.[0]?.field).toBe('body.password');
    const badCode = await post(
      '/mfa/totp/disable',
      { password: user.password, code: wrongCode(user.secret) },
      bearer(user.accessToken),
    );
    expect(badCode.statusCode).toBe(400);
    expect(problemOf(badCode).errors?.[0]?.field).toBe('body.code');
    expect((await userRow(user.id)).mfaEnabled).toBe(true);

    const res = await post(
      '/mfa/totp/disable',
      { password: user.password, code: codeNow(user.secret) },
      bearer(user.accessToken),
    );
    expect(res.statusCode).toBe(204);
    const row = await userRow(user.id);
    expect(row).toMatchObject({
      mfaEnabled: false,
      totpSecretEnc: null,
      totpPendingSecretEnc: null,
    });
    const codes = await t.app.ctx.db
      .select()
      .from(mfaBackupCodes)
      .where(eq(mfaBackupCodes.userId, user.id));
    expect(codes).toHaveLength(0);
    // A second step started before is over too.
    expect((await verify(pending, nextCode(user.secret))).statusCode).toBe(401);
    const login = await post('/login', { email: user.email, password: user.password });
    expect(login.json<TokenPairBody>().access_token).toBeTruthy();
    expect((await auditOf(user.id, 'auth.mfa_disable')).map((r) => r.outcome)).toEqual([
      'failure',
      'failure',
      'success',
    ]);
  });

  it('of two parallel disables exactly one succeeds and is audited as a success', async () => {
    const user = await enrol();
    const results = await Promise.all([
      post(
        '/mfa/totp/disable',
        { password: user.password, code: user.backupCodes[0] ?? '' },
        bearer(user.accessToken),
      ),
      post(
        '/mfa/totp/disable',
        { password: user.password, code: nextCode(user.secret) },
        bearer(user.accessToken),
      ),
    ]);
    expect(results.map((r) => r.statusCode).sort()).toEqual([204, 409]);
    const successes = (await auditOf(user.id, 'auth.mfa_disable')).filter(
      (r) => r.outcome === 'success',
    );
    expect(successes).toHaveLength(1);
    expect(await userRow(user.id)).toMatchObject({ mfaEnabled: false, totpLastStep: null });
  });

  it('accepts a backup code instead of a TOTP code; 409 when MFA is off', async () => {
    const user = await enrol();
    const res = await post(
      '/mfa/totp/disable',
      { password: user.password, code: user.backupCodes[3] ?? '' },
      bearer(user.accessToken),
    );
    expect(res.statusCode).toBe(204);
    const again = await post(
      '/mfa/totp/disable',
      { password: user.password, code: '123456' },
      bearer(user.accessToken),
    );
    expect(again.statusCode).toBe(409);
  });
});

describe('admin MFA reset', () => {
  function resetMfa(id: string, token = admin.accessToken) {
    return t.app.inject({
      method: 'POST',
      url: `/api/v1/admin/users/${id}/mfa/reset`,
      headers: bearer(token),
    });
  }

  it('turns MFA off, clears secrets, codes and pending steps, ends sessions, audited', async () => {
    const user = await enrol();
    const pending = await passwordStep(user);
    // A re-enrolment started (pending secret) is cleared too.
    await t.app.ctx.db
      .update(users)
      .set({ totpPendingSecretEnc: 'sealed-pending' })
      .where(eq(users.id, user.id));
    const res = await resetMfa(user.id);
    expect(res.statusCode, res.body).toBe(204);
    expect(await userRow(user.id)).toMatchObject({
      mfaEnabled: false,
      totpSecretEnc: null,
      totpPendingSecretEnc: null,
      totpLastStep: null,
    });
    const codes = await t.app.ctx.db
      .select()
      .from(mfaBackupCodes)
      .where(eq(mfaBackupCodes.userId, user.id));
    expect(codes).toHaveLength(0);
    expect((await verify(pending, nextCode(user.secret))).statusCode).toBe(401);
    // Every session of the user ended: the (possibly stolen) tokens are dead.
    const me = await t.app.inject({ url: '/api/v1/users/me', headers: bearer(user.accessToken) });
    expect(me.statusCode).toBe(401);
    expect((await post('/refresh', { refresh_token: user.refreshToken })).statusCode).toBe(401);
    // The password alone logs in again; the owner can enrol afresh.
    const login = await post('/login', { email: user.email, password: user.password });
    expect(login.json<TokenPairBody>().access_token).toBeTruthy();

    const rows = await auditOf(admin.id, 'user.mfa_reset');
    expect(rows.filter((r) => r.resourceId === user.id)).toHaveLength(1);
    expect(rows.find((r) => r.resourceId === user.id)).toMatchObject({
      outcome: 'success',
      resourceType: 'user',
    });
  });

  it('answers 404 for an unknown account, 400 for a malformed id, 403 to non-admins', async () => {
    expect((await resetMfa('01a20000-0000-7000-8000-000000000000')).statusCode).toBe(404);
    expect((await resetMfa('not-a-uuid')).statusCode).toBe(400);
    const doctor = await enrol();
    expect((await resetMfa(doctor.id, doctor.accessToken)).statusCode).toBe(403);
    expect((await userRow(doctor.id)).mfaEnabled).toBe(true);
  });
});

describe('the profile tells whether MFA is on', () => {
  const mfaOf = async (token: string) =>
    (await t.app.inject({ url: '/api/v1/users/me', headers: bearer(token) })).json<{
      mfa_enabled: boolean;
    }>().mfa_enabled;

  it('GET /users/me: false before, true once enabled, false after disabling', async () => {
    const plain = await createUser(t.app);
    expect(await mfaOf(plain.accessToken)).toBe(false);
    const user = await enrol();
    expect(await mfaOf(user.accessToken)).toBe(true);
    const disable = await post(
      '/mfa/totp/disable',
      { password: user.password, code: user.backupCodes[0] },
      bearer(user.accessToken),
    );
    expect(disable.statusCode, disable.body).toBe(204);
    expect(await mfaOf(user.accessToken)).toBe(false);
  });
});
