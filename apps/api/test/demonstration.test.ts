/**
 * /v1/demonstration-villages 示范村 and /v1/collective-incomes (docs/demonstration.md) through the API:
 * a county applies for a village with its recorded collective income of the year before; the
 * province's eligibility, funding and quota parameters decide (here a province override, so that the
 * national defaults would have decided otherwise); the province assesses against the five standards,
 * names (provincial-level from the higher score), re-assesses and revokes; the village's
 * demonstration projects and incomes are shown with it; every write is audited; the wrong level is
 * 403 and another county or province 404; concurrent applications never exceed the county's quota
 * (really racing on PostgreSQL, serialised on PGlite).
 *
 * Works on a shared PostgreSQL too: the counties are picked from a province where nobody has data or
 * policy, all data comes from the factories, and nothing depends on global counts.
 */
import { randomUUID } from 'node:crypto';
import { rowsOf } from '@houfu/db';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  caller,
  createTestApp,
  fields,
  freshCities,
  makeTownship,
  ok,
  problem,
  type TestApp,
  tokenCache,
} from './helpers.js';

interface Village {
  id: string;
  county_code: number;
  village_code: number;
  village_name: string | null;
  year: number;
  migrants: number;
  population: number;
  migrant_share_percent: string;
  collective_income_fen: number;
  planned_total_fen: number;
  planned_integrated_fen: number;
  status: string;
  provincial: boolean;
  total_score: string | null;
  named_on: string | null;
  reassess_due: string | null;
  version: number;
}
interface Detail extends Village {
  projects: { id: string; project_no: string; total_fen: number; integrated_fen: number; link: string }[];
  projects_total_fen: number;
  collective_incomes: { village_code: number; year: number; income_fen: number }[];
}
interface Assessment {
  seq: number;
  kind: string;
  assessed_on: string;
  total_score: string;
  outcome: string;
  status_after: string;
  reassess_due: string | null;
  actor: string;
}
interface Page<T> {
  data: T[];
  next_cursor: string | null;
}

let t: TestApp;
let PROVINCE: number;
let CITY: number;
/** Counties of one city of the province. */
let HAPPY: number;
let ERRORS: number;
let RACE: number;
/** A county of another city of the same province. */
let OTHER: number;
const villages = new Map<number, number[]>();

const YEAR = new Date().getUTCFullYear();
const TODAY = new Date().toISOString().slice(0, 10);
const inYears = (day: string, n: number) => `${Number(day.slice(0, 4)) + n}${day.slice(4)}`;
const WAN = 1_000_000; // 1万 yuan in fen
/** The province's own rules (the national defaults: 50% migrants, quota 3). */
const QUOTA = 2;
const MIN_SHARE = 60;

const token = tokenCache(() => t);
const clerk = (county: number) => token(county, ['county_operator'], `user:demo:clerk:${county}`);
const countyApprover = (county: number) => token(county, ['county_approver'], `user:demo:approver:${county}`);
const cityReviewer = (city: number) => token(city, ['city_reviewer'], `user:demo:city:${city}`);
const provinceAdmin = (province: number) =>
  token(province, ['province_admin'], `user:demo:province:${province}`);

const call = caller(() => t);

async function setOverride(parameter: string, from: string, value: unknown) {
  const res = await call(
    'PUT',
    `/v1/policy/parameters/${parameter}/provinces/${PROVINCE}/values/${from}`,
    await provinceAdmin(PROVINCE),
    { value, source: `测试省示范村文件${randomUUID().slice(0, 4)}` },
  );
  expect([200, 201], await res.clone().text()).toContain(res.status);
  await res.arrayBuffer();
}

