CREATE TABLE "prescriptions" (
	"id" uuid PRIMARY KEY NOT NULL,
	"patient_id" uuid NOT NULL,
	"prescriber_id" uuid NOT NULL,
	"appointment_id" uuid,
	"medication" text NOT NULL,
	"dosage" text NOT NULL,
	"route" text,
	"frequency" text NOT NULL,
	"duration_days" integer,
	"quantity" integer,
	"refills" integer DEFAULT 0 NOT NULL,
	"instructions" text,
	"status" text DEFAULT 'active' NOT NULL,
	"warnings" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"cancel_reason" text,
	"version" integer DEFAULT 1 NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "prescriptions_refills_ck" CHECK ("prescriptions"."refills" between 0 and 12),
	CONSTRAINT "prescriptions_status_ck" CHECK ("prescriptions"."status" in ('active', 'cancelled', 'completed'))
);
--> statement-breakpoint
ALTER TABLE "prescriptions" ADD CONSTRAINT "prescriptions_patient_id_patients_id_fk" FOREIGN KEY ("patient_id") REFERENCES "public"."patients"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "prescriptions" ADD CONSTRAINT "prescriptions_prescriber_id_users_id_fk" FOREIGN KEY ("prescriber_id") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "prescriptions" ADD CONSTRAINT "prescriptions_appointment_id_appointments_id_fk" FOREIGN KEY ("appointment_id") REFERENCES "public"."appointments"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "prescriptions_patient_idx" ON "prescriptions" USING btree ("patient_id","id");--> statement-breakpoint
CREATE INDEX "prescriptions_prescriber_idx" ON "prescriptions" USING btree ("prescriber_id","id");