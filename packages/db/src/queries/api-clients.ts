import { and, eq, getTableColumns, sql } from 'drizzle-orm';
import type { Tx } from '../client.js';
import { apiClients } from '../schema.js';

export type ApiClient = typeof apiClients.$inferSelect;

export async function insertApiClient(
  tx: Tx,
  row: Pick<ApiClient, 'divisionCode' | 'clientId' | 'name' | 'secretHash' | 'scopes'>,
): Promise<ApiClient> {
  const [created] = await tx.insert(apiClients).values(row).returning();
  if (!created) throw new Error('api client not inserted');
  return created;
}

/** One client, with `locked` computed by the database clock (the one that set `locked_until`). */
export async function getApiClient(
  tx: Tx,
  division: number,
  clientId: string,
): Promise<(ApiClient & { locked: boolean }) | undefined> {
  const [row] = await tx
    .select({
      ...getTableColumns(apiClients),
      locked: sql<boolean>`coalesce(${apiClients.lockedUntil} > now(), false)`,
    })
    .from(apiClients)
    .where(and(eq(apiClients.divisionCode, division), eq(apiClients.clientId, clientId)));
  return row;
}

/** Counts a failed secret; locks the client for `lockMinutes` once `maxFailures` is reached (→ true). */
export async function recordApiClientFailure(
  tx: Tx,
  division: number,
  clientId: string,
  maxFailures: number,
  lockMinutes: number,
): Promise<boolean> {
  const [row] = await tx
    .update(apiClients)
    .set({
      // A lock that has run out starts the count afresh.
      failedAttempts: sql`CASE WHEN ${apiClients.lockedUntil} <= now() THEN 1 ELSE ${apiClients.failedAttempts} + 1 END`,
      lockedUntil: sql`CASE
        WHEN ${apiClients.lockedUntil} <= now() THEN NULL
        WHEN ${apiClients.failedAttempts} + 1 >= ${maxFailures} THEN now() + make_interval(mins => ${lockMinutes})
        ELSE ${apiClients.lockedUntil} END`,
    })
    .where(and(eq(apiClients.divisionCode, division), eq(apiClients.clientId, clientId)))
    .returning({ failedAttempts: apiClients.failedAttempts });
  return row?.failedAttempts === maxFailures;
}

export async function resetApiClientFailures(tx: Tx, division: number, clientId: string): Promise<void> {
  await tx
    .update(apiClients)
    .set({ failedAttempts: 0, lockedUntil: null })
    .where(
      and(
        eq(apiClients.divisionCode, division),
        eq(apiClients.clientId, clientId),
        sql`${apiClients.failedAttempts} > 0`,
      ),
    );
}

export async function revokeApiClient(
  tx: Tx,
  division: number,
  clientId: string,
): Promise<ApiClient | undefined> {
  const [row] = await tx
    .update(apiClients)
    .set({ revokedAt: sql`now()` })
    .where(and(eq(apiClients.divisionCode, division), eq(apiClients.clientId, clientId)))
    .returning();
  return row;
}