beforeAll(async () => {
  t = await createTestApp();
  const {
    province,
    counties: [first, second],
  } = await freshCities(t);
  PROVINCE = province;
  [HAPPY, ERRORS, RACE] = first as [number, number, number];
  CITY = HAPPY - (HAPPY % 100);
  OTHER = second[0] as number;
  for (const county of [HAPPY, ERRORS, OTHER]) {
    villages.set(
      county,
      (await makeTownship(t.db, county, 4)).villages.map((v) => v.code),
    );
  }
  villages.set(
    RACE,
    (await makeTownship(t.db, RACE, 6)).villages.map((v) => v.code),
  );
  await setOverride('demonstration.quota', '2006-07-01', { perCountyPerYear: QUOTA });
  await setOverride('demonstration.eligibility', '2006-07-01', {
    minMigrantSharePercent: MIN_SHARE,
    requiresDevelopmentPlan: true,
    minCollectiveIncomeFen: 1_000_000, // 1万 yuan
  });
});
afterAll(() => t.close());

const village = (county: number, i = 0) => villages.get(county)?.[i] as number;

async function recordIncome(county: number, code: number, incomeFen = 1_250_000, year = YEAR - 1) {
  return ok<{ income_fen: number }>(
    await call('POST', '/v1/collective-incomes', await clerk(county), {
      village_code: code,
      year,
      income_fen: incomeFen,
      note: '村集体经济年报',
    }),
  );
}

/** An eligible application body: 69.35% migrants, a plan, 500万 of which 90万 (18%) integrated. */
const application = (code: number, extra: Record<string, unknown> = {}) => ({
  village_code: code,
  year: YEAR,
  migrants: 860,
  population: 1240,
  development_plan: '2026—2028年村发展规划（村民代表大会通过）',
  planned_total_fen: 500 * WAN,
  planned_integrated_fen: 90 * WAN,
  ...extra,
});

const apply = async (county: number, code: number, extra: Record<string, unknown> = {}) =>
  call('POST', '/v1/demonstration-villages', await clerk(county), application(code, extra));

async function applied(county: number, i: number, extra: { year?: number } = {}) {
  await recordIncome(county, village(county, i), 1_250_000, (extra.year ?? YEAR) - 1);
  return ok<Village>(await apply(county, village(county, i), extra), 201);
}

const SCORES = {
  high: { production: 92, livelihood: 88, civility: 90, cleanliness: 95, democracy: 85 }, // 90.00
  pass: { production: 80, livelihood: 85, civility: 80, cleanliness: 82, democracy: 80 }, // 81.40
  low: { production: 60, livelihood: 70, civility: 75, cleanliness: 72, democracy: 70 }, // 69.40
};

const assess = async (
  id: string,
  scores: Record<string, number>,
  as?: string,
  extra: Record<string, unknown> = {},
) =>
  call('POST', `/v1/demonstration-villages/${id}/assessments`, as ?? (await provinceAdmin(PROVINCE)), {
    scores,
    assessed_on: TODAY,
    comment: '考核验收',
    ...extra,
  });

async function auditActions(county: number, entityId: string): Promise<string[]> {
  return rowsOf<{ action: string }>(
    await t.admin.orm.execute(sql`SELECT action FROM audit_events WHERE division_code = ${county}
      AND entity_id = ${entityId} ORDER BY seq`),
  ).map((r) => r.action);
}

// ── Happy paths ────────────────────────────────────────────────────────────────────────────────

