import type { AppContext } from '../../context.js';
import { forgetProfile } from './profile-cache.js';
import * as repo from './users.repository.js';

/**
 * Credentials bookkeeping for the auth module: completed logins, hash upgrades, the row lock of
 * an MFA first step and new passwords. Kept apart from account administration (users.service).
 */

/** A legacy hash to replace: the new hash, and the stored one that the password was checked against. */
export interface Rehash {
  hashed: string;
  verifiedHash: string;
}

/**
 * A completed login: clears the failure counters (and stores an upgraded hash). False when a
 * lockout holds, checked in the same statement so a parallel failure's lock is never overwritten.
 * The upgraded hash is written only if the stored hash is still the verified one (a concurrent
 * password change or reset wins); call it inside a transaction so both writes commit together.
 */
export async function recordLogin(
  ctx: Pick<AppContext, 'db' | 'clock'>,
  id: string,
  rehash?: Rehash,
): Promise<boolean> {
  // last_login_at is part of the profile; a login never waits for the cache to settle, so the
  // first screen after it is already served from memory.
  forgetProfile(id, { settle: false });
  if (!(await repo.recordLogin(ctx.db, id, ctx.clock.now()))) return false;
  if (rehash !== undefined)
    await repo.upgradePasswordHash(ctx.db, id, rehash.hashed, rehash.verifiedHash);
  return true;
}

/** Upgrades a legacy hash unless the password changed since it was verified (false then). */
export function upgradePasswordHash(
  ctx: Pick<AppContext, 'db'>,
  id: string,
  rehash: Rehash,
): Promise<boolean> {
  return repo.upgradePasswordHash(ctx.db, id, rehash.hashed, rehash.verifiedHash);
}

/** Row-locks the account in the caller's transaction unless a lockout holds (false then). */
export function holdUnlocked(ctx: Pick<AppContext, 'db' | 'clock'>, id: string): Promise<boolean> {
  return repo.holdUnlocked(ctx.db, id, ctx.clock.now());
}

/**
 * Stores a new password hash. `clearLockout` (password reset) also forgets failed logins and
 * lockouts: whoever proved control of the account's email should not stay locked out. Call it in
 * the transaction in which auth also ends the sessions and pending MFA second steps.
 */
export async function setPassword(
  ctx: Pick<AppContext, 'db' | 'clock'>,
  id: string,
  hashedPassword: string,
  options: { clearLockout?: boolean } = {},
): Promise<void> {
  const lockout = options.clearLockout
    ? { failedLoginCount: 0, failedLoginWindowStart: null, lockedUntil: null, lockoutCount: 0 }
    : {};
  forgetProfile(id);
  await repo.updateUser(ctx.db, id, {
    hashedPassword,
    passwordChangedAt: ctx.clock.now(),
    ...lockout,
  });
}
