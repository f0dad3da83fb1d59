import type { AppContext, RequestMeta } from '../../../context.js';
import type { Tx } from '../../../db/client.js';
import type { UserRow } from '../../../db/schema/users.js';
import { randomToken, sha256Hex } from '../../../lib/crypto.js';
import { newId } from '../../../lib/ids.js';
import { effectiveRole } from '../../../lib/permissions.js';
import * as repo from './sessions.repository.js';
import type { TokenPair } from '../auth.schemas.js';

/** A refresh token slides 14 days but never outlives its family's absolute end. */
export function refreshExpiry(
  ctx: Pick<AppContext, 'clock' | 'config'>,
  sessionExpiresAt: Date,
): Date {
  const sliding = ctx.clock.now().getTime() + ctx.config.refreshTokenTtlS * 1000;
  return new Date(Math.min(sliding, sessionExpiresAt.getTime()));
}

export async function issuePair(
  ctx: Pick<AppContext, 'clock' | 'tokens'>,
  user: UserRow,
  sessionId: string,
  refreshToken: string,
  refreshExpiresAt: Date,
): Promise<TokenPair> {
  const accessToken = await ctx.tokens.signAccess({
    sub: user.id,
    role: effectiveRole(user.role, user.isSuperuser),
    sid: sessionId,
  });
  return {
    access_token: accessToken,
    token_type: 'bearer',
    expires_in: ctx.tokens.accessTtlS,
    refresh_token: refreshToken,
    refresh_expires_in: Math.max(
      0,
      Math.floor((refreshExpiresAt.getTime() - ctx.clock.now().getTime()) / 1000),
    ),
  };
}

/**
 * Opens a session (a new refresh family) inside the caller's transaction, so the login's other
 * writes (counters, MFA challenge, audit row) commit with it or not at all.
 */
export async function openSession(
  ctx: Pick<AppContext, 'clock' | 'config' | 'tokens'>,
  tx: Tx,
  user: UserRow,
  meta: RequestMeta,
): Promise<{ sessionId: string; pair: TokenPair }> {
  const now = ctx.clock.now();
  const sessionId = newId();
  const expiresAt = new Date(now.getTime() + ctx.config.refreshTokenAbsoluteTtlS * 1000);
  const refreshToken = randomToken();
  const refreshExpiresAt = refreshExpiry(ctx, expiresAt);
  await repo.insertSession(tx, {
    id: sessionId,
    userId: user.id,
    createdAt: now,
    lastUsedAt: now,
    expiresAt,
    ip: meta.ip,
    userAgent: meta.userAgent?.slice(0, 500) ?? null,
  });
  await repo.insertRefreshToken(tx, {
    id: newId(),
    sessionId,
    tokenHash: sha256Hex(refreshToken),
    generation: 0,
    createdAt: now,
    expiresAt: refreshExpiresAt,
  });
  return { sessionId, pair: await issuePair(ctx, user, sessionId, refreshToken, refreshExpiresAt) };
}
