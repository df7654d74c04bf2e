-- Vocational education aid for migrants' children 移民子女职业教育资助 (issue 6): one application per child
-- and school year in a county, through apply → village posting 村级公示 → township review 乡镇审核 →
-- county payment 县级发放 (any step before payment may reject). Same tenancy shape as before:
-- division_code (the county) leads every key; RLS enabled and forced with the fail-closed range policy.
-- The rules (age, years, amount by level, cost share, transitions) live in packages/domain/src/training.ts;
-- the API applies them with the province's `training.vocational_aid` parameter.
--
-- The child's national ID is kept like persons' (0003_registry.sql): a keyed hash (the child's earlier
-- applications, duplicates), sealed (AES-256-GCM) and masked; the birth date is derived from it.
-- `parent_person_id` is the registered migrant parent (a person of the same county), when given.
CREATE TABLE vocational_aid_applications (
  division_code integer NOT NULL REFERENCES divisions (code),
  id uuid NOT NULL DEFAULT gen_random_uuid(),
  township_code bigint NOT NULL,
  village_code bigint NOT NULL,
  child_name text NOT NULL CHECK (char_length(child_name) BETWEEN 1 AND 50),
  child_id_hash bytea NOT NULL CHECK (octet_length(child_id_hash) = 32),
  child_id_sealed bytea NOT NULL,
  child_id_masked text NOT NULL CHECK (child_id_masked ~ '^\d{6}\*{8}[\dX]{4}$'),
  child_birth_date date NOT NULL,
  parent_person_id uuid,
  school text NOT NULL CHECK (char_length(school) BETWEEN 1 AND 100),
  level text NOT NULL CHECK (level IN ('secondary', 'higher', 'technician')),
  school_year integer NOT NULL CHECK (school_year BETWEEN 2006 AND 2200),
  recognised_cost_fen bigint CHECK (recognised_cost_fen >= 0),
  requested_fen bigint NOT NULL CHECK (requested_fen > 0),
  applied_on date NOT NULL,
  status text NOT NULL DEFAULT 'applied' CHECK (status IN ('applied', 'posted', 'township_reviewed', 'paid', 'rejected')),
  posting_from date,
  posting_to date,
  posting_place text CHECK (char_length(posting_place) <= 200),
  township_reviewer text CHECK (char_length(township_reviewer) BETWEEN 1 AND 50),
  township_reviewed_on date,
  township_comment text CHECK (char_length(township_comment) <= 1000),
  paid_fen bigint CHECK (paid_fen > 0),
  paid_on date,
  payment_reference text CHECK (char_length(payment_reference) BETWEEN 1 AND 100),
  rejection_reason text CHECK (char_length(rejection_reason) BETWEEN 1 AND 500),
  version integer NOT NULL DEFAULT 1,
  created_by text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_by text NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (division_code, id),
  FOREIGN KEY (division_code, township_code) REFERENCES localities (division_code, code),
  FOREIGN KEY (division_code, village_code) REFERENCES localities (division_code, code),
  FOREIGN KEY (division_code, parent_person_id) REFERENCES persons (division_code, id),
  CHECK (village_code / 1000000 = division_code AND township_code / 1000000 = division_code),
  CHECK ((posting_from IS NULL) = (posting_to IS NULL) AND (posting_to IS NULL OR posting_to >= posting_from)),
  CHECK (status NOT IN ('posted', 'township_reviewed', 'paid') OR posting_from IS NOT NULL),
  CHECK (status NOT IN ('township_reviewed', 'paid') OR (township_reviewer IS NOT NULL AND township_reviewed_on IS NOT NULL)),
  CHECK ((status = 'paid') = (paid_fen IS NOT NULL AND paid_on IS NOT NULL AND payment_reference IS NOT NULL)),
  CHECK ((status = 'rejected') = (rejection_reason IS NOT NULL))
);
-- One live application (not rejected) per child and school year in a county: two requests racing to
-- apply for, or pay, the same child's same year cannot both succeed.
CREATE UNIQUE INDEX vocational_aid_child_year_idx ON vocational_aid_applications (division_code, child_id_hash, school_year)
  WHERE status <> 'rejected';
CREATE INDEX vocational_aid_id_idx ON vocational_aid_applications (id);
CREATE INDEX vocational_aid_list_idx ON vocational_aid_applications (division_code, school_year, created_at, id);

ALTER TABLE vocational_aid_applications ENABLE ROW LEVEL SECURITY;
ALTER TABLE vocational_aid_applications FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_scope ON vocational_aid_applications
  USING (division_code BETWEEN nullif(current_setting('app.scope_lo', true), '')::int
                           AND nullif(current_setting('app.scope_hi', true), '')::int)
  WITH CHECK (division_code BETWEEN nullif(current_setting('app.scope_lo', true), '')::int
                                AND nullif(current_setting('app.scope_hi', true), '')::int);

GRANT SELECT, INSERT, UPDATE ON vocational_aid_applications TO houfu_api;
