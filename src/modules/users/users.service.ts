import type { AppContext } from '../../context.js';
import type { Tx } from '../../db/client.js';
import type { Role, UserRow } from '../../db/schema/users.js';
import { requirePermission } from '../../lib/access.js';
import { isUniqueViolation } from '../../lib/db-errors.js';
import { AppError, fieldError, forbidden, notFound, stale } from '../../lib/errors.js';
import { checkIfMatch } from '../../lib/etag.js';
import { isUuid, newId } from '../../lib/ids.js';
import { decodeCursor, toPage } from '../../lib/pagination.js';
import type { Principal } from '../../lib/permissions.js';
import { auditedChange, recordAudit, whoOf } from '../audit/audit.service.js';
import { hashPassword, isCommonPassword } from '../../lib/passwords.js';
import { toPublicProfile, toUserDto } from './users.mapper.js';
import { cachedProfile, forgetProfile, rememberProfile } from './profile-cache.js';
import * as repo from './users.repository.js';
import type {
  CreateUserInput,
  ListPageQueryInput,
  ListUsersQueryInput,
  UpdateMeInput,
  UpdateUserInput,
} from './users.schemas.js';

/** Refuses passwords on the common-password list with a field error (length is in the schema). */
export function assertAcceptablePassword(password: string, field = 'password'): void {
  if (isCommonPassword(password)) {
    throw fieldError(`body.${field}`, 'is too common', 'Choose a less common password');
  }
}

function duplicateAccount(cause: unknown): AppError {
  return new AppError('conflict', 'That email or username is already registered', { cause });
}

/**
 * Creates an account with the given role. Shared by self-registration, admin creation and the
 * CLI, so every path applies the same password policy and uniqueness rules.
 */
export async function createAccount(
  ctx: Pick<AppContext, 'db'>,
  input: { email: string; username: string; password: string; full_name?: string | undefined },
  role: Role,
  /** Runs in the insert's transaction (the audit row commits with the account, or neither). */
  onCreated?: (tx: Tx, row: UserRow) => Promise<void>,
): Promise<UserRow> {
  assertAcceptablePassword(input.password);
  // Hashed before the transaction opens: Argon2 takes tens of milliseconds.
  const hashedPassword = await hashPassword(input.password);
  try {
    return await ctx.db.transaction(async (tx) => {
      const row = await repo.insertUser(tx, {
        id: newId(),
        email: input.email,
        username: input.username,
        fullName: input.full_name ?? null,
        hashedPassword,
        role,
      });
      await onCreated?.(tx, row);
      return row;
    });
  } catch (error) {
    if (isUniqueViolation(error)) throw duplicateAccount(error);
    throw error;
  }
}

/** Admin creates a staff account with an initial password. */
export async function createUser(
  ctx: Pick<AppContext, 'db'>,
  actor: Principal,
  input: CreateUserInput,
) {
  requirePermission(actor, 'users.manage');
  const row = await createAccount(ctx, input, input.role, (tx, created) =>
    recordAudit(tx, whoOf(actor), {
      action: 'user.create',
      ...userResource(created.id),
      details: { role: created.role },
    }),
  );
  return toUserDto(row);
}

function userResource(id: string) {
  return { resourceType: 'user', resourceId: id };
}

async function loadUser(ctx: Pick<AppContext, 'db'>, id: string): Promise<UserRow> {
  const row = await repo.findUserById(ctx.db, id);
  if (!row) throw notFound('user');
  return row;
}

/**
 * What another module changed in a user's row shows in the profile (MFA on or off): the
 * remembered profile is forgotten and kept out until the change has committed.
 */
export function profileChanged(id: string): void {
  forgetProfile(id);
}

export async function getMe(ctx: Pick<AppContext, 'db' | 'config'>, actor: Principal) {
  requirePermission(actor, 'self.manage');
  let row = cachedProfile(actor.userId);
  if (row === undefined) {
    row = await loadUser(ctx, actor.userId);
    rememberProfile(actor.userId, row, ctx.config.authCacheMs);
  }
  return toUserDto(row);
}

/**
 * Updates the caller's own profile. Role and status are never self-service (403). Changing the
 * email, which is how an account is recovered, needs the current password.
 */
