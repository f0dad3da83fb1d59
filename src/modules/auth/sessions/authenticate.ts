import type { AppContext } from '../../../context.js';
import { effectiveRole, type Principal } from '../../../lib/permissions.js';
import * as repo from './sessions.repository.js';

/** What a session id stands for on each request; remembered per instance in the session cache. */
export type { SessionState } from './sessions.repository.js';

/** Resolves a bearer access token to a principal, or null. Revocation is read live. */
export async function authenticate(
  ctx: Pick<AppContext, 'db' | 'clock' | 'tokens' | 'sessionCache'>,
  accessToken: string,
): Promise<Principal | null> {
  const claims = ctx.tokens.verifyAccess(accessToken);
  if (!claims) return null;
  let state = ctx.sessionCache.get(claims.sid);
  if (state === undefined) {
    state = await repo.findSessionState(ctx.db, claims.sid);
    if (state !== undefined) ctx.sessionCache.set(claims.sid, state);
  }
  if (!state || state.revoked || !state.userActive || state.userId !== claims.sub) return null;
  if (state.expiresAt <= ctx.clock.now()) return null;
  return {
    userId: state.userId,
    role: effectiveRole(state.role, state.isSuperuser),
    sessionId: claims.sid,
  };
}
