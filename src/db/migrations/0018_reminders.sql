-- Appointment reminders (issue 13). The appointments table is the source of truth: a job finds
-- the appointments whose reminder is due and records each send here. The primary key is the
-- once-only guarantee: one row, so at most one delivered send, per (appointment, lead time,
-- start). A rescheduled appointment has a new start, hence new keys; rows of the old start are
-- dropped unsent. Rows are claimed for a short lease ('sending', next_attempt_at = lease end)
-- in one statement with FOR UPDATE SKIP LOCKED, so every instance may run the job.
ALTER TABLE "patients" ADD COLUMN "reminders_opt_out" boolean DEFAULT false NOT NULL;--> statement-breakpoint
CREATE TABLE "appointment_reminders" (
	"appointment_id" uuid NOT NULL,
	"lead_minutes" integer NOT NULL,
	"starts_at" timestamp with time zone NOT NULL,
	"status" text DEFAULT 'pending' NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"next_attempt_at" timestamp with time zone NOT NULL,
	"claim_token" uuid,
	"last_error" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"sent_at" timestamp with time zone,
	CONSTRAINT "appointment_reminders_pk" PRIMARY KEY("appointment_id","lead_minutes","starts_at"),
	CONSTRAINT "appointment_reminders_status_ck" CHECK ("status" in ('pending', 'sending', 'sent', 'failed', 'dropped')),
	CONSTRAINT "appointment_reminders_lead_ck" CHECK ("lead_minutes" between 1 and 43200)
);--> statement-breakpoint
ALTER TABLE "appointment_reminders" ADD CONSTRAINT "appointment_reminders_appointment_id_appointments_id_fk" FOREIGN KEY ("appointment_id") REFERENCES "public"."appointments"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
-- The claim reads only rows still to send, oldest due first.
CREATE INDEX "appointment_reminders_due_idx" ON "appointment_reminders" ("next_attempt_at") WHERE "status" in ('pending', 'sending');
