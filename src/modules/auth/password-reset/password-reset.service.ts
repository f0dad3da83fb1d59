import type { AppContext, RequestMeta } from '../../../context.js';
import type { UserRow } from '../../../db/schema/users.js';
import { randomToken, sha256Hex } from '../../../lib/crypto.js';
import { AppError } from '../../../lib/errors.js';
import { newId } from '../../../lib/ids.js';
import type { MailMessage } from '../../../infra/mailer.js';
import { effectiveRole } from '../../../lib/permissions.js';
import { recordAudit, type AuditWho } from '../../audit/audit.service.js';
import * as users from '../../users/users.service.js';
import * as credentials from '../../users/credentials.service.js';
import { hashPassword } from '../../../lib/passwords.js';
import * as repo from './password-reset.repository.js';
import type { ResetPasswordInput } from './password-reset.schemas.js';
import { endChallenges } from '../mfa/mfa.repository.js';
import { endAllSessions } from '../sessions/sessions.service.js';

// Enough for a lost or slow email; more would let anyone flood a stranger's inbox.
const MAX_LIVE_TOKENS = 3;

/** The one answer to every forgot request, whether or not the account exists. */
export const forgotAnswer = {
  status: 'accepted',
  message: 'If an active account uses this address, a password reset link has been sent to it.',
} as const;

/** What may be logged about a failure: codes only (messages can echo addresses or SQL params). */
export interface ErrorFacts {
  error_name?: string;
  error_code?: string;
  cause_code?: string;
  smtp_command?: string;
  smtp_response_code?: number;
}

export type ResetFailureLogger = (stage: 'request' | 'email', facts: ErrorFacts) => void;

export function errorFacts(error: unknown): ErrorFacts {
  const facts: ErrorFacts = {};
  if (typeof error !== 'object' || error === null) return facts;
  const e = error as Record<string, unknown>;
  if (typeof e.name === 'string') facts.error_name = e.name;
  if (typeof e.code === 'string') facts.error_code = e.code;
  if (typeof e.command === 'string') facts.smtp_command = e.command;
  if (typeof e.responseCode === 'number') facts.smtp_response_code = e.responseCode;
  const cause = e.cause as Record<string, unknown> | undefined;
  if (typeof cause?.code === 'string') facts.cause_code = cause.code;
  return facts;
}

function whoFor(user: UserRow | undefined, meta: RequestMeta): AuditWho {
  return {
    userId: user?.id ?? null,
    role: user ? effectiveRole(user.role, user.isSuperuser) : null,
    requestId: meta.requestId,
    ip: meta.ip,
  };
}

/**
 * Starts a password reset for `email` without making the caller wait: the lookup, the token
 * and the email all happen in the background, so neither the answer nor its timing tells
 * whether the account exists. Failures go to `logFailure` (codes only, never token or address).
 */
export async function requestPasswordReset(
  ctx: Pick<AppContext, 'db' | 'clock' | 'config' | 'mailer' | 'background'>,
  email: string,
  meta: RequestMeta,
  logFailure: ResetFailureLogger,
): Promise<void> {
  await ctx.background.run(
    () => issueResetToken(ctx, email, meta, logFailure),
    (error) => {
      logFailure('request', errorFacts(error));
    },
  );
}

