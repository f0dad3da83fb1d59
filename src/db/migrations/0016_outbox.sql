-- The transactional outbox (issue 13). A change and its event commit in one transaction, so a
-- crash at any point either keeps both or neither. Rows are stamped with their transaction id
-- and get their public, gap-free `id` later, from a sequencer that numbers committed rows in
-- (tx_id, seq) order below the oldest transaction still open (as the audit sealer does): every
-- instance agrees on the order, and a late commit can never get a number below one already
-- handed out, so `Last-Event-ID` resumes without a gap. Dispatch to consumers uses a lease:
-- a claim pushes `available_at` forward; success sets `dispatched_at`, failure the next retry.
CREATE TABLE "outbox_events" (
  "seq" bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  "id" bigint,
  "tx_id" bigint DEFAULT (pg_current_xact_id()::text::bigint) NOT NULL,
  "topic" text NOT NULL,
  "aggregate_type" text NOT NULL,
  "aggregate_id" uuid NOT NULL,
  "payload" jsonb NOT NULL,
  "created_at" timestamp with time zone DEFAULT clock_timestamp() NOT NULL,
  "sequenced_at" timestamp with time zone,
  "available_at" timestamp with time zone DEFAULT now() NOT NULL,
  "attempts" integer DEFAULT 0 NOT NULL,
  "claim_token" uuid,
  "done_consumers" text[] DEFAULT '{}' NOT NULL,
  "last_error" text,
  "dispatched_at" timestamp with time zone
);--> statement-breakpoint
CREATE UNIQUE INDEX "outbox_events_id_idx" ON "outbox_events" ("id");--> statement-breakpoint
CREATE INDEX "outbox_events_unsequenced_idx" ON "outbox_events" ("tx_id", "seq") WHERE "id" IS NULL;--> statement-breakpoint
CREATE INDEX "outbox_events_pending_idx" ON "outbox_events" ("id") WHERE "dispatched_at" IS NULL;
