import { sql } from 'drizzle-orm';
import { getTableConfig } from 'drizzle-orm/pg-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listAuditEvents } from '../src/audit.js';
import { readCountyLocalities, readDivisionDictionary } from '../src/dictionary.js';
import { migrate, readMigrations } from '../src/migrate.js';
import { getDivision, listDivisions } from '../src/queries/divisions.js';
import * as schema from '../src/schema.js';
import { loadDivisionDictionary } from '../src/seed.js';
import { rowsOf, withDivision } from '../src/tenant.js';
import { createTestDatabase, type TestDatabase } from '../src/testing.js';

let t: TestDatabase;
beforeAll(async () => {
  t = await createTestDatabase();
});
afterAll(() => t.close());

describe('division dictionary', () => {
  it('holds the nation, every province, city and county, each under its parent', async () => {
    const records = await readDivisionDictionary();
    const byCode = new Map(records.map((r) => [r.code, r]));
    expect(byCode.get(0)?.level).toBe('nation');
    expect(records.filter((r) => r.level === 'province')).toHaveLength(31);
    expect(records.filter((r) => r.level === 'county').length).toBeGreaterThan(2800);
    expect(byCode.get(420581)).toEqual({ code: 420581, name: '宜都市', level: 'county', parentCode: 420500 });
    expect(byCode.get(429004)?.parentCode).toBe(429000);
    for (const r of records) if (r.parentCode !== null) expect(byCode.has(r.parentCode)).toBe(true);
    expect(new Set(records.map((r) => r.code)).size).toBe(records.length);
  });

  it('a reload changes nothing and audits nothing; a changed name is updated and audited once', async () => {
    expect(await loadDivisionDictionary(t.admin)).toMatchObject({ added: 0, changed: 0 });
    const before = new Date(Date.now() - 1000);
    await t.admin.exec("UPDATE divisions SET name = '旧名' WHERE code = 110101");
    await loadDivisionDictionary(t.admin);
    // On a shared database another suite's `migrate` may be the load that repairs it: either way, once.
    const events = await withDivision(t.db, 0, (tx) =>
      listAuditEvents(tx, { action: 'division_dictionary.load', from: before, limit: 50 }),
    );
    expect(events.map((e) => e.changes)).toContainEqual({
      added: { old: null, new: 0 },
      changed: { old: null, new: 1 },
    });
    expect(await withDivision(t.db, 0, (tx) => getDivision(tx, 110101))).toMatchObject({ name: '东城区' });
  });

  it('is loaded by migration and readable by every scope', async () => {
    const yichang = await withDivision(t.db, 420581, (tx) =>
      listDivisions(tx, { parent: 420500, limit: 50 }),
    );
    expect(yichang.map((d) => d.name)).toEqual(expect.arrayContaining(['宜都市', '当阳市', '枝江市']));
    expect(await withDivision(t.db, 110101, (tx) => getDivision(tx, 420000))).toMatchObject({
      name: '湖北省',
    });
  });

  it('reads the townships and villages of a county on demand', async () => {
    const map = await readCountyLocalities([420581, 420582]);
    const yidu = map.get(420581) ?? [];
    const townships = yidu.filter((l) => l.level === 'township');
    expect(townships.map((l) => l.name)).toContain('陆城街道');
    expect(yidu.filter((l) => l.level === 'village')).toHaveLength(155);
    for (const l of yidu) {
      expect(Math.floor(l.code / 1_000_000)).toBe(420581);
      expect(townships.some((tw) => tw.code === l.townshipCode)).toBe(true);
    }
    expect(map.get(420582)?.length).toBeGreaterThan(100);
    await expect(readCountyLocalities([420500])).rejects.toThrow(RangeError);
  });
});

describe('migrations', () => {
  it('are applied once and re-running is a no-op', async () => {
    expect(await migrate(t.admin)).toEqual([]);
    const applied = rowsOf<{ name: string }>(
      await t.admin.orm.execute(sql`SELECT name FROM houfu_migrations ORDER BY name`),
    );
    expect(applied.map((r) => r.name)).toEqual((await readMigrations()).map((m) => m.name));
  });

  it('match the drizzle schema column for column', async () => {
    for (const table of Object.values(schema)) {
      const config = getTableConfig(table);
      const columns = rowsOf<{ column_name: string }>(
        await t.admin.orm.execute(
          sql`SELECT column_name FROM information_schema.columns WHERE table_schema = 'public' AND table_name = ${config.name}`,
        ),
      ).map((c) => c.column_name);
      expect(columns.sort(), config.name).toEqual(config.columns.map((c) => c.name).sort());
    }
  });
});
