-- Typo-tolerant search by name, name first (issue 11). The fuzzy part of a search used to walk
-- patients_name_knn_idx over every patient: with many patients sharing a name (1,500 with the
-- same surname at 100,000 patients) it visited most of them to order the ties by id (8-11 ms).
-- Now it finds the closest distinct names in patient_names (one row per name) and reads each
-- name's live patients in id order from patients_live_name_idx, stopping at the page's end; see
-- src/modules/patients/patients.search.ts.
CREATE TABLE "patient_names" (
	"name_text" text PRIMARY KEY NOT NULL
);
--> statement-breakpoint
INSERT INTO "patient_names" ("name_text")
  SELECT DISTINCT "name_text" FROM "patients" WHERE "name_text" IS NOT NULL
  ON CONFLICT DO NOTHING;--> statement-breakpoint
-- Every name a patient is given is remembered (after the row is written, so a failed insert adds
-- nothing). The dictionary only grows: a name nobody has any more costs one empty index probe.
CREATE FUNCTION "patients_remember_name"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO "patient_names" ("name_text") VALUES (NEW."name_text") ON CONFLICT DO NOTHING;
  RETURN NULL;
END;
$$;--> statement-breakpoint
CREATE TRIGGER "patients_remember_name" AFTER INSERT OR UPDATE OF "first_name", "last_name"
  ON "patients" FOR EACH ROW EXECUTE FUNCTION "patients_remember_name"();--> statement-breakpoint
DROP INDEX "patients_name_knn_idx";--> statement-breakpoint
CREATE INDEX "patient_names_knn_idx" ON "patient_names" USING gist ("name_text" gist_trgm_ops (siglen = 256));--> statement-breakpoint
CREATE INDEX "patients_live_name_idx" ON "patients" USING btree ("name_text","id") WHERE "patients"."deleted_at" is null;--> statement-breakpoint
-- No pending list for the substring index: with one, every search scanned the entries added
-- since the last vacuum linearly (about 3 MB after a bulk load: 4 ms of each search). Patients
-- are created far less often than they are searched for. Entries already pending are merged now.
ALTER INDEX "patients_search_trgm_idx" SET (fastupdate = off);--> statement-breakpoint
SELECT gin_clean_pending_list('patients_search_trgm_idx'::regclass);
