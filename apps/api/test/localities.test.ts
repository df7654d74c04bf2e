/**
 * /v1/localities: list, get, create, update — the happy paths, the conditional-update and
 * idempotency contracts, and tenancy (BOLA/BFLA): foreign rows answer 404 and leak nothing.
 */
import { randomUUID } from 'node:crypto';
import { usingPostgres } from '@houfu/db/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, fields, json, makeTownship, problem, type TestApp } from './helpers.js';

interface Locality {
  code: number;
  county_code: number;
  level: 'township' | 'village';
  township_code: number;
  name: string;
  source: 'dictionary' | 'local';
  active: boolean;
  version: number;
  updated_at: string;
}
interface Page<T> {
  data: T[];
  next_cursor: string | null;
}
interface AuditEvent {
  action: string;
  entity_id: string;
  division_code: number;
}

let t: TestApp;
const tok: Record<string, string> = {};

beforeAll(async () => {
  t = await createTestApp();
  tok.op581 = await t.token(420581, ['county_operator']);
  tok.op582 = await t.token(420582, ['county_operator']);
  tok.approver581 = await t.token(420581, ['county_approver']);
  tok.city = await t.token(420500, ['city_reviewer']);
  tok.wuhan = await t.token(420100, ['city_reviewer']);
  tok.beijing = await t.token(110000, ['province_admin']);
  tok.hubei = await t.token(420000, ['province_admin']);
});
afterAll(() => t.close());

async function createVillage(
  token: string,
  code: number,
  name = '移民新村',
  headers: Record<string, string> = {},
) {
  return t.call('POST', '/v1/localities', { token, body: { code, name }, headers });
}

