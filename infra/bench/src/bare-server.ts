/**
 * The P5 baseline: the least a Node server can do for a primary-key GET — Hono on @hono/node-server,
 * postgres.js with a pool of the product's size, one SELECT by (division_code, id), no transaction,
 * no auth, no RLS (the administrative login). Started by the bench on 127.0.0.1, killed at the end.
 *
 * `/scoped/persons/:id` is P5's design floor: the same SELECT inside the request transaction the
 * architecture requires (ARCHITECTURE.md, tenancy), at the least such a transaction costs — logged in
 * as houfu_api (RLS forced), `BEGIN`, the scope set with `set_config(…, true)`, the SELECT and `COMMIT`
 * pipelined on one reserved connection, one round trip (the product's GET takes three) — and nothing
 * else (no auth, no validation, no middleware).
 * Env: BENCH_DATABASE_URL, BENCH_API_DATABASE_URL, BENCH_PORT, BENCH_COUNTY, BENCH_POOL.
 */
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import postgres from 'postgres';

const pool = { max: Number(process.env.BENCH_POOL ?? 10), onnotice: () => {} };
const sql = postgres(process.env.BENCH_DATABASE_URL ?? '', pool);
const api = postgres(process.env.BENCH_API_DATABASE_URL ?? '', pool);
const county = Number(process.env.BENCH_COUNTY);
const scope = String(county);
const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

const app = new Hono();
app.get('/ping', (c) => c.json({ ok: true }));
const byId = (q: postgres.Sql | postgres.ReservedSql, id: string) => q`
  SELECT id, division_code, household_id, relationship, name, id_masked, sex, birth_date::text,
         reservoir, relocation_date::text, relocatee_kind, registered_on::text, bank_name,
         bank_account_masked, status, version, created_at, updated_at
  FROM persons WHERE division_code = ${county} AND id = ${id}`;
app.get('/persons/:id', async (c) => {
  const id = c.req.param('id');
  if (!uuid.test(id)) return c.json({ error: 'bad id' }, 400);
  const [row] = await byId(sql, id);
  return row ? c.json(row) : c.json({ error: 'not found' }, 404);
});
app.get('/scoped/persons/:id', async (c) => {
  const id = c.req.param('id');
  if (!uuid.test(id)) return c.json({ error: 'bad id' }, 400);
  const conn = await api.reserve();
  try {
    const [, , [row]] = await Promise.all([
      conn`BEGIN`,
      conn`SELECT set_config('app.scope_lo', ${scope}, true), set_config('app.scope_hi', ${scope}, true)`,
      byId(conn, id),
      conn`COMMIT`,
    ]);
    return row ? c.json(row) : c.json({ error: 'not found' }, 404);
  } finally {
    conn.release();
  }
});

serve({ fetch: app.fetch, hostname: '127.0.0.1', port: Number(process.env.BENCH_PORT) });
const stop = () =>
  void Promise.all([sql.end({ timeout: 1 }), api.end({ timeout: 1 })]).finally(() => process.exit(0));
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
