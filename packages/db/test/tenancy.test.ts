import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiDatabaseUrl, createDatabase, type Database } from '../src/client.js';
import { migrate, scramVerifier } from '../src/migrate.js';
import { insertLocality, listLocalities } from '../src/queries/localities.js';
import { rowsOf, withDivision, withTenant } from '../src/tenant.js';
import { createTestDatabase, type TestDatabase, usingPostgres } from '../src/testing.js';

let t: TestDatabase;
const township = (county: number, n: number) => county * 1_000_000 + n * 1000;
const codes = {
  a: township(420581, 901 + Math.floor(Math.random() * 90)),
  b: township(420582, 901 + Math.floor(Math.random() * 90)),
};

async function seed(db: Database, county: number, code: number) {
  await withDivision(db, county, (tx) =>
    insertLocality(tx, {
      divisionCode: county,
      code,
      level: 'township',
      townshipCode: code,
      name: '隔离测试镇',
      source: 'local',
    }),
  );
}

beforeAll(async () => {
  t = await createTestDatabase();
  await seed(t.db, 420581, codes.a);
  await seed(t.db, 420582, codes.b);
});
afterAll(() => t.close());

const visible = async (db: Database, division: number) =>
  (await withDivision(db, division, (tx) => listLocalities(tx, { limit: 10_000 }))).map((l) => l.code);

describe('row-level security', () => {
  it.each([
    [420581, [codes.a], [codes.b]],
    [420582, [codes.b], [codes.a]],
    [420500, [codes.a, codes.b], []],
    [420000, [codes.a, codes.b], []],
    [0, [codes.a, codes.b], []],
    [420100, [], [codes.a, codes.b]],
    [110000, [], [codes.a, codes.b]],
  ])('division %i sees its own rows and nothing outside', async (division, seen, unseen) => {
    const rows = await visible(t.db, division);
    for (const c of seen) expect(rows).toContain(c);
    for (const c of unseen) expect(rows).not.toContain(c);
  });

  it('fails closed: a transaction without a scope sees no tenant rows', async () => {
    const count = await t.db.orm.transaction(async (tx) => {
      if (t.db.assumeApiRole) await tx.execute(sql.raw('SET LOCAL ROLE houfu_api'));
      return rowsOf<{ n: number }>(await tx.execute(sql`SELECT count(*)::int AS n FROM localities`))[0]?.n;
    });
    expect(count).toBe(0);
  });

  it('refuses to write a row outside the scope (WITH CHECK)', async () => {
    const code = township(420582, 990);
    await expect(
      withDivision(t.db, 420581, (tx) =>
        insertLocality(tx, {
          divisionCode: 420582,
          code,
          level: 'township',
          townshipCode: code,
          name: '越权',
          source: 'local',
        }),
      ),
    ).rejects.toThrow();
  });

  it('rejects scopes that are not a division range before touching the database', async () => {
    for (const scope of [
      { lo: 420500, hi: 420581 },
      { lo: -1, hi: 5 },
      { lo: 420581.5, hi: 420581.5 },
    ]) {
      await expect(withTenant(t.db, scope, async () => 1)).rejects.toThrow(RangeError);
    }
  });

  it('never carries a scope into the next transaction on the same connection', async () => {
    const url = process.env.DATABASE_URL;
    // One pooled connection (PGlite is one connection by nature).
    const db = url ? await createDatabase({ url: url.replace(/\/\/[^@/]*@/, '//houfu_api@'), max: 1 }) : t.db;
    try {
      await visible(db, 420581);
      const after = await db.orm.transaction(async (tx) => {
        if (db.assumeApiRole) await tx.execute(sql.raw('SET LOCAL ROLE houfu_api'));
        return rowsOf<{ lo: string | null; n: number }>(
          await tx.execute(
            sql`SELECT current_setting('app.scope_lo', true) AS lo, (SELECT count(*)::int FROM localities) AS n`,
          ),
        )[0];
      });
      expect(after?.lo ?? '').toBe('');
      expect(after?.n).toBe(0);
    } finally {
      if (db !== t.db) await db.close();
    }
  });
});