async function listAll(token: string, query: string, limit = 200): Promise<Locality[]> {
  const out: Locality[] = [];
  let cursor: string | null = null;
  for (let i = 0; i < 100; i += 1) {
    const res = await t.call(
      'GET',
      `/v1/localities?${query}&limit=${limit}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
      { token },
    );
    expect(res.status).toBe(200);
    const page = await json<Page<Locality>>(res);
    out.push(...page.data);
    cursor = page.next_cursor;
    if (!cursor) return out;
  }
  throw new Error('pagination did not end');
}

describe('happy paths', () => {
  it('a county operator creates a village; GET returns it with its ETag; PATCH with If-Match bumps it', async () => {
    const { township } = await makeTownship(t.db, 420581, 0);
    const code = township.code + 101;
    const created = await createVillage(tok.op581 as string, code, ' 移民新村 ');
    expect(created.status).toBe(201);
    expect(created.headers.get('etag')).toBe('"v1"');
    expect(created.headers.get('location')).toBe(`/v1/localities/${code}`);
    const body = await json<Locality>(created);
    expect(body).toMatchObject({
      code,
      county_code: 420581,
      level: 'village',
      township_code: township.code,
      name: '移民新村',
      source: 'local',
      active: true,
      version: 1,
    });
    expect(Object.keys(body).sort()).toEqual(
      [
        'active',
        'code',
        'county_code',
        'level',
        'name',
        'source',
        'township_code',
        'updated_at',
        'version',
      ].sort(),
    );

    const got = await t.call('GET', `/v1/localities/${code}`, { token: tok.op581 });
    expect(got.status).toBe(200);
    expect(got.headers.get('etag')).toBe('"v1"');
    expect(await json<Locality>(got)).toEqual(body);

    const patched = await t.call('PATCH', `/v1/localities/${code}`, {
      token: tok.op581,
      body: { name: '移民新村二组' },
      headers: { 'if-match': '"v1"' },
    });
    expect(patched.status).toBe(200);
    expect(patched.headers.get('etag')).toBe('"v2"');
    const updated = await json<Locality>(patched);
    expect(updated).toMatchObject({ code, name: '移民新村二组', version: 2, active: true });

    const again = await t.call('GET', `/v1/localities/${code}`, { token: tok.op581 });
    expect(again.headers.get('etag')).toBe('"v2"');
    expect((await json<Locality>(again)).name).toBe('移民新村二组');
  });

  it('a township is created by its code (level follows from the code)', async () => {
    // Township parts 100..189 are this test's own (the factory uses 200..999); on a shared database
    // earlier runs took some, so scan from a random start until a free one answers 201.
    let created: Response | undefined;
    let code = 0;
    const start = Math.floor(Math.random() * 90);
    for (let i = 0; i < 90; i += 1) {
      code = (420581100 + ((start + i) % 90)) * 1000;
      created = await createVillage(tok.op581 as string, code, '新设镇');
      if (created.status !== 409) break;
    }
    expect(created?.status).toBe(201);
    expect(await json<Locality>(created as Response)).toMatchObject({
      code,
      level: 'township',
      township_code: code,
    });
  });

  it('a weak ETag in If-Match is accepted; deactivation is an update', async () => {
    const { villages } = await makeTownship(t.db, 420581, 1);
    const v = villages[0]!;
    const res = await t.call('PATCH', `/v1/localities/${v.code}`, {
      token: tok.op581,
      body: { active: false },
      headers: { 'if-match': 'W/"v1"' },
    });
    expect(res.status).toBe(200);
    expect(await json<Locality>(res)).toMatchObject({ active: false, version: 2 });
  });

  it('a PATCH that changes nothing keeps the version', async () => {
    const { villages } = await makeTownship(t.db, 420581, 1);
    const v = villages[0]!;
    const res = await t.call('PATCH', `/v1/localities/${v.code}`, {
      token: tok.op581,
      body: { name: v.name },
      headers: { 'if-match': '"v1"' },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('etag')).toBe('"v1"');
  });

  it('list filters: county, township, level, active', async () => {
    const { township, villages } = await makeTownship(t.db, 420581, 3);
    const off = villages[1]!;
    const deactivate = await t.call('PATCH', `/v1/localities/${off.code}`, {
      token: tok.op581,
      body: { active: false },
      headers: { 'if-match': '"v1"' },
    });
    expect(deactivate.status).toBe(200);

    const all = await listAll(tok.op581 as string, `township=${township.code}`);
    expect(all.map((l) => l.code)).toEqual([township.code, ...villages.map((v) => v.code)]);

    const vs = await listAll(tok.op581 as string, `county=420581&township=${township.code}&level=village`);
    expect(vs.map((l) => l.code)).toEqual(villages.map((v) => v.code));
    expect(vs.every((l) => l.level === 'village' && l.county_code === 420581)).toBe(true);

    const ts = await listAll(tok.op581 as string, `township=${township.code}&level=township`);
    expect(ts.map((l) => l.code)).toEqual([township.code]);

    const inactive = await listAll(tok.op581 as string, `township=${township.code}&active=false`);
    expect(inactive.map((l) => l.code)).toEqual([off.code]);
    const active = await listAll(tok.op581 as string, `township=${township.code}&active=true&level=village`);
    expect(active.map((l) => l.code)).toEqual([villages[0]!.code, villages[2]!.code]);

    const mismatch = await listAll(tok.op581 as string, `county=420582&township=${township.code}`);
    expect(mismatch).toEqual([]);

    const county = await t.call('GET', '/v1/localities?county=420581&level=township&limit=5', {
      token: tok.op581,
    });
    const page = await json<Page<Locality>>(county);
    expect(page.data.length).toBeGreaterThan(0);
    expect(page.data.every((l) => l.county_code === 420581 && l.level === 'township')).toBe(true);
  });

  it('bad filters → 400 naming the field', async () => {
    for (const [query, field] of [
      ['level=city', 'query.level'],
      ['active=yes', 'query.active'],
      ['county=123', 'query.county'],
      ['township=420581', 'query.township'],
    ] as const) {
      const res = await t.call('GET', `/v1/localities?${query}`, { token: tok.op581 });
      expect(res.status, query).toBe(400);
      expect(fields(await problem(res)), query).toContain(field);
    }
  });

  it('pagination: limit=2 walks a township of 5 villages with next_cursor, ending with null, no duplicates', async () => {
    const { township, villages } = await makeTownship(t.db, 420581, 5);
    const seen: number[] = [];
    const pages: number[] = [];
    let cursor: string | null = null;
    do {
      const res = await t.call(
        'GET',
        `/v1/localities?township=${township.code}&limit=2${cursor ? `&cursor=${cursor}` : ''}`,
        { token: tok.op581 },
      );
      expect(res.status).toBe(200);
      const page = await json<Page<Locality>>(res);
      expect(page.data.length).toBeLessThanOrEqual(2);
      pages.push(page.data.length);
      seen.push(...page.data.map((l) => l.code));
      cursor = page.next_cursor;
    } while (cursor && pages.length < 10);
    expect(cursor).toBeNull();
    expect(pages).toEqual([2, 2, 2]);
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen).toEqual([township.code, ...villages.map((v) => v.code)]);
  });
});

describe('errors', () => {
  let township: number;
  let village: number;

  beforeAll(async () => {
    const made = await makeTownship(t.db, 420581, 1);
    township = made.township.code;
    village = made.villages[0]!.code;
  });

  it('PATCH without If-Match → 428 precondition_required', async () => {
    const res = await t.call('PATCH', `/v1/localities/${village}`, {
      token: tok.op581,
      body: { name: '无条件' },
    });
    expect(res.status).toBe(428);
    expect((await problem(res)).code).toBe('precondition_required');
  });

  it('a stale If-Match → 412 precondition_failed, the row unchanged', async () => {
    const res = await t.call('PATCH', `/v1/localities/${village}`, {
      token: tok.op581,
      body: { name: '过期' },
      headers: { 'if-match': '"v9"' },
    });
    expect(res.status).toBe(412);
    expect((await problem(res)).code).toBe('precondition_failed');
    const row = await json<Locality>(await t.call('GET', `/v1/localities/${village}`, { token: tok.op581 }));
    expect(row.name).not.toBe('过期');
  });

  it('a malformed If-Match → 400', async () => {
    for (const ifMatch of ['v1', '1', '"1"', '"v1", "v2"', '"vx"']) {
      const res = await t.call('PATCH', `/v1/localities/${village}`, {
        token: tok.op581,
        body: { name: '格式' },
        headers: { 'if-match': ifMatch },
      });
      expect(res.status, ifMatch).toBe(400);
      const body = await problem(res);
      expect(body.code).toBe('validation_failed');
      expect(fields(body).join(',')).toContain('if-match');
    }
  });

  it('an empty PATCH body → 400', async () => {
    const res = await t.call('PATCH', `/v1/localities/${village}`, {
      token: tok.op581,
      body: {},
      headers: { 'if-match': '"v1"' },
    });
    expect(res.status).toBe(400);
    expect((await problem(res)).code).toBe('validation_failed');
  });

  it('a village whose township does not exist → 422 naming code', async () => {
    // Township parts 198 and 199 are never made by the factory (200..999) or by this file (100..189).
    const code = 420581_199_999;
    const res = await createVillage(tok.op581 as string, code);
    expect(res.status).toBe(422);
    const body = await problem(res);
    expect(body.code).toBe('unprocessable');
    expect(fields(body)).toContain('code');
    expect((await t.call('GET', `/v1/localities/${code}`, { token: tok.op581 })).status).toBe(404);
  });

  it('a village under an inactive township → 422', async () => {
    const made = await makeTownship(t.db, 420581, 0);
    const off = await t.call('PATCH', `/v1/localities/${made.township.code}`, {
      token: tok.op581,
      body: { active: false },
      headers: { 'if-match': '"v1"' },
    });
    expect(off.status).toBe(200);
    const res = await createVillage(tok.op581 as string, made.township.code + 1);
    expect(res.status).toBe(422);
  });

  it('a duplicate code → 409 conflict', async () => {
    const dup = await createVillage(tok.op581 as string, village, '重复');
    expect(dup.status).toBe(409);
    expect((await problem(dup)).code).toBe('conflict');
    const dupTownship = await createVillage(tok.op581 as string, township, '重复镇');
    expect(dupTownship.status).toBe(409);
  });

  it('an invalid locality code → 400 naming code', async () => {
    for (const code of [420581, 420581000001, 999, 4205811002011, 420500100001]) {
      const res = await createVillage(tok.op581 as string, code);
      expect(res.status, String(code)).toBe(400);
      expect(fields(await problem(res))).toContain('code');
    }
    const get = await t.call('GET', '/v1/localities/abc', { token: tok.op581 });
    expect(get.status).toBe(400);
  });

  it('a code of another county → 403, nothing created', async () => {
    const other = await makeTownship(t.db, 420582, 0);
    const code = other.township.code + 102;
    const res = await createVillage(tok.op581 as string, code);
    expect(res.status).toBe(403);
    expect((await problem(res)).code).toBe('forbidden');
    expect((await t.call('GET', `/v1/localities/${code}`, { token: tok.op582 })).status).toBe(404);
  });
});

describe('Idempotency-Key on POST /v1/localities', () => {
  const auditOf = async (entity: number) => {
    const res = await t.call('GET', `/v1/audit-events?entity_id=${entity}&action=locality.create&limit=50`, {
      token: tok.approver581,
    });
    expect(res.status).toBe(200);
    return (await json<Page<AuditEvent>>(res)).data;
  };

  it('same key + same body → the first response replayed, one row, one audit event', async () => {
    const { township } = await makeTownship(t.db, 420581, 0);
    const code = township.code + 201;
    const key = randomUUID();
    const first = await createVillage(tok.op581 as string, code, '幂等村', { 'idempotency-key': key });
    expect(first.status).toBe(201);
    expect(first.headers.get('idempotent-replayed')).toBeNull();
    const firstBody = await first.text();

    const second = await createVillage(tok.op581 as string, code, '幂等村', { 'idempotency-key': key });
    expect(second.status).toBe(201);
    expect(second.headers.get('idempotent-replayed')).toBe('true');
    // The replay is its own request: its own id, not the first one's.
    expect(second.headers.get('x-request-id')).toBeTruthy();
    expect(second.headers.get('x-request-id')).not.toBe(first.headers.get('x-request-id'));
    expect(await second.text()).toBe(firstBody);
    expect(second.headers.get('etag')).toBe(first.headers.get('etag'));
    expect(second.headers.get('location')).toBe(first.headers.get('location'));
    expect(second.headers.get('content-type')).toMatch(/^application\/json/);

    const rows = await listAll(tok.op581 as string, `township=${township.code}&level=village`);
    expect(rows.map((r) => r.code)).toEqual([code]);
    const events = await auditOf(code);
    expect(events).toHaveLength(1);

    // Without the key, the same POST is a conflict: the replay came from the key.
    const plain = await createVillage(tok.op581 as string, code, '幂等村');
    expect(plain.status).toBe(409);
  });

  // Needs two sessions: PGlite is one session, in which an advisory lock is re-entrant.
  it.runIf(usingPostgres())(
    'while a request with the key is still running → 409 idempotency_in_progress',
    async () => {
      const { township } = await makeTownship(t.db, 420581, 0);
      const key = randomUUID();
      // Stand in for the running first request: hold the key's lock from another session.
      const lock = `hashtextextended(E'420581\\nuser:county_operator:420581\\n${key}', 0)`;
      await t.admin.exec(`SELECT pg_advisory_lock(${lock})`);
      try {
        const busy = await createVillage(tok.op581 as string, township.code + 203, '并发村', {
          'idempotency-key': key,
        });
        expect(busy.status).toBe(409);
        expect((await problem(busy)).code).toBe('idempotency_in_progress');
        expect(busy.headers.get('retry-after')).toBe('1');
      } finally {
        await t.admin.exec(`SELECT pg_advisory_unlock(${lock})`);
      }
      const after = await createVillage(tok.op581 as string, township.code + 203, '并发村', {
        'idempotency-key': key,
      });
      expect(after.status).toBe(201);
    },
  );

  it('same key + a different body → 422 idempotency_key_reused', async () => {
    const { township } = await makeTownship(t.db, 420581, 0);
    const key = randomUUID();
    const first = await createVillage(tok.op581 as string, township.code + 202, '甲村', {
      'idempotency-key': key,
    });
    expect(first.status).toBe(201);
    const other = await createVillage(tok.op581 as string, township.code + 203, '乙村', {
      'idempotency-key': key,
    });
    expect(other.status).toBe(422);
    expect((await problem(other)).code).toBe('idempotency_key_reused');
    expect((await t.call('GET', `/v1/localities/${township.code + 203}`, { token: tok.op581 })).status).toBe(
      404,
    );
  });

  it('a failed first attempt is not remembered: a retry with the same key can succeed', async () => {
    const { township } = await makeTownship(t.db, 420581, 0);
    const key = randomUUID();
    // First: a village under a township code that does not exist yet (422).
    const orphan = 420581_198_000 + 998;
    const failed = await createVillage(tok.op581 as string, orphan, '孤村', { 'idempotency-key': key });
    expect(failed.status).toBe(422);
    const retry = await createVillage(tok.op581 as string, township.code + 204, '重试村', {
      'idempotency-key': key,
    });
    expect(retry.status).toBe(201);
    expect(retry.headers.get('idempotent-replayed')).toBeNull();
  });

  it('a key longer than 255 characters (or not printable ASCII) → 400', async () => {
    const { township } = await makeTownship(t.db, 420581, 0);
    for (const key of ['k'.repeat(256), 'a\tb', 'a b']) {
      const res = await createVillage(tok.op581 as string, township.code + 205, '长钥村', {
        'idempotency-key': key,
      });
      expect(res.status).toBe(400);
      expect(fields(await problem(res))).toContain('header.idempotency-key');
    }
    expect((await t.call('GET', `/v1/localities/${township.code + 205}`, { token: tok.op581 })).status).toBe(
      404,
    );
    const ok = await createVillage(tok.op581 as string, township.code + 205, '长钥村', {
      'idempotency-key': randomUUID().padEnd(255, 'k'),
    });
    expect(ok.status).toBe(201);
  });

  it('the same key in another county is independent (its own first response)', async () => {
    const a = await makeTownship(t.db, 420581, 0);
    const b = await makeTownship(t.db, 420582, 0);
    const key = randomUUID();
    const first = await createVillage(tok.op581 as string, a.township.code + 206, '宜都村', {
      'idempotency-key': key,
    });
    expect(first.status).toBe(201);
    const other = await createVillage(tok.op582 as string, b.township.code + 206, '当阳村', {
      'idempotency-key': key,
    });
    expect(other.status).toBe(201);
    expect(other.headers.get('idempotent-replayed')).toBeNull();
    const body = await json<Locality>(other);
    expect(body).toMatchObject({ code: b.township.code + 206, county_code: 420582, name: '当阳村' });
  });

  it('the same key used by two callers of one county is independent', async () => {
    const { township } = await makeTownship(t.db, 420581, 0);
    const key = `import-row-${randomUUID()}`;
    const colleague = await t.token(420581, ['county_operator'], 'user:colleague:420581');
    const mine = await createVillage(tok.op581 as string, township.code + 207, '甲组', {
      'idempotency-key': key,
    });
    const theirs = await createVillage(colleague, township.code + 208, '乙组', { 'idempotency-key': key });
    expect([mine.status, theirs.status]).toEqual([201, 201]);
    expect(theirs.headers.get('idempotent-replayed')).toBeNull();
  });
});

describe('tenancy', () => {
  let foreign: { township: number; village: number; name: string };
  let notFoundBody: Record<string, unknown>;

  beforeAll(async () => {
    const made = await makeTownship(t.db, 420581, 1);
    const v = made.villages[0]!;
    foreign = { township: made.township.code, village: v.code, name: v.name };
  });

  const withoutRequestId = (b: Record<string, unknown>, code: number) =>
    JSON.parse(JSON.stringify({ ...b, requestId: undefined }).replaceAll(String(code), '<code>')) as Record<
      string,
      unknown
    >;

  it('another county’s operator: GET → 404 that looks exactly like a code that does not exist', async () => {
    const res = await t.call('GET', `/v1/localities/${foreign.village}`, { token: tok.op582 });
    expect(res.status).toBe(404);
    const text = await res.text();
    expect(text).not.toContain(foreign.name);
    expect(text).not.toMatch(/"version"|"etag"|"active"|"name"/);
    expect(res.headers.get('etag')).toBeNull();
    notFoundBody = JSON.parse(text) as Record<string, unknown>;

    const absentCode = foreign.township + 997;
    const absent = await t.call('GET', `/v1/localities/${absentCode}`, { token: tok.op582 });
    expect(absent.status).toBe(404);
    const absentBody = (await absent.json()) as Record<string, unknown>;
    expect(withoutRequestId(notFoundBody, foreign.village)).toEqual(withoutRequestId(absentBody, absentCode));
  });

  it('another county’s operator: PATCH → 404 and the row is unchanged', async () => {
    const res = await t.call('PATCH', `/v1/localities/${foreign.village}`, {
      token: tok.op582,
      body: { name: '被篡改', active: false },
      headers: { 'if-match': '"v1"' },
    });
    expect(res.status).toBe(404);
    const text = await res.text();
    expect(text).not.toContain(foreign.name);
    // Stale If-Match from a foreigner must not reveal the version either.
    const stale = await t.call('PATCH', `/v1/localities/${foreign.village}`, {
      token: tok.op582,
      body: { name: '被篡改' },
      headers: { 'if-match': '"v7"' },
    });
    expect(stale.status).toBe(404);
    expect(stale.headers.get('etag')).toBeNull();

    const owner = await t.call('GET', `/v1/localities/${foreign.village}`, { token: tok.op581 });
    expect(owner.headers.get('etag')).toBe('"v1"');
    expect(await json<Locality>(owner)).toMatchObject({ name: foreign.name, active: true, version: 1 });
  });

  it('another county’s operator: list with county=420581 → empty data', async () => {
    const res = await t.call('GET', '/v1/localities?county=420581', { token: tok.op582 });
    expect(res.status).toBe(200);
    expect(await json<Page<Locality>>(res)).toEqual({ data: [], next_cursor: null });
    const byTownship = await t.call('GET', `/v1/localities?township=${foreign.township}`, {
      token: tok.op582,
    });
    expect((await json<Page<Locality>>(byTownship)).data).toEqual([]);
    // Unfiltered, the county sees only itself.
    const mine = await json<Page<Locality>>(
      await t.call('GET', '/v1/localities?limit=200', { token: tok.op582 }),
    );
    expect(mine.data.every((l) => l.county_code === 420582)).toBe(true);
  });

  it('the city reviewer of 宜昌 reads both counties but cannot PATCH (403)', async () => {
    const other = await makeTownship(t.db, 420582, 1);
    for (const code of [foreign.village, other.villages[0]!.code]) {
      const res = await t.call('GET', `/v1/localities/${code}`, { token: tok.city });
      expect(res.status, String(code)).toBe(200);
    }
    const res = await t.call('PATCH', `/v1/localities/${foreign.village}`, {
      token: tok.city,
      body: { name: '市级改名' },
      headers: { 'if-match': '"v1"' },
    });
    expect(res.status).toBe(403);
    expect((await problem(res)).code).toBe('forbidden');
    const listed = await listAll(tok.city as string, `township=${other.township.code}`);
    expect(listed).toHaveLength(2);
  });

  it('a province admin of 湖北 reads a county’s locality but cannot create one (403)', async () => {
    expect((await t.call('GET', `/v1/localities/${foreign.village}`, { token: tok.hubei })).status).toBe(200);
    const res = await createVillage(tok.hubei as string, foreign.township + 150);
    expect(res.status).toBe(403);
  });

  it('a city in another province (武汉) and another province (北京) → 404', async () => {
    for (const token of [tok.wuhan, tok.beijing]) {
      const res = await t.call('GET', `/v1/localities/${foreign.village}`, { token });
      expect(res.status).toBe(404);
      expect(await res.text()).not.toContain(foreign.name);
      const list = await t.call('GET', `/v1/localities?township=${foreign.township}`, { token });
      expect((await json<Page<Locality>>(list)).data).toEqual([]);
    }
  });

  it('a county approver (no localities:write) → 403 forbidden on POST and PATCH', async () => {
    const post = await createVillage(tok.approver581 as string, foreign.township + 151);
    expect(post.status).toBe(403);
    expect((await problem(post)).code).toBe('forbidden');
    const patch = await t.call('PATCH', `/v1/localities/${foreign.village}`, {
      token: tok.approver581,
      body: { name: '审核员改名' },
      headers: { 'if-match': '"v1"' },
    });
    expect(patch.status).toBe(403);
    expect(
      (await t.call('GET', `/v1/localities/${foreign.township + 151}`, { token: tok.op581 })).status,
    ).toBe(404);
  });

  it('no token → 401 on every localities route', async () => {
    for (const [method, path] of [
      ['GET', '/v1/localities'],
      ['GET', `/v1/localities/${foreign.village}`],
      ['POST', '/v1/localities'],
      ['PATCH', `/v1/localities/${foreign.village}`],
    ] as const) {
      const res = await t.call(method, path, method === 'GET' ? {} : { body: { name: 'x' } });
      expect(res.status, `${method} ${path}`).toBe(401);
    }
  });
});
