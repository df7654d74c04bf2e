-- Resettled-population registry 移民人口登记: households, persons, status events, imports (as jobs),
-- annual verification, cross-county conflicts. Same tenancy shape as 0001: division_code (the county)
-- leads every key, RLS enabled and forced with the fail-closed range policy.

CREATE FUNCTION append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION '% is append-only', TG_TABLE_NAME USING ERRCODE = 'insufficient_privilege';
END $$;

-- 户: a household of a county, settled in one of its villages.
CREATE TABLE households (
  division_code integer NOT NULL REFERENCES divisions (code),
  id uuid NOT NULL DEFAULT gen_random_uuid(),
  household_no text NOT NULL CHECK (char_length(household_no) BETWEEN 1 AND 40),
  village_code bigint NOT NULL,
  version integer NOT NULL DEFAULT 1,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (division_code, id),
  UNIQUE (division_code, household_no),
  FOREIGN KEY (division_code, village_code) REFERENCES localities (division_code, code),
  CHECK (village_code / 1000000 = division_code)
);
CREATE INDEX households_village_idx ON households (division_code, village_code);
-- Lookups by id alone (under any scope) stay index scans however wide the caller's scope is.
CREATE INDEX households_id_idx ON households (id);

-- 移民: one registration of a person in a county. The national ID is kept as a keyed hash (lookups,
-- duplicates, conflicts), sealed (AES-256-GCM, for the few roles that may reveal it) and masked; the
-- bank account likewise. `status` is the status after every recorded event, maintained by the API
-- from person_events (never written directly by callers).
CREATE TABLE persons (
  division_code integer NOT NULL,
  id uuid NOT NULL DEFAULT gen_random_uuid(),
  household_id uuid NOT NULL,
  relationship text NOT NULL CHECK (relationship IN
    ('head', 'spouse', 'child', 'child_in_law', 'grandchild', 'parent', 'grandparent', 'sibling', 'other')),
  name text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 50),
  id_hash bytea NOT NULL CHECK (octet_length(id_hash) = 32),
  id_sealed bytea NOT NULL,
  id_masked text NOT NULL CHECK (id_masked ~ '^\d{6}\*{8}[\dX]{4}$'),
  sex text NOT NULL CHECK (sex IN ('male', 'female')),
  birth_date date NOT NULL,
  reservoir text NOT NULL CHECK (char_length(reservoir) BETWEEN 1 AND 100),
  relocation_date date NOT NULL,
  relocatee_kind text NOT NULL CHECK (relocatee_kind IN ('original', 'other')),
  registered_on date NOT NULL,
  bank_name text CHECK (char_length(bank_name) BETWEEN 1 AND 100),
  bank_account_sealed bytea,
  bank_account_masked text,
  status text NOT NULL DEFAULT 'registered' CHECK (status IN ('registered', 'deceased', 'moved_out', 'removed')),
  import_id uuid,
  version integer NOT NULL DEFAULT 1,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (division_code, id),
  UNIQUE (division_code, id_hash),
  FOREIGN KEY (division_code, household_id) REFERENCES households (division_code, id),
  CHECK ((bank_account_sealed IS NULL) = (bank_account_masked IS NULL))
);
CREATE INDEX persons_household_idx ON persons (division_code, household_id);
CREATE INDEX persons_name_idx ON persons (division_code, name text_pattern_ops);
CREATE INDEX persons_status_idx ON persons (division_code, status);
CREATE INDEX persons_id_idx ON persons (id);
-- Cross-county lookups by owner functions only (conflict detection).
CREATE INDEX persons_id_hash_idx ON persons (id_hash);

