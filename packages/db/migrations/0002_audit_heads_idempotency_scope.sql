-- 1. The audit chain's head is kept by owner functions, not by the API role. The API role asks
--    audit_next() for the next sequence number and the previous hash (which locks the head row until
--    commit), computes the record's hash, and inserts it; a trigger checks the link and advances the
--    head. The API role can neither move nor delete a head, so verification can trust it.
--    Both functions run as houfu_owner, still under the caller's RLS scope (FORCE ROW LEVEL SECURITY).
CREATE FUNCTION audit_next(division integer, OUT next_seq bigint, OUT prev_hash text)
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = public AS $$
BEGIN
  INSERT INTO audit_heads (division_code, seq, hash)
    VALUES (division, 0, repeat('0', 64)) ON CONFLICT (division_code) DO NOTHING;
  SELECT h.seq + 1, h.hash INTO next_seq, prev_hash
    FROM audit_heads h WHERE h.division_code = division FOR UPDATE;
  IF next_seq IS NULL THEN
    RAISE EXCEPTION 'division % is outside the scope', division USING ERRCODE = 'insufficient_privilege';
  END IF;
END $$;

CREATE FUNCTION audit_events_link() RETURNS trigger
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = public AS $$
DECLARE head audit_heads%ROWTYPE;
BEGIN
  SELECT * INTO head FROM audit_heads WHERE division_code = NEW.division_code FOR UPDATE;
  IF NOT FOUND OR NEW.seq <> head.seq + 1 OR NEW.prev_hash <> head.hash THEN
    RAISE EXCEPTION 'audit record % of division % does not follow the head', NEW.seq, NEW.division_code
      USING ERRCODE = 'integrity_constraint_violation';
  END IF;
  UPDATE audit_heads SET seq = NEW.seq, hash = NEW.hash WHERE division_code = NEW.division_code;
  RETURN NEW;
END $$;

CREATE TRIGGER audit_events_link BEFORE INSERT ON audit_events
  FOR EACH ROW EXECUTE FUNCTION audit_events_link();

-- Heads written by the chain of 0001 start at seq 1 for the first record; 0002 heads name the last
-- record's seq, which is the same meaning: nothing to convert.
REVOKE INSERT, UPDATE ON audit_heads FROM houfu_api;
REVOKE ALL ON FUNCTION audit_next(integer) FROM PUBLIC;
REVOKE ALL ON FUNCTION audit_events_link() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION audit_next(integer) TO houfu_api;

-- Newest-first audit listing across a city or province scope.
CREATE INDEX audit_events_recent_idx ON audit_events (occurred_at DESC, division_code DESC, seq DESC);

-- 2. Idempotency keys belong to one caller (division and subject), so two callers' keys never
--    collide; records past retention are purged by time.
ALTER TABLE idempotency_keys ADD COLUMN principal text NOT NULL DEFAULT '';
ALTER TABLE idempotency_keys ALTER COLUMN principal DROP DEFAULT;
ALTER TABLE idempotency_keys DROP CONSTRAINT idempotency_keys_pkey;
ALTER TABLE idempotency_keys ADD PRIMARY KEY (division_code, principal, key);
CREATE INDEX idempotency_keys_created_idx ON idempotency_keys (division_code, created_at);
