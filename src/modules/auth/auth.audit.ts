import type { RequestMeta } from '../../context.js';
import type { UserRow } from '../../db/schema/users.js';
import { effectiveRole } from '../../lib/permissions.js';
import type { AuditWho } from '../audit/audit.service.js';

/**
 * The audit "who" of an event without a principal (login, refresh, MFA verify): the account when
 * one is known, else nobody. Never the identifier that was typed: it may be a mistyped password.
 */
export function whoAt(
  meta: RequestMeta,
  user?: Pick<UserRow, 'id' | 'role' | 'isSuperuser'>,
): AuditWho {
  return {
    userId: user?.id ?? null,
    role: user === undefined ? null : effectiveRole(user.role, user.isSuperuser),
    requestId: meta.requestId,
    ip: meta.ip,
  };
}
