import { and, eq, gt, isNotNull, isNull, lt, lte, or, sql } from 'drizzle-orm';
import type { DbOrTx } from '../../../db/client.js';
import {
  mfaBackupCodes,
  mfaChallenges,
  type MfaChallengeRow,
} from '../../../db/schema/security.js';
import { users } from '../../../db/schema/users.js';
import { newId } from '../../../lib/ids.js';

// --- login challenges (the mfa_token) ---

export async function insertChallenge(
  db: DbOrTx,
  row: typeof mfaChallenges.$inferInsert,
): Promise<void> {
  await db.insert(mfaChallenges).values(row);
}

/** Expired or finished challenges of a user serve no purpose; cleared when a new one starts. */
export async function deleteStaleChallenges(db: DbOrTx, userId: string, now: Date): Promise<void> {
  await db
    .delete(mfaChallenges)
    .where(
      and(
        eq(mfaChallenges.userId, userId),
        or(lte(mfaChallenges.expiresAt, now), isNotNull(mfaChallenges.usedAt)),
      ),
    );
}

/**
 * Spends one attempt of a live challenge before its code is even looked at, in one UPDATE: any
 * number of parallel guesses gets at most `maxAttempts` rows back. Undefined when the token is
 * unknown, expired, used or out of attempts.
 */
export async function claimAttempt(
  db: DbOrTx,
  tokenHash: string,
  now: Date,
  maxAttempts: number,
): Promise<MfaChallengeRow | undefined> {
  const [row] = await db
    .update(mfaChallenges)
    .set({ attempts: sql`${mfaChallenges.attempts} + 1` })
    .where(
      and(
        eq(mfaChallenges.tokenHash, tokenHash),
        isNull(mfaChallenges.usedAt),
        gt(mfaChallenges.expiresAt, now),
        lt(mfaChallenges.attempts, maxAttempts),
      ),
    )
    .returning();
  return row;
}

/** Single use: only one caller marks a challenge used. */
export async function useChallenge(db: DbOrTx, id: string, now: Date): Promise<boolean> {
  const rows = await db
    .update(mfaChallenges)
    .set({ usedAt: now })
    .where(and(eq(mfaChallenges.id, id), isNull(mfaChallenges.usedAt)))
    .returning({ id: mfaChallenges.id });
  return rows.length === 1;
}

/**
 * Ends the user's pending second steps (MFA turned off or reset, password changed or reset):
 * an mfa_token proves the old password, so it must not outlive it. Returns how many ended.
 */
export async function endChallenges(db: DbOrTx, userId: string, now: Date): Promise<number> {
  const rows = await db
    .update(mfaChallenges)
    .set({ usedAt: now })
    .where(and(eq(mfaChallenges.userId, userId), isNull(mfaChallenges.usedAt)))
    .returning({ id: mfaChallenges.id });
  return rows.length;
}

// --- backup codes ---

export async function replaceBackupCodes(
  db: DbOrTx,
  userId: string,
  codeHashes: string[],
  now: Date,
): Promise<void> {
  await deleteBackupCodes(db, userId);
  await db
    .insert(mfaBackupCodes)
    .values(codeHashes.map((codeHash) => ({ id: newId(), userId, codeHash, createdAt: now })));
}

export async function deleteBackupCodes(db: DbOrTx, userId: string): Promise<void> {
  await db.delete(mfaBackupCodes).where(eq(mfaBackupCodes.userId, userId));
}

/** Spends an unused backup code; false when it is unknown or already used (by anyone racing). */
export async function useBackupCode(
  db: DbOrTx,
  userId: string,
  codeHash: string,
  now: Date,
): Promise<boolean> {
  const rows = await db
    .update(mfaBackupCodes)
    .set({ usedAt: now })
    .where(
      and(
        eq(mfaBackupCodes.userId, userId),
        eq(mfaBackupCodes.codeHash, codeHash),
        isNull(mfaBackupCodes.usedAt),
      ),
    )
    .returning({ id: mfaBackupCodes.id });
  return rows.length === 1;
}

// --- TOTP state on the account (not profile changes: the version and ETag stay) ---

export async function setPendingSecret(db: DbOrTx, userId: string, sealed: string): Promise<void> {
  await db.update(users).set({ totpPendingSecretEnc: sealed }).where(eq(users.id, userId));
}

/**
 * Moves the pending secret into place, provided it is still the one the code was checked
 * against (a second setup in between makes this a no-op). The enabling code's step counts as
 * used, so it cannot be replayed to log in.
 */
export async function activateTotp(
  db: DbOrTx,
  userId: string,
  pendingSealed: string,
  step: number,
): Promise<boolean> {
  const rows = await db
    .update(users)
    .set({
      totpSecretEnc: pendingSealed,
      totpPendingSecretEnc: null,
      mfaEnabled: true,
      totpLastStep: step,
    })
    .where(
      and(
        eq(users.id, userId),
        eq(users.totpPendingSecretEnc, pendingSealed),
        eq(users.mfaEnabled, false),
      ),
    )
    .returning({ id: users.id });
  return rows.length === 1;
}

/**
 * Row-locks the account for the rest of the transaction if MFA is on (false otherwise): of two
 * parallel disables the second waits here and then finds MFA off, before spending any code.
 */
export async function holdMfaOn(db: DbOrTx, userId: string): Promise<boolean> {
  const rows = await db
    .select({ id: users.id })
    .from(users)
    .where(and(eq(users.id, userId), eq(users.mfaEnabled, true)))
    .for('update');
  return rows.length === 1;
}

/** Admin recovery: TOTP off and both secrets gone, whatever the state. False for no account. */
export async function resetTotp(db: DbOrTx, userId: string): Promise<boolean> {
  const rows = await db
    .update(users)
    .set({ mfaEnabled: false, totpSecretEnc: null, totpPendingSecretEnc: null, totpLastStep: null })
    .where(eq(users.id, userId))
    .returning({ id: users.id });
  return rows.length === 1;
}

export async function clearTotp(db: DbOrTx, userId: string): Promise<boolean> {
  const rows = await db
    .update(users)
    .set({ mfaEnabled: false, totpSecretEnc: null, totpPendingSecretEnc: null, totpLastStep: null })
    .where(and(eq(users.id, userId), eq(users.mfaEnabled, true)))
    .returning({ id: users.id });
  return rows.length === 1;
}

/**
 * Accepts a TOTP step only if it is newer than the last accepted one, in one statement: a code
 * (or an older one still inside the window) is never accepted twice, even by parallel requests.
 */
export async function advanceTotpStep(db: DbOrTx, userId: string, step: number): Promise<boolean> {
  const rows = await db
    .update(users)
    .set({ totpLastStep: step })
    .where(and(eq(users.id, userId), or(isNull(users.totpLastStep), lt(users.totpLastStep, step))))
    .returning({ id: users.id });
  return rows.length === 1;
}
