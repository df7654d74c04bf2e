import { and, eq, lt, sql } from 'drizzle-orm';
import type { Tx } from '../client.js';
import { idempotencyKeys } from '../schema.js';
import { rowsOf } from '../tenant.js';

export type IdempotencyRecord = typeof idempotencyKeys.$inferSelect;

/** How long a key is remembered. */
const IDEMPOTENCY_RETENTION_HOURS = 24;

export interface IdempotencyScope {
  division: number;
  principal: string;
  key: string;
}

const expired = sql`now() - make_interval(hours => ${IDEMPOTENCY_RETENTION_HOURS})`;

/**
 * Takes a transaction-scoped advisory lock on (division, caller, key) without waiting: false means a
 * request with the same key is running right now.
 */
export async function tryLockIdempotencyKey(tx: Tx, s: IdempotencyScope): Promise<boolean> {
  const [row] = rowsOf<{ locked: boolean }>(
    await tx.execute(
      sql`SELECT pg_try_advisory_xact_lock(hashtextextended(${`${s.division}\n${s.principal}\n${s.key}`}, 0)) AS locked`,
    ),
  );
  return row?.locked === true;
}

/** The remembered response for a key, if any within retention. */
export async function findIdempotencyRecord(
  tx: Tx,
  s: IdempotencyScope,
): Promise<IdempotencyRecord | undefined> {
  const [row] = await tx
    .select()
    .from(idempotencyKeys)
    .where(
      and(
        eq(idempotencyKeys.divisionCode, s.division),
        eq(idempotencyKeys.principal, s.principal),
        eq(idempotencyKeys.key, s.key),
      ),
    );
  return row && row.createdAt.getTime() > Date.now() - IDEMPOTENCY_RETENTION_HOURS * 3_600_000
    ? row
    : undefined;
}

/** Remembers a response, replacing an expired record of the same key and purging the division's expired ones. */
export async function saveIdempotencyRecord(
  tx: Tx,
  row: Omit<IdempotencyRecord, 'createdAt'>,
): Promise<void> {
  await tx
    .delete(idempotencyKeys)
    .where(and(eq(idempotencyKeys.divisionCode, row.divisionCode), lt(idempotencyKeys.createdAt, expired)));
  await tx.insert(idempotencyKeys).values(row);
}
