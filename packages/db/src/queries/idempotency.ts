import { and, eq, sql } from 'drizzle-orm';
import type { Tx } from '../client.js';
import { idempotencyKeys } from '../schema.js';
import { rowsOf } from '../tenant.js';

export type IdempotencyRecord = typeof idempotencyKeys.$inferSelect;

/** How long a key is remembered. */
export const IDEMPOTENCY_RETENTION_HOURS = 24;

/**
 * Takes a transaction-scoped advisory lock on (division, key) without waiting: false means another
 * request with the same key is running right now.
 */
export async function tryLockIdempotencyKey(tx: Tx, division: number, key: string): Promise<boolean> {
  const [row] = rowsOf<{ locked: boolean }>(
    await tx.execute(sql`SELECT pg_try_advisory_xact_lock(${division}, hashtext(${key})) AS locked`),
  );
  return row?.locked === true;
}

/** The remembered response for a key, dropping it when past retention. */
export async function findIdempotencyRecord(
  tx: Tx,
  division: number,
  key: string,
): Promise<IdempotencyRecord | undefined> {
  await tx
    .delete(idempotencyKeys)
    .where(
      and(
        eq(idempotencyKeys.divisionCode, division),
        eq(idempotencyKeys.key, key),
        sql`${idempotencyKeys.createdAt} < now() - make_interval(hours => ${IDEMPOTENCY_RETENTION_HOURS})`,
      ),
    );
  const [row] = await tx
    .select()
    .from(idempotencyKeys)
    .where(and(eq(idempotencyKeys.divisionCode, division), eq(idempotencyKeys.key, key)));
  return row;
}

export async function saveIdempotencyRecord(
  tx: Tx,
  row: Omit<IdempotencyRecord, 'createdAt'>,
): Promise<void> {
  await tx.insert(idempotencyKeys).values(row);
}
