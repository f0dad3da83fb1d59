import { sql } from 'drizzle-orm';
import {
  bigint,
  index,
  jsonb,
  pgTable,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core';

export const auditOutcomes = ['success', 'failure', 'denied'] as const;
export type AuditOutcome = (typeof auditOutcomes)[number];

/**
 * The audit trail: append-only and hash-chained. An insert trigger stamps `seq`, `at` and
 * `tx_id` whatever the inserter supplies, without a lock; the sealer (audit.sealer.ts, SQL
 * function `audit_seal`, migration 0014) later gives each committed row its `chain_pos`,
 * `prev_hash` and `hash`. Other triggers refuse UPDATE (except that one-time seal), DELETE and
 * TRUNCATE. No foreign keys: the trail outlives what it names.
 */
export const auditLog = pgTable(
  'audit_log',
  {
    seq: bigint('seq', { mode: 'number' }).primaryKey().default(0),
    at: timestamp('at', { withTimezone: true }).notNull().defaultNow(),
    actorId: uuid('actor_id'),
    actorRole: text('actor_role'),
    action: text('action').notNull(),
    resourceType: text('resource_type'),
    resourceId: text('resource_id'),
    patientId: uuid('patient_id'),
    // Patients whose data a list or export returned, so their access logs show it.
    patientIds: uuid('patient_ids').array(),
    outcome: text('outcome').$type<AuditOutcome>().notNull(),
    requestId: text('request_id'),
    ip: text('ip'),
    details: jsonb('details').$type<Record<string, unknown>>(),
    /** The writing transaction: rows are sealed in (tx_id, seq) order. */
    txId: bigint('tx_id', { mode: 'number' }).notNull().default(0),
    /** Place in the hash chain; null until sealed. */
    chainPos: bigint('chain_pos', { mode: 'number' }),
    prevHash: text('prev_hash').notNull().default(''),
    hash: text('hash').notNull().default(''),
  },
  (t) => [
    index('audit_log_patient_idx').on(t.patientId, t.seq),
    index('audit_log_patient_ids_idx').using('gin', t.patientIds),
    index('audit_log_actor_idx').on(t.actorId, t.seq),
    index('audit_log_action_idx').on(t.action, t.seq),
    index('audit_log_at_idx').on(t.at),
    uniqueIndex('audit_log_chain_pos_idx')
      .on(t.chainPos)
      .where(sql`${t.chainPos} is not null`),
    index('audit_log_unsealed_idx')
      .on(t.txId, t.seq)
      .where(sql`${t.chainPos} is null`),
  ],
);

export type AuditRow = typeof auditLog.$inferSelect;