export async function updateMe(
  ctx: Pick<AppContext, 'db' | 'credentials'>,
  actor: Principal,
  input: UpdateMeInput,
) {
  requirePermission(actor, 'self.manage');
  if (
    input.role !== undefined ||
    input.is_active !== undefined ||
    input.is_superuser !== undefined
  ) {
    throw forbidden('You cannot change your own role or status');
  }
  const current = await loadUser(ctx, actor.userId);
  if (input.email !== undefined && input.email.toLowerCase() !== current.email.toLowerCase()) {
    // The email is the recovery channel: a refused attempt to change it is worth a row, and a
    // wrong password counts toward the lockout like a failed login.
    await ctx.credentials.confirmPassword(actor, current, input.current_password, {
      action: 'user.update',
      details: { fields: 'email' },
      refusal: () =>
        fieldError(
          'body.current_password',
          'missing or incorrect',
          'Changing the email needs your current password',
        ),
    });
  }
  const changes: Partial<UserRow> = {};
  if (input.full_name !== undefined) changes.fullName = input.full_name;
  if (input.email !== undefined) changes.email = input.email;
  if (input.username !== undefined) changes.username = input.username;
  const fields = Object.keys(input)
    .filter((field) => field !== 'current_password')
    .sort()
    .join(',');
  const row = await auditedChange(
    ctx,
    whoOf(actor),
    (tx) => applyUpdate({ ...ctx, db: tx }, actor.userId, changes),
    () => ({
      ...userResource(actor.userId),
      action: 'user.update',
      details: { fields, self: true },
    }),
  );
  return toUserDto(row);
}

async function applyUpdate(
  ctx: Pick<AppContext, 'db'>,
  id: string,
  changes: Partial<UserRow>,
  expectedVersion?: number,
): Promise<UserRow> {
  forgetProfile(id);
  try {
    const row = await repo.updateUser(ctx.db, id, changes, expectedVersion);
    if (!row) throw stale('user');
    return row;
  } catch (error) {
    if (isUniqueViolation(error)) throw duplicateAccount(error);
    throw error;
  }
}

export async function listUsers(
  ctx: Pick<AppContext, 'db'>,
  actor: Principal,
  query: ListUsersQueryInput,
) {
  requirePermission(actor, 'users.manage');
  const limit = query.limit ?? 20;
  const after = decodeCursor(query.cursor, ['id'], { id: isUuid });
  const rows = await repo.listUsers(ctx.db, {
    role: query.role,
    isActive: query.is_active,
    q: query.q,
    afterId: after?.id,
    limit,
  });
  const page = toPage(rows, limit, (row) => ({ id: row.id }));
  return { items: page.items.map(toUserDto), next_cursor: page.next_cursor };
}

/** Admins read any account; other staff only an active doctor's public profile (else 404). */
export async function getUser(ctx: Pick<AppContext, 'db'>, actor: Principal, id: string) {
  if (actor.role === 'admin') return toUserDto(await loadUser(ctx, id));
  requirePermission(actor, 'doctors.read');
  const row = await repo.findUserById(ctx.db, id);
  if (!row?.isActive || row.role !== 'doctor') throw notFound('user');
  return toPublicProfile(row);
}

/**
 * Admin edits an account. A role change, deactivation or new password ends the user's sessions
 * in the same transaction, so no old token outlives the change.
 */
