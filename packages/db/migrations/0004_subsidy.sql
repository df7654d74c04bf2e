-- Direct subsidy 直补资金发放: province policy overrides, county/village payment modes, payment batches
-- with their lines and exclusions, bank return files and the exceptions they raise. Same tenancy shape
-- as before: division_code (the county, or the province for policy) leads every key; RLS enabled and
-- forced with the fail-closed range policy.

-- 省级政策参数: a province's dated override of a policy parameter (packages/domain/src/policy.ts). Policy
-- is public: every scope reads every province's overrides; a province writes only its own.
CREATE TABLE policy_overrides (
  division_code integer NOT NULL REFERENCES divisions (code) CHECK (division_code > 0 AND division_code % 10000 = 0),
  parameter text NOT NULL CHECK (parameter ~ '^[a-z_]+\.[a-z_]+$'),
  effective_from date NOT NULL,
  value jsonb NOT NULL,
  source text NOT NULL CHECK (char_length(source) BETWEEN 1 AND 200),
  set_by text NOT NULL,
  set_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (division_code, parameter, effective_from)
);

-- 扶持方式: a county's (locality_code = 0) or one of its villages' dated payment mode.
CREATE TABLE payment_mode_settings (
  division_code integer NOT NULL REFERENCES divisions (code),
  locality_code bigint NOT NULL,
  effective_from date NOT NULL,
  mode text NOT NULL CHECK (mode IN ('cash', 'project', 'both')),
  cash_percent integer NOT NULL CHECK (
    (mode = 'cash' AND cash_percent = 100) OR (mode = 'project' AND cash_percent = 0)
    OR (mode = 'both' AND cash_percent BETWEEN 1 AND 99)),
  source text NOT NULL CHECK (char_length(source) BETWEEN 1 AND 200),
  set_by text NOT NULL,
  set_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (division_code, locality_code, effective_from),
  CHECK (locality_code = 0 OR locality_code / 1000000 = division_code)
);

-- 发放批次: one county's payments for one period. `regular` (one live per county and period) or
-- `reissue` (failed lines of an earlier batch, paid again). Totals, hash and the policy used are set
-- when the computation commits and frozen at approval.
CREATE TABLE payment_batches (
  division_code integer NOT NULL REFERENCES divisions (code),
  id uuid NOT NULL DEFAULT gen_random_uuid(),
  batch_no text NOT NULL CHECK (batch_no ~ '^\d{6}-\d{4}(-(H[12]|Q[1-4]|\d{2}))?-\d{2,3}$'),
  period text NOT NULL,
  period_start date NOT NULL,
  period_end date NOT NULL,
  kind text NOT NULL CHECK (kind IN ('regular', 'reissue')),
  source_batch_id uuid,
  status text NOT NULL DEFAULT 'computing'
    CHECK (status IN ('computing', 'draft', 'approved', 'exported', 'reconciling', 'closed', 'cancelled', 'failed')),
  job_id uuid,
  policy jsonb,
  line_count integer NOT NULL DEFAULT 0,
  total_fen bigint NOT NULL DEFAULT 0,
  project_fen bigint NOT NULL DEFAULT 0,
  excluded_count integer NOT NULL DEFAULT 0,
  content_hash text CHECK (content_hash ~ '^[0-9a-f]{64}$'),
  note text CHECK (char_length(note) <= 500),
  prepared_by text NOT NULL,
  computed_at timestamptz,
  approved_by text,
  approved_at timestamptz,
  exported_at timestamptz,
  closed_at timestamptz,
  cancelled_at timestamptz,
  version integer NOT NULL DEFAULT 1,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (division_code, id),
  UNIQUE (division_code, batch_no),
  FOREIGN KEY (division_code, source_batch_id) REFERENCES payment_batches (division_code, id),
  CHECK ((kind = 'reissue') = (source_batch_id IS NOT NULL)),
  -- Maker-checker 审批分离, in the database too: whoever prepared a batch never approves it.
  CHECK (approved_by IS NULL OR approved_by <> prepared_by),
  CHECK ((status IN ('computing', 'draft', 'cancelled', 'failed')) OR (approved_by IS NOT NULL AND content_hash IS NOT NULL))
);
CREATE UNIQUE INDEX payment_batches_regular_once ON payment_batches (division_code, period)
  WHERE kind = 'regular' AND status NOT IN ('cancelled', 'failed');
CREATE INDEX payment_batches_id_idx ON payment_batches (id);
CREATE INDEX payment_batches_period_idx ON payment_batches (division_code, period_start);

