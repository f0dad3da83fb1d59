import type { UserRow } from '../../db/schema/users.js';
import type { PublicProfileDto, UserDto } from './users.schemas.js';

export function toUserDto(row: UserRow): UserDto {
  return {
    id: row.id,
    email: row.email,
    username: row.username,
    full_name: row.fullName,
    role: row.role,
    is_active: row.isActive,
    is_superuser: row.isSuperuser,
    mfa_enabled: row.mfaEnabled,
    version: row.version,
    created_at: row.createdAt.toISOString(),
    updated_at: row.updatedAt.toISOString(),
    last_login_at: row.lastLoginAt?.toISOString() ?? null,
  };
}

export function toPublicProfile(row: UserRow): PublicProfileDto {
  return { id: row.id, full_name: row.fullName, role: row.role };
}
