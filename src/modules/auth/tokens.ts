import { createSecretKey } from 'node:crypto';
import { errors as joseErrors, jwtVerify, SignJWT } from 'jose';
import type { Role } from '../../db/schema/users.js';
import { newId } from '../../lib/ids.js';

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

export interface TokenSigner {
  signAccess(claims: Omit<AccessClaims, 'jti'>): Promise<string>;
  /** Returns the verified claims, or null for any invalid token (the reason is not disclosed). */
  verifyAccess(token: string): Promise<AccessClaims | null>;
  readonly accessTtlS: number;
}

export function createTokenSigner(settings: TokenSettings): TokenSigner {
  // A KeyObject is imported once; passing raw bytes would re-import the key on every call.
  const key = createSecretKey(Buffer.from(settings.secret, 'utf8'));
  return {
    accessTtlS: settings.accessTtlS,
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
    async verifyAccess(token) {
      try {
        const { payload } = await jwtVerify(token, key, {
          algorithms: [ALGORITHM],
          issuer: settings.issuer,
          audience: settings.audience,
          typ: ACCESS_TYP,
          clockTolerance: CLOCK_TOLERANCE_S,
          requiredClaims: ['sub', 'sid', 'jti', 'iat', 'exp', 'role'],
        });
        const { sub, sid, jti, role } = payload;
        if (typeof sub !== 'string' || typeof sid !== 'string' || typeof jti !== 'string') {
          return null;
        }
        if (typeof role !== 'string') return null;
        return { sub, sid, jti, role: role as Role };
      } catch (error) {
        if (error instanceof joseErrors.JOSEError || error instanceof TypeError) return null;
        throw error;
      }
    },
  };
}
