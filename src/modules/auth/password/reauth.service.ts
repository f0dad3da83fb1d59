import type { AppContext } from '../../../context.js';
import type { UserRow } from '../../../db/schema/users.js';
import type { AppError } from '../../../lib/errors.js';
import type { Principal } from '../../../lib/permissions.js';
import type { AuditAction } from '../../audit/audit.actions.js';
import { recordAudit, whoOf, type AuditEvent } from '../../audit/audit.service.js';
import { isLocked } from '../../users/lockout.service.js';
import * as credentials from '../../users/credentials.service.js';
import { verifyPassword } from '../../../lib/passwords.js';
import { countTowardLockout } from '../login/sign-in.js';

/**
 * Re-authentication inside a session: the one check of the current password before a sensitive
 * change (email, password, MFA setup or disable). A stolen access token must not turn into
 * unlimited password guesses, so a wrong password here counts toward the account's lockout
 * exactly as a failed login does (same counter, threshold and waits, same auth.lockout row), and
 * while a lockout holds even the right password is refused, as at login.
 */

/** The changes that ask for the current password; a refusal is audited under the same action. */
export type ReauthAction = Extract<
  AuditAction,
  'user.update' | 'auth.password_change' | 'auth.mfa_setup' | 'auth.mfa_disable'
>;

export type ReauthFailure = 'missing_password' | 'bad_password' | 'locked';

export interface ReauthCheck {
  /** The change that asked; its failure row (outcome failure, `reason`) records a refusal. */
  action: ReauthAction;
  /** The error every refusal throws: the same for a wrong password and a lockout. */
  refusal: () => AppError;
  /** Further audit details of a refusal, beside `reason` (names only, never values). */
  details?: AuditEvent['details'];
}

/**
 * Confirms that `password` is the signed-in account's current one, or throws `check.refusal()`
 * after auditing why: `missing_password` (not counted: nothing was guessed), `bad_password`
 * (counted toward the lockout in the same transaction as its audit row) or `locked`. `user` is
 * the actor's account row, read by the caller. The Argon2 verification always runs, so the
 * answer's timing does not tell a lockout from a wrong password.
 */
export async function confirmPassword(
  ctx: Pick<AppContext, 'db' | 'clock' | 'config'>,
  actor: Principal,
  user: UserRow,
  password: string | undefined,
  check: ReauthCheck,
): Promise<void> {
  const refuse = async (reason: ReauthFailure, counts = false): Promise<never> => {
    const who = whoOf(actor);
    await ctx.db.transaction(async (tx) => {
      await recordAudit(tx, who, {
        action: check.action,
        outcome: 'failure',
        resourceType: 'user',
        resourceId: user.id,
        details: { ...check.details, reason },
      });
      if (counts) await countTowardLockout(ctx, tx, who, user.id);
    });
    throw check.refusal();
  };
  if (password === undefined) return refuse('missing_password');
  const { ok } = await verifyPassword(user.hashedPassword, password);
  if (isLocked(user, ctx.clock.now())) return refuse('locked');
  if (!ok) return refuse('bad_password', true);
  // Read again after the (slow) verification: a lock taken meanwhile by parallel guesses wins.
  if (!(await credentials.holdUnlocked(ctx, user.id))) return refuse('locked');
}
