-- Payment lines' references checked once per statement instead of once per row (issue 7, P2).
--
-- A county's batch inserts ~10,000 lines in one INSERT … SELECT. The two per-row foreign keys of
-- 0004_subsidy.sql (to persons and to payment_batches) ran a lookup with a FOR KEY SHARE lock for every
-- line: 123 ms of a 344 ms insert of 8,912 lines (docs/performance.md). They are replaced by:
--
-- 1. one statement-level check after every INSERT into payment_lines: the statement's new lines are
--    anti-joined, as a set, with persons and with payment_batches; a line without its person or its
--    batch fails the statement with foreign_key_violation (23503), as the foreign keys did;
-- 2. the referenced rows keep existing and keep their keys: deleting a person or a batch that has
--    payment lines, or changing its (division_code, id), fails with foreign_key_violation (the API role
--    may not delete either table's rows at all, and a line's own references are immutable:
--    payment_lines_guard of 0004).
--
-- Together they keep the foreign keys' guarantee — every line's person and batch exist — at the cost
-- of one hash anti-join per statement.
ALTER TABLE payment_lines DROP CONSTRAINT payment_lines_division_code_person_id_fkey;
ALTER TABLE payment_lines DROP CONSTRAINT payment_lines_division_code_batch_id_fkey;

CREATE FUNCTION payment_lines_references_check() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  missing record;
BEGIN
  SELECT l.reference, 'persons' AS tbl INTO missing FROM new_lines l
   WHERE NOT EXISTS (SELECT 1 FROM persons p WHERE p.division_code = l.division_code AND p.id = l.person_id)
   LIMIT 1;
  IF NOT FOUND THEN
    SELECT l.reference, 'payment_batches' AS tbl INTO missing FROM new_lines l
     WHERE NOT EXISTS (SELECT 1 FROM payment_batches b WHERE b.division_code = l.division_code AND b.id = l.batch_id)
     LIMIT 1;
  END IF;
  IF FOUND THEN
    RAISE EXCEPTION 'payment line % refers to a row missing from %', missing.reference, missing.tbl
      USING ERRCODE = 'foreign_key_violation';
  END IF;
  RETURN NULL;
END $$;
ALTER FUNCTION payment_lines_references_check() SET search_path = public, pg_temp;
CREATE TRIGGER payment_lines_references AFTER INSERT ON payment_lines
  REFERENCING NEW TABLE AS new_lines FOR EACH STATEMENT EXECUTE FUNCTION payment_lines_references_check();

-- The referenced side: a person's or a batch's key stays while payment lines refer to it.
CREATE FUNCTION payment_lines_referenced_keep() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  column_name text := CASE TG_TABLE_NAME WHEN 'persons' THEN 'person_id' ELSE 'batch_id' END;
  referred boolean;
BEGIN
  IF TG_OP = 'UPDATE' AND (NEW.division_code, NEW.id) IS NOT DISTINCT FROM (OLD.division_code, OLD.id) THEN
    RETURN NEW;
  END IF;
  EXECUTE format('SELECT EXISTS (SELECT 1 FROM payment_lines WHERE division_code = $1 AND %I = $2)', column_name)
    INTO referred USING OLD.division_code, OLD.id;
  IF referred THEN
    RAISE EXCEPTION '% row % is referred to by payment lines', TG_TABLE_NAME, OLD.id
      USING ERRCODE = 'foreign_key_violation';
  END IF;
  RETURN CASE TG_OP WHEN 'DELETE' THEN OLD ELSE NEW END;
END $$;
ALTER FUNCTION payment_lines_referenced_keep() SET search_path = public, pg_temp;
CREATE TRIGGER persons_payment_lines_keep BEFORE DELETE OR UPDATE OF division_code, id ON persons
  FOR EACH ROW EXECUTE FUNCTION payment_lines_referenced_keep();
CREATE TRIGGER payment_batches_payment_lines_keep BEFORE DELETE OR UPDATE OF division_code, id ON payment_batches
  FOR EACH ROW EXECUTE FUNCTION payment_lines_referenced_keep();
