CREATE TABLE "documents" (
	"id" uuid PRIMARY KEY NOT NULL,
	"patient_id" uuid NOT NULL,
	"uploaded_by" uuid NOT NULL,
	"category" text NOT NULL,
	"description" text,
	"original_name" text,
	"content_type" text NOT NULL,
	"size_bytes" bigint NOT NULL,
	"sha256" text NOT NULL,
	"storage_key" text NOT NULL,
	"thumbnail_key" text,
	"encrypted" boolean DEFAULT false NOT NULL,
	"scan_status" text NOT NULL,
	"page_count" integer,
	"text_content" text,
	"search" "tsvector" GENERATED ALWAYS AS (to_tsvector('english', coalesce(original_name, '') || ' ' || coalesce(description, '') || ' ' || coalesce(text_content, ''))) STORED,
	"version" integer DEFAULT 1 NOT NULL,
	"deleted_at" timestamp with time zone,
	"deleted_by" uuid,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "documents_storage_key_unique" UNIQUE("storage_key"),
	CONSTRAINT "documents_category_ck" CHECK (category in ('lab_result', 'imaging', 'referral', 'clinical_letter', 'other_clinical', 'insurance', 'consent', 'identification', 'correspondence', 'administrative')),
	CONSTRAINT "documents_content_type_ck" CHECK (content_type in ('application/pdf', 'image/png', 'image/jpeg', 'text/plain')),
	CONSTRAINT "documents_scan_status_ck" CHECK (scan_status in ('clean', 'not_scanned')),
	CONSTRAINT "documents_size_ck" CHECK ("documents"."size_bytes" >= 0)
);
--> statement-breakpoint
ALTER TABLE "documents" ADD CONSTRAINT "documents_patient_id_patients_id_fk" FOREIGN KEY ("patient_id") REFERENCES "public"."patients"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "documents" ADD CONSTRAINT "documents_uploaded_by_users_id_fk" FOREIGN KEY ("uploaded_by") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "documents" ADD CONSTRAINT "documents_deleted_by_users_id_fk" FOREIGN KEY ("deleted_by") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "documents_patient_idx" ON "documents" USING btree ("patient_id","id");--> statement-breakpoint
CREATE INDEX "documents_uploader_idx" ON "documents" USING btree ("uploaded_by") WHERE "documents"."deleted_at" is null;--> statement-breakpoint
CREATE INDEX "documents_search_idx" ON "documents" USING gin ("search");