-- Status changes as dated events with evidence; append-only (a mistake is voided by a correction).
CREATE TABLE person_events (
  division_code integer NOT NULL,
  id uuid NOT NULL DEFAULT gen_random_uuid(),
  person_id uuid NOT NULL,
  kind text NOT NULL CHECK (kind IN ('moved_in', 'death', 'moved_out', 'removed', 're_registered', 'correction')),
  effective_date date NOT NULL,
  reason text CHECK (reason IN ('civil_servant', 'non_agricultural_hukou', 'imprisonment', 'other')),
  destination_code integer REFERENCES divisions (code),
  destination_note text CHECK (char_length(destination_note) <= 200),
  origin_code integer REFERENCES divisions (code),
  corrects_id uuid,
  evidence_ref text NOT NULL CHECK (char_length(evidence_ref) BETWEEN 1 AND 200),
  note text CHECK (char_length(note) <= 500),
  recorded_at timestamptz NOT NULL DEFAULT now(),
  recorded_by text NOT NULL,
  PRIMARY KEY (division_code, id),
  FOREIGN KEY (division_code, person_id) REFERENCES persons (division_code, id),
  FOREIGN KEY (division_code, corrects_id) REFERENCES person_events (division_code, id),
  CHECK ((kind = 'removed') = (reason IS NOT NULL)),
  CHECK ((kind = 'correction') = (corrects_id IS NOT NULL)),
  CHECK ((kind = 'moved_out') = (destination_code IS NOT NULL))
);
CREATE INDEX person_events_person_idx ON person_events (division_code, person_id, effective_date);
CREATE INDEX person_events_date_idx ON person_events (division_code, effective_date);
CREATE TRIGGER person_events_append_only BEFORE UPDATE OR DELETE ON person_events
  FOR EACH ROW EXECUTE FUNCTION append_only();

-- Background jobs (imports now, payment batches later): leased by one runner at a time, resumable.
CREATE TABLE jobs (
  division_code integer NOT NULL,
  id uuid NOT NULL DEFAULT gen_random_uuid(),
  kind text NOT NULL,
  status text NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'running', 'succeeded', 'failed')),
  phase text,
  progress_done bigint NOT NULL DEFAULT 0,
  progress_total bigint,
  params jsonb NOT NULL DEFAULT '{}',
  checkpoint jsonb NOT NULL DEFAULT '{}',
  result jsonb,
  error jsonb,
  attempts integer NOT NULL DEFAULT 0,
  lease_until timestamptz,
  created_by text NOT NULL,
  created_by_kind text NOT NULL CHECK (created_by_kind IN ('user', 'client', 'system')),
  created_at timestamptz NOT NULL DEFAULT now(),
  started_at timestamptz,
  finished_at timestamptz,
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (division_code, id)
);
CREATE INDEX jobs_id_idx ON jobs (id);
CREATE INDEX jobs_pending_idx ON jobs (created_at) WHERE status IN ('queued', 'running');

-- Uploaded files, stored in 1 MiB chunks so that a job can stream them after a restart.
CREATE TABLE uploads (
  division_code integer NOT NULL,
  id uuid NOT NULL DEFAULT gen_random_uuid(),
  sha256 text,
  size_bytes bigint NOT NULL DEFAULT 0,
  media_type text NOT NULL,
  filename text CHECK (char_length(filename) <= 200),
  created_by text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (division_code, id)
);
CREATE TABLE upload_chunks (
  division_code integer NOT NULL,
  upload_id uuid NOT NULL,
  seq integer NOT NULL CHECK (seq >= 0),
  data bytea NOT NULL,
  PRIMARY KEY (division_code, upload_id, seq),
  FOREIGN KEY (division_code, upload_id) REFERENCES uploads (division_code, id) ON DELETE CASCADE
);

-- 批量导入: one registry import of a county; its rows are staged, checked, then applied in one go.
CREATE TABLE imports (
  division_code integer NOT NULL,
  id uuid NOT NULL DEFAULT gen_random_uuid(),
  job_id uuid NOT NULL,
  upload_id uuid NOT NULL,
  format text NOT NULL CHECK (format IN ('csv', 'xlsx')),
  status text NOT NULL DEFAULT 'queued'
    CHECK (status IN ('queued', 'staging', 'checking', 'applying', 'completed', 'failed')),
  rows_total integer,
  rows_accepted integer,
  rows_rejected integer,
  error jsonb,
  created_by text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  completed_at timestamptz,
  PRIMARY KEY (division_code, id),
  FOREIGN KEY (division_code, job_id) REFERENCES jobs (division_code, id),
  FOREIGN KEY (division_code, upload_id) REFERENCES uploads (division_code, id)
);
CREATE INDEX imports_id_idx ON imports (id);
CREATE INDEX imports_recent_idx ON imports (division_code, created_at DESC);
ALTER TABLE persons ADD FOREIGN KEY (division_code, import_id) REFERENCES imports (division_code, id);

