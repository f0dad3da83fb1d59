-- The audit trail without a global lock on the request path (issue 11).
--
-- Until now an insert trigger took one database-wide advisory lock, numbered the row and linked
-- it to the newest hash, and held the lock until the request's transaction committed: every
-- audited request in the deployment queued behind the previous one. Now an insert only stamps
-- the row (number, time, its transaction id) and leaves it unsealed; a sealer (any instance,
-- one at a time under a try-lock) links committed rows into the chain in batches, in
-- (tx_id, seq) order, and only below the oldest transaction still open, so a late commit can
-- never land before a row already sealed. Rows stay append-only, sealed or not: the only change
-- the database allows is the one-time sealing of an unsealed row, with its content unchanged.
ALTER TABLE "audit_log" ADD COLUMN "tx_id" bigint DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "audit_log" ADD COLUMN "chain_pos" bigint;--> statement-breakpoint
-- Rows written before this migration are already chained, in seq order.
ALTER TABLE "audit_log" DISABLE TRIGGER "audit_log_no_update_delete";--> statement-breakpoint
UPDATE "audit_log" SET "chain_pos" = "seq";--> statement-breakpoint
ALTER TABLE "audit_log" ENABLE TRIGGER "audit_log_no_update_delete";--> statement-breakpoint
CREATE UNIQUE INDEX "audit_log_chain_pos_idx" ON "audit_log" ("chain_pos") WHERE "chain_pos" IS NOT NULL;--> statement-breakpoint
CREATE INDEX "audit_log_unsealed_idx" ON "audit_log" ("tx_id", "seq") WHERE "chain_pos" IS NULL;--> statement-breakpoint
DROP TRIGGER "audit_log_chain" ON "audit_log";--> statement-breakpoint
DROP FUNCTION audit_log_chain();--> statement-breakpoint
-- No lock and no read: a number, the time and the writing transaction; the seal comes later.
-- Whatever the inserter supplies for these columns is overwritten.
CREATE FUNCTION audit_log_stamp() RETURNS trigger
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
  NEW.seq := nextval('audit_log_seq');
  NEW.at := clock_timestamp();
  -- The top-level transaction, also from inside a savepoint.
  NEW.tx_id := pg_current_xact_id()::text::bigint;
  NEW.chain_pos := NULL;
  NEW.prev_hash := '';
  NEW.hash := '';
  RETURN NEW;
END
$$;--> statement-breakpoint
CREATE TRIGGER audit_log_stamp BEFORE INSERT ON audit_log
  FOR EACH ROW EXECUTE FUNCTION audit_log_stamp();--> statement-breakpoint
-- UPDATE is refused except sealing: an unsealed row gets its place and hashes once, with every
-- other column as it was. DELETE and TRUNCATE are refused always.
CREATE OR REPLACE FUNCTION audit_log_refuse_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'UPDATE' THEN
    IF OLD.chain_pos IS NULL AND NEW.chain_pos IS NOT NULL AND NEW.hash <> ''
       AND (NEW.seq, NEW.at, NEW.actor_id, NEW.actor_role, NEW.action, NEW.resource_type,
            NEW.resource_id, NEW.patient_id, NEW.patient_ids, NEW.outcome, NEW.request_id,
            NEW.ip, NEW.details, NEW.tx_id)
           IS NOT DISTINCT FROM
           (OLD.seq, OLD.at, OLD.actor_id, OLD.actor_role, OLD.action, OLD.resource_type,
            OLD.resource_id, OLD.patient_id, OLD.patient_ids, OLD.outcome, OLD.request_id,
            OLD.ip, OLD.details, OLD.tx_id) THEN
      RETURN NEW;
    END IF;
  END IF;
  RAISE EXCEPTION 'audit_log is append-only: % refused', TG_OP USING ERRCODE = 'insufficient_privilege';
END
$$;--> statement-breakpoint
-- Seals up to max_rows committed rows; returns how many, or -1 when another sealer holds the
-- lock. The horizon is the oldest transaction still open anywhere: every row of an older
-- transaction is final (committed or rolled back), and every transaction that can still write
-- a row has a transaction id at or above it, so it sorts after everything sealed here.
CREATE FUNCTION audit_seal(max_rows integer) RETURNS integer
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
  horizon bigint;
  head_pos bigint;
  head_hash text;
  r audit_log;
  seqs bigint[] := '{}';
  positions bigint[] := '{}';
  prevs text[] := '{}';
  hashes text[] := '{}';
BEGIN
  -- Under REPEATABLE READ the statements below would share one old snapshot: the head read
  -- could predate the last seal and fork the chain.
  IF current_setting('transaction_isolation') <> 'read committed' THEN
    RAISE EXCEPTION 'audit_seal must run under READ COMMITTED, not %',
      current_setting('transaction_isolation') USING ERRCODE = 'invalid_transaction_state';
  END IF;
  IF NOT pg_try_advisory_xact_lock(727354001) THEN
    RETURN -1;
  END IF;
  horizon := pg_snapshot_xmin(pg_current_snapshot())::text::bigint;
  SELECT a.chain_pos, a.hash INTO head_pos, head_hash
    FROM audit_log a WHERE a.chain_pos IS NOT NULL ORDER BY a.chain_pos DESC LIMIT 1;
  head_pos := coalesce(head_pos, 0);
  head_hash := coalesce(head_hash, repeat('0', 64));
  FOR r IN
    SELECT * FROM audit_log a
     WHERE a.chain_pos IS NULL AND a.tx_id < horizon
     ORDER BY a.tx_id, a.seq
     LIMIT max_rows
  LOOP
    head_pos := head_pos + 1;
    r.prev_hash := head_hash;
    head_hash := audit_row_hash(r);
    seqs := seqs || r.seq;
    positions := positions || head_pos;
    prevs := prevs || r.prev_hash;
    hashes := hashes || head_hash;
  END LOOP;
  IF cardinality(seqs) = 0 THEN
    RETURN 0;
  END IF;
  UPDATE audit_log a
     SET chain_pos = s.pos, prev_hash = s.prev, hash = s.hash
    FROM unnest(seqs, positions, prevs, hashes) AS s(seq, pos, prev, hash)
   WHERE a.seq = s.seq;
  RETURN cardinality(seqs);
END
$$;
