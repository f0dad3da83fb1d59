import { and, eq, isNull, lte, or } from 'drizzle-orm';
import type { DbOrTx } from '../db/client.js';
import { idempotencyKeys, type IdempotencyRow } from '../db/schema/idempotency.js';

/** Who holds a key: the reservation a request made, and the moment it was made (its token). */
export interface KeyRef {
  userId: string;
  key: string;
  lockedAt: Date;
}

export type Reservation = { owned: true; ref: KeyRef } | { owned: false; row: IdempotencyRow };

/**
 * Claims (user, key) in one statement, so two instances racing for one key cannot both win: a
 * fresh row, or a row that expired or whose first request died without answering (locked before
 * `staleBefore` and still in progress), becomes ours; otherwise the row that is there comes back.
 */
export async function reserveKey(
  db: DbOrTx,
  claim: { userId: string; key: string; fingerprint: string | null },
  now: Date,
  expiresAt: Date,
  staleBefore: Date,
): Promise<Reservation> {
  const { userId, key } = claim;
  for (let attempt = 0; attempt < 3; attempt++) {
    const won = await db
      .insert(idempotencyKeys)
      .values({ ...claim, lockedAt: now, expiresAt })
      .onConflictDoUpdate({
        target: [idempotencyKeys.userId, idempotencyKeys.key],
        set: {
          fingerprint: claim.fingerprint,
          status: null,
          headers: null,
          body: null,
          lockedAt: now,
          expiresAt,
        },
        setWhere: or(
          lte(idempotencyKeys.expiresAt, now),
          and(isNull(idempotencyKeys.status), lte(idempotencyKeys.lockedAt, staleBefore)),
        ),
      })
      .returning({ userId: idempotencyKeys.userId });
    if (won.length > 0) return { owned: true, ref: { userId, key, lockedAt: now } };
    const [row] = await db
      .select()
      .from(idempotencyKeys)
      .where(and(eq(idempotencyKeys.userId, userId), eq(idempotencyKeys.key, key)));
    // Gone between the two statements (its request failed and released it): claim it again.
    if (row) return { owned: false, row };
  }
  throw new Error('could not reserve the idempotency key');
}

const held = (ref: KeyRef) =>
  and(
    eq(idempotencyKeys.userId, ref.userId),
    eq(idempotencyKeys.key, ref.key),
    eq(idempotencyKeys.lockedAt, ref.lockedAt),
    isNull(idempotencyKeys.status),
  );

/** Stores the answer of the request holding the key (unless it lost the key meanwhile). */
export async function completeKey(
  db: DbOrTx,
  ref: KeyRef,
  answer: { fingerprint: string; status: number; headers: Record<string, string>; body: string },
): Promise<void> {
  await db.update(idempotencyKeys).set(answer).where(held(ref));
}

/** Gives the key up (the request failed in a way a retry may fix): the next request runs anew. */
export async function releaseKey(db: DbOrTx, ref: KeyRef): Promise<void> {
  await db.delete(idempotencyKeys).where(held(ref));
}

/** Deletes the rows past their expiry; returns how many. */
export async function purgeExpiredKeys(db: DbOrTx, now: Date): Promise<number> {
  const gone = await db
    .delete(idempotencyKeys)
    .where(lte(idempotencyKeys.expiresAt, now))
    .returning({ key: idempotencyKeys.key });
  return gone.length;
}