describe('apply, assess, name, re-assess', () => {
  it('a county applies with the recorded collective income; the province names it provincial-level (90.00)', async () => {
    const income = await recordIncome(HAPPY, village(HAPPY, 0), 1_250_000);
    expect(income.income_fen).toBe(1_250_000);
    const v = await ok<Village>(await apply(HAPPY, village(HAPPY, 0)), 201);
    expect(v).toMatchObject({
      county_code: HAPPY,
      village_code: village(HAPPY, 0),
      year: YEAR,
      status: 'applied',
      provincial: false,
      migrant_share_percent: '69.35',
      collective_income_fen: 1_250_000,
      planned_total_fen: 500 * WAN,
      total_score: null,
    });
    expect(v.village_name).toMatch(/^测试村/);

    const named = await ok<Village>(await assess(v.id, SCORES.high));
    expect(named).toMatchObject({
      status: 'named',
      provincial: true,
      total_score: '90.00',
      named_on: TODAY,
      reassess_due: inYears(TODAY, 3),
      version: 2,
    });
    const history = await ok<{ data: Assessment[] }>(
      await call('GET', `/v1/demonstration-villages/${v.id}/assessments`, await clerk(HAPPY)),
    );
    expect(history.data).toEqual([
      expect.objectContaining({
        seq: 1,
        kind: 'initial',
        total_score: '90.00',
        outcome: 'named_provincial',
        status_after: 'named',
        actor: `user:demo:province:${PROVINCE}`,
      }),
    ]);
    expect(await auditActions(HAPPY, v.id)).toEqual([
      'demonstration_village.apply',
      'demonstration_village.assess',
    ]);
  });

  it('a re-assessment that passes keeps the name and moves the due date; one that fails revokes it', async () => {
    const v = await applied(HAPPY, 1);
    expect((await ok<Village>(await assess(v.id, SCORES.pass))).provincial).toBe(false);
    const again = await ok<Village>(await assess(v.id, SCORES.high));
    expect(again).toMatchObject({
      status: 'named',
      provincial: true,
      named_on: TODAY,
      reassess_due: inYears(TODAY, 3),
    });
    // Due for re-assessment within three years: listed by due_by.
    const due = await ok<Page<Village>>(
      await call(
        'GET',
        `/v1/demonstration-villages?county=${HAPPY}&due_by=${inYears(TODAY, 3)}`,
        await provinceAdmin(PROVINCE),
      ),
    );
    expect(due.data.map((x) => x.id)).toContain(v.id);
    const notYet = await ok<Page<Village>>(
      await call(
        'GET',
        `/v1/demonstration-villages?county=${HAPPY}&due_by=${TODAY}`,
        await provinceAdmin(PROVINCE),
      ),
    );
    expect(notYet.data.map((x) => x.id)).not.toContain(v.id);

    const revoked = await ok<Village>(await assess(v.id, SCORES.low));
    expect(revoked).toMatchObject({
      status: 'revoked',
      provincial: false,
      total_score: '69.40',
      named_on: null,
      reassess_due: null,
    });
    const history = await ok<{ data: Assessment[] }>(
      await call('GET', `/v1/demonstration-villages/${v.id}/assessments`, await cityReviewer(CITY)),
    );
    expect(history.data.map((a) => [a.kind, a.outcome, a.status_after])).toEqual([
      ['initial', 'named', 'named'],
      ['reassessment', 'named_provincial', 'named'],
      ['reassessment', 'failed', 'revoked'],
    ]);
    expect(await auditActions(HAPPY, v.id)).toEqual([
      'demonstration_village.apply',
      'demonstration_village.assess',
      'demonstration_village.reassess',
      'demonstration_village.reassess',
    ]);
    // A revoked village is not assessed again; a new application of it is possible.
    const res = await assess(v.id, SCORES.high);
    expect(res.status).toBe(409);
    expect((await problem(res)).code).toBe('conflict');
  });

  it('a first assessment below the pass score fails the village for good', async () => {
    const v = await applied(ERRORS, 0);
    expect(await ok<Village>(await assess(v.id, SCORES.low))).toMatchObject({
      status: 'failed',
      provincial: false,
      total_score: '69.40',
      named_on: null,
    });
    expect((await problem(await assess(v.id, SCORES.high))).code).toBe('conflict');
  });

  it('shows the village’s demonstration projects and its collective incomes', async () => {
    const code = village(HAPPY, 2);
    await recordIncome(HAPPY, code, 900_000, YEAR - 2);
    const v = await applied(HAPPY, 2);
    const project = await ok<{ id: string; project_no: string }>(
      await call('POST', '/v1/projects', await clerk(HAPPY), {
        name: '美丽家园建设项目',
        category: 'demonstration_village',
        year: YEAR,
        village_codes: [code],
        total_fen: 300 * WAN,
        funding_lines: [
          { source: 'post_support', amount_fen: 240 * WAN },
          { source: 'integrated', amount_fen: 60 * WAN },
        ],
      }),
      201,
    );
    // A project of another category in the same village is not a demonstration project.
    await ok(
      await call('POST', '/v1/projects', await clerk(HAPPY), {
        name: '道路项目',
        category: 'infrastructure',
        year: YEAR,
        village_codes: [code],
        total_fen: 10 * WAN,
        funding_lines: [{ source: 'self_raised', amount_fen: 10 * WAN }],
      }),
      201,
    );
    const detail = await ok<Detail>(
      await call('GET', `/v1/demonstration-villages/${v.id}`, await countyApprover(HAPPY)),
    );
    expect(detail.projects).toEqual([
      expect.objectContaining({
        id: project.id,
        project_no: project.project_no,
        total_fen: 300 * WAN,
        integrated_fen: 60 * WAN,
        link: `/v1/projects/${project.id}`,
      }),
    ]);
    expect(detail.projects_total_fen).toBe(300 * WAN);
    expect(detail.collective_incomes.map((i) => [i.year, i.income_fen])).toEqual([
      [YEAR - 2, 900_000],
      [YEAR - 1, 1_250_000],
    ]);
  });

  it('records and corrects collective incomes, audited with the old and new figure', async () => {
    const code = village(OTHER, 3);
    await recordIncome(OTHER, code, 100_000, YEAR - 3);
    const corrected = await recordIncome(OTHER, code, 120_000, YEAR - 3);
    expect(corrected.income_fen).toBe(120_000);
    const page = await ok<Page<{ village_code: number; year: number; income_fen: number }>>(
      await call('GET', `/v1/collective-incomes?village=${code}`, await clerk(OTHER)),
    );
    expect(page.data.map((i) => [i.year, i.income_fen])).toEqual([[YEAR - 3, 120_000]]);
    const trail = rowsOf<{ action: string; changes: Record<string, { old: unknown; new: unknown }> }>(
      await t.admin.orm.execute(sql`SELECT action, changes FROM audit_events WHERE division_code = ${OTHER}
        AND entity_id = ${`${code}:${YEAR - 3}`} ORDER BY seq`),
    );
    expect(trail.map((r) => r.action)).toEqual(['collective_income.record', 'collective_income.correct']);
    expect(trail[1]?.changes.income_fen).toEqual({ old: 100_000, new: 120_000 });
  });
});

