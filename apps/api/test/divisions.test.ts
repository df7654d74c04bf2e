/** /v1/divisions: the GB/T 2260 dictionary, readable by every authenticated caller. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, problem, type TestApp } from './helpers.js';

interface Division {
  code: number;
  name: string;
  level: string;
  parent_code: number | null;
}
interface Page<T> {
  data: T[];
  next_cursor: string | null;
}

let t: TestApp;
let token: string;

beforeAll(async () => {
  t = await createTestApp();
  token = await t.token(420581, ['county_operator']);
});
afterAll(() => t.close());

const list = async (query: string, as = token) => {
  const res = await t.call('GET', `/v1/divisions?${query}`, { token: as });
  expect(res.status, query).toBe(200);
  return (await res.json()) as Page<Division>;
};

async function walk(query: string, limit: number): Promise<{ rows: Division[]; pages: number }> {
  const rows: Division[] = [];
  let cursor: string | null = null;
  let pages = 0;
  do {
    const page = await list(`${query}&limit=${limit}${cursor ? `&cursor=${cursor}` : ''}`);
    expect(page.data.length).toBeLessThanOrEqual(limit);
    rows.push(...page.data);
    cursor = page.next_cursor;
    pages += 1;
  } while (cursor && pages < 100);
  expect(cursor).toBeNull();
  return { rows, pages };
}

describe('GET /v1/divisions', () => {
  it('parent=420500 lists 宜都市, 当阳市 and 枝江市 among the counties of 宜昌市', async () => {
    const page = await list('parent=420500');
    expect(page.next_cursor).toBeNull();
    const byCode = new Map(page.data.map((d) => [d.code, d]));
    expect(byCode.get(420581)).toEqual({
      code: 420581,
      name: '宜都市',
      level: 'county',
      parent_code: 420500,
    });
    expect(byCode.get(420582)?.name).toBe('当阳市');
    expect(byCode.get(420583)?.name).toBe('枝江市');
    expect(page.data.every((d) => d.parent_code === 420500 && d.level === 'county')).toBe(true);
    const codes = page.data.map((d) => d.code);
    expect([...codes].sort((a, b) => a - b)).toEqual(codes);
  });

  it('level=province gives 31+ provinces including 湖北省', async () => {
    const page = await list('level=province&limit=200');
    expect(page.data.length).toBeGreaterThanOrEqual(31);
    expect(page.data.every((d) => d.level === 'province' && d.parent_code === 0)).toBe(true);
    expect(page.data).toContainEqual({ code: 420000, name: '湖北省', level: 'province', parent_code: 0 });
    expect(page.data.map((d) => d.code)).toContain(110000);
  });

  it('q=宜 finds 宜昌市 (and only names containing 宜)', async () => {
    const { rows } = await walk('q=宜', 200);
    expect(rows.map((d) => d.code)).toContain(420500);
    expect(rows.find((d) => d.code === 420500)?.name).toBe('宜昌市');
    expect(rows.every((d) => d.name.includes('宜'))).toBe(true);
    const cities = await list(`q=${encodeURIComponent('宜')}&level=city`);
    expect(cities.data.every((d) => d.level === 'city')).toBe(true);
    expect(cities.data.map((d) => d.code)).toContain(420500);
  });

  it('LIKE wildcards in q are literal', async () => {
    expect((await list(`q=${encodeURIComponent('%')}`)).data).toEqual([]);
    expect((await list('q=_')).data).toEqual([]);
    expect((await list(`q=${encodeURIComponent('\\')}`)).data).toEqual([]);
  });

  it('paginates with next_cursor: pages of 7 provinces add up to the whole list, without duplicates', async () => {
    const whole = await list('level=province&limit=200');
    const { rows, pages } = await walk('level=province', 7);
    expect(pages).toBe(Math.max(1, Math.ceil(whole.data.length / 7)));
    expect(pages).toBeGreaterThan(1);
    expect(rows).toEqual(whole.data);
    expect(new Set(rows.map((d) => d.code)).size).toBe(rows.length);
  });

  it('bad parameters → 400 naming the field', async () => {
    for (const [query, field] of [
      ['parent=123', 'query.parent'],
      ['parent=abc', 'query.parent'],
      ['level=village', 'query.level'],
      ['level=nation', 'query.level'],
      [`q=${'宜'.repeat(51)}`, 'query.q'],
      ['q=', 'query.q'],
      ['limit=201', 'query.limit'],
    ] as const) {
      const res = await t.call('GET', `/v1/divisions?${encodeURI(query)}`, { token });
      expect(res.status, query).toBe(400);
      const body = await problem(res);
      expect(body.code).toBe('validation_failed');
      expect(
        body.errors?.map((e) => e.field),
        query,
      ).toContain(field);
    }
  });

  it('reference data: any authenticated caller, of any division, reads any division', async () => {
    const beijing = await t.token(110101, ['county_operator']);
    const page = await list('parent=420500', beijing);
    expect(page.data.map((d) => d.code)).toContain(420581);
  });

  it('no token → 401', async () => {
    const res = await t.call('GET', '/v1/divisions');
    expect(res.status).toBe(401);
    expect((await problem(res)).code).toBe('unauthorized');
  });
});

describe('GET /v1/divisions/{code}', () => {
  it('420581 → its path from the nation down, with names, and children_count 0', async () => {
    const res = await t.call('GET', '/v1/divisions/420581', { token });
    expect(res.status).toBe(200);
    const body = (await res.json()) as Division & { path: Division[]; children_count: number };
    expect(body).toMatchObject({
      code: 420581,
      name: '宜都市',
      level: 'county',
      parent_code: 420500,
      children_count: 0,
    });
    expect(body.path.map((d) => d.code)).toEqual([0, 420000, 420500]);
    expect(body.path.map((d) => d.name)).toEqual(['中华人民共和国', '湖北省', '宜昌市']);
    expect(body.path.map((d) => d.level)).toEqual(['nation', 'province', 'city']);
  });

  it('a city counts its counties; a province its cities; the nation has an empty path', async () => {
    const city = (await (await t.call('GET', '/v1/divisions/420500', { token })).json()) as {
      children_count: number;
      path: Division[];
    };
    expect(city.children_count).toBeGreaterThanOrEqual(3);
    expect(city.path.map((d) => d.code)).toEqual([0, 420000]);
    const nation = (await (await t.call('GET', '/v1/divisions/0', { token })).json()) as {
      children_count: number;
      path: Division[];
      name: string;
    };
    expect(nation.path).toEqual([]);
    expect(nation.children_count).toBeGreaterThanOrEqual(31);
  });

  it('an unknown but valid-looking code (420599) → 404 problem', async () => {
    const res = await t.call('GET', '/v1/divisions/420599', { token });
    expect(res.status).toBe(404);
    const body = await problem(res);
    expect(body.code).toBe('not_found');
  });

  it('a malformed code → 400 naming it', async () => {
    for (const code of ['123', 'abc', '4205811', '-1']) {
      const res = await t.call('GET', `/v1/divisions/${code}`, { token });
      expect(res.status, code).toBe(400);
      expect((await problem(res)).errors?.map((e) => e.field).join(','), code).toContain('code');
    }
  });

  it('no token → 401', async () => {
    const res = await t.call('GET', '/v1/divisions/420581');
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toMatch(/^Bearer/);
  });
});
