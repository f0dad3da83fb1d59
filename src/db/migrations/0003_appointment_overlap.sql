-- No doctor and no patient may hold two overlapping active appointments. Enforced here, in the
-- database, so it holds under concurrency and across instances. Half-open ranges '[)': one
-- appointment may start exactly when the previous one ends.
CREATE EXTENSION IF NOT EXISTS btree_gist;--> statement-breakpoint
ALTER TABLE "appointments" ADD CONSTRAINT "appointments_doctor_no_overlap"
  EXCLUDE USING gist ("doctor_id" WITH =, tstzrange("starts_at", "ends_at", '[)') WITH &&)
  WHERE ("status" IN ('scheduled', 'confirmed', 'checked_in'));--> statement-breakpoint
ALTER TABLE "appointments" ADD CONSTRAINT "appointments_patient_no_overlap"
  EXCLUDE USING gist ("patient_id" WITH =, tstzrange("starts_at", "ends_at", '[)') WITH &&)
  WHERE ("status" IN ('scheduled', 'confirmed', 'checked_in'));