// ── Errors ─────────────────────────────────────────────────────────────────────────────────────

describe('the province’s rules on application', () => {
  it('422 without the collective income of the year before', async () => {
    const res = await apply(ERRORS, village(ERRORS, 1));
    expect(res.status).toBe(422);
    const body = await problem(res);
    expect(body.errors).toEqual([
      expect.objectContaining({ field: 'village_code', code: 'collective_income_missing' }),
    ]);
  });

  it('422 naming every eligibility rule broken, with the province’s share of migrants (60%, not the national 50%)', async () => {
    const code = village(ERRORS, 1);
    await recordIncome(ERRORS, code, 10_000); // 100 yuan, below the province’s 1万
    const res = await apply(ERRORS, code, { migrants: 682, population: 1240, development_plan: undefined }); // 55%
    expect(res.status).toBe(422);
    const body = await problem(res);
    expect(body.errors).toEqual([
      expect.objectContaining({ field: 'migrants', code: 'migrant_share_below' }),
      expect.objectContaining({ field: 'development_plan', code: 'no_development_plan' }),
      expect.objectContaining({ field: 'collective_income_fen', code: 'collective_income_below' }),
    ]);
  });

  it('422 above the funding cap (700万) or below the integrated share (15%)', async () => {
    const code = village(ERRORS, 2);
    await recordIncome(ERRORS, code);
    const res = await apply(ERRORS, code, {
      planned_total_fen: 800 * WAN,
      planned_integrated_fen: 100 * WAN,
    });
    expect(res.status).toBe(422);
    expect((await problem(res)).errors).toEqual([
      expect.objectContaining({ field: 'planned_total_fen', code: 'above_cap' }),
      expect.objectContaining({ field: 'planned_integrated_fen', code: 'integrated_share_below' }),
    ]);
    const inverted = await apply(ERRORS, code, { migrants: 2000, planned_integrated_fen: 600 * WAN });
    expect(inverted.status).toBe(422);
    expect(fields(await problem(inverted))).toEqual(['migrants', 'planned_integrated_fen']);
  });

  it('422 for a village of another county; 409 for a second live application of a village', async () => {
    const foreign = await apply(ERRORS, village(OTHER, 0));
    expect(foreign.status).toBe(422);
    expect(fields(await problem(foreign))).toEqual(['village_code']);
    const first = await applied(ERRORS, 3);
    const twice = await apply(ERRORS, village(ERRORS, 3));
    expect(twice.status).toBe(409);
    expect(fields(await problem(twice))).toEqual(['village_code']);
    expect(await auditActions(ERRORS, first.id)).toEqual(['demonstration_village.apply']);
  });

  it('409 quota_exceeded past the province’s quota of the county and year (failed ones free their place)', async () => {
    // ERRORS has one failed and one applied village this year: one place left of 2.
    const next = await applied(ERRORS, 2);
    expect(next.status).toBe('applied');
    await recordIncome(ERRORS, village(ERRORS, 1));
    const res = await apply(ERRORS, village(ERRORS, 1));
    expect(res.status).toBe(409);
    const body = await problem(res);
    expect(body.code).toBe('quota_exceeded');
    expect(body.detail).toContain(`${QUOTA} 个`);
    // Another year has its own places.
    await recordIncome(ERRORS, village(ERRORS, 1), 1_250_000, YEAR);
    expect((await ok<Village>(await apply(ERRORS, village(ERRORS, 1), { year: YEAR + 1 }), 201)).year).toBe(
      YEAR + 1,
    );
  });

  it('422 for an assessment dated in the future or before the last one; 422 for a future income year', async () => {
    const v = await applied(OTHER, 0);
    const future = await assess(v.id, SCORES.high, undefined, { assessed_on: inYears(TODAY, 1) });
    expect(future.status).toBe(422);
    expect(fields(await problem(future))).toEqual(['assessed_on']);
    await ok(await assess(v.id, SCORES.high));
    const earlier = await assess(v.id, SCORES.high, undefined, { assessed_on: inYears(TODAY, -1) });
    expect(earlier.status).toBe(422);
    expect(fields(await problem(earlier))).toEqual(['assessed_on']);
    const income = await call('POST', '/v1/collective-incomes', await clerk(OTHER), {
      village_code: village(OTHER, 1),
      year: YEAR + 1,
      income_fen: 1,
    });
    expect(income.status).toBe(422);
    expect(fields(await problem(income))).toEqual(['year']);
  });

  it('400 for a score outside 0..100 or a missing standard', async () => {
    const v = await applied(OTHER, 1);
    for (const scores of [
      { ...SCORES.high, production: 101 },
      { production: 90, livelihood: 90, civility: 90, cleanliness: 90 },
    ]) {
      const res = await assess(v.id, scores);
      expect(res.status).toBe(400);
      expect((await problem(res)).code).toBe('validation_failed');
    }
  });
});

