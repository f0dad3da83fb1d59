import type { AppContext } from '../../../context.js';
import type { Tx } from '../../../db/client.js';
import type { UserRow } from '../../../db/schema/users.js';
import { hashBackupCode, normalizeBackupCode } from './backup-codes.js';
import * as repo from './mfa.repository.js';
import { matchTotp, openTotpSecret } from './totp.js';

export type SecondFactor = 'totp' | 'backup_code';

/**
 * Checks a second-factor code and spends it in `tx`: a TOTP code moves the account's last
 * accepted step forward (so it never works twice), a backup code is marked used. Null when the
 * code is wrong, replayed or already used. Nothing is spent if the transaction rolls back.
 */
export async function proveSecondFactor(
  ctx: Pick<AppContext, 'clock' | 'mfaKey'>,
  tx: Tx,
  user: UserRow,
  code: string,
): Promise<SecondFactor | null> {
  const now = ctx.clock.now();
  const secret =
    user.totpSecretEnc === null ? null : openTotpSecret(ctx.mfaKey, user.id, user.totpSecretEnc);
  const step = secret === null ? null : matchTotp(secret, code, now);
  if (step !== null) return (await repo.advanceTotpStep(tx, user.id, step)) ? 'totp' : null;
  const backup = normalizeBackupCode(code);
  if (backup === null) return null;
  const used = await repo.useBackupCode(tx, user.id, hashBackupCode(ctx.mfaKey, backup), now);
  return used ? 'backup_code' : null;
}
