/**
 * The registry's owner functions: the SQL reviewing division matches the domain rule, and the
 * conflict functions refuse a county outside the caller's scope.
 */
import { randomUUID } from 'node:crypto';
import { reviewingDivision } from '@houfu/domain';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { detectConflicts, settleConflicts } from '../src/queries/persons.js';
import { rowsOf, withDivision } from '../src/tenant.js';
import { createTestDatabase, type TestDatabase } from '../src/testing.js';

let t: TestDatabase;
beforeAll(async () => {
  t = await createTestDatabase();
});
afterAll(() => t.close());

describe('reviewing_division() is the domain’s reviewingDivision()', () => {
  it.each([
    [420581, 420582],
    [420582, 420581],
    [420581, 420115],
    [429004, 429005],
    [429004, 420581],
    [420581, 110101],
    [650102, 650104],
  ])('%i and %i', async (a, b) => {
    const [row] = rowsOf<{ d: number }>(
      await t.admin.orm.execute(sql`SELECT reviewing_division(${a}::int, ${b}::int) AS d`),
    );
    expect(Number(row?.d)).toBe(reviewingDivision(a, b));
  });
});

describe('conflict functions check the caller’s scope', () => {
  it.each([
    [
      'registry_detect_conflicts',
      (county: number) => (tx: Parameters<typeof detectConflicts>[0]) =>
        detectConflicts(tx, county, [randomUUID()]),
    ],
    [
      'registry_settle_conflicts',
      (county: number) => (tx: Parameters<typeof settleConflicts>[0]) =>
        settleConflicts(tx, county, randomUUID()),
    ],
  ] as const)('%s: another county → refused; its own → allowed', async (_, call) => {
    const refused = await withDivision(t.db, 420581, call(420582)).catch((e: Error) => e);
    expect(String((refused as Error & { cause?: Error }).cause?.message)).toMatch(/outside the scope/);
    await expect(withDivision(t.db, 420581, call(420581))).resolves.toBe(0);
    // A city may act for its counties (a reviewer resolving a conflict).
    await expect(withDivision(t.db, 420500, call(420581))).resolves.toBe(0);
  });
});