describe('the scope is set before the first query of the transaction', () => {
  const scoped = sql`SELECT current_setting('app.scope_lo', true) AS lo, current_setting('app.scope_hi', true) AS hi,
                            (SELECT count(*)::int FROM localities WHERE code = ${codes.a}) AS n`;

  it('on fresh and reused connections, with the first query sent at once or later, in parallel', async () => {
    const url = process.env.DATABASE_URL;
    // A fresh pool: the scope statement is not prepared yet on its connections at first.
    const db = url ? await createDatabase({ url: apiDatabaseUrl(url), max: 3 }) : t.db;
    try {
      const run = (i: number) =>
        withDivision(db, 420581, async (tx) => {
          // Even requests query before any await; odd ones after one.
          if (i % 2 === 1) await Promise.resolve();
          return rowsOf<{ lo: string; hi: string; n: number }>(await tx.execute(scoped))[0];
        });
      const seen = await Promise.all(Array.from({ length: 12 }, (_, i) => run(i)));
      for (const row of seen) expect(row).toEqual({ lo: '420581', hi: '420581', n: 1 });
    } finally {
      if (db !== t.db) await db.close();
    }
  });

  it.runIf(usingPostgres())('a failed scope statement fails and rolls back the transaction', async () => {
    const url = process.env.DATABASE_URL ?? '';
    const db = await createDatabase({ url: apiDatabaseUrl(url), max: 1 });
    try {
      // Sent as withTenant sends the scope and the first query (pipelined, the first not waited for):
      // when the first fails, the transaction fails with its error and rolls back.
      const failing = db.orm.transaction(async (tx) => {
        const first = tx.execute(sql`SELECT set_config('app.scope_lo', ${'x'}, true), 1/0`).then(() => 1);
        const second = tx.execute(sql`SELECT count(*)::int AS n FROM localities`).then(rowsOf);
        return Promise.all([first, second]);
      });
      await expect(failing).rejects.toThrow(/Failed query: SELECT set_config/);
    } finally {
      await db.close();
    }
  });
});

const asApi = async <T>(statement: string): Promise<T[]> =>
  withDivision(t.db, 420581, async (tx) => rowsOf<T>(await tx.execute(sql.raw(statement))));

describe('the API role (PGlite switches to it per transaction; PostgreSQL logs in as it)', () => {
  it.each([
    'ALTER TABLE localities DISABLE ROW LEVEL SECURITY',
    'ALTER TABLE localities NO FORCE ROW LEVEL SECURITY',
    'DROP POLICY tenant_scope ON localities',
    'SET LOCAL row_security = off; SELECT count(*) FROM localities',
    'UPDATE audit_events SET action = action',
    'DELETE FROM audit_events',
    'TRUNCATE audit_events',
    'DELETE FROM localities',
    'INSERT INTO divisions (code, name, level, parent_code) VALUES (420599, $$伪造$$, $$county$$, 420500)',
    'ALTER TABLE audit_events DISABLE TRIGGER audit_events_no_update',
    'UPDATE audit_heads SET seq = 1',
    'DELETE FROM audit_heads',
    `INSERT INTO audit_heads (division_code, seq, hash) VALUES (420581, 99, 'forged') ON CONFLICT DO NOTHING`,
    `INSERT INTO audit_events (division_code, seq, occurred_at, actor_sub, actor_kind, actor_division, action,
       entity_type, entity_id, changes, request_id, outcome, prev_hash, hash)
     VALUES (420581, 999999, now(), 'x', 'system', 0, 'forged', 'x', 'x', '{}', null, 'success', 'x', 'x')`,
    'SELECT * FROM audit_next(420582)',
  ])('cannot: %s', async (statement) => {
    await expect(asApi(statement)).rejects.toThrow();
  });
});

