import type { UserRow } from '../../db/schema/users.js';

/**
 * Own profiles (`GET /users/me`) remembered per process for at most AUTH_CACHE_MS (<= 1 s), the
 * bound SECURITY.md already accepts for a session's role and status to reach every instance: a
 * client asking for its profile on every screen then costs no database round trip.
 *
 * Every change of what the profile shows (users.service, credentials.service) forgets the user's
 * entry at once in this process, and nothing is remembered for that user until the changing
 * transaction has surely ended, so a client always reads its own writes from the instance that
 * made them. Another instance may show the old profile for up to AUTH_CACHE_MS; its ETag is then
 * the old version, so an edit based on it is refused (412), never lost.
 *
 * Keyed by user id, which is unique across databases, so the apps of one process (the tests
 * build many) can share it.
 */
const entries = new Map<string, { row: UserRow; until: number }>();
const settling = new Map<string, number>();
const MAX_ENTRIES = 10_000;
/** Longer than any transaction that changes a user may stay open before it commits. */
const SETTLE_MS = 3_000;

export function cachedProfile(id: string): UserRow | undefined {
  const entry = entries.get(id);
  if (entry === undefined) return undefined;
  if (entry.until <= performance.now()) {
    entries.delete(id);
    return undefined;
  }
  return entry.row;
}

export function rememberProfile(id: string, row: UserRow, ttlMs: number): void {
  const now = performance.now();
  const quietUntil = settling.get(id);
  if (quietUntil !== undefined) {
    if (now < quietUntil) return;
    settling.delete(id);
  }
  if (ttlMs <= 0) return;
  // Oldest first out: a Map iterates in insertion order.
  if (entries.size >= MAX_ENTRIES) {
    const oldest = entries.keys().next().value;
    if (oldest !== undefined) entries.delete(oldest);
  }
  entries.set(id, { row, until: now + ttlMs });
}

/**
 * The user's profile changed (or is changing, in an open transaction). `settle: false` for a
 * change that may show late by up to AUTH_CACHE_MS (a login's time): the entry goes, but the
 * next read may be remembered at once.
 */
export function forgetProfile(id: string, options: { settle?: boolean } = {}): void {
  entries.delete(id);
  if (options.settle === false) return;
  if (settling.size >= MAX_ENTRIES) settling.clear();
  settling.set(id, performance.now() + SETTLE_MS);
}
