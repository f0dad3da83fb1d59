import { asc, eq } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { auditLog } from '../../../db/schema/audit.js';
import { mfaBackupCodes, mfaChallenges, passwordResetTokens } from '../../../db/schema/security.js';
import { users } from '../../../db/schema/users.js';
import { sha256Hex } from '../../../lib/crypto.js';
import { AppError } from '../../../lib/errors.js';
import { newId } from '../../../lib/ids.js';
import { findAccount } from '../../users/users.service.js';
import { startChallenge } from './mfa-verify.service.js';
import { bearer, problemOf, type TokenPairBody } from '../../../../test/helpers.js';
import {
  clock,
  t,
  admin,
  useMfaApp,
  step,
  post,
  codeNow,
  nextCode,
  wrongCode,
  enrol,
  passwordStep,
  verify,
  auditOf,
} from './mfa.test-support.js';

useMfaApp();

describe('login with MFA on', () => {
  it('is two steps: the password gives an mfa_token, the code gives the token pair', async () => {
    const user = await enrol();
    const res = await post('/login', { email: user.email, password: user.password });
    expect(res.statusCode).toBe(200);
    expect(Object.keys(res.json<object>()).sort()).toEqual([
      'expires_in',
      'mfa_required',
      'mfa_token',
    ]);
    const { mfa_token: mfaToken, expires_in: expiresIn } = res.json<{
      mfa_token: string;
      expires_in: number;
    }>();
    expect(expiresIn).toBe(300);
    const done = await verify(mfaToken, nextCode(user.secret));
    expect(done.statusCode, done.body).toBe(200);
    const pair = done.json<TokenPairBody>();
    expect(pair.token_type).toBe('bearer');
    const me = await t.app.inject({
      method: 'GET',
      url: '/api/v1/users/me',
      headers: bearer(pair.access_token),
    });
    expect(me.json<{ id: string }>().id).toBe(user.id);
    // The mfa_token is stored only as a hash.
    const challenges = await t.app.ctx.db
      .select()
      .from(mfaChallenges)
      .where(eq(mfaChallenges.userId, user.id));
    expect(JSON.stringify(challenges)).not.toContain(mfaToken);

    const logins = await auditOf(user.id, 'auth.login');
    expect(logins.at(-1)).toMatchObject({ outcome: 'success', details: { mfa_required: true } });
    const verified = await auditOf(user.id, 'auth.mfa_verify');
    expect(verified.at(-1)).toMatchObject({
      outcome: 'success',
      resourceType: 'session',
      details: { factor: 'totp' },
    });
  });

  it('refuses a code that was already accepted (replay), including the enabling one', async () => {
    const user = await enrol();
    // The code that turned MFA on cannot log in.
    expect((await verify(await passwordStep(user), user.enablingCode)).statusCode).toBe(401);
    const code = nextCode(user.secret);
    expect((await verify(await passwordStep(user), code)).statusCode).toBe(200);
    const replay = await verify(await passwordStep(user), code);
    expect(replay.statusCode).toBe(401);
    expect(problemOf(replay).code).toBe('invalid_credentials');
    // After a code of the next step (inside the window), the current step's never-used code is
    // refused too: accepted steps only move forward.
    clock.advance(step);
    const ahead = codeNow(user.secret, step);
    const current = codeNow(user.secret);
    expect((await verify(await passwordStep(user), ahead)).statusCode).toBe(200);
    expect((await verify(await passwordStep(user), current)).statusCode).toBe(401);
  });

  it('accepts a code one step off either way, not two', async () => {
    const user = await enrol();
    clock.advance(3 * step);
    expect(
      (await verify(await passwordStep(user), codeNow(user.secret, 2 * step))).statusCode,
    ).toBe(401);
    expect(
      (await verify(await passwordStep(user), codeNow(user.secret, -2 * step))).statusCode,
    ).toBe(401);
    expect((await verify(await passwordStep(user), codeNow(user.secret, -step))).statusCode).toBe(
      200,
    );
    expect((await verify(await passwordStep(user), codeNow(user.secret, step))).statusCode).toBe(
      200,
    );
  });

  it('a wrong code is a 401 that leaves the mfa_token usable; success spends it', async () => {
    const user = await enrol();
    const mfaToken = await passwordStep(user);
    clock.advance(step);
    for (let i = 0; i < 3; i++) {
      const res = await verify(mfaToken, wrongCode(user.secret));
      expect(res.statusCode).toBe(401);
      expect(res.headers['www-authenticate']).toBe('Bearer');
    }
    expect((await verify(mfaToken, codeNow(user.secret))).statusCode).toBe(200);
    const reused = await verify(mfaToken, nextCode(user.secret));
    expect(reused.statusCode).toBe(401);
    expect(problemOf(reused).code).toBe('invalid_token');
    const failures = (await auditOf(user.id, 'auth.mfa_verify')).filter(
      (r) => r.outcome === 'failure',
    );
    expect(failures.map((r) => r.details)).toEqual(Array(3).fill({ reason: 'bad_code' }));
  });

  it('allows 5 attempts per mfa_token, then refuses even the right code', async () => {
    const user = await enrol();
    const mfaToken = await passwordStep(user);
    clock.advance(step);
    for (let i = 0; i < 5; i++) {
      expect((await verify(mfaToken, wrongCode(user.secret))).statusCode).toBe(401);
    }
    // Five wrong codes also locked the account; lift that so only the token's limit is left.
    const unlock = await t.app.inject({
      method: 'POST',
      url: `/api/v1/admin/users/${user.id}/unlock`,
      headers: bearer(admin.accessToken),
    });
    expect(unlock.statusCode).toBe(204);
    const res = await verify(mfaToken, codeNow(user.secret));
    expect(res.statusCode).toBe(401);
    expect(problemOf(res).code).toBe('invalid_token');
    // A new password step works again.
    expect((await verify(await passwordStep(user), codeNow(user.secret))).statusCode).toBe(200);
  });

  it('an mfa_token expires after 5 minutes', async () => {
    const user = await enrol();
    const early = await passwordStep(user);
    const late = await passwordStep(user);
    clock.advance(4 * 60_000 + 50_000);
    expect((await verify(early, codeNow(user.secret))).statusCode).toBe(200);
    clock.advance(11_000);
    const res = await verify(late, nextCode(user.secret));
    expect(res.statusCode).toBe(401);
    expect(problemOf(res).code).toBe('invalid_token');
  });

  it('accepts each backup code once (case, spaces and dashes ignored)', async () => {
    const user = await enrol();
    const [first, second] = user.backupCodes as [string, string];
    const ok = await verify(await passwordStep(user), first);
    expect(ok.statusCode).toBe(200);
    expect((await verify(await passwordStep(user), first)).statusCode).toBe(401);
    const typed = second.toUpperCase().replace(/-/g, ' ');
    expect((await verify(await passwordStep(user), typed)).statusCode).toBe(200);
    const used = await t.app.ctx.db
      .select()
      .from(mfaBackupCodes)
      .where(eq(mfaBackupCodes.userId, user.id));
    expect(used.filter((c) => c.usedAt !== null)).toHaveLength(2);
    const verified = await auditOf(user.id, 'auth.mfa_verify');
    expect(verified.filter((r) => r.outcome === 'success').map((r) => r.details)).toEqual([
      { factor: 'backup_code' },
      { factor: 'backup_code' },
    ]);
  });

  it('lockout applies to the password step: locked means no mfa_token', async () => {
    const user = await enrol();
    for (let i = 0; i < 5; i++) {
      expect((await post('/login', { email: user.email, password: 'wrong pass' })).statusCode).toBe(
        401,
      );
    }
    const res = await post('/login', { email: user.email, password: user.password });
    expect(res.statusCode).toBe(401);
    expect(res.body).not.toContain('mfa_token');
  });

  it('wrong codes count toward the lockout, and a lock refuses a token taken before it', async () => {
    const user = await enrol();
    const spare = await passwordStep(user);
    clock.advance(step);
    const first = await passwordStep(user);
    for (let i = 0; i < 4; i++) await verify(first, wrongCode(user.secret));
    const second = await passwordStep(user);
    expect((await verify(second, wrongCode(user.secret))).statusCode).toBe(401);
    expect(await auditOf(user.id, 'auth.lockout')).toHaveLength(1);
    // Locked: the right code on a token fetched earlier is refused, and so is the password.
    expect((await verify(spare, codeNow(user.secret))).statusCode).toBe(401);
    expect((await post('/login', { email: user.email, password: user.password })).statusCode).toBe(
      401,
    );
    clock.advance(61_000);
    expect((await verify(await passwordStep(user), codeNow(user.secret))).statusCode).toBe(200);
  });

  it('a lock taken after the account was read refuses the password step (no mfa_token)', async () => {
    // The login read the row (unlocked), then spent ~50 ms on Argon2 while parallel wrong
    // passwords locked the account: startChallenge must see the lock, not the stale row.
    const user = await enrol();
    const stale = await findAccount(t.app.ctx, user.id);
    if (!stale) throw new Error('no such user');
    await t.app.ctx.db
      .update(users)
      .set({ lockedUntil: new Date(clock.now().getTime() + 60_000), lockoutCount: 1 })
      .where(eq(users.id, user.id));
    const meta = { requestId: 'race-lock', ip: '127.0.0.1', userAgent: undefined };
    const refused = await startChallenge(t.app.ctx, stale, meta, undefined).then(
      () => null,
      (error: unknown) => error,
    );
    expect(refused).toBeInstanceOf(AppError);
    expect((refused as AppError).code).toBe('invalid_credentials');
    const challenges = await t.app.ctx.db
      .select()
      .from(mfaChallenges)
      .where(eq(mfaChallenges.userId, user.id));
    expect(challenges).toHaveLength(0);
    const logins = await auditOf(user.id, 'auth.login');
    expect(logins.at(-1)).toMatchObject({
      outcome: 'failure',
      requestId: 'race-lock',
      details: { reason: 'locked' },
    });
    // Once the lock has passed, the same step works again.
    clock.advance(61_000);
    await passwordStep(user);
  });

  it('parallel wrong passwords and the right one: never an mfa_token after the lock', async () => {
    const user = await enrol();
    const results = await Promise.all([
      ...Array.from({ length: 5 }, () =>
        post('/login', { email: user.email, password: 'wrong pass' }),
      ),
      post('/login', { email: user.email, password: user.password }),
    ]);
    const right = results[5];
    const rows = await t.app.ctx.db
      .select()
      .from(auditLog)
      .where(eq(auditLog.actorId, user.id))
      .orderBy(asc(auditLog.seq));
    const lockAt = rows.findIndex((r) => r.action === 'auth.lockout');
    expect(lockAt).toBeGreaterThanOrEqual(0);
    const challengeAt = rows.findIndex(
      (r) => r.action === 'auth.login' && r.details?.mfa_required === true,
    );
    if (right?.statusCode === 200) {
      // Only a challenge committed before the lock may exist.
      expect(challengeAt).toBeGreaterThanOrEqual(0);
      expect(challengeAt).toBeLessThan(lockAt);
    } else {
      expect(right?.statusCode).toBe(401);
      expect(right?.body).not.toContain('mfa_token');
      expect(challengeAt).toBe(-1);
    }
    clock.advance(61_000);
  });

  it('a challenge whose account turned MFA off meanwhile fails as mfa_off', async () => {
    const user = await enrol();
    const token = await passwordStep(user);
    await t.app.ctx.db.update(users).set({ mfaEnabled: false }).where(eq(users.id, user.id));
    expect((await verify(token, nextCode(user.secret))).statusCode).toBe(401);
    const rows = await auditOf(user.id, 'auth.mfa_verify');
    expect(rows.at(-1)).toMatchObject({ outcome: 'failure', details: { reason: 'mfa_off' } });
  });

  it('a password change, reset or admin-set password ends pending mfa_tokens', async () => {
    const user = await enrol();
    // Change (the caller's own session stays).
    const before = await passwordStep(user);
    const changed = await post(
      '/password/change',
      { current_password: user.password, new_password: 'a changed passphrase 7' },
      bearer(user.accessToken),
    );
    expect(changed.statusCode, changed.body).toBe(204);
    const afterChange = await verify(before, nextCode(user.secret));
    expect(afterChange.statusCode).toBe(401);
    expect(problemOf(afterChange).code).toBe('invalid_token');

    // Admin sets a password.
    user.password = 'a changed passphrase 7';
    const pending = await passwordStep(user);
    const current = await t.app.inject({
      url: `/api/v1/users/${user.id}`,
      headers: bearer(admin.accessToken),
    });
    const patched = await t.app.inject({
      method: 'PATCH',
      url: `/api/v1/users/${user.id}`,
      headers: { ...bearer(admin.accessToken), 'if-match': current.headers.etag as string },
      payload: { password: 'an admin chosen phrase 8' },
    });
    expect(patched.statusCode, patched.body).toBe(200);
    const afterAdmin = await verify(pending, nextCode(user.secret));
    expect(afterAdmin.statusCode).toBe(401);
    expect(problemOf(afterAdmin).code).toBe('invalid_token');

    // Reset by an emailed token (stored directly here: only its SHA-256 is kept).
    user.password = 'an admin chosen phrase 8';
    const pendingBeforeReset = await passwordStep(user);
    const resetToken = 'mfa-test-reset-token-0123456789abcdefghijkl';
    await t.app.ctx.db.insert(passwordResetTokens).values({
      id: newId(),
      userId: user.id,
      tokenHash: sha256Hex(resetToken),
      createdAt: clock.now(),
      expiresAt: new Date(clock.now().getTime() + 600_000),
    });
    const reset = await post('/password/reset', {
      token: resetToken,
      new_password: 'a reset passphrase 9',
    });
    expect(reset.statusCode, reset.body).toBe(204);
    const afterReset = await verify(pendingBeforeReset, nextCode(user.secret));
    expect(afterReset.statusCode).toBe(401);
    expect(problemOf(afterReset).code).toBe('invalid_token');
    const open = await t.app.ctx.db
      .select()
      .from(mfaChallenges)
      .where(eq(mfaChallenges.userId, user.id));
    expect(open.filter((c) => c.usedAt === null)).toHaveLength(0);
  });

  it('rejects malformed verify bodies with 400 and unknown tokens with 401', async () => {
    for (const payload of [
      {},
      { mfa_token: 'x' },
      { code: '123456' },
      { mfa_token: 'x', code: 'abc' },
      { mfa_token: 'x', code: '12345\u0000' },
      { mfa_token: 'x'.repeat(201), code: '123456' },
      { mfa_token: 'x', code: '123456', extra: 1 },
      { mfa_token: 42, code: '123456' },
    ]) {
      const res = await post('/mfa/verify', payload);
      expect(res.statusCode, JSON.stringify(payload)).toBe(400);
    }
    const unknown = await verify('no-such-token', '123456');
    expect(unknown.statusCode).toBe(401);
    expect(problemOf(unknown).code).toBe('invalid_token');
  });
});
