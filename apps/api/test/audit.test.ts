/**
 * The audit trail: one event per mutation in the owning county's hash chain, read-only through the
 * API, scoped like everything else, and verifiable — an edit or deletion made around the API is found.
 *
 * Shared-database note: the tamper test breaks the chain of 420583 枝江市 and the deletion test the
 * chain of 420527 秭归县, for good. No other test file writes to those counties, and both tests find
 * their own event by entity_id, so they also hold when run again on the same PostgreSQL database.
 */
import { randomUUID } from 'node:crypto';
import { withDivision } from '@houfu/db';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, json, makeTownship, problem, type TestApp } from './helpers.js';

interface AuditEvent {
  division_code: number;
  seq: number;
  occurred_at: string;
  actor: { sub: string; kind: string; division: number };
  action: string;
  entity_type: string;
  entity_id: string;
  changes: Record<string, { old: unknown; new: unknown }>;
  request_id: string | null;
  outcome: string;
  prev_hash: string;
  hash: string;
}
interface Page<T> {
  data: T[];
  next_cursor: string | null;
}
interface Verification {
  valid: boolean;
  chains: {
    division_code: number;
    events: number;
    valid: boolean;
    broken_at: { seq: number; reason: string } | null;
    head_hash: string;
  }[];
}

let t: TestApp;
const tok: Record<string, string> = {};

beforeAll(async () => {
  t = await createTestApp();
  tok.op581 = await t.token(420581, ['county_operator'], 'user:audit-zhang');
  tok.op582 = await t.token(420582, ['county_operator'], 'user:audit-li');
  tok.approver581 = await t.token(420581, ['county_approver']);
  tok.approver582 = await t.token(420582, ['county_approver']);
  tok.city = await t.token(420500, ['city_reviewer']);
  tok.hubei = await t.token(420000, ['province_admin']);
  tok.auditor581 = await t.token(420581, ['auditor']);
  tok.auditor582 = await t.token(420582, ['auditor']);
});
afterAll(() => t.close());

async function createVillage(
  token: string,
  code: number,
  name = '审计村',
  headers: Record<string, string> = {},
) {
  const res = await t.call('POST', '/v1/localities', { token, body: { code, name }, headers });
  return res;
}

async function events(token: string, query: string): Promise<AuditEvent[]> {
  const res = await t.call('GET', `/v1/audit-events?${query}`, { token });
  expect(res.status, query).toBe(200);
  return (await json<Page<AuditEvent>>(res)).data;
}

async function verify(token: string, division: number) {
  return t.call('GET', `/v1/audit-events/verification?division=${division}`, { token });
}

