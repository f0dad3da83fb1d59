import { Secret, TOTP } from 'otpauth';
import { openWith, sealWith } from '../../../lib/crypto.js';

/** RFC 6238 as every authenticator app speaks it; SECURITY.md: 6 digits, 30 s, +-1 step. */
export const TOTP_DIGITS = 6;
export const TOTP_PERIOD_S = 30;
export const TOTP_ALGORITHM = 'SHA1';
const WINDOW_STEPS = 1;

/** A fresh 160-bit secret (RFC 4226's recommended length), base32 as apps expect it. */
export function newTotpSecret(): string {
  return new Secret({ size: 20 }).base32;
}

export function totpUri(secret: string, issuer: string, label: string): string {
  return new TOTP({
    issuer,
    label,
    secret: Secret.fromBase32(secret),
    algorithm: TOTP_ALGORITHM,
    digits: TOTP_DIGITS,
    period: TOTP_PERIOD_S,
  }).toString();
}

/**
 * The 30-second step a code belongs to, if it matches one within +-1 step of `now`; null
 * otherwise. The caller refuses any step not newer than the last accepted one (no replay).
 */
export function matchTotp(secret: string, code: string, now: Date): number | null {
  if (!/^\d{6}$/.test(code)) return null;
  const timestamp = now.getTime();
  const delta = TOTP.validate({
    token: code,
    secret: Secret.fromBase32(secret),
    algorithm: TOTP_ALGORITHM,
    digits: TOTP_DIGITS,
    period: TOTP_PERIOD_S,
    timestamp,
    window: WINDOW_STEPS,
  });
  return delta === null ? null : TOTP.counter({ period: TOTP_PERIOD_S, timestamp }) + delta;
}

const SEAL_INFO = 'medcore/totp-secret/v1';

/**
 * TOTP secrets are stored only sealed (AES-256-GCM). The user id is part of the key derivation,
 * so a sealed secret copied into another account's row does not open there.
 */
export function sealTotpSecret(key: string, userId: string, secret: string): string {
  return sealWith(key, `${SEAL_INFO}/${userId}`, secret);
}

/** Null when the key changed or the value was tampered with: the secret is then unusable. */
export function openTotpSecret(key: string, userId: string, sealed: string): string | null {
  return openWith(key, `${SEAL_INFO}/${userId}`, sealed);
}
