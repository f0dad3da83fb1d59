import type { AppContext } from '../../context.js';
import type { UserRow } from '../../db/schema/users.js';
import { requirePermission } from '../../lib/access.js';
import { notFound } from '../../lib/errors.js';
import type { Principal } from '../../lib/permissions.js';
import { recordAudit, whoOf } from '../audit/audit.service.js';
import * as repo from './users.repository.js';

/**
 * Login lockout (SECURITY.md): the counters live on the account; the auth module counts failures
 * through here and admins release locks. Successful logins clear them (credentials.service recordLogin).
 */

/** True while a lockout holds at `now`. */
export function isLocked(user: UserRow, now: Date): boolean {
  return user.lockedUntil !== null && user.lockedUntil > now;
}

/**
 * Counts a failed login (atomically; see the repository). Returns the new lock's end when this
 * failure locked the account, null otherwise (also while a lock already holds).
 */
export async function countLoginFailure(
  ctx: Pick<AppContext, 'db' | 'clock' | 'config'>,
  id: string,
): Promise<{ lockedUntil: Date; lockoutCount: number } | null> {
  const { config } = ctx;
  const result = await repo.countLoginFailure(ctx.db, id, ctx.clock.now(), {
    threshold: config.lockoutThreshold,
    windowS: config.lockoutWindowS,
    baseS: config.lockoutBaseS,
    maxS: config.lockoutMaxS,
  });
  if (!result || result.lockedUntil === null) return null;
  return { lockedUntil: result.lockedUntil, lockoutCount: result.lockoutCount };
}

/**
 * Admin releases a lockout (SECURITY.md): failures and earlier locks are forgotten, so the next
 * lock starts again at the base wait. Idempotent: unlocking an unlocked account is a 204 too.
 */
export async function unlockUser(
  ctx: Pick<AppContext, 'db' | 'clock'>,
  actor: Principal,
  id: string,
): Promise<void> {
  requirePermission(actor, 'users.manage');
  const current = await repo.findUserById(ctx.db, id);
  if (!current) throw notFound('user');
  await ctx.db.transaction(async (tx) => {
    if (!(await repo.clearLockout(tx, id))) throw notFound('user');
    await recordAudit(tx, whoOf(actor), {
      action: 'user.unlock',
      resourceType: 'user',
      resourceId: id,
      details: { was_locked: isLocked(current, ctx.clock.now()) },
    });
  });
}
