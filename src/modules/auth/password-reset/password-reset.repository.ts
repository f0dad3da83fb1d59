import { and, count, eq, gt, isNull } from 'drizzle-orm';
import type { DbOrTx } from '../../../db/client.js';
import { passwordResetTokens, type PasswordResetTokenRow } from '../../../db/schema/security.js';

export async function insertResetToken(
  db: DbOrTx,
  row: typeof passwordResetTokens.$inferInsert,
): Promise<void> {
  await db.insert(passwordResetTokens).values(row);
}

/** Unused, unexpired tokens of one account (to cap how many reset emails it can be sent). */
export async function countLiveResetTokens(db: DbOrTx, userId: string, now: Date): Promise<number> {
  const [row] = await db
    .select({ n: count() })
    .from(passwordResetTokens)
    .where(
      and(
        eq(passwordResetTokens.userId, userId),
        isNull(passwordResetTokens.usedAt),
        gt(passwordResetTokens.expiresAt, now),
      ),
    );
  return row?.n ?? 0;
}

export async function findResetToken(
  db: DbOrTx,
  tokenHash: string,
): Promise<PasswordResetTokenRow | undefined> {
  const [row] = await db
    .select()
    .from(passwordResetTokens)
    .where(eq(passwordResetTokens.tokenHash, tokenHash))
    .limit(1);
  return row;
}

/**
 * Spends a token only if it is still unused and unexpired. Under concurrency exactly one caller
 * gets the row: PostgreSQL re-checks `used_at is null` after a competing update commits.
 */
export async function consumeResetToken(db: DbOrTx, id: string, now: Date): Promise<boolean> {
  const rows = await db
    .update(passwordResetTokens)
    .set({ usedAt: now })
    .where(
      and(
        eq(passwordResetTokens.id, id),
        isNull(passwordResetTokens.usedAt),
        gt(passwordResetTokens.expiresAt, now),
      ),
    )
    .returning({ id: passwordResetTokens.id });
  return rows.length === 1;
}

/**
 * Retires every other outstanding token of the account. The table has no separate "revoked"
 * column, and a retired token must fail exactly like a spent one, so it is marked used.
 */
export async function retireResetTokens(db: DbOrTx, userId: string, now: Date): Promise<number> {
  const rows = await db
    .update(passwordResetTokens)
    .set({ usedAt: now })
    .where(and(eq(passwordResetTokens.userId, userId), isNull(passwordResetTokens.usedAt)))
    .returning({ id: passwordResetTokens.id });
  return rows.length;
}
