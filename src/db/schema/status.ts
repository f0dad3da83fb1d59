import { pgTable, text, timestamp, uuid } from 'drizzle-orm/pg-core';

/** Client status checks (the seeds' `status_checks`): who checked in, and when. */
export const statusChecks = pgTable('status_checks', {
  // UUIDv7: creation-ordered, so the primary key serves the newest-first list.
  id: uuid('id').primaryKey(),
  clientName: text('client_name').notNull(),
  timestamp: timestamp('timestamp', { withTimezone: true }).notNull().defaultNow(),
});

export type StatusCheckRow = typeof statusChecks.$inferSelect;
