import { assertScope, type Scope, scopeOf } from '@houfu/domain';
import { sql } from 'drizzle-orm';
import { API_ROLE, type Database, type Tx } from './client.js';

export type { Scope };

/**
 * Runs `fn` in one transaction whose visibility is limited to `scope` by row-level security.
 * The scope is validated as an integer range and set with `SET LOCAL`, so it ends with the
 * transaction and a pooled connection never carries it into the next request.
 */
export async function withTenant<T>(db: Database, scope: Scope, fn: (tx: Tx) => Promise<T>): Promise<T> {
  const { lo, hi } = assertScope(scope);
  return db.orm.transaction(async (tx) => {
    if (db.assumeApiRole) await tx.execute(sql.raw(`SET LOCAL ROLE ${API_ROLE}`));
    // Both settings in one statement (`set_config(…, true)` is SET LOCAL), parameterised so that it is
    // prepared once per connection.
    // drizzle sends a query when it is first awaited: `.then` sends this one now, before `fn` runs.
    const scoped = tx
      .execute(
        sql`SELECT set_config('app.scope_lo', ${String(lo)}, true), set_config('app.scope_hi', ${String(hi)}, true)`,
      )
      .then(() => undefined);
    if (db.kind === 'pglite') {
      await scoped;
      return fn(tx as Tx);
    }
    // postgres.js: not waited for, so the request's first query follows it in the same round trip.
    // The connection runs statements in the order they were sent, so every query of `fn` runs after
    // the scope is set; should setting it fail, the transaction is aborted, every later statement
    // fails and the transaction rolls back (postgres.js also rethrows a transaction's first failed
    // query).
    // Both settled before the transaction ends, so no query of `fn` is still running at the rollback.
    const [scope, result] = await Promise.allSettled([scoped, fn(tx as Tx)]);
    if (scope.status === 'rejected') throw scope.reason;
    if (result.status === 'rejected') throw result.reason;
    return result.value;
  });
}

/** Shorthand for the scope of one division (a county sees itself, a city its counties, …). */
export function withDivision<T>(db: Database, division: number, fn: (tx: Tx) => Promise<T>): Promise<T> {
  return withTenant(db, scopeOf(division), fn);
}

/** Rows of a raw `execute`, whichever driver ran it (PGlite returns `{rows}`, postgres.js an array). */
export function rowsOf<T>(result: unknown): T[] {
  if (Array.isArray(result)) return result as T[];
  return ((result as { rows?: T[] }).rows ?? []) as T[];
}
