import { and, asc, eq, gt, like, type SQL, sql } from 'drizzle-orm';
import type { Orm, Tx } from '../client.js';
import type { DivisionRecord } from '../dictionary.js';
import { divisions } from '../schema.js';
import { rowsOf } from '../tenant.js';

export type Division = typeof divisions.$inferSelect;

/**
 * Upserts the dictionary in one set-based statement (administrative connection); rows that did not
 * change are left alone. Returns how many were added and how many changed.
 */
export async function upsertDivisions(
  orm: Orm,
  records: readonly DivisionRecord[],
): Promise<{ added: number; changed: number }> {
  const rows = rowsOf<{ added: boolean }>(
    await orm.execute(sql`
      INSERT INTO divisions (code, name, level, parent_code)
      SELECT * FROM unnest(${sql.param(records.map((r) => r.code))}::int[], ${sql.param(records.map((r) => r.name))}::text[],
                           ${sql.param(records.map((r) => r.level))}::text[], ${sql.param(records.map((r) => r.parentCode))}::int[])
      ON CONFLICT (code) DO UPDATE SET name = excluded.name, level = excluded.level, parent_code = excluded.parent_code
        WHERE (divisions.name, divisions.level, divisions.parent_code)
              IS DISTINCT FROM (excluded.name, excluded.level, excluded.parent_code)
      RETURNING (xmax = 0) AS added`),
  );
  const added = rows.filter((r) => r.added).length;
  return { added, changed: rows.length - added };
}

export interface DivisionFilter {
  parent?: number | undefined;
  level?: Division['level'] | undefined;
  /** Substring of the Chinese name. */
  q?: string | undefined;
  after?: number | undefined;
  limit: number;
}

export async function listDivisions(tx: Tx, f: DivisionFilter): Promise<Division[]> {
  const where: SQL[] = [];
  if (f.parent !== undefined) where.push(eq(divisions.parentCode, f.parent));
  if (f.level) where.push(eq(divisions.level, f.level));
  if (f.q) where.push(like(divisions.name, `%${f.q.replace(/[\\%_]/g, (c) => `\\${c}`)}%`));
  if (f.after !== undefined) where.push(gt(divisions.code, f.after));
  return tx
    .select()
    .from(divisions)
    .where(and(...where))
    .orderBy(asc(divisions.code))
    .limit(f.limit);
}

export async function getDivision(tx: Tx, code: number): Promise<Division | undefined> {
  const [row] = await tx.select().from(divisions).where(eq(divisions.code, code));
  return row;
}

export async function getDivisions(tx: Tx, codes: readonly number[]): Promise<Division[]> {
  if (codes.length === 0) return [];
  return tx
    .select()
    .from(divisions)
    .where(sql`${divisions.code} = ANY(${sql.param([...codes])}::int[])`)
    .orderBy(asc(divisions.code));
}

/** Every code of the dictionary (a few thousand integers). */
export async function listDivisionCodes(tx: Tx): Promise<number[]> {
  return (await tx.select({ code: divisions.code }).from(divisions)).map((r) => r.code);
}

export async function countChildren(tx: Tx, code: number): Promise<number> {
  const [row] = await tx
    .select({ n: sql<number>`count(*)::int` })
    .from(divisions)
    .where(eq(divisions.parentCode, code));
  return row?.n ?? 0;
}
