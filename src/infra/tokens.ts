import { createHmac, createSecretKey, timingSafeEqual, type KeyObject } from 'node:crypto';
import { SignJWT } from 'jose';
import type { Role } from '../db/schema/users.js';
import { newId } from '../lib/ids.js';

export interface AccessClaims {
  sub: string;
  role: Role;
  sid: string;
  jti: string;
}

export interface TokenSettings {
  secret: string;
  issuer: string;
  audience: string;
  accessTtlS: number;
}

const ACCESS_TYP = 'at+jwt';
const ALGORITHM = 'HS256';
// SECURITY.md allows at most 30 s of clock skew.
const CLOCK_TOLERANCE_S = 30;
// Our access tokens are about 400 characters; the Authorization header allows 4096.
const MAX_TOKEN_LENGTH = 4096;
// An HS256 signature: 32 bytes, 43 base64url characters without padding.
const SIGNATURE_LENGTH = 43;
const BASE64URL = /^[A-Za-z0-9_-]+$/;

export interface TokenSigner {
  signAccess(claims: Omit<AccessClaims, 'jti'>): Promise<string>;
  /** Returns the verified claims, or null for any invalid token (the reason is not disclosed). */
  verifyAccess(token: string): AccessClaims | null;
  readonly accessTtlS: number;
}

export interface VerifyOptions {
  key: KeyObject;
  issuer: string;
  audience: string;
  /** Seconds since the epoch; a parameter for tests. */
  now?: number;
}

function decodeJson(part: string): Record<string, unknown> | undefined {
  if (!BASE64URL.test(part)) return undefined;
  try {
    const value: unknown = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
    return value !== null && typeof value === 'object' && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

const isNumber = (value: unknown): value is number =>
  typeof value === 'number' && Number.isFinite(value);

/**
 * Verifies an HS256 access token synchronously (node:crypto HMAC over the imported key, constant-
 * time comparison), refusing what jose's jwtVerify refused with our options and a little more:
 * - the compact form, at most 4096 characters, base64url parts, JSON objects;
 * - header: alg exactly HS256 (so never "none" nor another algorithm), typ exactly at+jwt, no
 *   `crit` extensions (none is understood);
 * - the signature, before any claim is trusted;
 * - claims: iss and aud (a string, or a list holding ours), exp with 30 s leeway, iat present and
 *   not in the future beyond the leeway, nbf (when present) reached, and sub, sid, jti, role
 *   present as strings.
 * Returns null for every refusal, without saying which.
 */
export function verifyAccessToken(token: string, options: VerifyOptions): AccessClaims | null {
  if (token.length > MAX_TOKEN_LENGTH) return null;
  const parts = token.split('.');
  if (parts.length !== 3) return null;
  const [headerPart = '', payloadPart = '', signature = ''] = parts;

  const header = decodeJson(headerPart);
  if (header?.alg !== ALGORITHM || header.typ !== ACCESS_TYP || 'crit' in header) return null;

  if (signature.length !== SIGNATURE_LENGTH || !BASE64URL.test(signature)) return null;
  const expected = createHmac('sha256', options.key)
    .update(`${headerPart}.${payloadPart}`)
    .digest('base64url');
  if (!timingSafeEqual(Buffer.from(signature), Buffer.from(expected))) return null;

  const claims = decodeJson(payloadPart);
  if (claims === undefined) return null;
  const { iss, aud, exp, iat, nbf, sub, sid, jti, role } = claims;
  if (iss !== options.issuer) return null;
  if (!(aud === options.audience || (Array.isArray(aud) && aud.includes(options.audience)))) {
    return null;
  }
  const now = options.now ?? Math.floor(Date.now() / 1000);
  if (!isNumber(exp) || exp <= now - CLOCK_TOLERANCE_S) return null;
  if (!isNumber(iat) || iat > now + CLOCK_TOLERANCE_S) return null;
  if (nbf !== undefined && (!isNumber(nbf) || nbf > now + CLOCK_TOLERANCE_S)) return null;
  if (
    typeof sub !== 'string' ||
    typeof sid !== 'string' ||
    typeof jti !== 'string' ||
    typeof role !== 'string'
  ) {
    return null;
  }
  return { sub, sid, jti, role: role as Role };
}

export function createTokenSigner(settings: TokenSettings): TokenSigner {
  // A KeyObject is imported once; passing raw bytes would re-import the key on every call.
  const key = createSecretKey(Buffer.from(settings.secret, 'utf8'));
  const verifyOptions = { key, issuer: settings.issuer, audience: settings.audience };
  return {
    accessTtlS: settings.accessTtlS,
    // Signing happens once per login or refresh: jose's async path costs nothing there.
    async signAccess(claims) {
      return new SignJWT({ role: claims.role, sid: claims.sid })
        .setProtectedHeader({ alg: ALGORITHM, typ: ACCESS_TYP })
        .setSubject(claims.sub)
        .setJti(newId())
        .setIssuer(settings.issuer)
        .setAudience(settings.audience)
        .setIssuedAt()
        .setExpirationTime(`${settings.accessTtlS}s`)
        .sign(key);
    },
    // Every authenticated request verifies: synchronously, without WebCrypto's async round trip.
    verifyAccess: (token) => verifyAccessToken(token, verifyOptions),
  };
}