describe.runIf(usingPostgres())('role boundary (PostgreSQL)', () => {
  it('logs in as houfu_api: not superuser, no BYPASSRLS, owns no table', async () => {
    const [me] = await asApi<{ u: string; su: boolean; bypass: boolean; owned: number }>(
      `SELECT current_user AS u, r.rolsuper AS su, r.rolbypassrls AS bypass,
              (SELECT count(*)::int FROM pg_tables WHERE tableowner = current_user) AS owned
       FROM pg_roles r WHERE r.rolname = current_user`,
    );
    expect(me).toEqual({ u: 'houfu_api', su: false, bypass: false, owned: 0 });
  });

  it('migrate sets the API role password when given one', async () => {
    const password = async () =>
      rowsOf<{ set: boolean }>(
        await t.admin.orm.execute(
          sql`SELECT rolpassword IS NOT NULL AS set FROM pg_authid WHERE rolname = 'houfu_api'`,
        ),
      )[0]?.set;
    try {
      await migrate(t.admin, { apiPassword: "it's-a-test" });
      expect(await password()).toBe(true);
      // The verifier is the one PostgreSQL itself derives from that password (same salt and count).
      await t.admin.exec(
        "SET password_encryption = 'scram-sha-256'; ALTER ROLE houfu_api PASSWORD 'it''s-a-test'",
      );
      const [stored] = rowsOf<{ p: string }>(
        await t.admin.orm.execute(sql`SELECT rolpassword AS p FROM pg_authid WHERE rolname = 'houfu_api'`),
      );
      const [, iterations, salt] = /^SCRAM-SHA-256\$(\d+):([^$]+)\$/.exec(stored?.p ?? '') ?? [];
      expect(scramVerifier("it's-a-test", Buffer.from(salt ?? '', 'base64'), Number(iterations))).toBe(
        stored?.p,
      );
    } finally {
      await t.admin.exec('ALTER ROLE houfu_api PASSWORD NULL');
    }
    expect(await password()).toBe(false);
  });

  it('cannot become the owner', async () => {
    await expect(asApi('SET LOCAL ROLE houfu_owner')).rejects.toThrow();
  });

  it('pins DateStyle and TimeZone on its connections, whatever the server defaults are', async () => {
    const [settings] = await asApi<{ datestyle: string; timezone: string }>(
      "SELECT current_setting('DateStyle') AS datestyle, current_setting('TimeZone') AS timezone",
    );
    expect(settings).toEqual({ datestyle: 'ISO, YMD', timezone: 'UTC' });
  });

  it('every tenant table has RLS enabled and forced with the one tenant policy (plus conflict detection for the owner, public reading of policy)', async () => {
    const rows = rowsOf<{ table: string; enabled: boolean; forced: boolean; policies: string[] }>(
      await t.admin.orm.execute(sql`
        SELECT c.relname AS table, c.relrowsecurity AS enabled, c.relforcerowsecurity AS forced,
               (SELECT array_agg(p.policyname || ':' || array_to_string(p.roles, ',') ORDER BY p.policyname)
                  FROM pg_policies p WHERE p.tablename = c.relname) AS policies
        FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'division_code'
        WHERE c.relkind = 'r' AND c.relnamespace = 'public'::regnamespace`),
    );
    const crossCounty = ['persons', 'registry_conflicts', 'registry_conflict_sides'];
    expect(rows.map((r) => r.table).sort()).toEqual(
      [
        'api_clients',
        'audit_events',
        'audit_heads',
        'idempotency_keys',
        'localities',
        'households',
        'person_events',
        'jobs',
        'uploads',
        'upload_chunks',
        'imports',
        'import_rows',
        'registry_verifications',
        'policy_overrides',
        'payment_mode_settings',
        'payment_batches',
        'payment_lines',
        'payment_exclusions',
        'payment_returns',
        'payment_return_exceptions',
        'projects',
        'project_funding_lines',
        'project_reviews',
        'fund_allocations',
        'fund_balances',
        'project_progress_reports',
        'project_contracts',
        'project_payments',
        'project_acceptances',
        'demonstration_villages',
        'demonstration_assessments',
        'village_collective_incomes',
        'progress_targets',
        'progress_reports',
        'vocational_aid_applications',
        'training_plans',
        'training_plan_lines',
        'training_providers',
        'training_calls',
        'training_bids',
        'training_sessions',
        'training_session_persons',
        ...crossCounty,
      ].sort(),
    );
    for (const r of rows) {
      expect(r, r.table).toMatchObject({ enabled: true, forced: true });
      // Only the owner's conflict-detection function looks across counties; the API role never does.
      // Published policy is public: anyone reads it, a province writes only its own.
      expect(r.policies, r.table).toEqual(
        crossCounty.includes(r.table)
          ? ['conflict_detection:houfu_owner', 'tenant_scope:public']
          : r.table === 'policy_overrides'
            ? ['public_read:public', 'tenant_scope:public']
            : ['tenant_scope:public'],
      );
    }
  });
});

describe.runIf(usingPostgres())('statement timeout (PostgreSQL)', () => {
  it('a statement running past statement_timeout is stopped and its transaction commits nothing', async () => {
    const url = process.env.DATABASE_URL as string;
    const db = await createDatabase({ url: apiDatabaseUrl(url), max: 1, statementTimeoutMs: 300 });
    // Township parts 190..199 of 420581 are this test's own (the localities test uses 100..189, the
    // app's factory and this file's seeds 200..999 — many of them taken on a shared database) and are
    // never committed, so the code is free; the insert must succeed for the test to mean anything.
    const code = township(420581, 190 + Math.floor(Math.random() * 10));
    try {
      const started = Date.now();
      const error = await withDivision(db, 420581, async (tx) => {
        const inserted = await insertLocality(tx, {
          divisionCode: 420581,
          code,
          level: 'township',
          townshipCode: code,
          name: '超时测试镇',
          source: 'local',
        });
        if (!inserted) throw new Error(`township ${code} already exists: the test needs a free code`);
        await tx.execute(sql`SELECT pg_sleep(5)`);
      }).catch((e: unknown) => e);
      // Cancelled by the server after 300 ms (SQLSTATE 57014, which the API answers 504), not after 5 s.
      expect(databaseErrorCode(error)).toBe('57014');
      expect(Date.now() - started).toBeLessThan(3_000);
      const rows = await withDivision(db, 420581, (tx) =>
        tx.execute(sql`SELECT 1 FROM localities WHERE division_code = 420581 AND code = ${code}`),
      );
      expect(rowsOf(rows)).toEqual([]);
    } finally {
      await db.close();
    }
  });
});

/** The SQLSTATE of a driver error or of one in its cause chain. */
function databaseErrorCode(error: unknown): unknown {
  for (let e = error as { code?: unknown; cause?: unknown } | undefined, i = 0; e && i < 5; i += 1) {
    if (typeof e.code === 'string') return e.code;
    e = e.cause as typeof e;
  }
  return undefined;
}