describe('each mutation writes exactly one audit event', () => {
  it('create: actor, action, entity, changes, request id, in the owning county’s chain', async () => {
    const { township } = await makeTownship(t.db, 420581, 0);
    const code = township.code + 11;
    const res = await createVillage(tok.op581 as string, code, '审计新村');
    expect(res.status).toBe(201);
    const requestId = res.headers.get('x-request-id');
    expect(requestId).toBeTruthy();

    const found = await events(tok.approver581 as string, `entity_id=${code}`);
    expect(found).toHaveLength(1);
    const e = found[0]!;
    expect(e).toMatchObject({
      division_code: 420581,
      actor: { sub: 'user:audit-zhang', kind: 'user', division: 420581 },
      action: 'locality.create',
      entity_type: 'locality',
      entity_id: String(code),
      request_id: requestId,
      outcome: 'success',
    });
    expect(e.changes.name).toEqual({ old: null, new: '审计新村' });
    expect(e.changes.level).toEqual({ old: null, new: 'village' });
    expect(e.seq).toBeGreaterThan(0);
    expect(e.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(e.prev_hash).toMatch(/^[0-9a-f]{64}$/);
    expect(e.hash).not.toBe(e.prev_hash);
    expect(Date.parse(e.occurred_at)).not.toBeNaN();
  });

  it('update: old and new values, and the caller’s own X-Request-Id', async () => {
    const { villages } = await makeTownship(t.db, 420581, 1);
    const v = villages[0]!;
    const requestId = `audit-${randomUUID()}`;
    const res = await t.call('PATCH', `/v1/localities/${v.code}`, {
      token: tok.op581,
      body: { name: '改后村', active: false },
      headers: { 'if-match': '"v1"', 'x-request-id': requestId },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-request-id')).toBe(requestId);

    const updates = await events(tok.approver581 as string, `entity_id=${v.code}&action=locality.update`);
    expect(updates).toHaveLength(1);
    expect(updates[0]).toMatchObject({
      division_code: 420581,
      actor: { sub: 'user:audit-zhang' },
      request_id: requestId,
      changes: { name: { old: v.name, new: '改后村' }, active: { old: true, new: false } },
    });
  });

  it('a no-op update and a failed mutation write nothing', async () => {
    const { villages } = await makeTownship(t.db, 420581, 1);
    const v = villages[0]!;
    const noop = await t.call('PATCH', `/v1/localities/${v.code}`, {
      token: tok.op581,
      body: { name: v.name },
      headers: { 'if-match': '"v1"' },
    });
    expect(noop.status).toBe(200);
    const stale = await t.call('PATCH', `/v1/localities/${v.code}`, {
      token: tok.op581,
      body: { name: '过期写' },
      headers: { 'if-match': '"v5"' },
    });
    expect(stale.status).toBe(412);
    const dup = await createVillage(tok.op581 as string, v.code);
    expect(dup.status).toBe(409);
    expect(await events(tok.approver581 as string, `entity_id=${v.code}&action=locality.update`)).toEqual([]);
    expect(await events(tok.approver581 as string, `entity_id=${v.code}&action=locality.create`)).toEqual([]);
  });
});

describe('the API cannot change audit events', () => {
  it('PUT/PATCH/DELETE/POST on /v1/audit-events (and an event path) → 404/405 problem', async () => {
    const { township } = await makeTownship(t.db, 420581, 0);
    const [e] = await events(tok.approver581 as string, `entity_id=${township.code}`);
    expect(e).toBeDefined();
    for (const token of [tok.op581, tok.approver581, tok.hubei]) {
      for (const method of ['PUT', 'PATCH', 'DELETE', 'POST']) {
        for (const path of ['/v1/audit-events', `/v1/audit-events/${e!.division_code}/${e!.seq}`]) {
          const res = await t.call(method, path, { token, body: { changes: {} } });
          expect([404, 405], `${method} ${path}`).toContain(res.status);
          await problem(res);
        }
      }
    }
    const after = await events(tok.approver581 as string, `entity_id=${township.code}`);
    expect(after).toEqual([e]);
  });

  it('the API’s database role cannot UPDATE, DELETE or TRUNCATE audit_events', async () => {
    class Rollback extends Error {}
    const attempt = async (statement: string) => {
      let error: unknown;
      try {
        await withDivision(t.db, 420581, async (tx) => {
          await tx.execute(sql.raw(statement));
          throw new Rollback(); // never keep the effect, even if the statement passed
        });
      } catch (e) {
        error = e;
      }
      return error;
    };
    for (const statement of [
      "UPDATE audit_events SET action = 'x' WHERE division_code = 420581",
      'DELETE FROM audit_events WHERE division_code = 420581',
      'TRUNCATE audit_events',
    ]) {
      const error = await attempt(statement);
      expect(error, statement).toBeDefined();
      expect(error, statement).not.toBeInstanceOf(Rollback);
    }
  });
});

describe('GET /v1/audit-events', () => {
  let entity: number;
  beforeAll(async () => {
    const { villages } = await makeTownship(t.db, 420581, 1);
    entity = villages[0]!.code;
    for (let v = 1; v <= 3; v += 1) {
      const res = await t.call('PATCH', `/v1/localities/${entity}`, {
        token: tok.op581,
        body: { name: `第${v}次改名` },
        headers: { 'if-match': `"v${v}"` },
      });
      expect(res.status).toBe(200);
    }
  });

  it('filters by entity_id, action, division and actor', async () => {
    expect(await events(tok.approver581 as string, `entity_id=${entity}`)).toHaveLength(3);
    expect(
      await events(tok.approver581 as string, `entity_id=${entity}&action=locality.update`),
    ).toHaveLength(3);
    expect(
      await events(tok.approver581 as string, `entity_id=${entity}&action=locality.create`),
    ).toHaveLength(0);
    expect(await events(tok.city as string, `entity_id=${entity}&division=420581`)).toHaveLength(3);
    expect(await events(tok.city as string, `entity_id=${entity}&division=420582`)).toHaveLength(0);
    expect(
      await events(tok.approver581 as string, `entity_id=${entity}&actor=user:audit-zhang`),
    ).toHaveLength(3);
    expect(
      await events(tok.approver581 as string, `entity_id=${entity}&actor=user:someone-else`),
    ).toHaveLength(0);
    expect(await events(tok.approver581 as string, `entity_id=${entity}&entity_type=locality`)).toHaveLength(
      3,
    );
    const future = new Date(Date.now() + 86_400_000).toISOString();
    expect(await events(tok.approver581 as string, `entity_id=${entity}&from=${future}`)).toHaveLength(0);
    expect(await events(tok.approver581 as string, `entity_id=${entity}&to=${future}`)).toHaveLength(3);
  });

  it('pages newest first with next_cursor, ending with null', async () => {
    const seen: AuditEvent[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const res = await t.call(
        'GET',
        `/v1/audit-events?entity_id=${entity}&limit=2${cursor ? `&cursor=${cursor}` : ''}`,
        { token: tok.approver581 },
      );
      expect(res.status).toBe(200);
      const page = await json<Page<AuditEvent>>(res);
      seen.push(...page.data);
      cursor = page.next_cursor;
      pages += 1;
    } while (cursor && pages < 10);
    expect(pages).toBe(2);
    expect(cursor).toBeNull();
    expect(seen.map((e) => e.changes.name?.new)).toEqual(['第3次改名', '第2次改名', '第1次改名']);
    const seqs = seen.map((e) => e.seq);
    expect([...seqs].sort((a, b) => b - a)).toEqual(seqs);
    expect(new Set(seqs).size).toBe(3);
    const times = seen.map((e) => Date.parse(e.occurred_at));
    expect([...times].sort((a, b) => b - a)).toEqual(times);
  });

  it('bad filters → 400 naming the field', async () => {
    for (const [query, field] of [
      ['division=123', 'query.division'],
      ['from=yesterday', 'query.from'],
      ['limit=500', 'query.limit'],
    ] as const) {
      const res = await t.call('GET', `/v1/audit-events?${query}`, { token: tok.approver581 });
      expect(res.status, query).toBe(400);
      expect((await problem(res)).errors?.map((e) => e.field)).toContain(field);
    }
  });

  it('a county operator (no audit:read) → 403', async () => {
    const res = await t.call('GET', '/v1/audit-events', { token: tok.op581 });
    expect(res.status).toBe(403);
    expect((await problem(res)).code).toBe('forbidden');
  });

  it('the approver of 420582 never sees 420581 events', async () => {
    expect(await events(tok.approver582 as string, `entity_id=${entity}`)).toEqual([]);
    expect(await events(tok.approver582 as string, `division=420581&limit=200`)).toEqual([]);
    const mine = await events(tok.approver582 as string, 'limit=200');
    expect(mine.every((e) => e.division_code === 420582)).toBe(true);
  });

  it('the city reviewer sees both counties’ events; other cities and provinces see none', async () => {
    const other = await makeTownship(t.db, 420582, 0);
    const code582 = other.township.code + 12;
    expect((await createVillage(tok.op582 as string, code582)).status).toBe(201);
    expect(await events(tok.city as string, `entity_id=${entity}`)).toHaveLength(3);
    const e582 = await events(tok.city as string, `entity_id=${code582}`);
    expect(e582).toHaveLength(1);
    expect(e582[0]).toMatchObject({ division_code: 420582, actor: { sub: 'user:audit-li' } });

    for (const token of [
      await t.token(420100, ['city_reviewer']),
      await t.token(110000, ['province_admin']),
    ]) {
      expect(await events(token, `entity_id=${entity}`)).toEqual([]);
      expect(await events(token, `entity_id=${code582}`)).toEqual([]);
    }
  });
});

describe('GET /v1/audit-events/verification', () => {
  beforeAll(async () => {
    const { township } = await makeTownship(t.db, 420581, 0);
    expect((await createVillage(tok.op581 as string, township.code + 13)).status).toBe(201);
  });

  it('an auditor of 420581 and the province admin → valid: true', async () => {
    for (const token of [tok.auditor581, tok.hubei]) {
      const res = await verify(token as string, 420581);
      expect(res.status).toBe(200);
      const body = await json<Verification>(res);
      expect(body.valid).toBe(true);
      expect(body.chains).toHaveLength(1);
      expect(body.chains[0]).toMatchObject({ division_code: 420581, valid: true, broken_at: null });
      expect(body.chains[0]!.events).toBeGreaterThanOrEqual(2);
      expect(body.chains[0]!.head_hash).toMatch(/^[0-9a-f]{64}$/);
    }
  });

  it('covers the chain up to the newest event (on a private database: its hash is the head hash)', async () => {
    const { township } = await makeTownship(t.db, 420581, 0);
    const code = township.code + 14;
    expect((await createVillage(tok.op581 as string, code)).status).toBe(201);
    const [mine] = await events(tok.approver581 as string, `entity_id=${code}`);
    const body = await json<Verification>(await verify(tok.auditor581 as string, 420581));
    expect(body.chains[0]!.events).toBeGreaterThanOrEqual(mine!.seq);
    if (t.db.kind === 'pglite') {
      // No other writer: the newest event is ours and the chain ends with it.
      expect(body.chains[0]!.events).toBe(mine!.seq);
      expect(body.chains[0]!.head_hash).toBe(mine!.hash);
    }
  });

  it('the city reviewer (no audit:verify) → 403; a county approver → 403', async () => {
    for (const token of [tok.city, tok.approver581]) {
      const res = await verify(token as string, 420581);
      expect(res.status).toBe(403);
      expect((await problem(res)).code).toBe('forbidden');
    }
  });

  it('a division outside the caller’s scope → 404', async () => {
    const cases: [string, number][] = [
      [tok.auditor581 as string, 420582],
      [tok.auditor581 as string, 420500],
      [tok.hubei as string, 110101],
      [await t.token(420100, ['auditor']), 420581],
    ];
    for (const [token, division] of cases) {
      const res = await verify(token, division);
      expect(res.status, String(division)).toBe(404);
      expect((await problem(res)).code).toBe('not_found');
    }
  });

  it('stays valid while the county is written concurrently', async () => {
    const { township } = await makeTownship(t.db, 420582, 0);
    const writes = Array.from({ length: 8 }, (_, i) =>
      createVillage(tok.op582 as string, township.code + 300 + i),
    );
    const checks = Array.from({ length: 8 }, () => verify(tok.auditor582 as string, 420582));
    const [written, checked] = await Promise.all([Promise.all(writes), Promise.all(checks)]);
    expect(written.map((r) => r.status)).toEqual(Array(8).fill(201));
    const results = await Promise.all(checked.map((r) => json<Verification>(r)));
    const broken = results.filter((r) => !r.valid).map((r) => r.chains[0]?.broken_at);
    expect(broken, 'verifications that reported a break during concurrent writes').toEqual([]);
    const after = await json<Verification>(await verify(tok.auditor582 as string, 420582));
    expect(after.valid).toBe(true);
  });
});

describe('tamper detection (edits made around the API)', () => {
  it('an edited event in 420583 → valid: false, broken_at at or before it, reason hash', async () => {
    const op = await t.token(420583, ['county_operator'], 'user:tamper-test');
    const auditor = await t.token(420583, ['auditor']);
    const { township } = await makeTownship(t.db, 420583, 0);
    const code = township.code + 15;
    expect((await createVillage(op, code, '原名村')).status).toBe(201);
    const [mine] = await events(auditor, `entity_id=${code}`);
    expect(mine).toBeDefined();
    const seq = mine!.seq;

    await t.admin.exec(
      `ALTER TABLE audit_events DISABLE TRIGGER audit_events_no_update; UPDATE audit_events SET changes = '{"name":{"old":null,"new":"篡改"}}' WHERE division_code = 420583 AND seq = ${seq}; ALTER TABLE audit_events ENABLE TRIGGER audit_events_no_update;`,
    );
    const [edited] = await events(auditor, `entity_id=${code}`);
    expect(edited!.changes.name?.new).toBe('篡改');

    const res = await verify(auditor, 420583);
    expect(res.status).toBe(200);
    const body = await json<Verification>(res);
    expect(body.valid).toBe(false);
    const chain = body.chains[0]!;
    expect(chain.valid).toBe(false);
    expect(chain.broken_at).not.toBeNull();
    expect(chain.broken_at!.seq).toBeLessThanOrEqual(seq);
    expect(chain.broken_at!.reason).toBe('hash');

    // The province admin sees the same break; the trigger is back in force.
    const hubei = await json<Verification>(await verify(tok.hubei as string, 420583));
    expect(hubei.chains[0]!.broken_at).toEqual(chain.broken_at);
    await expect(
      t.admin.exec(`UPDATE audit_events SET action = 'x' WHERE division_code = 420583 AND seq = ${seq}`),
    ).rejects.toThrow(/append-only/);
  });

  it('a deleted last event in 420527 → valid: false, reason head or gap', async () => {
    const op = await t.token(420527, ['county_operator'], 'user:delete-test');
    const auditor = await t.token(420527, ['auditor']);
    const { township } = await makeTownship(t.db, 420527, 0);
    const code = township.code + 16;
    expect((await createVillage(op, code, '将删村')).status).toBe(201);
    const [mine] = await events(auditor, `entity_id=${code}`);
    const seq = mine!.seq;

    await t.admin.exec(
      `ALTER TABLE audit_events DISABLE TRIGGER audit_events_no_update; DELETE FROM audit_events WHERE division_code = 420527 AND seq = ${seq}; ALTER TABLE audit_events ENABLE TRIGGER audit_events_no_update;`,
    );
    expect(await events(auditor, `entity_id=${code}`)).toEqual([]);

    const body = await json<Verification>(await verify(auditor, 420527));
    expect(body.valid).toBe(false);
    const broken = body.chains[0]!.broken_at;
    expect(broken).not.toBeNull();
    expect(['head', 'gap']).toContain(broken!.reason);
    expect(broken!.seq).toBeLessThanOrEqual(seq);
  });
});