async function issueResetToken(
  ctx: Pick<AppContext, 'db' | 'clock' | 'config' | 'mailer'>,
  email: string,
  meta: RequestMeta,
  logFailure: ResetFailureLogger,
): Promise<void> {
  // The body is validated as an email and usernames cannot hold '@': this matches emails only.
  const user = await users.findAccountForLogin(ctx, email);
  const who = whoFor(user, meta);
  // The typed address is never stored: an unknown one is recorded only as "no account".
  const refuse = (reason: string) =>
    recordAudit(ctx.db, who, {
      action: 'auth.password_forgot',
      outcome: 'failure',
      ...(user ? { resourceType: 'user', resourceId: user.id } : {}),
      details: { email_sent: false, reason },
    });
  if (!user) return refuse('no_account');
  if (!user.isActive) return refuse('inactive');

  const now = ctx.clock.now();
  const token = randomToken();
  const issued = await ctx.db.transaction(async (tx) => {
    // Count-then-insert may let two simultaneous requests pass: the cap is a soft limit.
    if ((await repo.countLiveResetTokens(tx, user.id, now)) >= MAX_LIVE_TOKENS) return false;
    await repo.insertResetToken(tx, {
      id: newId(),
      userId: user.id,
      tokenHash: sha256Hex(token),
      createdAt: now,
      expiresAt: new Date(now.getTime() + ctx.config.passwordResetTtlS * 1000),
    });
    await recordAudit(tx, who, {
      action: 'auth.password_forgot',
      resourceType: 'user',
      resourceId: user.id,
      details: { email_sent: true },
    });
    return true;
  });
  if (!issued) return refuse('too_many_live_tokens');
  try {
    await ctx.mailer.send(resetEmail(ctx, user.email, token));
  } catch (error) {
    logFailure('email', errorFacts(error));
  }
}

function resetEmail(ctx: Pick<AppContext, 'config'>, to: string, token: string): MailMessage {
  const base = ctx.config.publicUrl.replace(/\/+$/, '');
  const minutes = Math.round(ctx.config.passwordResetTtlS / 60);
  return {
    to,
    subject: 'Reset your MedCore password',
    text: [
      'Someone, hopefully you, asked to reset the password of your MedCore account.',
      '',
      `Open this link within ${minutes} minutes to choose a new password:`,
      `${base}/reset-password?token=${token}`,
      '',
      'Or enter this reset code:',
      token,
      '',
      'The link works once, and using it signs you out everywhere.',
      'If you did not ask for this, ignore this email: your password stays as it is.',
      '',
    ].join('\n'),
  };
}

function invalidResetToken(): AppError {
  // One answer for unknown, expired, used and retired tokens: none of them says more.
  return new AppError('invalid_token', 'The reset token is invalid, expired or already used');
}

/**
 * Sets a new password with a reset token. The token is spent by a conditional UPDATE, so of
 * two parallel resets exactly one succeeds; the password, the end of every session, the
 * retirement of the account's other tokens and the audit row commit together. A lockout ends
 * too: the caller has just proved control of the account's email.
 */
export async function resetPassword(
  ctx: Pick<AppContext, 'db' | 'clock'>,
  input: ResetPasswordInput,
  meta: RequestMeta,
): Promise<void> {
  const row = await repo.findResetToken(ctx.db, sha256Hex(input.token));
  const user = row ? await users.findAccount(ctx, row.userId) : undefined;
  const refuse = async (reason: string): Promise<never> => {
    await recordAudit(ctx.db, whoFor(user, meta), {
      action: 'auth.password_reset',
      outcome: 'failure',
      ...(user ? { resourceType: 'user', resourceId: user.id } : {}),
      details: { reason },
    });
    throw invalidResetToken();
  };
  if (!row || !user) return refuse('unknown_token');
  if (row.usedAt !== null) return refuse('used_token');
  if (row.expiresAt <= ctx.clock.now()) return refuse('expired_token');
  if (!user.isActive) return refuse('inactive');

  users.assertAcceptablePassword(input.new_password, 'new_password');
  const hashed = await hashPassword(input.new_password);
  const done = await ctx.db.transaction(async (tx) => {
    const now = ctx.clock.now();
    if (!(await repo.consumeResetToken(tx, row.id, now))) return false;
    await credentials.setPassword({ ...ctx, db: tx }, user.id, hashed, { clearLockout: true });
    // A pending MFA second step proves the old password: it ends with it.
    await endChallenges(tx, user.id, ctx.clock.now());
    const sessionsEnded = await endAllSessions(tx, user.id, 'password_reset');
    const tokensRetired = await repo.retireResetTokens(tx, user.id, now);
    await recordAudit(tx, whoFor(user, meta), {
      action: 'auth.password_reset',
      resourceType: 'user',
      resourceId: user.id,
      details: { sessions_ended: sessionsEnded, other_tokens_retired: tokensRetired },
    });
    return true;
  });
  // A parallel reset spent it (or it expired while the password was being hashed).
  if (!done) await refuse('used_token');
}
