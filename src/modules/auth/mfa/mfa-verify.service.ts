import type { AppContext, RequestMeta } from '../../../context.js';
import type { UserRow } from '../../../db/schema/users.js';
import { randomToken, sha256Hex } from '../../../lib/crypto.js';
import { AppError } from '../../../lib/errors.js';
import { newId } from '../../../lib/ids.js';
import { recordAudit } from '../../audit/audit.service.js';
import { isLocked } from '../../users/lockout.service.js';
import * as users from '../../users/users.service.js';
import * as credentials from '../../users/credentials.service.js';
import { whoAt } from '../auth.audit.js';
import type { TokenPair } from '../auth.schemas.js';
import * as repo from './mfa.repository.js';
import type { MfaChallenge, MfaVerifyInput } from './mfa.schemas.js';
import { proveSecondFactor } from './second-factor.js';
import { invalidCredentials, recordFailure, signIn } from '../login/sign-in.js';

/** The second step of a login for accounts with MFA on (SECURITY.md: 5 minutes, 5 attempts). */
const CHALLENGE_TTL_S = 300;
const CHALLENGE_ATTEMPTS = 5;

function invalidChallenge(): AppError {
  return new AppError('invalid_token', 'The MFA token is invalid, expired or used up');
}

function wrongCode(): AppError {
  // Also the answer while the account is locked or deactivated: nothing to tell them apart.
  return new AppError('invalid_credentials', 'The code is incorrect or expired', {
    headers: { 'www-authenticate': 'Bearer' },
  });
}

class LockedMeanwhile extends Error {}

/**
 * After a correct password on an MFA account: hands out an opaque mfa_token (stored as SHA-256)
 * instead of tokens. The password step is audited as a successful auth.login with
 * `mfa_required`; the failure counters are cleared only when the second step succeeds.
 * `user` was read before the (slow) password check, so the lockout is checked again here with
 * the account row locked: a lock taken meanwhile by a parallel failure refuses the challenge
 * (the generic 401), and a failure arriving now waits until the challenge is committed.
 * `rehashed` (a legacy hash upgraded) replaces `user.hashedPassword` only if still stored.
 */
export async function startChallenge(
  ctx: Pick<AppContext, 'db' | 'clock' | 'config'>,
  user: UserRow,
  meta: RequestMeta,
  rehashed: string | undefined,
): Promise<MfaChallenge> {
  const token = randomToken();
  const now = ctx.clock.now();
  try {
    await ctx.db.transaction(async (tx) => {
      if (!(await credentials.holdUnlocked({ ...ctx, db: tx }, user.id)))
        throw new LockedMeanwhile();
      await repo.deleteStaleChallenges(tx, user.id, now);
      await repo.insertChallenge(tx, {
        id: newId(),
        userId: user.id,
        tokenHash: sha256Hex(token),
        createdAt: now,
        expiresAt: new Date(now.getTime() + CHALLENGE_TTL_S * 1000),
        ip: meta.ip,
        userAgent: meta.userAgent?.slice(0, 500) ?? null,
      });
      if (rehashed !== undefined) {
        await credentials.upgradePasswordHash({ ...ctx, db: tx }, user.id, {
          hashed: rehashed,
          verifiedHash: user.hashedPassword,
        });
      }
      await recordAudit(tx, whoAt(meta, user), {
        action: 'auth.login',
        resourceType: 'user',
        resourceId: user.id,
        details: { mfa_required: true },
      });
    });
  } catch (error) {
    if (!(error instanceof LockedMeanwhile)) throw error;
    await recordFailure(ctx, meta, 'auth.login', 'locked', user);
    throw invalidCredentials();
  }
  return { mfa_required: true, mfa_token: token, expires_in: CHALLENGE_TTL_S };
}

/**
 * Exchanges an mfa_token and a TOTP or backup code for a token pair. Every call spends one of
 * the token's attempts first; a wrong code is a 401 that leaves the token usable (until its
 * attempts run out) and counts toward the account's lockout, like a wrong password, so guessing
 * codes across many tokens is bounded too. On success the token is spent.
 */
export async function verifyMfa(
  ctx: Pick<AppContext, 'db' | 'clock' | 'config' | 'tokens' | 'mfaKey'>,
  input: MfaVerifyInput,
  meta: RequestMeta,
): Promise<TokenPair> {
  const now = ctx.clock.now();
  const tokenHash = sha256Hex(input.mfa_token);
  const challenge = await repo.claimAttempt(ctx.db, tokenHash, now, CHALLENGE_ATTEMPTS);
  const user = challenge === undefined ? undefined : await users.findAccount(ctx, challenge.userId);
  if (challenge === undefined || user === undefined) {
    await recordFailure(ctx, meta, 'auth.mfa_verify', 'invalid_mfa_token');
    throw invalidChallenge();
  }
  if (!user.isActive || !user.mfaEnabled) {
    await recordFailure(ctx, meta, 'auth.mfa_verify', user.isActive ? 'mfa_off' : 'inactive', user);
    throw wrongCode();
  }
  // Checked here too: tokens fetched before a lock must not outlast it.
  if (isLocked(user, now)) {
    await recordFailure(ctx, meta, 'auth.mfa_verify', 'locked', user);
    throw wrongCode();
  }
  let pair: TokenPair | null;
  try {
    pair = await ctx.db.transaction(async (tx) => {
      const factor = await proveSecondFactor(ctx, tx, user, input.code);
      if (factor === null) return null;
      // A parallel request with another valid code got there first.
      if (!(await repo.useChallenge(tx, challenge.id, now))) throw invalidChallenge();
      const signedIn = await signIn(ctx, tx, user, meta, {
        action: 'auth.mfa_verify',
        details: { factor },
      });
      // Rolls back the spent code and challenge: a lock taken meanwhile wins.
      if (signedIn === null) throw new LockedMeanwhile();
      return signedIn;
    });
  } catch (error) {
    if (!(error instanceof LockedMeanwhile)) throw error;
    await recordFailure(ctx, meta, 'auth.mfa_verify', 'locked', user);
    throw wrongCode();
  }
  if (pair === null) {
    await recordFailure(ctx, meta, 'auth.mfa_verify', 'bad_code', user, true);
    throw wrongCode();
  }
  return pair;
}
