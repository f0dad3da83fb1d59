import type { AppContext, RequestMeta } from '../../../context.js';
import { openWith, randomToken, sealWith, sha256Hex } from '../../../lib/crypto.js';
import { AppError } from '../../../lib/errors.js';
import { newId } from '../../../lib/ids.js';
import { recordAudit } from '../../audit/audit.service.js';
import * as users from '../../users/users.service.js';
import { whoAt } from '../auth.audit.js';
import type { TokenPair } from '../auth.schemas.js';
import * as repo from '../sessions/sessions.repository.js';
import { endSession } from '../sessions/sessions.service.js';
import { issuePair, refreshExpiry } from '../sessions/token-pair.js';

const SUCCESSOR_INFO = 'medcore/refresh-successor/v1';

function invalidRefresh(): AppError {
  return new AppError('invalid_token', 'The refresh token is invalid, expired or revoked');
}

type FoundToken = NonNullable<Awaited<ReturnType<typeof repo.findRefreshToken>>>;

/** A refused refresh: audited against the session's user when the token was one of ours. */
async function refuseRefresh(
  ctx: Pick<AppContext, 'db'>,
  meta: RequestMeta,
  reason: string,
  found?: FoundToken,
): Promise<never> {
  const who = { ...whoAt(meta), userId: found?.session.userId ?? null };
  await recordAudit(ctx.db, who, {
    action: 'auth.refresh',
    outcome: 'failure',
    ...(found === undefined ? {} : { resourceType: 'session', resourceId: found.session.id }),
    details: { reason },
  });
  throw invalidRefresh();
}

/**
 * Rotates a refresh token. Exactly one caller spends a token (a conditional UPDATE); a spent
 * token replayed within the grace window gets the identical successor pair back (read from a
 * copy sealed with the spent token itself), and replayed later revokes the whole family.
 */
export async function refresh(
  ctx: Pick<AppContext, 'db' | 'clock' | 'config' | 'tokens'>,
  token: string,
  meta: RequestMeta,
): Promise<TokenPair> {
  const tokenHash = sha256Hex(token);
  const found = await repo.findRefreshToken(ctx.db, tokenHash);
  if (!found) return refuseRefresh(ctx, meta, 'unknown_token');
  const now = ctx.clock.now();
  const { token: row, session } = found;
  if (session.revokedAt !== null) return refuseRefresh(ctx, meta, 'session_revoked', found);
  if (session.expiresAt <= now) return refuseRefresh(ctx, meta, 'session_expired', found);
  if (row.spentAt !== null) return replaySpent(ctx, token, found, meta);
  if (row.expiresAt <= now) return refuseRefresh(ctx, meta, 'token_expired', found);
  const user = await users.findAccount(ctx, session.userId);
  if (!user?.isActive) return refuseRefresh(ctx, meta, 'inactive', found);

  const nextToken = randomToken();
  const nextExpiresAt = refreshExpiry(ctx, session.expiresAt);
  const pair = await issuePair(ctx, user, session.id, nextToken, nextExpiresAt);
  const sealed = sealWith(token, SUCCESSOR_INFO, JSON.stringify(pair));
  const won = await ctx.db.transaction(async (tx) => {
    if (!(await repo.spendRefreshToken(tx, row.id, now, sealed))) return false;
    await repo.insertRefreshToken(tx, {
      id: newId(),
      sessionId: session.id,
      tokenHash: sha256Hex(nextToken),
      generation: row.generation + 1,
      createdAt: now,
      expiresAt: nextExpiresAt,
    });
    await repo.touchSession(tx, session.id, now);
    await recordAudit(tx, whoAt(meta, user), {
      action: 'auth.refresh',
      resourceType: 'session',
      resourceId: session.id,
      details: { generation: row.generation + 1 },
    });
    return true;
  });
  if (won) return pair;
  // A concurrent request rotated it first: answer as a replay of a just-spent token.
  const again = await repo.findRefreshToken(ctx.db, tokenHash);
  if (!again) return refuseRefresh(ctx, meta, 'unknown_token');
  return replaySpent(ctx, token, again, meta);
}

async function replaySpent(
  ctx: Pick<AppContext, 'db' | 'clock' | 'config'>,
  token: string,
  found: FoundToken,
  meta: RequestMeta,
): Promise<TokenPair> {
  const { token: row, session } = found;
  const who = { ...whoAt(meta), userId: session.userId };
  const resource = { resourceType: 'session', resourceId: session.id };
  const spentAgoMs = ctx.clock.now().getTime() - (row.spentAt?.getTime() ?? 0);
  if (spentAgoMs <= ctx.config.refreshReuseGraceS * 1000 && row.successorSealed !== null) {
    const opened = openWith(token, SUCCESSOR_INFO, row.successorSealed);
    if (opened !== null) {
      // A lost-response retry: the same pair again, recorded as such.
      await recordAudit(ctx.db, who, {
        action: 'auth.refresh',
        ...resource,
        details: { grace_replay: true, generation: row.generation + 1 },
      });
      return JSON.parse(opened) as TokenPair;
    }
  }
  // A spent token coming back after the grace means it was copied: end the whole family (its
  // access tokens die with it: each request re-reads the session) and audit it, together.
  await ctx.db.transaction(async (tx) => {
    const revoked = await endSession(tx, session.id, 'refresh_reuse');
    await recordAudit(tx, who, {
      action: 'auth.refresh_reuse',
      outcome: 'failure',
      ...resource,
      details: { generation: row.generation, family_revoked: revoked },
    });
  });
  throw invalidRefresh();
}
