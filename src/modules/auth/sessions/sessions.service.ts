import type { AppContext } from '../../../context.js';
import type { DbOrTx } from '../../../db/client.js';
import { forgetCachedSessions } from '../../../infra/session-cache.js';
import { requirePermission } from '../../../lib/access.js';
import { notFound } from '../../../lib/errors.js';
import type { Principal } from '../../../lib/permissions.js';
import { recordAudit, whoOf, type AuditWho } from '../../audit/audit.service.js';
import * as repo from './sessions.repository.js';

export type RevocationReason =
  | 'logout'
  | 'logout_all'
  | 'revoked_by_user'
  | 'password_changed'
  | 'password_reset'
  | 'role_changed'
  | 'deactivated'
  | 'mfa_reset'
  | 'refresh_reuse';

/**
 * Every revocation goes through here: after the row is written, this process's session caches
 * forget what they remember (and remember nothing until the revoking transaction has surely
 * ended), so a revoked session is never served from memory on this instance; other instances
 * see it within AUTH_CACHE_MS.
 */

/**
 * Revokes every session of a user (optionally sparing the caller's). Access tokens die with their
 * session at once: each request re-reads the session row, on every instance.
 */
export async function endAllSessions(
  db: DbOrTx,
  userId: string,
  reason: RevocationReason,
  exceptSessionId?: string,
): Promise<number> {
  const ended = await repo.revokeUserSessions(db, userId, reason, exceptSessionId);
  forgetCachedSessions();
  return ended;
}

/**
 * Revokes one session unless already revoked (and, given `userId`, only that user's): false when
 * nothing was revoked.
 */
export async function endSession(
  db: DbOrTx,
  sessionId: string,
  reason: RevocationReason,
  userId?: string,
): Promise<boolean> {
  const ended = await repo.revokeSession(db, sessionId, reason, userId);
  forgetCachedSessions();
  return ended;
}

/** Ends the caller's own session (its refresh family and every access token carrying its sid). */
export async function logout(ctx: Pick<AppContext, 'db'>, actor: Principal): Promise<void> {
  requirePermission(actor, 'self.manage');
  await logoutSession(ctx, whoOf(actor), actor.sessionId);
}

/**
 * A logout by session id, for callers that hold the session's refresh token rather than an access
 * token (the staff console's cookie). The revocation and its auth.logout row commit together;
 * a session already ended (elsewhere, or by reuse detection) is left as it is, unaudited.
 */
export async function logoutSession(
  ctx: Pick<AppContext, 'db'>,
  who: AuditWho,
  sessionId: string,
): Promise<boolean> {
  return ctx.db.transaction(async (tx) => {
    if (!(await endSession(tx, sessionId, 'logout'))) return false;
    await recordAudit(tx, who, {
      action: 'auth.logout',
      resourceType: 'session',
      resourceId: sessionId,
    });
    return true;
  });
}

export async function logoutAll(ctx: Pick<AppContext, 'db'>, actor: Principal): Promise<void> {
  requirePermission(actor, 'self.manage');
  await ctx.db.transaction(async (tx) => {
    const ended = await endAllSessions(tx, actor.userId, 'logout_all');
    await recordAudit(tx, whoOf(actor), {
      action: 'auth.logout_all',
      resourceType: 'user',
      resourceId: actor.userId,
      details: { sessions_ended: ended },
    });
  });
}

export interface SessionDto {
  id: string;
  created_at: string;
  last_used_at: string;
  expires_at: string;
  ip: string | null;
  user_agent: string | null;
  current: boolean;
}

export async function listSessions(
  ctx: Pick<AppContext, 'db'>,
  actor: Principal,
): Promise<{ items: SessionDto[]; next_cursor: null }> {
  requirePermission(actor, 'self.manage');
  const rows = await repo.listLiveSessions(ctx.db, actor.userId);
  return {
    items: rows.map((row) => ({
      id: row.id,
      created_at: row.createdAt.toISOString(),
      last_used_at: row.lastUsedAt.toISOString(),
      expires_at: row.expiresAt.toISOString(),
      ip: row.ip,
      user_agent: row.userAgent,
      current: row.id === actor.sessionId,
    })),
    // A user has few live sessions (capped at 100 in the query): one page is the whole list.
    next_cursor: null,
  };
}

/** Revokes one of the caller's sessions; another user's session id is a plain 404. */
export async function revokeOwnSession(
  ctx: Pick<AppContext, 'db'>,
  actor: Principal,
  sessionId: string,
): Promise<void> {
  requirePermission(actor, 'self.manage');
  const revoked = await ctx.db.transaction(async (tx) => {
    if (!(await endSession(tx, sessionId, 'revoked_by_user', actor.userId))) return false;
    await recordAudit(tx, whoOf(actor), {
      action: 'auth.session_revoke',
      resourceType: 'session',
      resourceId: sessionId,
    });
    return true;
  });
  if (!revoked) throw notFound('live session');
}
