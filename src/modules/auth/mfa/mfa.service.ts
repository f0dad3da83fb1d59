import type { AppContext } from '../../../context.js';
import type { UserRow } from '../../../db/schema/users.js';
import { requirePermission } from '../../../lib/access.js';
import { AppError, fieldError, notFound } from '../../../lib/errors.js';
import type { Principal } from '../../../lib/permissions.js';
import { recordAudit, whoOf } from '../../audit/audit.service.js';
import * as users from '../../users/users.service.js';
import { hashBackupCode, newBackupCodes } from './backup-codes.js';
import * as repo from './mfa.repository.js';
import { confirmPassword } from '../password/reauth.service.js';
import type {
  TotpDisableInput,
  TotpEnableInput,
  TotpSetup,
  TotpSetupInput,
} from './mfa.schemas.js';
import { proveSecondFactor } from './second-factor.js';
import { endAllSessions } from '../sessions/sessions.service.js';
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

async function loadSelf(ctx: Pick<AppContext, 'db'>, actor: Principal): Promise<UserRow> {
  requirePermission(actor, 'self.manage');
  const user = await users.findAccount(ctx, actor.userId);
  if (!user) throw notFound('user');
  return user;
}

const incorrect = (field: string, detail: string) =>
  fieldError(`body.${field}`, 'is incorrect', detail);

const wrongPassword = () => incorrect('password', 'The password is incorrect');

const alreadyOn = () =>
  new AppError('conflict', 'Two-factor authentication is already on; disable it first');

const notOn = () => new AppError('conflict', 'Two-factor authentication is not on');

/**
 * Starts (or restarts) enrolment: a new secret is stored sealed as pending; the active one, if
 * any, is untouched until a code proves the app holds the new one. Needs the current password
 * (a stolen access token alone cannot enrol the thief's authenticator); a wrong one is audited.
 */
export async function setupTotp(
  ctx: Pick<AppContext, 'db' | 'clock' | 'config' | 'mfaKey'>,
  actor: Principal,
  input: TotpSetupInput,
): Promise<TotpSetup> {
  const user = await loadSelf(ctx, actor);
  if (user.mfaEnabled) throw alreadyOn();
  await confirmPassword(ctx, actor, user, input.password, {
    action: 'auth.mfa_setup',
    refusal: wrongPassword,
  });
  const secret = newTotpSecret();
  await ctx.db.transaction(async (tx) => {
    await repo.setPendingSecret(tx, user.id, sealTotpSecret(ctx.mfaKey, user.id, secret));
    await recordAudit(tx, whoOf(actor), {
      action: 'auth.mfa_setup',
      resourceType: 'user',
      resourceId: user.id,
    });
  });
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
  ctx: Pick<AppContext, 'db' | 'clock' | 'mfaKey'>,
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
    throw incorrect('code', 'The code does not match the new secret (check the device clock)');
  }
  const codes = newBackupCodes();
  // The profile shows mfa_enabled: forget the remembered one before the change commits.
  users.profileChanged(user.id);
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
  ctx: Pick<AppContext, 'db' | 'clock' | 'config' | 'mfaKey'>,
  actor: Principal,
  input: TotpDisableInput,
): Promise<void> {
  const user = await loadSelf(ctx, actor);
  if (!user.mfaEnabled) throw notOn();
  const refuse = async (reason: string, field: string, detail: string) => {
    await recordAudit(ctx.db, whoOf(actor), {
      action: 'auth.mfa_disable',
      outcome: 'failure',
      resourceType: 'user',
      resourceId: user.id,
      details: { reason },
    });
    return incorrect(field, detail);
  };
  await confirmPassword(ctx, actor, user, input.password, {
    action: 'auth.mfa_disable',
    refusal: wrongPassword,
  });
  const disabled = await ctx.db.transaction(async (tx) => {
    // A parallel disable that got here first wins: this one waits, then finds MFA off (409)
    // before spending its code, so exactly one success is recorded.
    if (!(await repo.holdMfaOn(tx, user.id))) throw notOn();
    const factor = await proveSecondFactor(ctx, tx, user, input.code);
    if (factor === null) return false;
    users.profileChanged(user.id);
    if (!(await repo.clearTotp(tx, user.id))) throw notOn();
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

/**
 * Admin recovery for a lost authenticator (or one enrolled by someone else): TOTP off, active
 * and pending secrets and backup codes gone, pending second login steps and every session of
 * the user ended, audited as user.mfa_reset; all in one transaction. 404 for an unknown id.
 */
export async function resetUserMfa(
  ctx: Pick<AppContext, 'db' | 'clock'>,
  actor: Principal,
  id: string,
): Promise<void> {
  requirePermission(actor, 'users.manage');
  users.profileChanged(id);
  await ctx.db.transaction(async (tx) => {
    if (!(await repo.resetTotp(tx, id))) throw notFound('user');
    await repo.deleteBackupCodes(tx, id);
    const challengesEnded = await repo.endChallenges(tx, id, ctx.clock.now());
    const sessionsEnded = await endAllSessions(tx, id, 'mfa_reset');
    await recordAudit(tx, whoOf(actor), {
      action: 'user.mfa_reset',
      resourceType: 'user',
      resourceId: id,
      details: { sessions_ended: sessionsEnded, challenges_ended: challengesEnded },
    });
  });
}
