import { hkdfSync, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Config } from '../config.js';

/**
 * The JWT signing secret: JWT_SECRET when set (required in production). On the embedded default
 * a secret is generated once into DATA_DIR, so tokens survive a restart without any setup.
 * Without either (PostgreSQL, no JWT_SECRET, not production) a per-process secret is used.
 */
export function resolveJwtSecret(config: Config, warn: (message: string) => void): string {
  if (config.jwtSecret !== undefined) return config.jwtSecret;
  if (config.databaseUrl === undefined && !config.dataDir.startsWith('memory://')) {
    const dir = resolve(config.dataDir);
    const file = join(dir, 'jwt-secret');
    if (existsSync(file)) return readFileSync(file, 'utf8').trim();
    mkdirSync(dir, { recursive: true });
    const secret = randomBytes(48).toString('base64url');
    writeFileSync(file, secret, { mode: 0o600, flag: 'wx' });
    return secret;
  }
  warn('JWT_SECRET is not set: using a per-process secret; tokens end at restart');
  return randomBytes(48).toString('base64url');
}

/**
 * The key that seals TOTP secrets at rest: MFA_ENCRYPTION_KEY when set (required in production),
 * else one derived from the JWT secret with HKDF under its own label, so development needs no
 * setup and the derived key reveals nothing about the JWT secret. Without MFA_ENCRYPTION_KEY,
 * changing the JWT secret makes stored TOTP secrets unreadable (their owners must re-enrol).
 */
export function resolveMfaKey(config: Config, jwtSecret: string): string {
  if (config.mfaEncryptionKey !== undefined) return config.mfaEncryptionKey;
  return Buffer.from(
    hkdfSync('sha256', jwtSecret, Buffer.alloc(0), 'medcore/mfa-key/v1', 32),
  ).toString('base64url');
}
