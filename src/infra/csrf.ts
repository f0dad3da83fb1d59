import { createHmac, hkdfSync, timingSafeEqual } from 'node:crypto';

/**
 * The staff console's CSRF tokens (signed double submit). The console keeps its refresh token in
 * an HttpOnly cookie; a request that spends or ends it must also carry `X-CSRF-Token`, which a
 * page of another site cannot set on a same-site request. The token is an HMAC of the session id
 * under a key derived from the JWT secret, so it is bound to one session: a cookie planted by a
 * sibling subdomain, or a token of another session, does not match. It stays the same through the
 * session's refresh rotations (the page reads it from the `medcore_csrf` cookie after a reload).
 */
export interface CsrfTokens {
  /** The token of a session (43 base64url characters). */
  forSession(sessionId: string): string;
  /** Whether `token` is the token of that session (constant time). */
  matches(sessionId: string, token: string | undefined): boolean;
}

const INFO = 'medcore/console-csrf/v1';

export function createCsrfTokens(jwtSecret: string): CsrfTokens {
  // Its own label: the derived key reveals nothing about the JWT secret, nor about the MFA key.
  const key = Buffer.from(hkdfSync('sha256', jwtSecret, Buffer.alloc(0), INFO, 32));
  const sign = (sessionId: string) =>
    createHmac('sha256', key).update(`csrf:${sessionId}`).digest('base64url');
  return {
    forSession: sign,
    matches(sessionId, token) {
      if (token === undefined) return false;
      const expected = Buffer.from(sign(sessionId));
      const given = Buffer.from(token);
      return given.length === expected.length && timingSafeEqual(given, expected);
    },
  };
}
