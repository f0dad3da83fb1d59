ALTER TABLE "prompts" ADD COLUMN "redactions" jsonb;--> statement-breakpoint
CREATE INDEX "prompts_user_created_idx" ON "prompts" USING btree ("user_id","created_at");