import { rowsOf } from '@houfu/db';
import type { Role } from '@houfu/domain';
import { sql } from 'drizzle-orm';
import { expect } from 'vitest';
import type { TestApp } from '../src/testing.js';

export * from '../src/testing.js';

/** Asserts the RFC 9457 shape and returns the body. */
export async function problem(res: Response) {
  expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  const body = (await res.json()) as {
    code: string;
    status: number;
    errors?: { field: string }[];
    requestId: string;
    title: string;
    detail: string;
    type: string;
  };
  expect(body.status).toBe(res.status);
  expect(body.requestId).toBeTruthy();
  return body;
}

/** A response body, typed by the caller. */
export const json = async <T>(res: Response) => (await res.json()) as T;

/** The fields a problem's `errors` name. */
export const fields = (body: { errors?: { field: string }[] }) => (body.errors ?? []).map((e) => e.field);

/** Asserts the status (showing the body when it differs) and returns the JSON body, typed by the caller. */
export async function ok<T>(res: Response, status = 200): Promise<T> {
  const text = await res.text();
  expect(res.status, text).toBe(status);
  return JSON.parse(text) as T;
}

/** `t.call` as the holder of a token, with an optional JSON body and headers. */
export function caller(app: () => TestApp) {
  return (method: string, path: string, as: string, body?: unknown, headers: Record<string, string> = {}) =>
    app().call(method, path, { token: as, ...(body === undefined ? {} : { body }), headers });
}

/** `t.token` remembered per division, roles and subject, for files that ask for the same token often. */
export function tokenCache(app: () => TestApp) {
  const tokens = new Map<string, Promise<string>>();
  return (division: number, roles: Role[], sub: string): Promise<string> => {
    const key = `${division}|${roles.join(',')}|${sub}`;
    let value = tokens.get(key);
    if (!value) {
      value = app().token(division, roles, sub);
      tokens.set(key, value);
    }
    return value;
  };
}

/**
 * Two cities of one province where no test has written anything (localities, persons, batches, projects,
 * allocations, demonstration villages, progress targets, training, aid) and no policy is stored, each with at least
 * `minCounties` counties; away from the provinces other test files write in (11, 36, 42, 53) and from
 * 新疆 (65). So a file works on a shared PostgreSQL database without seeing another file's data.
 */
export async function freshCities(
  t: TestApp,
  minCounties = 3,
): Promise<{ province: number; counties: [number[], number[]] }> {
  const rows = rowsOf<{ province: number; counties: number[] }>(
    await t.admin.orm.execute(sql`
      WITH used AS (
        SELECT DISTINCT division_code / 10000 AS p FROM localities
        UNION SELECT DISTINCT division_code / 10000 FROM persons
        UNION SELECT DISTINCT division_code / 10000 FROM payment_batches
        UNION SELECT DISTINCT division_code / 10000 FROM projects
        UNION SELECT DISTINCT division_code / 10000 FROM fund_allocations
        UNION SELECT DISTINCT division_code / 10000 FROM demonstration_villages
        UNION SELECT DISTINCT division_code / 10000 FROM progress_targets
        UNION SELECT DISTINCT division_code / 10000 FROM training_plans
        UNION SELECT DISTINCT division_code / 10000 FROM training_providers
        UNION SELECT DISTINCT division_code / 10000 FROM vocational_aid_applications
        UNION SELECT DISTINCT division_code / 10000 FROM policy_overrides
      ), cities AS (
        SELECT c.code / 10000 * 10000 AS province,
               (SELECT array_agg(d.code ORDER BY d.code) FROM divisions d
                 WHERE d.level = 'county' AND d.code / 100 * 100 = c.code) AS counties
        FROM divisions c
        WHERE c.level = 'city' AND (c.code / 100) % 100 <> 90 AND c.code / 10000 NOT IN (11, 36, 42, 53, 65)
          AND c.code / 10000 NOT IN (SELECT p FROM used)
      ), eligible AS (
        SELECT * FROM cities WHERE cardinality(counties) >= ${minCounties}
      ), pick AS (
        SELECT province FROM eligible GROUP BY province HAVING count(*) >= 2 ORDER BY random() LIMIT 1
      )
      SELECT province, counties FROM eligible WHERE province = (SELECT province FROM pick)
      ORDER BY random() LIMIT 2`),
  );
  expect(rows).toHaveLength(2);
  const [a, b] = rows.map((r) => (Array.isArray(r.counties) ? r.counties.map(Number) : [])) as [
    number[],
    number[],
  ];
  return { province: Number(rows[0]?.province), counties: [a, b] };
}
