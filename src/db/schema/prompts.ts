import { sql } from 'drizzle-orm';
import { check, index, integer, jsonb, pgTable, text, timestamp, uuid } from 'drizzle-orm/pg-core';
import { users } from './users.js';

/**
 * `pending` until the generator answers (modules/prompts/prompt-generation.ts); `completed` or
 * `failed` once it has. Without an LLM endpoint configured a prompt stays `pending`.
 */
export const promptStatuses = ['pending', 'completed', 'failed'] as const;
export type PromptStatus = (typeof promptStatuses)[number];

export const prompts = pgTable(
  'prompts',
  {
    id: uuid('id').primaryKey(),
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id),
    content: text('content').notNull(),
    response: text('response'),
    status: text('status').$type<PromptStatus>().notNull().default('pending'),
    model: text('model'),
    promptTokens: integer('prompt_tokens'),
    completionTokens: integer('completion_tokens'),
    latencyMs: integer('latency_ms'),
    error: text('error'),
    // Placeholder -> original text (e.g. "[PATIENT_1]" -> "Jane Roe") for the identifiers redacted
    // before the outbound call; the stored response keeps the placeholders and readers allowed
    // to see patient demographics get them restored. It holds patient names, but it lives in the
    // same database as the patients table itself (same access, backups and encryption at rest),
    // so plain jsonb adds no exposure; it is never serialized to clients.
    redactions: jsonb('redactions').$type<Record<string, string>>(),
    version: integer('version').notNull().default(1),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    // A user's log, newest first (UUIDv7 ids are creation-ordered).
    index('prompts_user_idx').on(t.userId, t.id),
    // The daily quota counts a user's prompts since UTC midnight.
    index('prompts_user_created_idx').on(t.userId, t.createdAt),
    check('prompts_status_ck', sql`${t.status} in ('pending', 'completed', 'failed')`),
  ],
);

export type PromptRow = typeof prompts.$inferSelect;
