import type { AppContext, RequestMeta } from '../../context.js';
import type { UserRow } from '../../db/schema/users.js';
import { requirePermission } from '../../lib/access.js';
import { openWith, randomToken, sealWith, sha256Hex } from '../../lib/crypto.js';
import { AppError } from '../../lib/errors.js';
import { newId } from '../../lib/ids.js';
import { effectiveRole, type Principal } from '../../lib/permissions.js';
import type { RegisterInput } from '../users/users.schemas.js';
import * as users from '../users/users.service.js';
import { toUserDto } from '../users/users.mapper.js';
import * as repo from './auth.repository.js';
import type { ChangePasswordInput, LoginInput, TokenPair } from './auth.schemas.js';
import { hashPassword, verifyDummy, verifyPassword } from './passwords.js';
import { endAllSessions } from './sessions.service.js';

const SUCCESSOR_INFO = 'medcore/refresh-successor/v1';

function invalidCredentials(): AppError {
  // One message for unknown account, wrong password and inactive account: no enumeration.
  return new AppError('invalid_credentials', 'Incorrect username/email or password', {
    headers: { 'www-authenticate': 'Bearer' },
  });
}

function invalidRefresh(): AppError {
  return new AppError('invalid_token', 'The refresh token is invalid, expired or revoked');
}

/** Self-registration: new accounts get the `user` role, which has no patient access. */
export async function register(ctx: AppContext, input: RegisterInput) {
  if (ctx.config.registrationMode === 'closed') {
    throw new AppError('forbidden', 'Self-registration is closed; ask an administrator');
  }
  return toUserDto(await users.createAccount(ctx, input, 'user'));
}

/**
 * Password login. Unknown accounts verify against a dummy hash so that every failure costs the
 * same time and returns the same body.
 */
export async function login(ctx: AppContext, input: LoginInput, meta: RequestMeta) {
  const identifier = input.email ?? input.username;
  if (identifier === undefined) {
    throw new AppError('validation_failed', 'Give an email or a username', {
      errors: [{ field: 'body.username', message: 'email or username is required' }],
    });
  }
  const user = await users.findAccountForLogin(ctx, identifier);
  if (!user) {
    await verifyDummy(input.password);
    throw invalidCredentials();
  }
  const check = await verifyPassword(user.hashedPassword, input.password);
  if (!check.ok || !user.isActive) throw invalidCredentials();
  // Legacy bcrypt (or outdated Argon2 parameters) is upgraded while we hold the plain password.
  const rehashed = check.needsRehash ? await hashPassword(input.password) : undefined;
  await users.recordLogin(ctx, user.id, rehashed);
  return startSession(ctx, user, meta);
}

function refreshExpiry(ctx: AppContext, sessionExpiresAt: Date): Date {
  const sliding = ctx.clock.now().getTime() + ctx.config.refreshTokenTtlS * 1000;
  return new Date(Math.min(sliding, sessionExpiresAt.getTime()));
}

async function issuePair(
  ctx: AppContext,
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

async function startSession(ctx: AppContext, user: UserRow, meta: RequestMeta): Promise<TokenPair> {
  const now = ctx.clock.now();
  const sessionId = newId();
  const expiresAt = new Date(now.getTime() + ctx.config.refreshTokenAbsoluteTtlS * 1000);
  const refreshToken = randomToken();
  const refreshExpiresAt = refreshExpiry(ctx, expiresAt);
  await ctx.db.transaction(async (tx) => {
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
  });
  return issuePair(ctx, user, sessionId, refreshToken, refreshExpiresAt);
}

/**
 * Rotates a refresh token. Exactly one caller spends a token (a conditional UPDATE); a spent
 * token replayed within the grace window gets the identical successor pair back (read from a
 * copy sealed with the spent token itself), and replayed later revokes the whole family.
 */
export async function refresh(
  ctx: AppContext,
  token: string,
  log: ReuseLogger,
): Promise<TokenPair> {
  const tokenHash = sha256Hex(token);
  const found = await repo.findRefreshToken(ctx.db, tokenHash);
  if (!found) throw invalidRefresh();
  const now = ctx.clock.now();
  const { token: row, session } = found;
  if (session.revokedAt !== null || session.expiresAt <= now) throw invalidRefresh();
  if (row.spentAt !== null) return replaySpent(ctx, token, found, log);
  if (row.expiresAt <= now) throw invalidRefresh();
  const user = await users.findAccount(ctx, session.userId);
  if (!user?.isActive) throw invalidRefresh();

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
    return true;
  });
  if (won) return pair;
  // A concurrent request rotated it first: answer as a replay of a just-spent token.
  const again = await repo.findRefreshToken(ctx.db, tokenHash);
  if (!again) throw invalidRefresh();
  return replaySpent(ctx, token, again, log);
}

export type ReuseLogger = (event: { sessionId: string; userId: string }) => void;

async function replaySpent(
  ctx: AppContext,
  token: string,
  found: NonNullable<Awaited<ReturnType<typeof repo.findRefreshToken>>>,
  log: ReuseLogger,
): Promise<TokenPair> {
  const { token: row, session } = found;
  const spentAgoMs = ctx.clock.now().getTime() - (row.spentAt?.getTime() ?? 0);
  if (spentAgoMs <= ctx.config.refreshReuseGraceS * 1000 && row.successorSealed !== null) {
    const opened = openWith(token, SUCCESSOR_INFO, row.successorSealed);
    if (opened !== null) return JSON.parse(opened) as TokenPair;
  }
  // A spent token coming back after the grace means it was copied: end the whole family.
  await repo.revokeSession(ctx.db, session.id, 'refresh_reuse');
  log({ sessionId: session.id, userId: session.userId });
  throw invalidRefresh();
}

/** Changes the caller's password; every other session ends, this one stays signed in. */
export async function changePassword(
  ctx: AppContext,
  actor: Principal,
  input: ChangePasswordInput,
): Promise<void> {
  requirePermission(actor, 'self.manage');
  const user = await users.findAccount(ctx, actor.userId);
  if (!user) throw new AppError('not_found', 'No such user');
  const check = await verifyPassword(user.hashedPassword, input.current_password);
  if (!check.ok) {
    throw new AppError('validation_failed', 'The current password is incorrect', {
      errors: [{ field: 'body.current_password', message: 'is incorrect' }],
    });
  }
  users.assertAcceptablePassword(input.new_password, 'new_password');
  const hashed = await hashPassword(input.new_password);
  await ctx.db.transaction(async (tx) => {
    await users.setPassword({ ...ctx, db: tx }, user.id, hashed);
    await endAllSessions(tx, user.id, 'password_changed', actor.sessionId);
  });
}

/** Resolves a bearer access token to a principal, or null. Revocation is read live. */
export async function authenticate(
  ctx: AppContext,
  accessToken: string,
): Promise<Principal | null> {
  const claims = await ctx.tokens.verifyAccess(accessToken);
  if (!claims) return null;
  const state = await repo.findSessionState(ctx.db, claims.sid);
  if (!state || state.revoked || !state.userActive || state.userId !== claims.sub) return null;
  if (state.expiresAt <= ctx.clock.now()) return null;
  return {
    userId: state.userId,
    role: effectiveRole(state.role, state.isSuperuser),
    sessionId: claims.sid,
  };
}
