import { and, asc, eq, gt, ilike, or, sql, type SQL } from 'drizzle-orm';
import type { DbOrTx } from '../../db/client.js';
import { users, type NewUserRow, type Role, type UserRow } from '../../db/schema/users.js';

export async function insertUser(db: DbOrTx, row: NewUserRow): Promise<UserRow> {
  const [created] = await db.insert(users).values(row).returning();
  if (!created) throw new Error('insert returned no row');
  return created;
}

export async function findUserById(db: DbOrTx, id: string): Promise<UserRow | undefined> {
  const [row] = await db.select().from(users).where(eq(users.id, id)).limit(1);
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

/** Login bookkeeping: not a profile change, so the version (and ETag) stays the same. */
export async function recordLogin(
  db: DbOrTx,
  id: string,
  at: Date,
  rehashedPassword?: string,
): Promise<void> {
  await db
    .update(users)
    .set({
      lastLoginAt: at,
      ...(rehashedPassword === undefined ? {} : { hashedPassword: rehashedPassword }),
    })
    .where(eq(users.id, id));
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