// ── Security ───────────────────────────────────────────────────────────────────────────────────

describe('who may do what', () => {
  it('only a county clerk applies and records incomes (403 for the city, the province, the county approver)', async () => {
    for (const as of [await cityReviewer(CITY), await provinceAdmin(PROVINCE), await countyApprover(HAPPY)]) {
      const res = await call('POST', '/v1/demonstration-villages', as, application(village(HAPPY, 3)));
      expect(res.status).toBe(403);
      expect((await problem(res)).code).toBe('forbidden');
      const income = await call('POST', '/v1/collective-incomes', as, {
        village_code: village(HAPPY, 3),
        year: YEAR - 1,
        income_fen: 1,
      });
      expect(income.status).toBe(403);
      await income.arrayBuffer();
    }
  });

  it('only the village’s province assesses: 403 for the county and the city, 404 for another province', async () => {
    const v = await applied(OTHER, 2, { year: YEAR + 1 });
    for (const as of [await clerk(OTHER), await cityReviewer(OTHER - (OTHER % 100))]) {
      const res = await assess(v.id, SCORES.high, as);
      expect(res.status).toBe(403);
      await res.arrayBuffer();
    }
    const otherProvince = PROVINCE === 320000 ? 330000 : 320000;
    const foreign = await assess(v.id, SCORES.high, await provinceAdmin(otherProvince));
    expect(foreign.status).toBe(404);
    expect((await problem(foreign)).detail).not.toContain(String(v.village_code));
    expect(await auditActions(OTHER, v.id)).toEqual(['demonstration_village.apply']);
    expect(
      (await ok<Village>(await call('GET', `/v1/demonstration-villages/${v.id}`, await clerk(OTHER)))).status,
    ).toBe('applied');
  });

  it('another county reads nothing of it (404 by id, absent from its lists)', async () => {
    const v = await applied(HAPPY, 3, { year: YEAR + 1 });
    const res = await call('GET', `/v1/demonstration-villages/${v.id}`, await clerk(ERRORS));
    expect(res.status).toBe(404);
    await res.arrayBuffer();
    const assessments = await call(
      'GET',
      `/v1/demonstration-villages/${v.id}/assessments`,
      await clerk(ERRORS),
    );
    expect(assessments.status).toBe(404);
    await assessments.arrayBuffer();
    const list = await ok<Page<Village>>(
      await call('GET', '/v1/demonstration-villages?limit=200', await clerk(ERRORS)),
    );
    expect(list.data.every((x) => x.county_code === ERRORS)).toBe(true);
    const incomes = await ok<Page<{ village_code: number }>>(
      await call('GET', '/v1/collective-incomes?limit=200', await clerk(ERRORS)),
    );
    expect(incomes.data.length).toBeGreaterThan(0);
    expect(incomes.data.every((i) => Math.floor(i.village_code / 1_000_000) === ERRORS)).toBe(true);
    // The city sees both of its counties' villages.
    const city = await ok<Page<Village>>(
      await call('GET', `/v1/demonstration-villages?year=${YEAR + 1}&limit=200`, await cityReviewer(CITY)),
    );
    expect(new Set(city.data.map((x) => x.county_code))).toEqual(new Set([HAPPY, ERRORS]));
  });
});

