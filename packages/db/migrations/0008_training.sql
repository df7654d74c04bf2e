-- Training 移民培训 (issue 6): a county's annual training plan 年度培训计划 with one budget line per kind
-- and its approval route, training providers 承训单位, calls for bids 竞争性选择 with their bids and the
-- recorded selection, and training sessions 培训期次 with the registered persons trained. Same tenancy
-- shape as before: division_code (the county) leads every key; RLS enabled and forced with the
-- fail-closed range policy. The rules live in packages/domain/src/training.ts; the API applies them.
-- (Vocational education aid, capability 5, has its own migration.)

-- 年度培训计划: one plan per county and year. `route` / `current_step` as for projects;
-- `funding_lines` 资金来源 `[{source, amount_fen}]` (checked with checkFunding on every write);
-- `history` the approval history `[{seq, level, action, decision, comment, actor, at}]`, appended only.
CREATE TABLE training_plans (
  division_code integer NOT NULL REFERENCES divisions (code),
  id uuid NOT NULL DEFAULT gen_random_uuid(),
  year integer NOT NULL CHECK (year BETWEEN 2006 AND 2200),
  name text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 100),
  budget_fen bigint NOT NULL CHECK (budget_fen >= 0),
  funding_lines jsonb NOT NULL DEFAULT '[]',
  status text NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'submitted', 'returned', 'approved')),
  route jsonb,
  current_step integer CHECK (current_step >= 0),
  history jsonb NOT NULL DEFAULT '[]',
  submitted_at timestamptz,
  approved_at timestamptz,
  version integer NOT NULL DEFAULT 1,
  created_by text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_by text NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (division_code, id),
  UNIQUE (division_code, year),
  CHECK (status <> 'submitted' OR (route IS NOT NULL AND current_step IS NOT NULL)),
  CHECK (status <> 'approved' OR approved_at IS NOT NULL)
);
CREATE INDEX training_plans_id_idx ON training_plans (id);

-- 计划明细: one line per plan and kind. `spent_fen` is the spending so far, raised only by a guarded
-- UPDATE (spent + cost ≤ budget) in the transaction that records a session; the CHECK is the net.
CREATE TABLE training_plan_lines (
  division_code integer NOT NULL,
  plan_id uuid NOT NULL,
  kind text NOT NULL CHECK (kind IN ('cadre', 'practical_skills')),
  sessions integer NOT NULL CHECK (sessions >= 0),
  trainees integer NOT NULL CHECK (trainees >= 0),
  trainee_times integer NOT NULL CHECK (trainee_times >= 0),
  courses text[] NOT NULL,
  budget_fen bigint NOT NULL CHECK (budget_fen >= 0),
  spent_fen bigint NOT NULL DEFAULT 0 CHECK (spent_fen >= 0 AND spent_fen <= budget_fen),
  PRIMARY KEY (division_code, plan_id, kind),
  FOREIGN KEY (division_code, plan_id) REFERENCES training_plans (division_code, id)
);

-- 承训单位: a training provider known to the county (schools, agricultural service centres, …).
CREATE TABLE training_providers (
  division_code integer NOT NULL REFERENCES divisions (code),
  id uuid NOT NULL DEFAULT gen_random_uuid(),
  name text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 100),
  credit_code text CHECK (credit_code ~ '^[0-9A-HJ-NPQRTUWXY]{18}$'),
  contact text CHECK (char_length(contact) <= 100),
  created_by text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (division_code, id),
  UNIQUE (division_code, name)
);
CREATE INDEX training_providers_id_idx ON training_providers (id);

-- 竞争性选择: a call for bids for one kind of an approved plan. `selection` is the recorded result
-- (ranking with points and reasons, disqualified bids, the rules and their source) once selected.
CREATE TABLE training_calls (
  division_code integer NOT NULL,
  id uuid NOT NULL DEFAULT gen_random_uuid(),
  plan_id uuid NOT NULL,
  kind text NOT NULL CHECK (kind IN ('cadre', 'practical_skills')),
  title text NOT NULL CHECK (char_length(title) BETWEEN 1 AND 100),
  trainees integer NOT NULL CHECK (trainees > 0),
  budget_fen bigint NOT NULL CHECK (budget_fen > 0),
  providers integer NOT NULL CHECK (providers BETWEEN 1 AND 20),
  status text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'selected')),
  selection jsonb,
  selected_at timestamptz,
  created_by text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (division_code, id),
  FOREIGN KEY (division_code, plan_id) REFERENCES training_plans (division_code, id),
  CHECK ((status = 'selected') = (selection IS NOT NULL AND selected_at IS NOT NULL))
);
CREATE INDEX training_calls_id_idx ON training_calls (id);