-- 发放明细: one payment to one person. The content (who, how much, to which account) never changes
-- once written; the bank's outcome and its resolution are recorded on the line. A person is paid at
-- most once per period, across batches and counties alike: the unique index on the ID hash, which
-- a failed line leaves (so that it can be reissued).
CREATE TABLE payment_lines (
  division_code integer NOT NULL,
  batch_id uuid NOT NULL,
  line_no integer NOT NULL CHECK (line_no > 0),
  reference text NOT NULL,
  period text NOT NULL,
  person_id uuid NOT NULL,
  id_hash bytea NOT NULL,
  id_masked text NOT NULL,
  name text NOT NULL,
  village_code bigint NOT NULL,
  bank_name text,
  bank_account_sealed bytea NOT NULL,
  bank_account_masked text NOT NULL,
  amount_fen bigint NOT NULL CHECK (amount_fen > 0),
  project_fen bigint NOT NULL DEFAULT 0 CHECK (project_fen >= 0),
  reissue_of text,
  outcome text NOT NULL DEFAULT 'pending' CHECK (outcome IN ('pending', 'paid', 'failed')),
  outcome_reason text CHECK (char_length(outcome_reason) <= 200),
  outcome_return_id uuid,
  outcome_at timestamptz,
  resolution text CHECK (resolution IN ('reissued', 'written_off')),
  resolution_note text CHECK (char_length(resolution_note) <= 500),
  resolved_by text,
  resolved_at timestamptz,
  PRIMARY KEY (division_code, batch_id, line_no),
  UNIQUE (division_code, reference),
  FOREIGN KEY (division_code, batch_id) REFERENCES payment_batches (division_code, id),
  FOREIGN KEY (division_code, person_id) REFERENCES persons (division_code, id),
  CHECK (resolution IS NULL OR outcome = 'failed')
);
CREATE UNIQUE INDEX payment_lines_once_per_period ON payment_lines (id_hash, period) WHERE outcome <> 'failed';
CREATE INDEX payment_lines_person_idx ON payment_lines (division_code, person_id);
CREATE INDEX payment_lines_reissue_idx ON payment_lines (division_code, reissue_of) WHERE reissue_of IS NOT NULL;

-- 未发放名单: every person of the county not paid (in full) by a regular batch, with the reasons.
CREATE TABLE payment_exclusions (
  division_code integer NOT NULL,
  batch_id uuid NOT NULL,
  person_id uuid NOT NULL,
  village_code bigint NOT NULL,
  name text NOT NULL,
  id_masked text NOT NULL,
  status text NOT NULL,
  reasons text[] NOT NULL CHECK (cardinality(reasons) > 0),
  amount_fen bigint NOT NULL CHECK (amount_fen >= 0),
  project_fen bigint NOT NULL CHECK (project_fen >= 0),
  PRIMARY KEY (division_code, batch_id, person_id),
  FOREIGN KEY (division_code, batch_id) REFERENCES payment_batches (division_code, id)
);

-- Line content is immutable; lines and exclusions go away only with a draft being recomputed or cancelled.
CREATE FUNCTION payment_lines_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'DELETE' THEN
    IF EXISTS (SELECT 1 FROM payment_batches b WHERE b.division_code = OLD.division_code AND b.id = OLD.batch_id
                 AND b.status IN ('computing', 'draft')) THEN
      RETURN OLD;
    END IF;
    RAISE EXCEPTION '% of a batch past draft cannot be deleted', TG_TABLE_NAME USING ERRCODE = 'insufficient_privilege';
  END IF;
  IF (NEW.division_code, NEW.batch_id, NEW.line_no, NEW.reference, NEW.period, NEW.person_id, NEW.id_hash,
      NEW.id_masked, NEW.name, NEW.village_code, NEW.bank_name, NEW.bank_account_sealed, NEW.bank_account_masked,
      NEW.amount_fen, NEW.project_fen, NEW.reissue_of)
     IS DISTINCT FROM
     (OLD.division_code, OLD.batch_id, OLD.line_no, OLD.reference, OLD.period, OLD.person_id, OLD.id_hash,
      OLD.id_masked, OLD.name, OLD.village_code, OLD.bank_name, OLD.bank_account_sealed, OLD.bank_account_masked,
      OLD.amount_fen, OLD.project_fen, OLD.reissue_of) THEN
    RAISE EXCEPTION 'payment line content is immutable' USING ERRCODE = 'insufficient_privilege';
  END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER payment_lines_guard BEFORE UPDATE OR DELETE ON payment_lines
  FOR EACH ROW EXECUTE FUNCTION payment_lines_guard();

CREATE FUNCTION payment_exclusions_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'DELETE' AND EXISTS (SELECT 1 FROM payment_batches b
       WHERE b.division_code = OLD.division_code AND b.id = OLD.batch_id AND b.status IN ('computing', 'draft')) THEN
    RETURN OLD;
  END IF;
  RAISE EXCEPTION 'exclusions of a batch past draft are immutable' USING ERRCODE = 'insufficient_privilege';
