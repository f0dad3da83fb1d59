-- Idempotent creates (issue 13): one row per (user, Idempotency-Key). A request reserves its key
-- with an in-progress row (status NULL) in its own short statement; when the handler has answered,
-- the answer (status, chosen headers, body) is stored, and a retry within the TTL gets it back
-- from any instance. Rows past expires_at are treated as absent and purged periodically.
CREATE TABLE "idempotency_keys" (
	"user_id" uuid NOT NULL REFERENCES "users"("id") ON DELETE CASCADE,
	"key" text NOT NULL,
	-- sha256 of method, route template, params, query and canonical body; NULL while an upload
	-- (whose fingerprint is known only once its body has streamed) is in progress.
	"fingerprint" text,
	"status" integer,
	"headers" jsonb,
	"body" text,
	"locked_at" timestamp with time zone NOT NULL,
	"expires_at" timestamp with time zone NOT NULL,
	CONSTRAINT "idempotency_keys_pk" PRIMARY KEY ("user_id", "key")
);--> statement-breakpoint
CREATE INDEX "idempotency_keys_expires_idx" ON "idempotency_keys" ("expires_at");