-- Staged rows: parsed values (sealed and masked like persons), error and warning codes, the outcome.
CREATE TABLE import_rows (
  division_code integer NOT NULL,
  import_id uuid NOT NULL,
  row_no integer NOT NULL CHECK (row_no > 0),
  household_no text,
  relationship text,
  name text,
  id_hash bytea,
  id_sealed bytea,
  id_masked text,
  sex text,
  birth_date date,
  reservoir text,
  relocation_date date,
  relocatee_kind text,
  village_code bigint,
  bank_name text,
  bank_account_sealed bytea,
  bank_account_masked text,
  errors text[] NOT NULL DEFAULT '{}',
  warnings text[] NOT NULL DEFAULT '{}',
  person_id uuid,
  PRIMARY KEY (division_code, import_id, row_no),
  FOREIGN KEY (division_code, import_id) REFERENCES imports (division_code, id)
);

-- 年度核定: one submitted verification per county and year.
CREATE TABLE registry_verifications (
  division_code integer NOT NULL REFERENCES divisions (code),
  year integer NOT NULL CHECK (year BETWEEN 2000 AND 2100),
  previous_count integer NOT NULL CHECK (previous_count >= 0),
  previous_source text NOT NULL CHECK (previous_source IN ('verification', 'records')),
  deaths integer NOT NULL CHECK (deaths >= 0),
  removals jsonb NOT NULL,
  moved_out integer NOT NULL CHECK (moved_out >= 0),
  moved_in integer NOT NULL CHECK (moved_in >= 0),
  re_registered integer NOT NULL CHECK (re_registered >= 0),
  verified_count integer NOT NULL CHECK (verified_count >= 0),
  note text CHECK (char_length(note) <= 500),
  submitted_by text NOT NULL,
  submitted_at timestamptz NOT NULL,
  PRIMARY KEY (division_code, year)
);

-- Cross-county conflicts: the same national ID registered in two counties. A conflict row belongs to
-- the lowest division that sees both counties (city, province or nation: 0), so the range policy
-- shows it to that reviewer and above; each county gets a side row that names only its own person.
CREATE TABLE registry_conflicts (
  division_code integer NOT NULL,
  id uuid NOT NULL DEFAULT gen_random_uuid(),
  id_hash bytea NOT NULL,
  id_masked text NOT NULL,
  county_a integer NOT NULL,
  person_a uuid NOT NULL,
  county_b integer NOT NULL,
  person_b uuid NOT NULL,
  status text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'resolved')),
  detected_at timestamptz NOT NULL DEFAULT now(),
  resolved_at timestamptz,
  resolved_by text,
  resolution jsonb,
  PRIMARY KEY (division_code, id),
  CHECK (county_a < county_b)
);
-- One open conflict per pair; a pair may conflict again after a resolution (e.g. a re-registration).
CREATE UNIQUE INDEX registry_conflicts_open_pair_idx ON registry_conflicts (person_a, person_b) WHERE status = 'open';
CREATE INDEX registry_conflicts_person_b_idx ON registry_conflicts (person_b);
CREATE INDEX registry_conflicts_id_idx ON registry_conflicts (id);
CREATE TABLE registry_conflict_sides (
  division_code integer NOT NULL,
  conflict_id uuid NOT NULL,
  person_id uuid NOT NULL,
  reviewer_division integer NOT NULL,
  status text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'resolved')),
  outcome text CHECK (outcome IN ('kept', 'ended')),
  detected_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (division_code, conflict_id),
  FOREIGN KEY (division_code, person_id) REFERENCES persons (division_code, id)
);
CREATE INDEX registry_conflict_sides_person_idx ON registry_conflict_sides (division_code, person_id);
CREATE INDEX registry_conflict_sides_conflict_idx ON registry_conflict_sides (conflict_id);