// ── Concurrency and naming ─────────────────────────────────────────────────────────────────────

describe('the quota under concurrency and at naming', () => {
  it('concurrent applications of one county and year never exceed the quota', async () => {
    const codes = villages.get(RACE) as number[];
    for (const code of codes) await recordIncome(RACE, code);
    const as = await clerk(RACE);
    const results = await Promise.all(
      codes.map((code) => call('POST', '/v1/demonstration-villages', as, application(code))),
    );
    const statuses = results.map((r) => r.status).sort();
    const codesOut = await Promise.all(
      results.map(async (r) => ((await r.json()) as { code?: string }).code),
    );
    expect(statuses.filter((s) => s === 201)).toHaveLength(QUOTA);
    expect(codesOut.filter((c) => c === 'quota_exceeded')).toHaveLength(codes.length - QUOTA);
    const [row] = rowsOf<{ n: number }>(
      await t.admin.orm.execute(sql`SELECT count(*)::int AS n FROM demonstration_villages
        WHERE division_code = ${RACE} AND year = ${YEAR} AND status IN ('applied', 'named')`),
    );
    expect(Number(row?.n)).toBe(QUOTA);
  });

  it('naming re-checks the quota in force that day: lowered to 1, the second village is not named (409)', async () => {
    const page = await ok<Page<Village>>(
      await call('GET', `/v1/demonstration-villages?county=${RACE}&year=${YEAR}`, await clerk(RACE)),
    );
    const [first, second] = page.data as [Village, Village];
    expect(page.data).toHaveLength(2);
    await ok(await assess(first.id, SCORES.pass));
    await setOverride('demonstration.quota', TODAY, { perCountyPerYear: 1 });
    const res = await assess(second.id, SCORES.high);
    expect(res.status).toBe(409);
    expect((await problem(res)).code).toBe('quota_exceeded');
    expect(
      (await ok<Village>(await call('GET', `/v1/demonstration-villages/${second.id}`, await clerk(RACE))))
        .status,
    ).toBe('applied');
    expect(await auditActions(RACE, second.id)).toEqual(['demonstration_village.apply']);
    // A failing assessment needs no place: it is recorded.
    expect((await ok<Village>(await assess(second.id, SCORES.low))).status).toBe('failed');
  });
});
