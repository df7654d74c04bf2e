-- Houfu 后扶 on Citus: make the division dictionary a reference table and distribute every tenant
-- table on division_code, all colocated, so that one county's rows live on one shard group.
--
-- NOT EXERCISED BY CI. There is no Citus on the CI machines; this script follows the schema of
-- packages/db/migrations/0001_foundation.sql and the Citus documentation, and must be verified on
-- a Citus cluster before anyone relies on it (see README.md in this folder for the checklist).
--
-- Run on the coordinator, as a superuser, once, after `houfu migrate` created and filled the
-- schema on the coordinator:
--   psql "$COORDINATOR_ADMIN_URL" -f infra/citus/distribute.sql
-- Stop the API servers while it runs. When a later migration adds a tenant table, distribute it
-- the same way (colocate_with => 'localities') and add it here.

\set ON_ERROR_STOP on

DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'citus') THEN
    RAISE EXCEPTION 'the citus extension is not installed in this database';
  END IF;
  IF to_regclass('public.houfu_migrations') IS NULL THEN
    RAISE EXCEPTION 'run `houfu migrate` against this database first';
  END IF;
END $$;

-- Shard count: choose before distributing (changing it later means re-sharding). About 2,800
-- counties nation-wide; 64 or 128 shards leave room to add workers. Default: citus.shard_count (32).
-- SET citus.shard_count = 64;

-- audit_events carries a BEFORE UPDATE OR DELETE row trigger (audit_events_append_only). Citus
-- refuses to distribute a table with triggers unless this is on for the session.
SET citus.enable_unsafe_triggers = on;

-- 行政区划: shared reference data, a full copy on every node. First, because localities and
-- api_clients reference it.
SELECT create_reference_table('divisions');

-- Tenant tables: division_code leads every primary and foreign key; no unique constraint spans
-- tenants. localities first (its foreign key to itself includes division_code).
SELECT create_distributed_table('localities', 'division_code');
SELECT create_distributed_table('audit_heads', 'division_code', colocate_with => 'localities');
SELECT create_distributed_table('audit_events', 'division_code', colocate_with => 'localities');
SELECT create_distributed_table('idempotency_keys', 'division_code', colocate_with => 'localities');
SELECT create_distributed_table('api_clients', 'division_code', colocate_with => 'localities');

-- houfu_migrations stays a local table on the coordinator (only `houfu migrate` reads it).

-- Each API transaction sets its scope with SET LOCAL app.scope_lo / app.scope_hi. Citus forwards
-- SET LOCAL to the worker connections of the transaction only with this setting; without it the
-- workers see no scope and the RLS policy returns nothing (fail closed).
ALTER SYSTEM SET citus.propagate_set_commands = 'local';
SELECT pg_reload_conf();

-- Checks (read-only). Expected: divisions 'n' (reference), the five tenant tables 'h' (hash) with
-- one colocation id between them.
SELECT logicalrelid::regclass AS "table", partmethod, colocationid
FROM pg_dist_partition
WHERE logicalrelid::regclass::text IN
  ('divisions', 'localities', 'audit_heads', 'audit_events', 'idempotency_keys', 'api_clients')
ORDER BY 1;

-- RLS enabled and forced, one policy, on every shard: one row per table, result
-- 'true true 1', shards = the shard count. (run_command_on_shards substitutes the shard name for
-- the one %s of the command with format(), hence %% for a literal percent sign.)
SELECT t AS "table", r.result, count(*) AS shards
FROM unnest(ARRAY['localities', 'audit_heads', 'audit_events', 'idempotency_keys', 'api_clients']) AS t,
     LATERAL run_command_on_shards(t::regclass,
       $$SELECT c.relrowsecurity::text || ' ' || c.relforcerowsecurity::text || ' '
                || (SELECT count(*) FROM pg_policy p WHERE p.polrelid = c.oid)::text
         FROM pg_class c WHERE c.oid = '%s'::regclass$$) AS r
GROUP BY t, r.result
ORDER BY 1;

-- The append-only trigger exists on every shard of audit_events: one row, result '1'.
SELECT r.result AS audit_trigger, count(*) AS shards
FROM run_command_on_shards('audit_events',
  $$SELECT count(*) FROM pg_trigger WHERE tgrelid = '%s'::regclass AND tgname LIKE 'audit_events_no_update%%'$$) AS r
GROUP BY r.result;

-- Both Houfu roles exist on every worker (each row: houfu_api,houfu_owner).
SELECT nodename, nodeport, result AS roles FROM run_command_on_workers(
  $$SELECT string_agg(rolname, ',' ORDER BY rolname) FROM pg_roles WHERE rolname IN ('houfu_api', 'houfu_owner')$$);

SHOW citus.propagate_set_commands;
