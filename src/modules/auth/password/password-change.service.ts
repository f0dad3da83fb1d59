import type { AppContext } from '../../../context.js';
import { requirePermission } from '../../../lib/access.js';
import { fieldError, notFound } from '../../../lib/errors.js';
import { hashPassword } from '../../../lib/passwords.js';
import type { Principal } from '../../../lib/permissions.js';
import { recordAudit, whoOf } from '../../audit/audit.service.js';
import * as credentials from '../../users/credentials.service.js';
import * as users from '../../users/users.service.js';
import type { ChangePasswordInput } from '../auth.schemas.js';
import { endChallenges } from '../mfa/mfa.repository.js';
import { retireResetTokens } from '../password-reset/password-reset.repository.js';
import { endAllSessions } from '../sessions/sessions.service.js';
import { confirmPassword } from './reauth.service.js';

/** Changes the caller's password; every other session ends, this one stays signed in. */
export async function changePassword(
  ctx: Pick<AppContext, 'db' | 'clock' | 'config'>,
  actor: Principal,
  input: ChangePasswordInput,
): Promise<void> {
  requirePermission(actor, 'self.manage');
  const user = await users.findAccount(ctx, actor.userId);
  if (!user) throw notFound('user');
  await confirmPassword(ctx, actor, user, input.current_password, {
    action: 'auth.password_change',
    refusal: () =>
      fieldError('body.current_password', 'is incorrect', 'The current password is incorrect'),
  });
  users.assertAcceptablePassword(input.new_password, 'new_password');
  const hashed = await hashPassword(input.new_password);
  await ctx.db.transaction(async (tx) => {
    await credentials.setPassword({ ...ctx, db: tx }, user.id, hashed);
    // A pending MFA second step proves the old password: it ends with it.
    await endChallenges(tx, user.id, ctx.clock.now());
    const ended = await endAllSessions(tx, user.id, 'password_changed', actor.sessionId);
    // A reset link mailed earlier would otherwise still set a password over this one.
    await retireResetTokens(tx, user.id, ctx.clock.now());
    await recordAudit(tx, whoOf(actor), {
      action: 'auth.password_change',
      resourceType: 'user',
      resourceId: user.id,
      details: { sessions_ended: ended },
    });
  });
}
