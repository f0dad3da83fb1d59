-- A visit note may name the appointment it belongs to (issue 14), and only an appointment of the
-- same patient: the foreign key runs over (appointment_id, patient_id), so the database refuses a
-- note that points at another patient's appointment, under any concurrency. It needs a unique
-- key on the same pair of appointments (id alone is already unique, so this adds no rule there).
-- A null appointment_id is not checked (MATCH SIMPLE): notes without an appointment stay valid.
ALTER TABLE "appointments" ADD CONSTRAINT "appointments_id_patient_uq" UNIQUE ("id", "patient_id");--> statement-breakpoint
ALTER TABLE "visit_notes" ADD COLUMN "appointment_id" uuid;--> statement-breakpoint
ALTER TABLE "visit_notes" ADD CONSTRAINT "visit_notes_appointment_same_patient_fk" FOREIGN KEY ("appointment_id", "patient_id") REFERENCES "public"."appointments"("id", "patient_id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "visit_notes_appointment_idx" ON "visit_notes" USING btree ("appointment_id") WHERE "appointment_id" IS NOT NULL;
