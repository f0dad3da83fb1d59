import { and, asc, eq, gt, ilike, isNull, lte, or, sql, type SQL } from 'drizzle-orm';
import type { DbOrTx } from '../../db/client.js';
import { prepared } from '../../db/prepared.js';
import { users, type NewUserRow, type Role, type UserRow } from '../../db/schema/users.js';

export async function insertUser(db: DbOrTx, row: NewUserRow): Promise<UserRow> {
  const [created] = await db.insert(users).values(row).returning();
  if (!created) throw new Error('insert returned no row');
  return created;
}

export async function findUserById(db: DbOrTx, id: string): Promise<UserRow | undefined> {
  const query = prepared(db, 'user_by_id', (on) =>
    on
      .select()
      .from(users)
      .where(eq(users.id, sql.placeholder('id')))
      .limit(1),
  );
  const [row] = await query.execute({ id });
  return row;
}

/** Login accepts either the email or the username, case-insensitively. */
export async function findUserByLogin(
  db: DbOrTx,
  identifier: string,
): Promise<UserRow | undefined> {
  const lowered = identifier.toLowerCase();
  const [row] = await db
    .select()
    .from(users)
    .where(or(sql`lower(${users.email}) = ${lowered}`, sql`lower(${users.username}) = ${lowered}`))
    .limit(1);
  return row;
}

export async function updateUser(
  db: DbOrTx,
  id: string,
  changes: Partial<NewUserRow>,
  expectedVersion?: number,
): Promise<UserRow | undefined> {
  const where =
    expectedVersion === undefined
      ? eq(users.id, id)
      : and(eq(users.id, id), eq(users.version, expectedVersion));
  const [row] = await db
    .update(users)
    .set({ ...changes, version: sql`${users.version} + 1`, updatedAt: sql`now()` })
    .where(where)
    .returning();
  return row;
}

/** Every lockout counter back to zero (successful login, admin unlock). */
const noFailures = {
  failedLoginCount: 0,
  failedLoginWindowStart: null,
  lockedUntil: null,
  lockoutCount: 0,
} as const;

/** A timestamp parameter: the app clock, not the database's, decides what "now" is. */
const ts = (at: Date) => sql`${at.toISOString()}::timestamptz`;

/** No lockout holds at `at` (the condition of counting a failure or accepting a login). */
function notLocked(at: Date) {
  return or(isNull(users.lockedUntil), lte(users.lockedUntil, ts(at)));
}

/**
 * Login bookkeeping: not a profile change, so the version (and ETag) stays the same. Clears the
 * failure counters, but only while the account is not locked (checked in the same statement, so
 * a lock taken by a parallel failure wins). Returns false when a lock holds.
 */
export async function recordLogin(db: DbOrTx, id: string, at: Date): Promise<boolean> {
  const rows = await db
    .update(users)
    .set({ lastLoginAt: at, ...noFailures })
    .where(and(eq(users.id, id), notLocked(at)))
    .returning({ id: users.id });
  return rows.length === 1;
}

/**
 * Row-locks the account for the rest of the transaction, provided no lockout holds at `at`
 * (the WHERE is re-checked after any competing update commits, so a parallel failure's lock is
 * seen). False when locked (or unknown). Used where a login step writes without recordLogin.
 */
export async function holdUnlocked(db: DbOrTx, id: string, at: Date): Promise<boolean> {
  const rows = await db
    .select({ id: users.id })
    .from(users)
    .where(and(eq(users.id, id), notLocked(at)))
    .for('update');
  return rows.length === 1;
}

/**
 * Stores an upgraded hash of the same password (legacy bcrypt found at login), but only while
 * the stored hash is still the one that was verified: a password changed or reset meanwhile is
 * never overwritten with a re-hash of the old one. False when the hash changed (nothing written).
 */
export async function upgradePasswordHash(
  db: DbOrTx,
  id: string,
  hashed: string,
  verifiedHash: string,
): Promise<boolean> {
  const rows = await db
    .update(users)
    .set({ hashedPassword: hashed })
    .where(and(eq(users.id, id), eq(users.hashedPassword, verifiedHash)))
    .returning({ id: users.id });
  return rows.length === 1;
}

