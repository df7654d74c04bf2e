-- Each batch's bank results kept as totals on the batch (issue 7, P4): its paid and failed lines, count
-- and fen. Oversight summaries at county level and above then read one row per batch instead of its
-- lines. At province scale that is 100 rows instead of ~900,000 a period (docs/performance.md).
--
-- Statement-level triggers on payment_lines keep the totals, in the transaction that writes the lines,
-- whatever the statement. A line's outcome is the only part of it that may change (payment_lines_guard
-- of 0004). So at every commit: paid_count/paid_fen and failed_count/failed_fen are the batch's lines
-- with that outcome, pending = line_count − paid_count − failed_count, and due = total_fen.
ALTER TABLE payment_batches
  ADD COLUMN paid_count integer NOT NULL DEFAULT 0 CHECK (paid_count >= 0),
  ADD COLUMN paid_fen bigint NOT NULL DEFAULT 0 CHECK (paid_fen >= 0),
  ADD COLUMN failed_count integer NOT NULL DEFAULT 0 CHECK (failed_count >= 0),
  ADD COLUMN failed_fen bigint NOT NULL DEFAULT 0 CHECK (failed_fen >= 0);

-- The batches already there. The migration runs as the owner, under RLS: every division in scope.
SELECT set_config('app.scope_lo', '0', true), set_config('app.scope_hi', '999999', true);
UPDATE payment_batches b
   SET paid_count = t.paid, paid_fen = t.paid_fen, failed_count = t.failed, failed_fen = t.failed_fen
  FROM (SELECT division_code, batch_id,
               count(*) FILTER (WHERE outcome = 'paid') AS paid,
               coalesce(sum(amount_fen) FILTER (WHERE outcome = 'paid'), 0) AS paid_fen,
               count(*) FILTER (WHERE outcome = 'failed') AS failed,
               coalesce(sum(amount_fen) FILTER (WHERE outcome = 'failed'), 0) AS failed_fen
          FROM payment_lines GROUP BY division_code, batch_id) t
 WHERE b.division_code = t.division_code AND b.id = t.batch_id;

-- Adds each statement's change to its batches: the new lines counted in, the old ones counted out
-- (an UPDATE has both; pending lines change nothing). Runs as the caller, so within the caller's scope;
-- dynamic only to name the transition tables the event has.
CREATE FUNCTION payment_lines_outcome_totals() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  changed text := CASE TG_OP
    WHEN 'INSERT' THEN 'SELECT division_code, batch_id, outcome, amount_fen, 1 AS sign FROM new_lines'
    WHEN 'DELETE' THEN 'SELECT division_code, batch_id, outcome, amount_fen, -1 AS sign FROM old_lines'
    ELSE 'SELECT division_code, batch_id, outcome, amount_fen, 1 AS sign FROM new_lines
          UNION ALL SELECT division_code, batch_id, outcome, amount_fen, -1 FROM old_lines' END;
BEGIN
  EXECUTE format($q$
    UPDATE payment_batches b
       SET paid_count = b.paid_count + d.paid, paid_fen = b.paid_fen + d.paid_fen,
           failed_count = b.failed_count + d.failed, failed_fen = b.failed_fen + d.failed_fen
      FROM (SELECT c.division_code, c.batch_id,
                   coalesce(sum(c.sign) FILTER (WHERE c.outcome = 'paid'), 0) AS paid,
                   coalesce(sum(c.sign * c.amount_fen) FILTER (WHERE c.outcome = 'paid'), 0) AS paid_fen,
                   coalesce(sum(c.sign) FILTER (WHERE c.outcome = 'failed'), 0) AS failed,
                   coalesce(sum(c.sign * c.amount_fen) FILTER (WHERE c.outcome = 'failed'), 0) AS failed_fen
              FROM (%s) c WHERE c.outcome <> 'pending'
             GROUP BY c.division_code, c.batch_id) d
     WHERE b.division_code = d.division_code AND b.id = d.batch_id
       AND (d.paid, d.paid_fen, d.failed, d.failed_fen) <> (0, 0, 0, 0)$q$, changed);
  RETURN NULL;
END $$;
CREATE TRIGGER payment_lines_outcome_totals_insert AFTER INSERT ON payment_lines
  REFERENCING NEW TABLE AS new_lines FOR EACH STATEMENT EXECUTE FUNCTION payment_lines_outcome_totals();
CREATE TRIGGER payment_lines_outcome_totals_update AFTER UPDATE ON payment_lines
  REFERENCING OLD TABLE AS old_lines NEW TABLE AS new_lines
  FOR EACH STATEMENT EXECUTE FUNCTION payment_lines_outcome_totals();
CREATE TRIGGER payment_lines_outcome_totals_delete AFTER DELETE ON payment_lines
  REFERENCING OLD TABLE AS old_lines FOR EACH STATEMENT EXECUTE FUNCTION payment_lines_outcome_totals();
