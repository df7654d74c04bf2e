-- Post-support projects 后扶项目 and fund allocations 资金下达: a county's project library with funding
-- lines, the approval history, the province's allocations to a county and the county's balances per
-- source and year. Same tenancy shape as before: division_code (the county) leads every key; RLS
-- enabled and forced with the fail-closed range policy. The rules (funding checks, approval route,
-- status machine, posting) live in packages/domain/src/projects.ts; the API applies them.

-- 后扶项目: one project of a county. `route` is the approval route computed at submission (the steps
-- after the county, from the province's thresholds in force that day); `current_step` the index of
-- the step awaiting action (NULL when none). `approved_fingerprint` is the scope fingerprint at
-- approval; `committed_year` the year whose balances hold the project's commitments (NULL: none).
CREATE TABLE projects (
  division_code integer NOT NULL REFERENCES divisions (code),
  id uuid NOT NULL DEFAULT gen_random_uuid(),
  project_no text NOT NULL CHECK (project_no ~ '^\d{6}-\d{4}-\d{3,4}$'),
  name text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 100),
  category text NOT NULL CHECK (category IN ('infrastructure', 'production', 'new_population', 'small_reservoir',
    'three_gorges_hardship', 'demonstration_village', 'hazard_relief_pilot', 'training', 'other')),
  batch_no text CHECK (char_length(batch_no) BETWEEN 1 AND 40),
  year integer NOT NULL CHECK (year BETWEEN 2006 AND 2200),
  township_code bigint,
  village_codes bigint[] NOT NULL CHECK (cardinality(village_codes) BETWEEN 1 AND 50),
  description text CHECK (char_length(description) <= 2000),
  planned_outputs jsonb NOT NULL DEFAULT '{}',
  beneficiaries_farmers integer NOT NULL DEFAULT 0 CHECK (beneficiaries_farmers >= 0),
  beneficiaries_migrants integer NOT NULL DEFAULT 0 CHECK (beneficiaries_migrants >= 0),
  total_fen bigint NOT NULL CHECK (total_fen > 0),
  posting_from date,
  posting_to date,
  posting_place text CHECK (char_length(posting_place) <= 200),
  status text NOT NULL DEFAULT 'library' CHECK (status IN
    ('library', 'planned', 'submitted', 'returned', 'approved', 'in_progress', 'completed', 'accepted', 'cancelled')),
  route jsonb,
  current_step integer CHECK (current_step >= 0),
  submitted_at timestamptz,
  approved_at timestamptz,
  approved_fingerprint text,
  committed_year integer,
  cancelled_at timestamptz,
  version integer NOT NULL DEFAULT 1,
  created_by text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_by text NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (division_code, id),
  UNIQUE (division_code, project_no),
  FOREIGN KEY (division_code, township_code) REFERENCES localities (division_code, code),
  CHECK (township_code IS NULL OR township_code / 1000000 = division_code),
  -- 避险解困试点 projects belong to a numbered batch; no other category has one.
  CHECK ((category = 'hazard_relief_pilot') = (batch_no IS NOT NULL)),
  CHECK ((posting_from IS NULL) = (posting_to IS NULL) AND (posting_to IS NULL OR posting_to >= posting_from)),
  CHECK (status NOT IN ('submitted') OR (route IS NOT NULL AND current_step IS NOT NULL)),
  CHECK (status NOT IN ('approved', 'in_progress', 'completed', 'accepted')
         OR (approved_at IS NOT NULL AND approved_fingerprint IS NOT NULL))
);
CREATE INDEX projects_id_idx ON projects (id);
CREATE INDEX projects_list_idx ON projects (division_code, year, project_no);

-- 资金来源: one line per project and source; the lines add up to the project's total (checked by the
-- API with checkFunding on every write). `committed_fen` is what the line holds in fund_balances.
CREATE TABLE project_funding_lines (
  division_code integer NOT NULL,
  id uuid NOT NULL DEFAULT gen_random_uuid(),
  project_id uuid NOT NULL,
  source text NOT NULL CHECK (source IN
    ('post_support', 'three_gorges', 'small_reservoir', 'integrated', 'self_raised', 'labour')),
  amount_fen bigint NOT NULL CHECK (amount_fen > 0),
  committed_fen bigint NOT NULL DEFAULT 0 CHECK (committed_fen >= 0 AND committed_fen <= amount_fen),
  PRIMARY KEY (division_code, id),
  UNIQUE (division_code, project_id, source),
  FOREIGN KEY (division_code, project_id) REFERENCES projects (division_code, id)
);