export interface LockoutPolicy {
  threshold: number;
  windowS: number;
  baseS: number;
  maxS: number;
}

export interface FailureCount {
  /** Set when this very failure locked the account. */
  lockedUntil: Date | null;
  lockoutCount: number;
}

/**
 * Counts one failed login in a single UPDATE, so parallel failures can never under-count (each
 * waits for the row lock and sees the previous one's result). A failure older than the window
 * starts a new count; reaching the threshold locks the account for base * 2^(earlier locks)
 * seconds, capped, and starts the count afresh. While a lock holds nothing is counted (the
 * row is not returned): guessing during a lock neither extends nor shortens it.
 */
export async function countLoginFailure(
  db: DbOrTx,
  id: string,
  at: Date,
  policy: LockoutPolicy,
): Promise<FailureCount | undefined> {
  const now = ts(at);
  const fresh = sql`(${users.failedLoginWindowStart} is null or ${users.failedLoginWindowStart} <= ${now} - make_interval(secs => ${policy.windowS}::double precision))`;
  const count = sql`(case when ${fresh} then 1 else ${users.failedLoginCount} + 1 end)`;
  const locks = sql`(${count} >= ${policy.threshold}::integer)`;
  // The exponent is capped so a long history cannot overflow; the wait is capped by policy.
  const waitS = sql`least(${policy.baseS}::double precision * power(2, least(${users.lockoutCount}, 30)), ${policy.maxS}::double precision)`;
  const [row] = await db
    .update(users)
    .set({
      failedLoginCount: sql`case when ${locks} then 0 else ${count} end`,
      failedLoginWindowStart: sql`case when ${locks} then null when ${fresh} then ${now} else ${users.failedLoginWindowStart} end`,
      lockedUntil: sql`case when ${locks} then ${now} + make_interval(secs => ${waitS}) else ${users.lockedUntil} end`,
      lockoutCount: sql`case when ${locks} then ${users.lockoutCount} + 1 else ${users.lockoutCount} end`,
    })
    .where(and(eq(users.id, id), notLocked(at)))
    .returning({ lockedUntil: users.lockedUntil, lockoutCount: users.lockoutCount });
  if (!row) return undefined;
  const justLocked = row.lockedUntil !== null && row.lockedUntil > at;
  return { lockedUntil: justLocked ? row.lockedUntil : null, lockoutCount: row.lockoutCount };
}

/** Admin unlock: forgets failures and earlier locks, so the next lock starts at the base wait. */
export async function clearLockout(db: DbOrTx, id: string): Promise<boolean> {
  const rows = await db
    .update(users)
    .set(noFailures)
    .where(eq(users.id, id))
    .returning({ id: users.id });
  return rows.length === 1;
}

export interface UserFilter {
  role?: Role | undefined;
  isActive?: boolean | undefined;
  q?: string | undefined;
  afterId?: string | undefined;
  limit: number;
}

function escapeLike(value: string): string {
  return value.replace(/[\\%_]/g, (ch) => `\\${ch}`);
}

/** Keyset page ordered by id (UUIDv7, so creation order). Fetches limit+1 to detect a next page. */
export async function listUsers(db: DbOrTx, filter: UserFilter): Promise<UserRow[]> {
  const conditions: SQL[] = [];
  if (filter.role !== undefined) conditions.push(eq(users.role, filter.role));
  if (filter.isActive !== undefined) conditions.push(eq(users.isActive, filter.isActive));
  if (filter.q !== undefined) {
    const pattern = `%${escapeLike(filter.q)}%`;
    const match = or(
      ilike(users.email, pattern),
      ilike(users.username, pattern),
      ilike(users.fullName, pattern),
    );
    if (match) conditions.push(match);
  }
  if (filter.afterId !== undefined) conditions.push(gt(users.id, filter.afterId));
  return db
    .select()
    .from(users)
    .where(and(...conditions))
    .orderBy(asc(users.id))
    .limit(filter.limit + 1);
}
