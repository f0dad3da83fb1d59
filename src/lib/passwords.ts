import { availableParallelism } from 'node:os';
import { hash, verify } from '@node-rs/argon2';
import bcrypt from 'bcryptjs';
import { dictionary } from '@zxcvbn-ts/language-common';
import { workLimit } from './work-limit.js';

// OWASP's Argon2id floor: 19 MiB, 2 passes, 1 lane. The library's default algorithm is
// Argon2id (its `Algorithm` is a const enum we cannot import under verbatimModuleSyntax).
const argon2Options = {
  memoryCost: 19_456,
  timeCost: 2,
  parallelism: 1,
} as const;

/**
 * Argon2id runs on libuv's thread pool (4 threads): a burst of logins on a 2-core machine would
 * take every core and starve the event loop that serves all other routes. At most cores - 1
 * hashes run at once, so one core stays free; a bounded number wait their turn, and beyond that
 * a login gets 503 with Retry-After instead of queueing without end. Login throughput is then
 * bound by Argon2id alone, and other routes are not delayed by it.
 */
export const passwordWork = workLimit(Math.max(1, availableParallelism() - 1), 256);

const commonPasswords = new Set(dictionary['passwords-common'].map((word) => word.toLowerCase()));

/** True for passwords on the offline common-password list (case-insensitive). */
export function isCommonPassword(password: string): boolean {
  return commonPasswords.has(password.toLowerCase());
}

export function hashPassword(password: string): Promise<string> {
  return passwordWork(() => hash(password, argon2Options));
}

const legacyBcrypt = /^\$2[aby]\$\d{2}\$/;

export interface PasswordCheck {
  ok: boolean;
  /** The stored hash is legacy (bcrypt) or weaker than today's parameters: re-hash on success. */
  needsRehash: boolean;
}

/** Verifies against Argon2id or a legacy bcrypt hash imported from the FastAPI systems. */
export async function verifyPassword(storedHash: string, password: string): Promise<PasswordCheck> {
  if (legacyBcrypt.test(storedHash)) {
    return { ok: await bcrypt.compare(password, storedHash), needsRehash: true };
  }
  // A malformed stored hash is a failed check; a full queue (503) is not, so it propagates and
  // never counts toward the lockout.
  const ok = await passwordWork(() => verify(storedHash, password).catch(() => false));
  const needsRehash = ok && !storedHash.startsWith('$argon2id$v=19$m=19456,t=2,p=1$');
  return { ok, needsRehash };
}

// Computed once at start; verifying against it makes "no such user" cost what a real check costs.
let dummyHash: Promise<string> | undefined;

/** Burns the same time as a real verification, so login timing reveals nothing. */
export async function verifyDummy(password: string): Promise<void> {
  dummyHash ??= hashPassword('medcore-dummy-password-for-timing');
  const stored = await dummyHash;
  // The same queue and the same 503 as a real check: overload reveals nothing either.
  await passwordWork(() => verify(stored, password).catch(() => false));
}