DO $$
DECLARE t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['households', 'persons', 'person_events', 'jobs', 'uploads', 'upload_chunks',
      'imports', 'import_rows', 'registry_verifications', 'registry_conflicts', 'registry_conflict_sides'] LOOP
    EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
    EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
    EXECUTE format($p$CREATE POLICY tenant_scope ON %I
      USING (division_code BETWEEN nullif(current_setting('app.scope_lo', true), '')::int
                               AND nullif(current_setting('app.scope_hi', true), '')::int)
      WITH CHECK (division_code BETWEEN nullif(current_setting('app.scope_lo', true), '')::int
                                    AND nullif(current_setting('app.scope_hi', true), '')::int)$p$, t);
  END LOOP;
END $$;

-- Conflict detection needs to look across counties. Only the owner function below does, and it
-- reveals nothing to its caller but a count; the API role gets no such policy.
CREATE POLICY conflict_detection ON persons FOR SELECT TO houfu_owner USING (true);
CREATE POLICY conflict_detection ON registry_conflicts FOR ALL TO houfu_owner USING (true) WITH CHECK (true);
CREATE POLICY conflict_detection ON registry_conflict_sides FOR ALL TO houfu_owner USING (true) WITH CHECK (true);

-- The lowest division that sees both counties: the city when both sit in the same prefecture (not a
-- directly administered unit, city digits 90), the province when in the same province, else 0.
CREATE FUNCTION reviewing_division(a integer, b integer) RETURNS integer
  LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE
    WHEN a / 100 = b / 100 AND (a / 100) % 100 <> 90 THEN (a / 100) * 100
    WHEN a / 10000 = b / 10000 THEN (a / 10000) * 10000
    ELSE 0 END
$$;

-- Opens a conflict for every given person of `county` whose ID is registered (status 'registered')
-- in another county, and returns how many were opened. The caller's scope must cover `county`.
CREATE FUNCTION registry_detect_conflicts(county integer, person_ids uuid[]) RETURNS integer
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE opened integer;
BEGIN
  IF county IS NULL OR county NOT BETWEEN nullif(current_setting('app.scope_lo', true), '')::int
                                      AND nullif(current_setting('app.scope_hi', true), '')::int THEN
    RAISE EXCEPTION 'county % is outside the scope', county USING ERRCODE = 'insufficient_privilege';
  END IF;
  -- Two counties registering the same ID at once: each waits for the other's commit here, so the
  -- second one's query below sees the first's row. Locks are taken per first byte of the hash (at
  -- most 256, in order: no deadlock, and bounded however large the import).
  -- The ids are joined as a set (`= ANY` over a large array is a scan of the array per row).
  PERFORM pg_advisory_xact_lock(7340, b)
  FROM (SELECT DISTINCT get_byte(p.id_hash, 0) AS b
        FROM unnest(person_ids) AS u (id) JOIN persons p ON p.division_code = county AND p.id = u.id
        ORDER BY 1) AS buckets;
  WITH pairs AS (
    SELECT least(n.division_code, o.division_code) AS county_a,
           CASE WHEN n.division_code < o.division_code THEN n.id ELSE o.id END AS person_a,
           greatest(n.division_code, o.division_code) AS county_b,
           CASE WHEN n.division_code < o.division_code THEN o.id ELSE n.id END AS person_b,
           n.id_hash, n.id_masked
    FROM unnest(person_ids) AS u (id)
    JOIN persons n ON n.division_code = county AND n.id = u.id AND n.status = 'registered'
    JOIN persons o ON o.id_hash = n.id_hash AND o.division_code <> n.division_code AND o.status = 'registered'
  ), opened_rows AS (
    INSERT INTO registry_conflicts (division_code, id_hash, id_masked, county_a, person_a, county_b, person_b)
    SELECT reviewing_division(county_a, county_b), id_hash, id_masked, county_a, person_a, county_b, person_b
    FROM pairs
    ON CONFLICT (person_a, person_b) WHERE status = 'open' DO NOTHING
    RETURNING division_code, id, county_a, person_a, county_b, person_b, detected_at
  ), sides AS (
    INSERT INTO registry_conflict_sides (division_code, conflict_id, person_id, reviewer_division, detected_at)
    SELECT s.county, o.id, s.person, o.division_code, o.detected_at
    FROM opened_rows o
    CROSS JOIN LATERAL (VALUES (o.county_a, o.person_a), (o.county_b, o.person_b)) AS s (county, person)
    RETURNING 1
  )
  SELECT count(*) / 2 INTO opened FROM sides;
  RETURN opened;
