import { and, asc, eq, type SQL, sql } from 'drizzle-orm';
import type { Tx } from '../client.js';
import type { LocalityRecord } from '../dictionary.js';
import { localities } from '../schema.js';
import { rowsOf } from '../tenant.js';

export type Locality = typeof localities.$inferSelect;
export type NewLocality = Pick<
  Locality,
  'divisionCode' | 'code' | 'level' | 'townshipCode' | 'name' | 'source'
>;

/** Inserts dictionary localities of one county in one statement; existing codes are left as they are. */
export async function insertDictionaryLocalities(
  tx: Tx,
  county: number,
  records: readonly LocalityRecord[],
): Promise<number> {
  if (records.length === 0) return 0;
  const inserted = rowsOf<{ code: number }>(
    await tx.execute(sql`
      INSERT INTO localities (division_code, code, level, township_code, name, source)
      SELECT ${county}::int, code, level, township_code, name, 'dictionary'
      FROM unnest(${sql.param(records.map((r) => r.code))}::bigint[], ${sql.param(records.map((r) => r.level))}::text[],
                  ${sql.param(records.map((r) => r.townshipCode))}::bigint[], ${sql.param(records.map((r) => r.name))}::text[])
           AS t(code, level, township_code, name)
      ON CONFLICT DO NOTHING
      RETURNING code`),
  );
  return inserted.length;
}

export interface LocalityFilter {
  /** Restrict to one county (router-friendly on a distributed database); RLS still applies. */
  county?: number | undefined;
  township?: number | undefined;
  level?: Locality['level'] | undefined;
  active?: boolean | undefined;
  after?: { divisionCode: number; code: number } | undefined;
  limit: number;
}

export async function listLocalities(tx: Tx, f: LocalityFilter): Promise<Locality[]> {
  const where: SQL[] = [];
  if (f.county !== undefined) where.push(eq(localities.divisionCode, f.county));
  if (f.township !== undefined) where.push(eq(localities.townshipCode, f.township));
  if (f.level) where.push(eq(localities.level, f.level));
  if (f.active !== undefined) where.push(eq(localities.active, f.active));
  if (f.after) {
    where.push(
      sql`(${localities.divisionCode}, ${localities.code}) > (${f.after.divisionCode}, ${f.after.code})`,
    );
  }
  return tx
    .select()
    .from(localities)
    .where(and(...where))
    .orderBy(asc(localities.divisionCode), asc(localities.code))
    .limit(f.limit);
}

export async function getLocality(tx: Tx, county: number, code: number): Promise<Locality | undefined> {
  const [row] = await tx
    .select()
    .from(localities)
    .where(and(eq(localities.divisionCode, county), eq(localities.code, code)));
  return row;
}

/** A township read under FOR SHARE: it cannot be renamed or deactivated until the reader commits. */
export async function lockTownship(tx: Tx, county: number, code: number): Promise<Locality | undefined> {
  const [row] = await tx
    .select()
    .from(localities)
    .where(
      and(eq(localities.divisionCode, county), eq(localities.code, code), eq(localities.level, 'township')),
    )
    .for('share');
  return row;
}

/** Inserts one locality; undefined when the code is taken. */
export async function insertLocality(tx: Tx, row: NewLocality): Promise<Locality | undefined> {
  const [created] = await tx.insert(localities).values(row).onConflictDoNothing().returning();
  return created;
}

/** Conditional update on the version the caller read: undefined when it changed meanwhile. */
export async function updateLocality(
  tx: Tx,
  county: number,
  code: number,
  expectedVersion: number,
  patch: Partial<Pick<Locality, 'name' | 'active'>>,
): Promise<Locality | undefined> {
  const [updated] = await tx
    .update(localities)
    .set({ ...patch, version: sql`${localities.version} + 1`, updatedAt: sql`now()` })
    .where(
      and(
        eq(localities.divisionCode, county),
        eq(localities.code, code),
        eq(localities.version, expectedVersion),
      ),
    )
    .returning();
  return updated;
}

export async function countLocalities(
  tx: Tx,
  county: number,
): Promise<{ townships: number; villages: number }> {
  const [row] = await tx
    .select({
      townships: sql<number>`count(*) FILTER (WHERE ${localities.level} = 'township')::int`,
      villages: sql<number>`count(*) FILTER (WHERE ${localities.level} = 'village')::int`,
    })
    .from(localities)
    .where(eq(localities.divisionCode, county));
  return { townships: row?.townships ?? 0, villages: row?.villages ?? 0 };
}
