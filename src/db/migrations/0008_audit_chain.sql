-- The audit trail is append-only and hash-chained, enforced here so that no code path (and no
-- second instance) can skip it. Each row's hash covers its fields and the previous row's hash;
-- /admin/audit/verify recomputes the chain with the same function.
CREATE SEQUENCE IF NOT EXISTS "audit_log_seq";--> statement-breakpoint
CREATE OR REPLACE FUNCTION audit_row_hash(r audit_log) RETURNS text
LANGUAGE sql STABLE AS $$
  SELECT encode(sha256(convert_to(jsonb_build_array(
    r.seq,
    to_char(r.at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
    r.actor_id, r.actor_role, r.action, r.resource_type, r.resource_id, r.patient_id,
    r.patient_ids, r.outcome, r.request_id, r.ip, r.details, r.prev_hash
  )::text, 'UTF8')), 'hex')
$$;--> statement-breakpoint
-- Under one transaction-scoped lock: take the next number, link to the newest row and hash.
-- Numbering after the lock keeps `seq` order equal to chain order across concurrent writers.
CREATE OR REPLACE FUNCTION audit_log_chain() RETURNS trigger
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
  last_hash text;
BEGIN
  PERFORM pg_advisory_xact_lock(727354001);
  NEW.seq := nextval('audit_log_seq');
  NEW.at := clock_timestamp();
  SELECT a.hash INTO last_hash FROM audit_log a ORDER BY a.seq DESC LIMIT 1;
  NEW.prev_hash := coalesce(last_hash, repeat('0', 64));
  NEW.hash := audit_row_hash(NEW);
  RETURN NEW;
END
$$;--> statement-breakpoint
CREATE TRIGGER audit_log_chain BEFORE INSERT ON audit_log
  FOR EACH ROW EXECUTE FUNCTION audit_log_chain();--> statement-breakpoint
CREATE OR REPLACE FUNCTION audit_log_refuse_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'audit_log is append-only: % refused', TG_OP USING ERRCODE = 'insufficient_privilege';
END
$$;--> statement-breakpoint
CREATE TRIGGER audit_log_no_update_delete BEFORE UPDATE OR DELETE ON audit_log
  FOR EACH ROW EXECUTE FUNCTION audit_log_refuse_change();--> statement-breakpoint
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
  FOR EACH STATEMENT EXECUTE FUNCTION audit_log_refuse_change();--> statement-breakpoint
REVOKE UPDATE, DELETE, TRUNCATE ON audit_log FROM PUBLIC;
