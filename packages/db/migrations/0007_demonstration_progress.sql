-- Demonstration villages 小康示范村/美丽家园 and the 双过半 progress targets (issue 5, capabilities 7 and
-- 8). Same tenancy shape as 0005: division_code (the county) leads every key; RLS enabled and forced
-- with the fail-closed range policy. The rules (eligibility, funding, quota, scoring, double half) live
-- in packages/domain/src/demonstration.ts and progress.ts; the API applies them. Independent of 0006.

-- 示范村: a county's application for one of its villages in a year, and where it stands. The figures are
-- the application's (as declared by the county); `collective_income_fen` is copied from the village's
-- recorded collective income of the year before. `provincial` marks a 省级示范村; `named_on` and
-- `reassess_due` are set by the last assessment that named it. At most one live (applied or named)
-- application per village.
CREATE TABLE demonstration_villages (
  division_code integer NOT NULL REFERENCES divisions (code),
  id uuid NOT NULL DEFAULT gen_random_uuid(),
  village_code bigint NOT NULL,
  year integer NOT NULL CHECK (year BETWEEN 2006 AND 2200),
  migrants integer NOT NULL CHECK (migrants >= 0),
  population integer NOT NULL CHECK (population > 0 AND population >= migrants),
  development_plan text CHECK (char_length(development_plan) <= 2000),
  collective_income_fen bigint NOT NULL,
  planned_total_fen bigint NOT NULL CHECK (planned_total_fen >= 0),
  planned_integrated_fen bigint NOT NULL CHECK (planned_integrated_fen >= 0 AND planned_integrated_fen <= planned_total_fen),
  status text NOT NULL DEFAULT 'applied' CHECK (status IN ('applied', 'named', 'failed', 'revoked')),
  provincial boolean NOT NULL DEFAULT false,
  total_hundredths integer CHECK (total_hundredths BETWEEN 0 AND 10000),
  named_on date,
  reassess_due date,
  version integer NOT NULL DEFAULT 1,
  created_by text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_by text NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (division_code, id),
  FOREIGN KEY (division_code, village_code) REFERENCES localities (division_code, code),
  CHECK (village_code / 1000000 = division_code),
  CHECK ((status = 'named') = (named_on IS NOT NULL AND reassess_due IS NOT NULL)),
  CHECK (status = 'named' OR NOT provincial)
);
CREATE INDEX demonstration_villages_id_idx ON demonstration_villages (id);
CREATE INDEX demonstration_villages_year_idx ON demonstration_villages (division_code, year, status);
CREATE UNIQUE INDEX demonstration_villages_live_idx ON demonstration_villages (division_code, village_code)
  WHERE status IN ('applied', 'named');

-- 考核验收 / 复核: the province's assessments of a village, append-only. `scores` holds the five
-- standards (0..100 each); `outcome` is assess()'s; `kind` tells the first assessment from a re-assessment.
CREATE TABLE demonstration_assessments (
  division_code integer NOT NULL,
  id uuid NOT NULL DEFAULT gen_random_uuid(),
  village_id uuid NOT NULL,
  seq integer NOT NULL CHECK (seq > 0),
  kind text NOT NULL CHECK (kind IN ('initial', 'reassessment')),
  assessed_on date NOT NULL,
  scores jsonb NOT NULL,
  total_hundredths integer NOT NULL CHECK (total_hundredths BETWEEN 0 AND 10000),
  outcome text NOT NULL CHECK (outcome IN ('failed', 'named', 'named_provincial')),
  status_after text NOT NULL CHECK (status_after IN ('named', 'failed', 'revoked')),
  reassess_due date,
  comment text CHECK (char_length(comment) <= 1000),
  actor text NOT NULL,
  actor_division integer NOT NULL,
  at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (division_code, id),
  UNIQUE (division_code, village_id, seq),
  FOREIGN KEY (division_code, village_id) REFERENCES demonstration_villages (division_code, id)
);
CREATE TRIGGER demonstration_assessments_append_only BEFORE UPDATE OR DELETE ON demonstration_assessments
  FOR EACH ROW EXECUTE FUNCTION append_only();

