import type { AppContext } from '../../context.js';
import type { DbOrTx } from '../../db/client.js';
import type { AccountCredentials, AccountChange } from '../users/account-credentials.js';
import { endChallenges } from './mfa/mfa.repository.js';
import { resetUserMfa } from './mfa/mfa.service.js';
import { retireResetTokens } from './password-reset/password-reset.repository.js';
import { confirmPassword } from './password/reauth.service.js';
import { endAllSessions } from './sessions/sessions.service.js';

/**
 * Revokes, in the caller's transaction, what proves an account's identity: its sessions (when a
 * reason is given) and, when its password was replaced, its pending MFA second steps and emailed
 * reset links (both prove the old password).
 */
export async function revokeCredentials(
  ctx: Pick<AppContext, 'clock'>,
  tx: DbOrTx,
  userId: string,
  what: { sessions: AccountChange | null; passwordReplaced: boolean },
): Promise<void> {
  if (what.sessions !== null) await endAllSessions(tx, userId, what.sessions);
  if (what.passwordReplaced) {
    await endChallenges(tx, userId, ctx.clock.now());
    await retireResetTokens(tx, userId, ctx.clock.now());
  }
}

/**
 * The credentials port of the users module (users/account-credentials.ts), bound to the app's
 * dependencies; buildApp puts it in `ctx.credentials`. Users reaches auth only through it.
 */
export function accountCredentials(
  ctx: Pick<AppContext, 'db' | 'clock' | 'config'>,
): AccountCredentials {
  return {
    revoke: (tx, userId, what) => revokeCredentials(ctx, tx, userId, what),
    confirmPassword: (actor, user, password, check) =>
      confirmPassword(ctx, actor, user, password, check),
    resetMfa: (actor, userId) => resetUserMfa(ctx, actor, userId),
  };
}
