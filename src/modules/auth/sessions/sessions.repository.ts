import { and, desc, eq, exists, gt, isNull, ne, sql } from 'drizzle-orm';
import type { DbOrTx } from '../../../db/client.js';
import {
  refreshTokens,
  sessions,
  type RefreshTokenRow,
  type SessionRow,
} from '../../../db/schema/sessions.js';
import { users } from '../../../db/schema/users.js';

export async function insertSession(
  db: DbOrTx,
  row: typeof sessions.$inferInsert,
): Promise<SessionRow> {
  const [created] = await db.insert(sessions).values(row).returning();
  if (!created) throw new Error('insert returned no row');
  return created;
}

export async function insertRefreshToken(
  db: DbOrTx,
  row: typeof refreshTokens.$inferInsert,
): Promise<void> {
  await db.insert(refreshTokens).values(row);
}

export async function findRefreshToken(
  db: DbOrTx,
  tokenHash: string,
): Promise<{ token: RefreshTokenRow; session: SessionRow } | undefined> {
  const [row] = await db
    .select({ token: refreshTokens, session: sessions })
    .from(refreshTokens)
    .innerJoin(sessions, eq(sessions.id, refreshTokens.sessionId))
    .where(eq(refreshTokens.tokenHash, tokenHash))
    .limit(1);
  return row;
}

/**
 * Marks a token spent only if nobody else did first. Under concurrency exactly one caller gets
 * the row back: PostgreSQL re-checks `spent_at is null` after the competing update commits.
 */
export async function spendRefreshToken(
  db: DbOrTx,
  id: string,
  at: Date,
  successorSealed: string,
): Promise<boolean> {
  const rows = await db
    .update(refreshTokens)
    .set({ spentAt: at, successorSealed })
    .where(and(eq(refreshTokens.id, id), isNull(refreshTokens.spentAt)))
    .returning({ id: refreshTokens.id });
  return rows.length === 1;
}

export async function touchSession(db: DbOrTx, id: string, at: Date): Promise<void> {
  await db.update(sessions).set({ lastUsedAt: at }).where(eq(sessions.id, id));
}

export async function revokeSession(
  db: DbOrTx,
  id: string,
  reason: string,
  userId?: string,
): Promise<boolean> {
  const where = and(
    eq(sessions.id, id),
    isNull(sessions.revokedAt),
    userId === undefined ? undefined : eq(sessions.userId, userId),
  );
  const rows = await db
    .update(sessions)
    .set({ revokedAt: sql`now()`, revokedReason: reason })
    .where(where)
    .returning({ id: sessions.id });
  return rows.length === 1;
}

/** Revokes every live session of a user, optionally sparing one (the caller's own). */
export async function revokeUserSessions(
  db: DbOrTx,
  userId: string,
  reason: string,
  exceptSessionId?: string,
): Promise<number> {
  const rows = await db
    .update(sessions)
    .set({ revokedAt: sql`now()`, revokedReason: reason })
    .where(
      and(
        eq(sessions.userId, userId),
        isNull(sessions.revokedAt),
        exceptSessionId === undefined ? undefined : ne(sessions.id, exceptSessionId),
      ),
    )
    .returning({ id: sessions.id });
  return rows.length;
}

/** A session is live while unrevoked, inside its absolute lifetime and holding a usable token. */
export async function listLiveSessions(db: DbOrTx, userId: string): Promise<SessionRow[]> {
  return db
    .select()
    .from(sessions)
    .where(
      and(
        eq(sessions.userId, userId),
        isNull(sessions.revokedAt),
        gt(sessions.expiresAt, sql`now()`),
        exists(
          db
            .select({ one: sql`1` })
            .from(refreshTokens)
            .where(
              and(
                eq(refreshTokens.sessionId, sessions.id),
                isNull(refreshTokens.spentAt),
                gt(refreshTokens.expiresAt, sql`now()`),
              ),
            ),
        ),
      ),
    )
    .orderBy(desc(sessions.lastUsedAt))
    .limit(100);
}

export interface SessionState {
  revoked: boolean;
  expiresAt: Date;
  userActive: boolean;
  role: (typeof users.$inferSelect)['role'];
  isSuperuser: boolean;
  userId: string;
}

/** One indexed lookup per authenticated request: revocation is read from the database. */
export async function findSessionState(
  db: DbOrTx,
  sessionId: string,
): Promise<SessionState | undefined> {
  const [row] = await db
    .select({
      revokedAt: sessions.revokedAt,
      expiresAt: sessions.expiresAt,
      userActive: users.isActive,
      role: users.role,
      isSuperuser: users.isSuperuser,
      userId: users.id,
    })
    .from(sessions)
    .innerJoin(users, eq(users.id, sessions.userId))
    .where(eq(sessions.id, sessionId))
    .limit(1);
  if (!row) return undefined;
  return {
    revoked: row.revokedAt !== null,
    expiresAt: row.expiresAt,
    userActive: row.userActive,
    role: row.role,
    isSuperuser: row.isSuperuser,
    userId: row.userId,
  };
}
