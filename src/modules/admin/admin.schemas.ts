import { Type, type Static } from 'typebox';
import { appointmentStatuses } from '../../db/schema/appointments.js';
import { prescriptionStatuses } from '../../db/schema/prescriptions.js';
import { roles } from '../../db/schema/users.js';
import { Timestamp } from '../../lib/schema.js';

const Count = Type.Integer({ minimum: 0 });

/** One key per known value, zeros included, so dashboards never meet a missing key. */
function CountsBy<K extends string>(keys: readonly K[], description: string) {
  return Type.Object(
    Object.fromEntries(keys.map((key) => [key, Count])) as Record<K, typeof Count>,
    { description },
  );
}

export const AdminStats = Type.Object({
  users_by_role: CountsBy(roles, 'Accounts per role, active or not'),
  active_users: Count,
  patients: Type.Integer({ minimum: 0, description: 'Live patients (soft-deleted ones excluded)' }),
  appointments_by_status: CountsBy(appointmentStatuses, 'Every appointment, per status'),
  appointments_today: Type.Integer({
    minimum: 0,
    description:
      'Scheduled, confirmed or checked-in appointments starting today in the clinic time zone',
  }),
  prescriptions_by_status: CountsBy(prescriptionStatuses, 'Every prescription, per status'),
  documents: Type.Object({
    count: Type.Integer({ minimum: 0, description: 'Documents not deleted' }),
    storage_bytes: Type.Integer({
      minimum: 0,
      description: 'Bytes they hold (deleted documents are kept but not counted)',
    }),
  }),
  time_zone: Type.String({ description: 'The clinic time zone that defines "today"' }),
  generated_at: Timestamp,
});
export type AdminStats = Static<typeof AdminStats>;

export const SystemInfo = Type.Object({
  version: Type.String({ description: 'The running release (as /health reports it)' }),
  uptime_s: Type.Integer({ minimum: 0 }),
  node_version: Type.String(),
  database: Type.Object({
    engine: Type.Union([Type.Literal('pglite'), Type.Literal('postgresql')]),
    server_version: Type.String(),
    size_bytes: Type.Integer({ minimum: 0 }),
    migrations_applied: Type.Integer({ minimum: 0 }),
    migrations_known: Type.Integer({
      minimum: 0,
      description: 'Migrations this release ships; more than applied means some are pending',
    }),
  }),
  redis: Type.Union([Type.Literal('configured'), Type.Literal('not_configured')]),
  storage: Type.Object({
    driver: Type.Union([Type.Literal('local'), Type.Literal('s3'), Type.Literal('azure')]),
    encrypted: Type.Boolean({ description: 'DOCUMENTS_ENCRYPTION_KEY is set' }),
    virus_scanning: Type.Union([Type.Literal('configured'), Type.Literal('not_configured')]),
  }),
  prompt_generation: Type.Union([Type.Literal('configured'), Type.Literal('not_configured')]),
  queue_backlog: Type.Integer({
    minimum: 0,
    description: 'Background tasks running or waiting (emails, prompt generation)',
  }),
  rate_limits: Type.Object({
    enabled: Type.Boolean(),
    per_min: Type.Integer({ description: 'Per client, per window, outside auth' }),
    auth_per_min: Type.Integer({ description: 'Per client, per window, on auth routes' }),
  }),
  generated_at: Timestamp,
});
export type SystemInfo = Static<typeof SystemInfo>;
