import { sql } from 'drizzle-orm';
import { check, index, integer, pgTable, text, timestamp, uuid } from 'drizzle-orm/pg-core';
import { users } from './users.js';

/**
 * `pending` until a generator answers; `completed` or `failed` once one has. No generator runs
 * yet (issue 6: the OpenAI-compatible call, redaction and quotas come later), so every prompt
 * stays `pending` with a null response for now.
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
    version: integer('version').notNull().default(1),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    // A user's log, newest first (UUIDv7 ids are creation-ordered).
    index('prompts_user_idx').on(t.userId, t.id),
    check('prompts_status_ck', sql`${t.status} in ('pending', 'completed', 'failed')`),
  ],
);

export type PromptRow = typeof prompts.$inferSelect;