-- 审批记录: the approval history, append-only. `division_code` is the project's county (the history
-- lives with the project); `actor_division` is who acted (the county, its city or its province).
CREATE TABLE project_reviews (
  division_code integer NOT NULL,
  id uuid NOT NULL DEFAULT gen_random_uuid(),
  project_id uuid NOT NULL,
  seq integer NOT NULL CHECK (seq > 0),
  step_index integer,
  level text CHECK (level IN ('county', 'city', 'province')),
  action text NOT NULL CHECK (action IN
    ('plan', 'submit', 'resubmit', 'review', 'approve', 'record', 'return', 'change', 'cancel')),
  decision text NOT NULL CHECK (char_length(decision) BETWEEN 1 AND 40),
  comment text CHECK (char_length(comment) <= 1000),
  actor text NOT NULL,
  actor_division integer NOT NULL,
  at timestamptz NOT NULL DEFAULT now(),
  changes jsonb,
  PRIMARY KEY (division_code, id),
  UNIQUE (division_code, project_id, seq),
  FOREIGN KEY (division_code, project_id) REFERENCES projects (division_code, id)
);
CREATE TRIGGER project_reviews_append_only BEFORE UPDATE OR DELETE ON project_reviews
  FOR EACH ROW EXECUTE FUNCTION append_only();

-- 资金下达: an allocation by the province (or the nation) to a county, of one allocated source
-- (post-support, Three Gorges, small-reservoir fund) for one year.
CREATE TABLE fund_allocations (
  division_code integer NOT NULL REFERENCES divisions (code),
  id uuid NOT NULL DEFAULT gen_random_uuid(),
  province_code integer NOT NULL CHECK (province_code > 0 AND province_code % 10000 = 0),
  source text NOT NULL CHECK (source IN ('post_support', 'three_gorges', 'small_reservoir')),
  year integer NOT NULL CHECK (year BETWEEN 2006 AND 2200),
  amount_fen bigint NOT NULL CHECK (amount_fen > 0),
  document_no text NOT NULL CHECK (char_length(document_no) BETWEEN 1 AND 100),
  allocated_on date NOT NULL,
  note text CHECK (char_length(note) <= 500),
  created_by text NOT NULL,
  created_by_division integer NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (division_code, id),
  CHECK (division_code / 10000 * 10000 = province_code)
);
CREATE INDEX fund_allocations_id_idx ON fund_allocations (id);
CREATE INDEX fund_allocations_balance_idx ON fund_allocations (division_code, source, year);
CREATE TRIGGER fund_allocations_append_only BEFORE UPDATE OR DELETE ON fund_allocations
  FOR EACH ROW EXECUTE FUNCTION append_only();

-- 资金结存: one row per county, source and year. Allocations add to `allocated_fen`, approvals to
-- `committed_fen`, contractor payments (not built yet) to `paid_fen`, each with an atomic conditional
-- UPDATE (a row lock) in the transaction that makes the change; the CHECK is the net underneath.
CREATE TABLE fund_balances (
  division_code integer NOT NULL REFERENCES divisions (code),
  source text NOT NULL CHECK (source IN ('post_support', 'three_gorges', 'small_reservoir')),
  year integer NOT NULL CHECK (year BETWEEN 2006 AND 2200),
  allocated_fen bigint NOT NULL DEFAULT 0 CHECK (allocated_fen >= 0),
  committed_fen bigint NOT NULL DEFAULT 0 CHECK (committed_fen >= 0),
  paid_fen bigint NOT NULL DEFAULT 0 CHECK (paid_fen >= 0),
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (division_code, source, year),
  CHECK (committed_fen <= allocated_fen AND paid_fen <= committed_fen)
);

DO $$
DECLARE t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['projects', 'project_funding_lines', 'project_reviews', 'fund_allocations',
      'fund_balances'] LOOP
    EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
    EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
    EXECUTE format($p$CREATE POLICY tenant_scope ON %I
      USING (division_code BETWEEN nullif(current_setting('app.scope_lo', true), '')::int
                               AND nullif(current_setting('app.scope_hi', true), '')::int)
      WITH CHECK (division_code BETWEEN nullif(current_setting('app.scope_lo', true), '')::int
                                    AND nullif(current_setting('app.scope_hi', true), '')::int)$p$, t);
  END LOOP;
END $$;

GRANT SELECT, INSERT, UPDATE ON projects TO houfu_api;
GRANT SELECT, INSERT, UPDATE, DELETE ON project_funding_lines TO houfu_api;
GRANT SELECT, INSERT ON project_reviews TO houfu_api;
GRANT SELECT, INSERT ON fund_allocations TO houfu_api;
GRANT SELECT, INSERT, UPDATE ON fund_balances TO houfu_api;
