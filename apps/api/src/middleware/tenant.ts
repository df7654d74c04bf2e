import { withTenant } from '@houfu/db';
import { scopeOf } from '@houfu/domain';
import { createMiddleware } from 'hono/factory';
import type { AppEnv } from '../lib/types.js';

class Rollback extends Error {}

/**
 * Runs the rest of the request in one transaction scoped to the caller's division. Any error
 * response rolls the transaction back; only a successful response commits, and only then do the
 * callbacks registered with `afterCommit` run (e.g. waking the job runner for a job just enqueued).
 */
export const tenantTransaction = createMiddleware<AppEnv>(async (c, next) => {
  const { db } = c.var.deps;
  const committed: (() => void)[] = [];
  c.set('afterCommit', (fn) => committed.push(fn));
  try {
    await withTenant(db, scopeOf(c.var.principal.division), async (tx) => {
      c.set('tx', tx);
      await next();
      if (c.error || c.res.status >= 400) throw new Rollback();
    });
  } catch (error) {
    if (!(error instanceof Rollback)) throw error;
    return;
  }
  for (const fn of committed) fn();
});
