import { sql } from 'drizzle-orm';
import {
  boolean,
  check,
  integer,
  pgTable,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core';

export const roles = ['admin', 'doctor', 'nurse', 'receptionist', 'user', 'guest'] as const;
export type Role = (typeof roles)[number];

export const users = pgTable(
  'users',
  {
    id: uuid('id').primaryKey(),
    email: text('email').notNull(),
    username: text('username').notNull(),
    fullName: text('full_name'),
    hashedPassword: text('hashed_password').notNull(),
    role: text('role').$type<Role>().notNull().default('user'),
    isActive: boolean('is_active').notNull().default(true),
    isSuperuser: boolean('is_superuser').notNull().default(false),
    version: integer('version').notNull().default(1),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
    lastLoginAt: timestamp('last_login_at', { withTimezone: true }),
    passwordChangedAt: timestamp('password_changed_at', { withTimezone: true }),
    // Lockout (SECURITY.md): failures counted in a 15-minute window; each lock doubles the wait.
    failedLoginCount: integer('failed_login_count').notNull().default(0),
    failedLoginWindowStart: timestamp('failed_login_window_start', { withTimezone: true }),
    lockedUntil: timestamp('locked_until', { withTimezone: true }),
    lockoutCount: integer('lockout_count').notNull().default(0),
    // TOTP: secrets are stored only encrypted (AES-256-GCM with MFA_ENCRYPTION_KEY).
    mfaEnabled: boolean('mfa_enabled').notNull().default(false),
    totpSecretEnc: text('totp_secret_enc'),
    totpPendingSecretEnc: text('totp_pending_secret_enc'),
    // The last accepted 30-second step: a code is never accepted twice.
    totpLastStep: integer('totp_last_step'),
  },
  (t) => [
    // Case-insensitive identity: "Ann@x.org" and "ann@x.org" are one account.
    uniqueIndex('users_email_lower_uq').on(sql`lower(${t.email})`),
    uniqueIndex('users_username_lower_uq').on(sql`lower(${t.username})`),
    check(
      'users_role_ck',
      sql`${t.role} in ('admin', 'doctor', 'nurse', 'receptionist', 'user', 'guest')`,
    ),
  ],
);

export type UserRow = typeof users.$inferSelect;
export type NewUserRow = typeof users.$inferInsert;