END $$;
REVOKE ALL ON FUNCTION registry_detect_conflicts(integer, uuid[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION registry_detect_conflicts(integer, uuid[]) TO houfu_api;

-- After a person's ID number was corrected or their status left 'registered' (death, move, removal):
-- closes that person's open conflicts that no longer hold — the person no longer carries the ID hash,
-- or either side is no longer registered — on both sides, except `keep_open` (the conflict a
-- reviewer is resolving right now), and returns how many. The caller's scope must cover `county`.
CREATE FUNCTION registry_settle_conflicts(county integer, person uuid, keep_open uuid) RETURNS integer
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE settled integer;
BEGIN
  IF county IS NULL OR county NOT BETWEEN nullif(current_setting('app.scope_lo', true), '')::int
                                      AND nullif(current_setting('app.scope_hi', true), '')::int THEN
    RAISE EXCEPTION 'county % is outside the scope', county USING ERRCODE = 'insufficient_privilege';
  END IF;
  WITH stale AS (
    UPDATE registry_conflicts c
       SET status = 'resolved', resolved_at = now(), resolved_by = 'system:registry',
           resolution = jsonb_build_object('reason', 'no_longer_conflicting', 'person_id', person)
     WHERE c.status = 'open' AND c.id IS DISTINCT FROM keep_open
       AND ((c.county_a = county AND c.person_a = person) OR (c.county_b = county AND c.person_b = person))
       AND NOT (EXISTS (SELECT 1 FROM persons p WHERE p.division_code = c.county_a AND p.id = c.person_a
                          AND p.id_hash = c.id_hash AND p.status = 'registered')
            AND EXISTS (SELECT 1 FROM persons p WHERE p.division_code = c.county_b AND p.id = c.person_b
                          AND p.id_hash = c.id_hash AND p.status = 'registered'))
    RETURNING c.id
  ), sides AS (
    UPDATE registry_conflict_sides s SET status = 'resolved' FROM stale WHERE s.conflict_id = stale.id
    RETURNING 1
  )
  SELECT count(*) INTO settled FROM stale;
  RETURN settled;
END $$;
REVOKE ALL ON FUNCTION registry_settle_conflicts(integer, uuid, uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION registry_settle_conflicts(integer, uuid, uuid) TO houfu_api;

-- 0002's owner functions get the same hardened search path (a session's temporary tables cannot
-- shadow the tables they use).
ALTER FUNCTION audit_next(integer) SET search_path = public, pg_temp;
ALTER FUNCTION audit_events_link() SET search_path = public, pg_temp;

GRANT SELECT, INSERT, UPDATE ON households TO houfu_api;
GRANT SELECT, INSERT, UPDATE ON persons TO houfu_api;
GRANT SELECT, INSERT ON person_events TO houfu_api;
GRANT SELECT, INSERT, UPDATE ON jobs TO houfu_api;
GRANT SELECT, INSERT, UPDATE, DELETE ON uploads TO houfu_api;
GRANT SELECT, INSERT, DELETE ON upload_chunks TO houfu_api;
GRANT SELECT, INSERT, UPDATE ON imports TO houfu_api;
GRANT SELECT, INSERT, UPDATE ON import_rows TO houfu_api;
GRANT SELECT, INSERT ON registry_verifications TO houfu_api;
GRANT SELECT, UPDATE ON registry_conflicts TO houfu_api;
GRANT SELECT, UPDATE ON registry_conflict_sides TO houfu_api;
