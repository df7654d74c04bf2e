-- Implementation 项目实施 and completion acceptance 竣工验收 of post-support projects: progress reports,
-- contracts with contractors, payments to them straight from the county account (县级报账制) charged to
-- a funding line, and the acceptance stages with their checks, flags and the asset handed over. Same
-- tenancy shape as 0005: division_code (the project's county) leads every key; RLS enabled and forced
-- with the fail-closed range policy. The rules (payment schedule, acceptance route, flags) live in
-- packages/domain/src/projects.ts; the API applies them.

-- What a funding line has paid out (contractor payments charged to it); never more than the line.
ALTER TABLE project_funding_lines
  ADD COLUMN paid_fen bigint NOT NULL DEFAULT 0 CHECK (paid_fen >= 0),
  ADD CONSTRAINT project_funding_lines_paid_within CHECK (paid_fen <= amount_fen);

-- The acceptance route computed at the first acceptance stage (from the province's levels in force
-- that day), the index of the stage awaiting action, and the asset handed over 资产移交 with its
-- maintainer 管护责任人 once accepted.
ALTER TABLE projects
  ADD COLUMN acceptance_route jsonb,
  ADD COLUMN acceptance_step integer CHECK (acceptance_step >= 0),
  ADD COLUMN completed_at timestamptz,
  ADD COLUMN accepted_at timestamptz,
  ADD COLUMN asset_name text CHECK (char_length(asset_name) BETWEEN 1 AND 200),
  ADD COLUMN asset_maintainer text CHECK (char_length(asset_maintainer) BETWEEN 1 AND 100),
  ADD CONSTRAINT projects_accepted_handover CHECK (status <> 'accepted'
    OR (accepted_at IS NOT NULL AND asset_name IS NOT NULL AND asset_maintainer IS NOT NULL));

-- 进度报告: cumulative progress of a project as of a day: investment completed 完成投资, percent done,
-- outputs achieved 完成建设内容 (kind → thousandths, like planned_outputs) and the villages where the
-- work was done (compared with the approved villages at acceptance). Append-only.
CREATE TABLE project_progress_reports (
  division_code integer NOT NULL,
  id uuid NOT NULL DEFAULT gen_random_uuid(),
  project_id uuid NOT NULL,
  seq integer NOT NULL CHECK (seq > 0),
  reported_on date NOT NULL,
  investment_completed_fen bigint NOT NULL CHECK (investment_completed_fen >= 0),
  percent_complete integer NOT NULL CHECK (percent_complete BETWEEN 0 AND 100),
  achieved_outputs jsonb NOT NULL DEFAULT '{}',
  village_codes bigint[] NOT NULL CHECK (cardinality(village_codes) BETWEEN 1 AND 50),
  comment text CHECK (char_length(comment) <= 1000),
  created_by text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (division_code, id),
  UNIQUE (division_code, project_id, seq),
  FOREIGN KEY (division_code, project_id) REFERENCES projects (division_code, id)
);
CREATE TRIGGER project_progress_reports_append_only BEFORE UPDATE OR DELETE ON project_progress_reports
  FOR EACH ROW EXECUTE FUNCTION append_only();

-- 施工合同: a contract of the project with a contractor 承包单位; the payment schedule applies per contract.
CREATE TABLE project_contracts (
  division_code integer NOT NULL,
  id uuid NOT NULL DEFAULT gen_random_uuid(),
  project_id uuid NOT NULL,
  contractor text NOT NULL CHECK (char_length(contractor) BETWEEN 1 AND 200),
  contract_no text NOT NULL CHECK (char_length(contract_no) BETWEEN 1 AND 100),
  amount_fen bigint NOT NULL CHECK (amount_fen > 0),
  signed_on date NOT NULL,
  paid_fen bigint NOT NULL DEFAULT 0 CHECK (paid_fen >= 0),
  created_by text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (division_code, id),
  UNIQUE (division_code, project_id, contract_no),
  FOREIGN KEY (division_code, project_id) REFERENCES projects (division_code, id),
  CHECK (paid_fen <= amount_fen)
);
CREATE INDEX project_contracts_id_idx ON project_contracts (id);

-- 工程款支付: a payment to a contractor of one contract, charged to one funding line. The line is any
-- line of the county (the API only accepts the project's own); a payment charged elsewhere is what the
-- acceptance flag `funds_diverted` finds. Append-only (a reversal is not built).
CREATE TABLE project_payments (
  division_code integer NOT NULL,
  id uuid NOT NULL DEFAULT gen_random_uuid(),
  project_id uuid NOT NULL,
  contract_id uuid NOT NULL,
  funding_line_id uuid NOT NULL,
  stage text NOT NULL CHECK (stage IN ('contract', 'half_done', 'completion', 'final_accounts', 'quality_deposit')),
  amount_fen bigint NOT NULL CHECK (amount_fen > 0),
  paid_on date NOT NULL,
  reference text NOT NULL CHECK (char_length(reference) BETWEEN 1 AND 100),
  created_by text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (division_code, id),
  UNIQUE (division_code, reference),
  FOREIGN KEY (division_code, project_id) REFERENCES projects (division_code, id),
  FOREIGN KEY (division_code, contract_id) REFERENCES project_contracts (division_code, id),
  FOREIGN KEY (division_code, funding_line_id) REFERENCES project_funding_lines (division_code, id)
);
CREATE INDEX project_payments_project_idx ON project_payments (division_code, project_id, paid_on);
CREATE TRIGGER project_payments_append_only BEFORE UPDATE OR DELETE ON project_payments
  FOR EACH ROW EXECUTE FUNCTION append_only();

-- 验收记录: one acceptance stage acted on (self-check 自检, county 县级, city 市级, province 省级 验收):
-- the six checks, the result, the flags found (计划挪位, 实施缺位, 资金挪用) and, on the last stage, the asset
-- handed over with its maintainer. `division_code` is the project's county; `actor_division` who acted.
CREATE TABLE project_acceptances (
  division_code integer NOT NULL,
  id uuid NOT NULL DEFAULT gen_random_uuid(),
  project_id uuid NOT NULL,
  seq integer NOT NULL CHECK (seq > 0),
  stage text NOT NULL CHECK (stage IN ('self_check', 'county', 'city', 'province')),
  result text NOT NULL CHECK (result IN ('passed', 'failed')),
  checks jsonb NOT NULL,
  flags jsonb NOT NULL DEFAULT '[]',
  comment text CHECK (char_length(comment) <= 1000),
  participants text CHECK (char_length(participants) <= 500),
  asset_name text CHECK (char_length(asset_name) BETWEEN 1 AND 200),
  asset_maintainer text CHECK (char_length(asset_maintainer) BETWEEN 1 AND 100),
  actor text NOT NULL,
  actor_division integer NOT NULL,
  at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (division_code, id),
  UNIQUE (division_code, project_id, seq),
  FOREIGN KEY (division_code, project_id) REFERENCES projects (division_code, id)
);
CREATE TRIGGER project_acceptances_append_only BEFORE UPDATE OR DELETE ON project_acceptances
  FOR EACH ROW EXECUTE FUNCTION append_only();

DO $$
DECLARE t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['project_progress_reports', 'project_contracts', 'project_payments',
      'project_acceptances'] LOOP
    EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
    EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
    EXECUTE format($p$CREATE POLICY tenant_scope ON %I
      USING (division_code BETWEEN nullif(current_setting('app.scope_lo', true), '')::int
                               AND nullif(current_setting('app.scope_hi', true), '')::int)
      WITH CHECK (division_code BETWEEN nullif(current_setting('app.scope_lo', true), '')::int
                                    AND nullif(current_setting('app.scope_hi', true), '')::int)$p$, t);
  END LOOP;
END $$;

GRANT SELECT, INSERT ON project_progress_reports TO houfu_api;
GRANT SELECT, INSERT, UPDATE ON project_contracts TO houfu_api;
GRANT SELECT, INSERT ON project_payments TO houfu_api;
GRANT SELECT, INSERT ON project_acceptances TO houfu_api;
