-- Typo-tolerant patient search reads its matches in order from an index (issue 11): GiST over the
-- name's trigrams and the id (as three float8 parts, ordered through btree_gist), so "closest
-- name first, then id" comes out of the index scan (`<->>` and `<->` orderings, `%>` as the
-- threshold) and nothing else is scored; see src/modules/patients/patients.search.ts, whose
-- ORDER BY expressions must stay these. siglen 256: with the default 12-byte signatures the
-- short names of many patients saturate the inner pages and a search visits most of the index.
CREATE INDEX "patients_name_knn_idx" ON "patients" USING gist (
  "name_text" gist_trgm_ops (siglen = 256),
  ((('x' || substr(replace("id"::text, '-', ''), 1, 12))::bit(48)::bigint)::float8),
  ((('x' || substr(replace("id"::text, '-', ''), 13, 12))::bit(48)::bigint)::float8),
  ((('x' || substr(replace("id"::text, '-', ''), 25, 8))::bit(32)::bigint)::float8)
);--> statement-breakpoint
-- The GIN trigram index on name_text served `<%` before; the GiST index above serves it now.
DROP INDEX IF EXISTS "patients_name_trgm_idx";
