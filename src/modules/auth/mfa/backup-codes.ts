import { createHmac, hkdfSync, randomInt } from 'node:crypto';

export const BACKUP_CODE_COUNT = 10;

// Crockford's base32 in lowercase: no i, l, o or u, so codes read back without confusion.
const ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz';
const LENGTH = 12; // 60 bits
const validCode = new RegExp(`^[${ALPHABET}]{${LENGTH}}$`);

/** Ten fresh single-use codes, shown once as `xxxx-xxxx-xxxx`. */
export function newBackupCodes(): string[] {
  return Array.from({ length: BACKUP_CODE_COUNT }, () => {
    const chars = Array.from({ length: LENGTH }, () => ALPHABET[randomInt(ALPHABET.length)]);
    return [0, 4, 8].map((at) => chars.slice(at, at + 4).join('')).join('-');
  });
}

/** Case, spaces and dashes do not matter when typing a code back; anything else is no code. */
export function normalizeBackupCode(input: string): string | null {
  const code = input.toLowerCase().replace(/[\s-]/g, '');
  return validCode.test(code) ? code : null;
}

/**
 * Codes are stored as HMAC-SHA256 under a key derived from the MFA key: fast to look up, and a
 * copy of the database alone does not allow an offline search of the 60-bit code space.
 */
export function hashBackupCode(key: string, normalized: string): string {
  const mac = Buffer.from(hkdfSync('sha256', key, Buffer.alloc(0), 'medcore/backup-code/v1', 32));
  return createHmac('sha256', mac).update(normalized).digest('hex');
}