-- 村集体收入: a village's collective income of a year, as the county records it (a correction replaces
-- the figure and is audited with the old and new values).
CREATE TABLE village_collective_incomes (
  division_code integer NOT NULL REFERENCES divisions (code),
  village_code bigint NOT NULL,
  year integer NOT NULL CHECK (year BETWEEN 2000 AND 2200),
  income_fen bigint NOT NULL CHECK (income_fen BETWEEN -900000000000000 AND 900000000000000),
  note text CHECK (char_length(note) <= 500),
  recorded_by text NOT NULL,
  recorded_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (division_code, village_code, year),
  FOREIGN KEY (division_code, village_code) REFERENCES localities (division_code, code),
  CHECK (village_code / 1000000 = division_code)
);

-- 双过半 targets: one per county, kind and period. `done_source` says where "done" comes from: the
-- system (`projects_approved`: projects approved in the period; `funds_committed`: what those projects
-- committed; `funds_paid`: contractor payments made in the period; `investment_completed`: investment
-- completed in the period by the projects' progress reports) or the county's dated reports (`reported`,
-- progress_reports below).
CREATE TABLE progress_targets (
  division_code integer NOT NULL REFERENCES divisions (code),
  id uuid NOT NULL DEFAULT gen_random_uuid(),
  kind text NOT NULL CHECK (kind IN ('people', 'money', 'projects')),
  done_source text NOT NULL CHECK (done_source IN ('reported', 'projects_approved', 'funds_committed', 'funds_paid',
    'investment_completed')),
  name text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 100),
  period_start date NOT NULL,
  period_end date NOT NULL,
  target_value bigint NOT NULL CHECK (target_value >= 0),
  created_by text NOT NULL,
  created_by_division integer NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (division_code, id),
  UNIQUE (division_code, kind, period_start, period_end),
  CHECK (period_end >= period_start),
  CHECK (done_source = 'reported' OR (kind = 'projects' AND done_source = 'projects_approved')
         OR (kind = 'money' AND done_source IN ('funds_committed', 'funds_paid', 'investment_completed')))
);
CREATE INDEX progress_targets_id_idx ON progress_targets (id);

-- 进度上报: what a county reports done on a target as of a day, append-only; the report on a date uses
-- the latest figure as of that date.
CREATE TABLE progress_reports (
  division_code integer NOT NULL,
  id uuid NOT NULL DEFAULT gen_random_uuid(),
  target_id uuid NOT NULL,
  as_of date NOT NULL,
  done_value bigint NOT NULL CHECK (done_value >= 0),
  note text CHECK (char_length(note) <= 500),
  reported_by text NOT NULL,
  reported_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (division_code, id),
  FOREIGN KEY (division_code, target_id) REFERENCES progress_targets (division_code, id)
);
CREATE INDEX progress_reports_target_idx ON progress_reports (division_code, target_id, as_of);
CREATE TRIGGER progress_reports_append_only BEFORE UPDATE OR DELETE ON progress_reports
  FOR EACH ROW EXECUTE FUNCTION append_only();

DO $$
DECLARE t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['demonstration_villages', 'demonstration_assessments', 'village_collective_incomes',
      'progress_targets', 'progress_reports'] LOOP
    EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
    EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
    EXECUTE format($p$CREATE POLICY tenant_scope ON %I
      USING (division_code BETWEEN nullif(current_setting('app.scope_lo', true), '')::int
                               AND nullif(current_setting('app.scope_hi', true), '')::int)
      WITH CHECK (division_code BETWEEN nullif(current_setting('app.scope_lo', true), '')::int
                                    AND nullif(current_setting('app.scope_hi', true), '')::int)$p$, t);
  END LOOP;
END $$;

GRANT SELECT, INSERT, UPDATE ON demonstration_villages TO houfu_api;
GRANT SELECT, INSERT ON demonstration_assessments TO houfu_api;
GRANT SELECT, INSERT, UPDATE ON village_collective_incomes TO houfu_api;
GRANT SELECT, INSERT ON progress_targets TO houfu_api;
GRANT SELECT, INSERT ON progress_reports TO houfu_api;
