-- The chain trigger reads the newest row after taking its lock. Under READ COMMITTED each
-- statement sees what committed before it; under REPEATABLE READ or SERIALIZABLE the snapshot
-- could predate the last link and fork the chain. Refuse those instead of forking.
CREATE OR REPLACE FUNCTION audit_log_chain() RETURNS trigger
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
  last_hash text;
BEGIN
  IF current_setting('transaction_isolation') <> 'read committed' THEN
    RAISE EXCEPTION 'audit_log rows must be written under READ COMMITTED, not %',
      current_setting('transaction_isolation') USING ERRCODE = 'invalid_transaction_state';
  END IF;
  PERFORM pg_advisory_xact_lock(727354001);
  NEW.seq := nextval('audit_log_seq');
  NEW.at := clock_timestamp();
  SELECT a.hash INTO last_hash FROM audit_log a ORDER BY a.seq DESC LIMIT 1;
  NEW.prev_hash := coalesce(last_hash, repeat('0', 64));
  NEW.hash := audit_row_hash(NEW);
  RETURN NEW;
END
$$;