export async function updateUser(
  ctx: Pick<AppContext, 'db' | 'clock' | 'credentials'>,
  actor: Principal,
  id: string,
  input: UpdateUserInput,
  ifMatch: string | undefined,
) {
  requirePermission(actor, 'users.manage');
  const current = await loadUser(ctx, id);
  checkIfMatch(ifMatch, current.version);
  const demotesSelf =
    id === actor.userId &&
    ((input.role !== undefined && input.role !== 'admin' && !current.isSuperuser) ||
      input.is_active === false ||
      input.is_superuser === false);
  if (demotesSelf) {
    throw new AppError('conflict', 'Admins cannot demote or deactivate their own account');
  }
  const changes: Partial<UserRow> = {};
  if (input.full_name !== undefined) changes.fullName = input.full_name;
  if (input.email !== undefined) changes.email = input.email;
  if (input.username !== undefined) changes.username = input.username;
  if (input.role !== undefined) changes.role = input.role;
  if (input.is_active !== undefined) changes.isActive = input.is_active;
  if (input.is_superuser !== undefined) changes.isSuperuser = input.is_superuser;
  if (input.password !== undefined) {
    assertAcceptablePassword(input.password);
    changes.hashedPassword = await hashPassword(input.password);
    changes.passwordChangedAt = ctx.clock.now();
  }
  const privilegeChanged =
    (input.role !== undefined && input.role !== current.role) ||
    (input.is_superuser !== undefined && input.is_superuser !== current.isSuperuser);
  const deactivated = input.is_active === false && current.isActive;
  const ended = deactivated
    ? 'deactivated'
    : privilegeChanged
      ? 'role_changed'
      : input.password !== undefined
        ? 'password_changed'
        : null;
  const row = await ctx.db.transaction(async (tx) => {
    const updated = await applyUpdate({ ...ctx, db: tx }, id, changes, current.version);
    // The old password's pending MFA steps and emailed reset links die with it.
    await ctx.credentials.revoke(tx, id, {
      sessions: ended,
      passwordReplaced: input.password !== undefined,
    });
    await recordAudit(tx, whoOf(actor), {
      action: 'user.update',
      ...userResource(id),
      // Field names only (never the new email or password); the role is not personal data.
      details: {
        fields: Object.keys(input).sort().join(','),
        ...(privilegeChanged ? { role_from: current.role, role_to: updated.role } : {}),
        ...(deactivated ? { deactivated: true } : {}),
        sessions_ended: ended,
      },
    });
    return updated;
  });
  return toUserDto(row);
}

/** DELETE is a soft deactivation: the row stays for the audit trail; sessions end at once. */
export async function deactivateUser(
  ctx: Pick<AppContext, 'db' | 'credentials'>,
  actor: Principal,
  id: string,
): Promise<void> {
  requirePermission(actor, 'users.manage');
  if (id === actor.userId) {
    throw new AppError('conflict', 'Admins cannot deactivate their own account');
  }
  await loadUser(ctx, id);
  forgetProfile(id);
  await ctx.db.transaction(async (tx) => {
    await repo.updateUser(tx, id, { isActive: false });
    await ctx.credentials.revoke(tx, id, { sessions: 'deactivated', passwordReplaced: false });
    await recordAudit(tx, whoOf(actor), { action: 'user.deactivate', ...userResource(id) });
  });
}

export async function listDoctors(
  ctx: Pick<AppContext, 'db'>,
  actor: Principal,
  query: ListPageQueryInput,
) {
  requirePermission(actor, 'doctors.read');
  const limit = query.limit ?? 20;
  const after = decodeCursor(query.cursor, ['id'], { id: isUuid });
  const rows = await repo.listUsers(ctx.db, {
    role: 'doctor',
    isActive: true,
    afterId: after?.id,
    limit,
  });
  const page = toPage(rows, limit, (row) => ({ id: row.id }));
  return {
    items: page.items.map((row) => ({ id: row.id, full_name: row.fullName })),
    next_cursor: page.next_cursor,
  };
}

// --- used by the auth module (accounts are owned here) ---

export function findAccountForLogin(ctx: Pick<AppContext, 'db'>, identifier: string) {
  return repo.findUserByLogin(ctx.db, identifier);
}

export function findAccount(ctx: Pick<AppContext, 'db'>, id: string) {
  return repo.findUserById(ctx.db, id);
}

/** True when the id names an active account with the doctor role. */
export async function isActiveDoctor(ctx: Pick<AppContext, 'db'>, id: string): Promise<boolean> {
  const row = await repo.findUserById(ctx.db, id);
  return row?.role === 'doctor' && row.isActive;
}

/** For a body field that must name an active doctor (booking, assignment): else 422. */
export async function assertActiveDoctor(
  ctx: Pick<AppContext, 'db'>,
  id: string,
  field: string,
): Promise<void> {
  if (await isActiveDoctor(ctx, id)) return;
  throw fieldError(`body.${field}`, 'not an active doctor', `${field} is not an active doctor`, {
    code: 'unprocessable',
  });
}
