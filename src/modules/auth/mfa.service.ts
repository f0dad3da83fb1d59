import type { AppContext } from '../../context.js';
import type { UserRow } from '../../db/schema/users.js';
import { requirePermission } from '../../lib/access.js';
import { AppError } from '../../lib/errors.js';
import type { Principal } from '../../lib/permissions.js';
import { recordAudit, whoOf } from '../audit/audit.service.js';
import * as users from '../users/users.service.js';
import { hashBackupCode, newBackupCodes } from './backup-codes.js';
import * as repo from './mfa.repository.js';
import type { TotpDisableInput, TotpEnableInput, TotpSetup } from './mfa.schemas.js';
import { verifyPassword } from './passwords.js';
import { proveSecondFactor } from './second-factor.js';
import {
  matchTotp,
  newTotpSecret,
  openTotpSecret,
  sealTotpSecret,
  TOTP_ALGORITHM,
  TOTP_DIGITS,
  TOTP_PERIOD_S,
  totpUri,
} from './totp.js';

/** Managing one's own TOTP: setup -> enable (with a code) -> disable (password and a code). */

async function loadSelf(ctx: AppContext, actor: Principal): Promise<UserRow> {
  requirePermission(actor, 'self.manage');
  const user = await users.findAccount(ctx, actor.userId);
  if (!user) throw new AppError('not_found', 'No such user');
  return user;
}

function fieldError(field: string, detail: string): AppError {
  return new AppError('validation_failed', detail, {
    errors: [{ field: `body.${field}`, message: 'is incorrect' }],
  });
}

const alreadyOn = () =>
  new AppError('conflict', 'Two-factor authentication is already on; disable it first');

/**
 * Starts (or restarts) enrolment: a new secret is stored sealed as pending; the active one, if
 * any, is untouched until a code proves the app holds the new one.
 */
export async function setupTotp(ctx: AppContext, actor: Principal): Promise<TotpSetup> {
  const user = await loadSelf(ctx, actor);
  if (user.mfaEnabled) throw alreadyOn();
  const secret = newTotpSecret();
  await repo.setPendingSecret(ctx.db, user.id, sealTotpSecret(ctx.mfaKey, user.id, secret));
  const issuer = ctx.config.mfaIssuer;
  return {
    secret,
    otpauth_uri: totpUri(secret, issuer, user.email),
    issuer,
    algorithm: TOTP_ALGORITHM,
    digits: TOTP_DIGITS,
    period: TOTP_PERIOD_S,
  };
}

/** A valid code for the pending secret turns MFA on and yields 10 backup codes, shown once. */
export async function enableTotp(
  ctx: AppContext,
  actor: Principal,
  input: TotpEnableInput,
): Promise<{ backup_codes: string[] }> {
  const user = await loadSelf(ctx, actor);
  if (user.mfaEnabled) throw alreadyOn();
  const pending = user.totpPendingSecretEnc;
  if (pending === null) {
    throw new AppError('conflict', 'Start with POST /auth/mfa/totp/setup');
  }
  const secret = openTotpSecret(ctx.mfaKey, user.id, pending);
  const step = secret === null ? null : matchTotp(secret, input.code, ctx.clock.now());
  if (step === null) {
    await recordAudit(ctx.db, whoOf(actor), {
      action: 'auth.mfa_enable',
      outcome: 'failure',
      resourceType: 'user',
      resourceId: user.id,
      details: { reason: 'bad_code' },
    });
    throw fieldError('code', 'The code does not match the new secret (check the device clock)');
  }
  const codes = newBackupCodes();
  const enabled = await ctx.db.transaction(async (tx) => {
    if (!(await repo.activateTotp(tx, user.id, pending, step))) return false;
    const hashes = codes.map((code) => hashBackupCode(ctx.mfaKey, code.replace(/-/g, '')));
    await repo.replaceBackupCodes(tx, user.id, hashes, ctx.clock.now());
    await recordAudit(tx, whoOf(actor), {
      action: 'auth.mfa_enable',
      resourceType: 'user',
      resourceId: user.id,
    });
    return true;
  });
  if (!enabled) throw new AppError('conflict', 'The setup changed meanwhile; start again');
  return { backup_codes: codes };
}

/** Turning MFA off needs the password and a current code (or a backup code). */
export async function disableTotp(
  ctx: AppContext,
  actor: Principal,
  input: TotpDisableInput,
): Promise<void> {
  const user = await loadSelf(ctx, actor);
  if (!user.mfaEnabled) throw new AppError('conflict', 'Two-factor authentication is not on');
  const refuse = async (reason: string, field: string, detail: string) => {
    await recordAudit(ctx.db, whoOf(actor), {
      action: 'auth.mfa_disable',
      outcome: 'failure',
      resourceType: 'user',
      resourceId: user.id,
      details: { reason },
    });
    return fieldError(field, detail);
  };
  if (!(await verifyPassword(user.hashedPassword, input.password)).ok) {
    throw await refuse('bad_password', 'password', 'The password is incorrect');
  }
  const disabled = await ctx.db.transaction(async (tx) => {
    const factor = await proveSecondFactor(ctx, tx, user, input.code);
    if (factor === null) return false;
    await repo.clearTotp(tx, user.id);
    await repo.deleteBackupCodes(tx, user.id);
    await repo.endChallenges(tx, user.id, ctx.clock.now());
    await recordAudit(tx, whoOf(actor), {
      action: 'auth.mfa_disable',
      resourceType: 'user',
      resourceId: user.id,
      details: { factor },
    });
    return true;
  });
  if (!disabled) throw await refuse('bad_code', 'code', 'The code is incorrect or already used');
}