-- 投标: one bid per provider and call; scores 0..100 given by the panel.
CREATE TABLE training_bids (
  division_code integer NOT NULL,
  id uuid NOT NULL DEFAULT gen_random_uuid(),
  call_id uuid NOT NULL,
  provider_id uuid NOT NULL,
  price_per_trainee_fen bigint NOT NULL CHECK (price_per_trainee_fen > 0),
  score_scheme integer NOT NULL CHECK (score_scheme BETWEEN 0 AND 100),
  score_capacity integer NOT NULL CHECK (score_capacity BETWEEN 0 AND 100),
  score_record integer NOT NULL CHECK (score_record BETWEEN 0 AND 100),
  created_by text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (division_code, id),
  UNIQUE (division_code, call_id, provider_id),
  FOREIGN KEY (division_code, call_id) REFERENCES training_calls (division_code, id),
  FOREIGN KEY (division_code, provider_id) REFERENCES training_providers (division_code, id)
);

-- 培训期次: one session of a plan's kind, with its cost counted against the plan line.
CREATE TABLE training_sessions (
  division_code integer NOT NULL,
  id uuid NOT NULL DEFAULT gen_random_uuid(),
  plan_id uuid NOT NULL,
  kind text NOT NULL CHECK (kind IN ('cadre', 'practical_skills')),
  held_on date NOT NULL,
  place text NOT NULL CHECK (char_length(place) BETWEEN 1 AND 200),
  provider_id uuid,
  course text NOT NULL CHECK (char_length(course) BETWEEN 1 AND 100),
  trainees integer NOT NULL CHECK (trainees > 0),
  materials integer NOT NULL DEFAULT 0 CHECK (materials >= 0),
  cost_fen bigint NOT NULL CHECK (cost_fen > 0),
  created_by text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (division_code, id),
  FOREIGN KEY (division_code, plan_id, kind) REFERENCES training_plan_lines (division_code, plan_id, kind),
  FOREIGN KEY (division_code, provider_id) REFERENCES training_providers (division_code, id)
);
CREATE INDEX training_sessions_id_idx ON training_sessions (id);
CREATE INDEX training_sessions_plan_idx ON training_sessions (division_code, plan_id, held_on);

-- 参训人员: the registered persons (of the county's registry) known to have attended a session.
CREATE TABLE training_session_persons (
  division_code integer NOT NULL,
  session_id uuid NOT NULL,
  person_id uuid NOT NULL,
  PRIMARY KEY (division_code, session_id, person_id),
  FOREIGN KEY (division_code, session_id) REFERENCES training_sessions (division_code, id),
  FOREIGN KEY (division_code, person_id) REFERENCES persons (division_code, id)
);

DO $$
DECLARE t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['training_plans', 'training_plan_lines', 'training_providers', 'training_calls',
      'training_bids', 'training_sessions', 'training_session_persons'] LOOP
    EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
    EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
    EXECUTE format($p$CREATE POLICY tenant_scope ON %I
      USING (division_code BETWEEN nullif(current_setting('app.scope_lo', true), '')::int
                               AND nullif(current_setting('app.scope_hi', true), '')::int)
      WITH CHECK (division_code BETWEEN nullif(current_setting('app.scope_lo', true), '')::int
                                    AND nullif(current_setting('app.scope_hi', true), '')::int)$p$, t);
  END LOOP;
END $$;

GRANT SELECT, INSERT, UPDATE ON training_plans TO houfu_api;
GRANT SELECT, INSERT, UPDATE, DELETE ON training_plan_lines TO houfu_api;
GRANT SELECT, INSERT ON training_providers TO houfu_api;
GRANT SELECT, INSERT, UPDATE ON training_calls TO houfu_api;
GRANT SELECT, INSERT ON training_bids TO houfu_api;
GRANT SELECT, INSERT ON training_sessions TO houfu_api;
GRANT SELECT, INSERT ON training_session_persons TO houfu_api;
