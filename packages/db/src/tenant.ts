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
    // Sent together: postgres.js pipelines them into one round trip.
    await Promise.all([
      tx.execute(sql.raw(`SET LOCAL app.scope_lo = '${lo}'`)),
      tx.execute(sql.raw(`SET LOCAL app.scope_hi = '${hi}'`)),
    ]);
    return fn(tx as Tx);
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
