import type { AppContext, RequestMeta } from '../../../context.js';
import { sha256Hex } from '../../../lib/crypto.js';
import { AppError } from '../../../lib/errors.js';
import { recordAudit } from '../../audit/audit.service.js';
import * as users from '../../users/users.service.js';
import { whoAt } from '../auth.audit.js';
import type { LoginInput, TokenPair } from '../auth.schemas.js';
import { login } from '../login/login.service.js';
import { verifyMfa } from '../mfa/mfa-verify.service.js';
import type { MfaChallenge, MfaVerifyInput } from '../mfa/mfa.schemas.js';
import { refresh } from '../refresh/refresh.service.js';
import * as repo from '../sessions/sessions.repository.js';
import { logoutSession } from '../sessions/sessions.service.js';
import type { ConsoleSession } from './console.schemas.js';

/**
 * The staff console's sessions: the same login, MFA step, rotation and logout as the token routes
 * (this file calls them, it repeats none of their rules), with the refresh token kept out of every
 * answer body. The route puts `refreshToken` and `csrfToken` into cookies (console.routes.ts).
 */
export interface ConsoleGrant {
  session: ConsoleSession;
  refreshToken: string;
  /** How long the refresh token lives, in seconds: the cookies' Max-Age. */
  maxAgeS: number;
  csrfToken: string;
}

type SignInCtx = Pick<AppContext, 'db' | 'clock' | 'config' | 'tokens' | 'csrf'>;

// As RefreshBody's bound: a longer cookie value is no token of ours.
const MAX_REFRESH_TOKEN_LENGTH = 200;

function noSession(): AppError {
  return new AppError('invalid_token', 'The console session is missing, expired or revoked');
}

/** The body and cookies of a pair just issued, whose claims name the account and the session. */
async function grantOf(ctx: Pick<AppContext, 'db' | 'tokens' | 'csrf'>, pair: TokenPair) {
  const claims = ctx.tokens.verifyAccess(pair.access_token);
  const user = claims === null ? undefined : await users.findAccount(ctx, claims.sub);
  if (claims === null || user === undefined) {
    throw new Error('an access token issued a moment ago does not resolve to its account');
  }
  const grant: ConsoleGrant = {
    session: {
      access_token: pair.access_token,
      token_type: pair.token_type,
      expires_in: pair.expires_in,
      user: { id: user.id, email: user.email, username: user.username, role: claims.role },
    },
    refreshToken: pair.refresh_token,
    maxAgeS: pair.refresh_expires_in,
    csrfToken: ctx.csrf.forSession(claims.sid),
  };
  return grant;
}

/** Password login (`login`): a grant, or with MFA on the same challenge as /auth/login. */
export async function consoleLogin(
  ctx: SignInCtx,
  input: LoginInput,
  meta: RequestMeta,
): Promise<ConsoleGrant | MfaChallenge> {
  const result = await login(ctx, input, meta);
  return 'mfa_required' in result ? result : grantOf(ctx, result);
}

/** The second step (`verifyMfa`: TOTP or backup code), answered as a console sign-in. */
export async function consoleVerifyMfa(
  ctx: SignInCtx & Pick<AppContext, 'mfaKey'>,
  input: MfaVerifyInput,
  meta: RequestMeta,
): Promise<ConsoleGrant> {
  return grantOf(ctx, await verifyMfa(ctx, input, meta));
}

function cookieValue(token: string | undefined): string {
  if (token === undefined || token === '' || token.length > MAX_REFRESH_TOKEN_LENGTH) {
    throw noSession();
  }
  return token;
}

/**
 * The CSRF check of refresh and logout, before anything changes: the header must carry the token
 * of the session the cookie's refresh token belongs to (spent tokens included, so a wrong header
 * cannot set off reuse detection either). A refusal is audited under the action it stopped.
 * Undefined when the token is none of ours (nothing to protect; the caller refuses it).
 */
async function checkedSession(
  ctx: Pick<AppContext, 'db' | 'csrf'>,
  token: string,
  csrfHeader: string | undefined,
  meta: RequestMeta,
  action: 'auth.refresh' | 'auth.logout',
) {
  const found = await repo.findRefreshToken(ctx.db, sha256Hex(token));
  if (found === undefined) return undefined;
  if (!ctx.csrf.matches(found.session.id, csrfHeader)) {
    await recordAudit(
      ctx.db,
      { ...whoAt(meta), userId: found.session.userId },
      {
        action,
        outcome: 'failure',
        resourceType: 'session',
        resourceId: found.session.id,
        details: { reason: csrfHeader === undefined ? 'csrf_missing' : 'csrf_mismatch' },
      },
    );
    throw new AppError(
      'csrf_failed',
      'The X-CSRF-Token header is missing or is not the token of this session; nothing was changed',
    );
  }
  return found;
}

/**
 * Rotates the cookie's refresh token exactly as /auth/refresh does (grace replay, reuse
 * detection revoking the family, audit rows), after the CSRF check.
 */
export async function consoleRefresh(
  ctx: SignInCtx,
  cookie: string | undefined,
  csrfHeader: string | undefined,
  meta: RequestMeta,
): Promise<ConsoleGrant> {
  const token = cookieValue(cookie);
  // An unknown token passes through to refresh(), which refuses and audits it like any other.
  await checkedSession(ctx, token, csrfHeader, meta, 'auth.refresh');
  return grantOf(ctx, await refresh(ctx, token, meta));
}

/** Ends the cookie's session (auth.logout, like /auth/logout), after the CSRF check. */
export async function consoleLogout(
  ctx: Pick<AppContext, 'db' | 'csrf'>,
  cookie: string | undefined,
  csrfHeader: string | undefined,
  meta: RequestMeta,
): Promise<void> {
  const found = await checkedSession(ctx, cookieValue(cookie), csrfHeader, meta, 'auth.logout');
  if (found === undefined) throw noSession();
  const user = await users.findAccount(ctx, found.session.userId);
  await logoutSession(ctx, whoAt(meta, user), found.session.id);
}
