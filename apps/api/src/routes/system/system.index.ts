import { sql } from 'drizzle-orm';
import { createRouter } from '../../lib/create-router.js';
import * as routes from './system.routes.js';

export default createRouter()
  .openapi(routes.health, async (c) => {
    const { db } = c.var.deps;
    const ok = await db.orm.execute(sql`SELECT 1`).then(
      () => true,
      () => false,
    );
    const body = {
      status: ok ? ('ok' as const) : ('degraded' as const),
      database: ok ? ('ok' as const) : ('unavailable' as const),
      driver: db.kind,
    };
    c.header('cache-control', 'no-store');
    return ok ? c.json(body, 200) : c.json(body, 503);
  })
  .openapi(routes.jwks, (c) => {
    c.header('cache-control', 'public, max-age=300');
    return c.json(c.var.deps.keys.publicJwks as { keys: Record<string, unknown>[] }, 200);
  });
