import type { AppContext, RequestMeta } from '../../../context.js';
import type { Tx } from '../../../db/client.js';
import type { UserRow } from '../../../db/schema/users.js';
import { AppError } from '../../../lib/errors.js';
import { recordAudit, type AuditEvent, type AuditWho } from '../../audit/audit.service.js';
import * as lockout from '../../users/lockout.service.js';
import * as credentials from '../../users/credentials.service.js';
import { whoAt } from '../auth.audit.js';
import type { TokenPair } from '../auth.schemas.js';
import { openSession } from '../sessions/token-pair.js';

/** What both sign-in steps (password, MFA code) share: failures, lockout and the final session. */

export function invalidCredentials(): AppError {
  // One message for unknown account, wrong password, inactive and locked account: no enumeration.
  return new AppError('invalid_credentials', 'Incorrect username/email or password', {
    headers: { 'www-authenticate': 'Bearer' },
  });
}

export type SignInStep = 'auth.login' | 'auth.mfa_verify';

export type FailureReason =
  | 'unknown_account'
  | 'bad_password'
  | 'inactive'
  | 'locked'
  | 'mfa_off'
  | 'bad_code'
  | 'invalid_mfa_token';

/**
 * Records a refused sign-in step. When `user` is given and the failure was a wrong secret
 * (`counts`), it counts toward the lockout; the failure row, the counter and (when this failure
 * locks the account) the auth.lockout row commit together.
 */
export async function recordFailure(
  ctx: Pick<AppContext, 'db' | 'clock' | 'config'>,
  meta: RequestMeta,
  step: SignInStep,
  reason: FailureReason,
  user?: UserRow,
  counts = false,
): Promise<void> {
  const who = whoAt(meta, user);
  const resource = user === undefined ? {} : { resourceType: 'user', resourceId: user.id };
  await ctx.db.transaction(async (tx) => {
    await recordAudit(tx, who, {
      action: step,
      outcome: 'failure',
      ...resource,
      details: { reason },
    });
    if (user !== undefined && counts) await countTowardLockout(ctx, tx, who, user.id);
  });
}

/**
 * Counts a wrong secret (password or code, at login or in session) toward the account's lockout
 * (SECURITY.md: 5 in 15 min; 60 s doubling up to 15 min), in the caller's transaction. When this
 * failure locks the account, the auth.lockout row is written there too. A failure while a lock
 * holds neither counts nor extends it.
 */
export async function countTowardLockout(
  ctx: Pick<AppContext, 'clock' | 'config'>,
  tx: Tx,
  who: AuditWho,
  userId: string,
): Promise<void> {
  const lock = await lockout.countLoginFailure({ ...ctx, db: tx }, userId);
  if (!lock) return;
  const waitS = Math.round((lock.lockedUntil.getTime() - ctx.clock.now().getTime()) / 1000);
  await recordAudit(tx, who, {
    action: 'auth.lockout',
    resourceType: 'user',
    resourceId: userId,
    details: {
      locked_until: lock.lockedUntil.toISOString(),
      wait_s: waitS,
      lockout_count: lock.lockoutCount,
    },
  });
}

/**
 * The last step of every login: clears the failure counters, opens the session and audits it,
 * all in `tx`. Returns null when a lockout took hold meanwhile (a parallel failure won).
 */
export async function signIn(
  ctx: Pick<AppContext, 'clock' | 'config' | 'tokens'>,
  tx: Tx,
  user: UserRow,
  meta: RequestMeta,
  event: { action: SignInStep; details?: AuditEvent['details']; rehashed?: string | undefined },
): Promise<TokenPair | null> {
  // The upgraded hash replaces the one the password was verified against, and nothing newer.
  const rehash =
    event.rehashed === undefined
      ? undefined
      : { hashed: event.rehashed, verifiedHash: user.hashedPassword };
  if (!(await credentials.recordLogin({ ...ctx, db: tx }, user.id, rehash))) return null;
  const { sessionId, pair } = await openSession(ctx, tx, user, meta);
  await recordAudit(tx, whoAt(meta, user), {
    action: event.action,
    resourceType: 'session',
    resourceId: sessionId,
    ...(event.details === undefined ? {} : { details: event.details }),
  });
  return pair;
}
