import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AppContext } from '../../context.js';
import { migrationsFolder } from '../../db/paths.js';
import { appointmentStatuses, type AppointmentStatus } from '../../db/schema/appointments.js';
import { prescriptionStatuses } from '../../db/schema/prescriptions.js';
import { roles } from '../../db/schema/users.js';
import { requirePermission } from '../../lib/access.js';
import type { Principal } from '../../lib/permissions.js';
import { appVersion } from '../../lib/version.js';
import { documentTotals } from '../documents/documents.service.js';
import * as repo from './admin.repository.js';
import type { AdminStats, SystemInfo } from './admin.schemas.js';

/** The statuses that still hold a slot (the same set the booking overlap rules use). */
const activeAppointmentStatuses: readonly AppointmentStatus[] = [
  'scheduled',
  'confirmed',
  'checked_in',
];

/** Every key of `keys` with its count from `rows` (absent ones are 0). */
function countsBy<K extends string>(
  keys: readonly K[],
  rows: readonly { key: string; n: number }[],
): Record<K, number> {
  const counts = Object.fromEntries(keys.map((key) => [key, 0])) as Record<K, number>;
  for (const row of rows) {
    if ((keys as readonly string[]).includes(row.key)) counts[row.key as K] = row.n;
  }
  return counts;
}

/**
 * Practice figures for the admin dashboard: a handful of aggregate queries, no patient fields.
 * "Today" is the local day in CLINIC_TIMEZONE that contains the clock's now.
 */
export async function practiceStats(
  ctx: Pick<AppContext, 'db' | 'clock' | 'config'>,
  actor: Principal,
): Promise<AdminStats> {
  requirePermission(actor, 'admin.stats');
  const now = ctx.clock.now();
  const timeZone = ctx.config.clinicTimeZone;
  const [userRows, patients, appointmentRows, prescriptionRows, documents] = await Promise.all([
    repo.countUsersByRole(ctx.db),
    repo.countLivePatients(ctx.db),
    repo.countAppointmentsByStatus(ctx.db, now, timeZone),
    repo.countPrescriptionsByStatus(ctx.db),
    documentTotals(ctx),
  ]);
  return {
    users_by_role: countsBy(
      roles,
      userRows.map((row) => ({ key: row.role, n: row.total })),
    ),
    active_users: userRows.reduce((sum, row) => sum + row.active, 0),
    patients,
    appointments_by_status: countsBy(
      appointmentStatuses,
      appointmentRows.map((row) => ({ key: row.status, n: row.total })),
    ),
    appointments_today: appointmentRows
      .filter((row) => (activeAppointmentStatuses as readonly string[]).includes(row.status))
      .reduce((sum, row) => sum + row.today, 0),
    prescriptions_by_status: countsBy(
      prescriptionStatuses,
      prescriptionRows.map((row) => ({ key: row.status, n: row.total })),
    ),
    documents: { count: documents.count, storage_bytes: documents.bytes },
    time_zone: timeZone,
    generated_at: now.toISOString(),
  };
}

let knownMigrations: number | undefined;

/** Entries in drizzle-kit's journal: the migrations this release ships (read once). */
function migrationsKnown(): number {
  knownMigrations ??= (
    JSON.parse(readFileSync(join(migrationsFolder, 'meta', '_journal.json'), 'utf8')) as {
      entries: unknown[];
    }
  ).entries.length;
  return knownMigrations;
}

/**
 * What an operator checks first: release, uptime, runtime, database and migrations, and which
 * optional parts are on. Deliberately no URLs, hosts, user names or keys.
 */
export async function systemInfo(
  ctx: Pick<AppContext, 'db' | 'clock' | 'config' | 'background'>,
  actor: Principal,
  startedAt: number,
): Promise<SystemInfo> {
  requirePermission(actor, 'admin.stats');
  const facts = await repo.databaseFacts(ctx.db);
  const { config } = ctx;
  const now = ctx.clock.now();
  return {
    version: appVersion,
    uptime_s: Math.max(0, Math.round((Date.now() - startedAt) / 1000)),
    node_version: process.version,
    database: {
      engine: config.databaseUrl === undefined ? 'pglite' : 'postgresql',
      server_version: facts.serverVersion,
      size_bytes: facts.sizeBytes,
      migrations_applied: facts.migrationsApplied,
      migrations_known: migrationsKnown(),
    },
    redis: config.redisUrl === undefined ? 'not_configured' : 'configured',
    storage: {
      driver: config.storageDriver,
      encrypted: config.documentsEncryptionKey !== undefined,
      virus_scanning: config.clamavSocket === undefined ? 'not_configured' : 'configured',
    },
    prompt_generation: config.llmBaseUrl === undefined ? 'not_configured' : 'configured',
    queue_backlog: ctx.background.pending,
    rate_limits: {
      enabled: config.rateLimitEnabled,
      per_min: config.rateLimitPerMin,
      auth_per_min: config.rateLimitAuthPerMin,
    },
    generated_at: now.toISOString(),
  };
}
