/**
 * The P5 baseline: the least a Node server can do for a primary-key GET — Hono on @hono/node-server,
 * postgres.js with a pool of the product's size, one SELECT by (division_code, id), no transaction,
 * no auth, no RLS (the administrative login). Started by the bench on 127.0.0.1, killed at the end.
 * Env: BENCH_DATABASE_URL, BENCH_PORT, BENCH_COUNTY, BENCH_POOL.
 */
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import postgres from 'postgres';

const sql = postgres(process.env.BENCH_DATABASE_URL ?? '', {
  max: Number(process.env.BENCH_POOL ?? 10),
  onnotice: () => {},
});
const county = Number(process.env.BENCH_COUNTY);
const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

const app = new Hono();
app.get('/ping', (c) => c.json({ ok: true }));
app.get('/persons/:id', async (c) => {
  const id = c.req.param('id');
  if (!uuid.test(id)) return c.json({ error: 'bad id' }, 400);
  const [row] = await sql`
    SELECT id, division_code, household_id, relationship, name, id_masked, sex, birth_date::text,
           reservoir, relocation_date::text, relocatee_kind, registered_on::text, bank_name,
           bank_account_masked, status, version, created_at, updated_at
    FROM persons WHERE division_code = ${county} AND id = ${id}`;
  return row ? c.json(row) : c.json({ error: 'not found' }, 404);
});

serve({ fetch: app.fetch, hostname: '127.0.0.1', port: Number(process.env.BENCH_PORT) });
const stop = () => void sql.end({ timeout: 1 }).finally(() => process.exit(0));
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
