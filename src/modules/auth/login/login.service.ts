import type { AppContext, RequestMeta } from '../../../context.js';
import { fieldError } from '../../../lib/errors.js';
import { isLocked } from '../../users/lockout.service.js';
import * as users from '../../users/users.service.js';
import type { LoginInput, TokenPair } from '../auth.schemas.js';
import { startChallenge } from '../mfa/mfa-verify.service.js';
import type { MfaChallenge } from '../mfa/mfa.schemas.js';
import { hashPassword, verifyDummy, verifyPassword } from '../../../lib/passwords.js';
import { invalidCredentials, recordFailure, signIn } from './sign-in.js';

/**
 * Password login. Every refusal (unknown account, wrong password, deactivated, locked) is the
 * same 401 after the same work: a real or dummy Argon2 verification always runs, even while the
 * account is locked, so neither the body nor the timing tells the cases apart. A wrong password
 * counts toward the lockout (SECURITY.md: 5 in 15 min, 60 s doubling up to 15 min).
 */
export async function login(
  ctx: Pick<AppContext, 'db' | 'clock' | 'config' | 'tokens'>,
  input: LoginInput,
  meta: RequestMeta,
): Promise<TokenPair | MfaChallenge> {
  const identifier = input.email ?? input.username;
  if (identifier === undefined) {
    throw fieldError(
      'body.username',
      'email or username is required',
      'Give an email or a username',
    );
  }
  const user = await users.findAccountForLogin(ctx, identifier);
  if (!user) {
    await verifyDummy(input.password);
    await recordFailure(ctx, meta, 'auth.login', 'unknown_account');
    throw invalidCredentials();
  }
  const check = await verifyPassword(user.hashedPassword, input.password);
  if (isLocked(user, ctx.clock.now())) {
    await recordFailure(ctx, meta, 'auth.login', 'locked', user);
    throw invalidCredentials();
  }
  if (!check.ok) {
    await recordFailure(ctx, meta, 'auth.login', 'bad_password', user, true);
    throw invalidCredentials();
  }
  if (!user.isActive) {
    await recordFailure(ctx, meta, 'auth.login', 'inactive', user);
    throw invalidCredentials();
  }
  // Legacy bcrypt (or outdated Argon2 parameters) is upgraded while we hold the plain password.
  const rehashed = check.needsRehash ? await hashPassword(input.password) : undefined;
  if (user.mfaEnabled) return startChallenge(ctx, user, meta, rehashed);
  const pair = await ctx.db.transaction((tx) =>
    signIn(ctx, tx, user, meta, { action: 'auth.login', rehashed }),
  );
  if (pair === null) {
    // A parallel failure locked the account between our read and this write.
    await recordFailure(ctx, meta, 'auth.login', 'locked', user);
    throw invalidCredentials();
  }
  return pair;
}
