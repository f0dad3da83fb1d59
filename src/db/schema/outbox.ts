import { sql } from 'drizzle-orm';
import {
  bigint,
  index,
  integer,
  jsonb,
  pgTable,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core';

/**
 * The transactional outbox (migration 0016): one row per domain event, written in the same
 * transaction as the change. `seq` is the insert order; `id` the public event id, given by the
 * sequencer once the writing transaction is surely over (src/modules/outbox/).
 */
export const outboxEvents = pgTable(
  'outbox_events',
  {
    seq: bigint('seq', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
    id: bigint('id', { mode: 'number' }),
    txId: bigint('tx_id', { mode: 'number' })
      .notNull()
      .default(sql`(pg_current_xact_id()::text::bigint)`),
    topic: text('topic').notNull(),
    aggregateType: text('aggregate_type').notNull(),
    aggregateId: uuid('aggregate_id').notNull(),
    payload: jsonb('payload').$type<Record<string, unknown>>().notNull(),
    createdAt: timestamp('created_at', { withTimezone: true })
      .notNull()
      .default(sql`clock_timestamp()`),
    sequencedAt: timestamp('sequenced_at', { withTimezone: true }),
    availableAt: timestamp('available_at', { withTimezone: true }).notNull().defaultNow(),
    attempts: integer('attempts').notNull().default(0),
    claimToken: uuid('claim_token'),
    doneConsumers: text('done_consumers')
      .array()
      .notNull()
      .default(sql`'{}'`),
    lastError: text('last_error'),
    dispatchedAt: timestamp('dispatched_at', { withTimezone: true }),
  },
  (t) => [
    uniqueIndex('outbox_events_id_idx').on(t.id),
    index('outbox_events_unsequenced_idx')
      .on(t.txId, t.seq)
      .where(sql`${t.id} IS NULL`),
    index('outbox_events_pending_idx')
      .on(t.id)
      .where(sql`${t.dispatchedAt} IS NULL`),
  ],
);

export type OutboxRow = typeof outboxEvents.$inferSelect;
