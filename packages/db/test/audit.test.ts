import { scopeOf } from '@houfu/domain';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  appendAudit,
  auditedDivisions,
  auditHash,
  GENESIS_HASH,
  listAuditEvents,
  verifyAuditChain,
} from '../src/audit.js';
import type { Database } from '../src/client.js';
import { withDivision } from '../src/tenant.js';
import { createTestDatabase, type TestDatabase } from '../src/testing.js';

let t: TestDatabase;
beforeAll(async () => {
  t = await createTestDatabase();
});
afterAll(() => t.close());

const actor = { sub: 'test:audit', kind: 'system' as const, division: 0 };
const append = (db: Database, division: number, entityId: string) =>
  withDivision(db, division, (tx) =>
    appendAudit(tx, {
      division,
      actor,
      action: 'test.append',
      entityType: 'test',
      entityId,
      changes: {
        name: { old: null, new: `名称${entityId}` },
        nested: { old: { b: 1, a: [1, 2] }, new: null },
      },
      requestId: `req-${entityId}`,
      occurredAt: new Date(),
    }),
  );

describe('audit chain', () => {
  it('links each record to the previous one and verifies', async () => {
    // 110101 东城区 is written by this file only.
    const id = `chain-${Date.now()}`;
    const first = await append(t.db, 110101, `${id}-1`);
    const second = await append(t.db, 110101, `${id}-2`);
    expect(second.seq).toBe(first.seq + 1);
    expect(second.prevHash).toBe(first.hash);
    expect(first.hash).toBe(auditHash(first.prevHash, first));
    if (first.seq === 1) expect(first.prevHash).toBe(GENESIS_HASH);
    const result = await withDivision(t.db, 110101, (tx) => verifyAuditChain(tx, 110101));
    expect(result).toMatchObject({ division: 110101, valid: true, headHash: second.hash });
    expect(result.events).toBeGreaterThanOrEqual(2);
  });

  it('never forks under concurrent appends in one division', async () => {
    const id = `concurrent-${Date.now()}`;
    const events = await Promise.all(Array.from({ length: 8 }, (_, i) => append(t.db, 110102, `${id}-${i}`)));
    const seqs = events.map((e) => e.seq).sort((a, b) => a - b);
    expect(new Set(seqs).size).toBe(8);
    expect(seqs.at(-1)! - seqs[0]!).toBe(7);
    const result = await withDivision(t.db, 110102, (tx) => verifyAuditChain(tx, 110102));
    expect(result.valid).toBe(true);
  });

  it('is readable only within scope', async () => {
    const id = `scope-${Date.now()}`;
    await append(t.db, 110105, id);
    const seenBy = async (division: number) =>
      (await withDivision(t.db, division, (tx) => listAuditEvents(tx, { entityId: id, limit: 10 }))).length;
    expect(await seenBy(110105)).toBe(1);
    expect(await seenBy(110100)).toBe(1);
    expect(await seenBy(110106)).toBe(0);
    expect(await seenBy(420000)).toBe(0);
  });

  it('detects a record edited around the API, and a removed one', async () => {
    // 110108 海淀区 is tampered with by this test only; its chain stays broken afterwards.
    const id = `tamper-${Date.now()}`;
    const a = await append(t.db, 110108, `${id}-a`);
    const b = await append(t.db, 110108, `${id}-b`);
    await t.admin.exec(`ALTER TABLE audit_events DISABLE TRIGGER audit_events_no_update;
      UPDATE audit_events SET changes = '{"name":{"old":null,"new":"篡改"}}' WHERE division_code = 110108 AND seq = ${a.seq};
      ALTER TABLE audit_events ENABLE TRIGGER audit_events_no_update;`);
    const edited = await withDivision(t.db, 110108, (tx) => verifyAuditChain(tx, 110108));
    expect(edited.valid).toBe(false);
    expect(edited.brokenAt?.seq).toBeLessThanOrEqual(a.seq);
    expect(edited.brokenAt?.reason).toBe('hash');

    await t.admin.exec(`ALTER TABLE audit_events DISABLE TRIGGER audit_events_no_update;
      DELETE FROM audit_events WHERE division_code = 110108 AND seq = ${b.seq};
      ALTER TABLE audit_events ENABLE TRIGGER audit_events_no_update;`);
    const removed = await withDivision(t.db, 110108, (tx) => verifyAuditChain(tx, 110108));
    expect(removed.valid).toBe(false);
  });

  it('detects a removed head, and still lists the division for scope-wide verification', async () => {
    // 110109 门头沟区 is tampered with by this test only.
    // On a database where an earlier run already removed this head, the append is refused: fine.
    await append(t.db, 110109, `head-${Date.now()}`).catch(() => undefined);
    await t.admin.exec('DELETE FROM audit_heads WHERE division_code = 110109');
    expect(await withDivision(t.db, 110100, (tx) => auditedDivisions(tx, scopeOf(110100)))).toContain(110109);
    const result = await withDivision(t.db, 110109, (tx) => verifyAuditChain(tx, 110109));
    expect(result).toMatchObject({ valid: false, brokenAt: { reason: 'head' } });
  });

  it('stops between pages when asked to', async () => {
    const signal = AbortSignal.abort();
    await expect(
      withDivision(t.db, 110101, (tx) => verifyAuditChain(tx, 110101, { signal })),
    ).rejects.toThrow();
  });

  it('refuses UPDATE and DELETE even for the owner while the trigger is on', async () => {
    const e = await append(t.db, 110101, `trigger-${Date.now()}`);
    await expect(
      t.admin.orm.execute(
        sql`UPDATE audit_events SET action = 'x' WHERE division_code = 110101 AND seq = ${e.seq}`,
      ),
    ).rejects.toThrow();
  });
});