END $$;
CREATE TRIGGER payment_exclusions_guard BEFORE UPDATE OR DELETE ON payment_exclusions
  FOR EACH ROW EXECUTE FUNCTION payment_exclusions_guard();

-- Totals, hash and policy are frozen from approval on.
CREATE FUNCTION payment_batches_freeze() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF OLD.status NOT IN ('computing', 'draft') AND
     (NEW.line_count, NEW.total_fen, NEW.project_fen, NEW.excluded_count, NEW.content_hash, NEW.policy,
      NEW.period, NEW.kind, NEW.prepared_by, NEW.approved_by)
     IS DISTINCT FROM
     (OLD.line_count, OLD.total_fen, OLD.project_fen, OLD.excluded_count, OLD.content_hash, OLD.policy,
      OLD.period, OLD.kind, OLD.prepared_by, OLD.approved_by) THEN
    RAISE EXCEPTION 'an approved batch is frozen' USING ERRCODE = 'insufficient_privilege';
  END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER payment_batches_freeze BEFORE UPDATE ON payment_batches
  FOR EACH ROW EXECUTE FUNCTION payment_batches_freeze();

-- 银行回盘: one bank result file applied to a batch, keyed by the file's SHA-256 (the same file again
-- changes nothing).
CREATE TABLE payment_returns (
  division_code integer NOT NULL,
  id uuid NOT NULL DEFAULT gen_random_uuid(),
  batch_id uuid NOT NULL,
  sha256 text NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
  filename text,
  rows integer NOT NULL,
  paid integer NOT NULL,
  failed integer NOT NULL,
  paid_fen bigint NOT NULL,
  failed_fen bigint NOT NULL,
  exceptions integer NOT NULL,
  file_count integer NOT NULL,
  file_fen bigint NOT NULL,
  balanced boolean NOT NULL,
  imported_by text NOT NULL,
  imported_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (division_code, id),
  UNIQUE (division_code, batch_id, sha256),
  FOREIGN KEY (division_code, batch_id) REFERENCES payment_batches (division_code, id)
);

-- 待核查: return-file rows that could not be applied, queued for review.
CREATE TABLE payment_return_exceptions (
  division_code integer NOT NULL,
  id uuid NOT NULL DEFAULT gen_random_uuid(),
  batch_id uuid NOT NULL,
  return_id uuid NOT NULL,
  row_no integer NOT NULL,
  reference text NOT NULL,
  kind text NOT NULL CHECK (kind IN ('unknown_reference', 'duplicate_reference', 'amount_mismatch', 'conflicting_result')),
  amount_fen bigint NOT NULL,
  result text NOT NULL CHECK (result IN ('paid', 'failed')),
  reason text,
  status text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'resolved')),
  resolution_note text CHECK (char_length(resolution_note) <= 500),
  resolved_by text,
  resolved_at timestamptz,
  PRIMARY KEY (division_code, id),
  FOREIGN KEY (division_code, return_id) REFERENCES payment_returns (division_code, id)
);
CREATE INDEX payment_return_exceptions_batch_idx ON payment_return_exceptions (division_code, batch_id, status);
CREATE INDEX payment_return_exceptions_id_idx ON payment_return_exceptions (id);

DO $$
DECLARE t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['policy_overrides', 'payment_mode_settings', 'payment_batches', 'payment_lines',
      'payment_exclusions', 'payment_returns', 'payment_return_exceptions'] LOOP
    EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
    EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
    EXECUTE format($p$CREATE POLICY tenant_scope ON %I
      USING (division_code BETWEEN nullif(current_setting('app.scope_lo', true), '')::int
                               AND nullif(current_setting('app.scope_hi', true), '')::int)
      WITH CHECK (division_code BETWEEN nullif(current_setting('app.scope_lo', true), '')::int
                                    AND nullif(current_setting('app.scope_hi', true), '')::int)$p$, t);
  END LOOP;
END $$;
-- Published policy is public: any caller reads it (writes keep the tenant policy).
CREATE POLICY public_read ON policy_overrides FOR SELECT USING (true);

GRANT SELECT, INSERT, UPDATE, DELETE ON policy_overrides TO houfu_api;
GRANT SELECT, INSERT, UPDATE, DELETE ON payment_mode_settings TO houfu_api;
GRANT SELECT, INSERT, UPDATE ON payment_batches TO houfu_api;
GRANT SELECT, INSERT, UPDATE, DELETE ON payment_lines TO houfu_api;
GRANT SELECT, INSERT, DELETE ON payment_exclusions TO houfu_api;
GRANT SELECT, INSERT, UPDATE ON payment_returns TO houfu_api;
GRANT SELECT, INSERT, UPDATE ON payment_return_exceptions TO houfu_api;
