import type { DbOrTx } from '../../db/client.js';
import type { UserRow } from '../../db/schema/users.js';
import type { AppError } from '../../lib/errors.js';
import type { Principal } from '../../lib/permissions.js';
import type { AuditEvent } from '../audit/audit.service.js';

/** Why an account administration change ends the account's sessions. */
export type AccountChange = 'deactivated' | 'role_changed' | 'password_changed';

/**
 * What account administration asks of the auth module, which owns credentials and sessions.
 * Dependencies point one way: auth imports users (account rows, lockout counters), users never
 * imports auth. buildApp puts auth's implementation (`accountCredentials`,
 * src/modules/auth/account-credentials.ts) in `ctx.credentials`; a use case here names
 * `'credentials'` in its `Pick<AppContext, ...>` like any other collaborator.
 */
export interface AccountCredentials {
  /**
   * Revokes, in the caller's transaction, what proves the account's identity: its sessions (with
   * the reason they end, when they do) and, when the password was replaced, its pending MFA
   * second steps and emailed reset links.
   */
  revoke(
    tx: DbOrTx,
    userId: string,
    what: { sessions: AccountChange | null; passwordReplaced: boolean },
  ): Promise<void>;

  /**
   * Confirms the signed-in account's current password before a sensitive change, or throws
   * `check.refusal()`; a wrong password counts toward the lockout as a failed login does.
   */
  confirmPassword(
    actor: Principal,
    user: UserRow,
    password: string | undefined,
    check: { action: 'user.update'; refusal: () => AppError; details?: AuditEvent['details'] },
  ): Promise<void>;

  /** Admin recovery for a lost authenticator: MFA off, pending steps and sessions ended. */
  resetMfa(actor: Principal, userId: string): Promise<void>;
}
