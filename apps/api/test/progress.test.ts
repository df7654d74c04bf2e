/**
 * /v1/progress-targets and /v1/progress-report (双过半, docs/projects.md) through the API: the province
 * sets the counties' targets; "done" is the county's latest dated report or what the system knows
 * (projects approved in the period, the funds they committed); the report sums per child division and
 * says, for a day, the share of time elapsed, the share done and whether both are over half. The seed
 * figures: 7,500 of 13,050 people = 57.47%; 3,779.7万 of 6,310.84万 = 59.89%. Wrong level 403, other
 * counties and provinces 404, every write audited.
 *
 * Works on a shared PostgreSQL too: the counties are picked from a province where nobody has projects,
 * allocations or targets, all data comes from the factories, and nothing depends on global counts.
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

interface Target {
  id: string;
  county_code: number;
  kind: string;
  done_source: string;
  name: string;
  period_start: string;
  period_end: string;
  target_value: number;
}
interface Row {
  division_code: number;
  division_name: string | null;
  targets: number;
  target_value: number;
  done_value: number;
  time_percent: string;
  done_percent: string | null;
  on_track: boolean;
  double_half: boolean;
}
interface Report {
  division_code: number;
  kind: string;
  period_start: string;
  period_end: string;
  on: string;
  elapsed_days: number;
  total_days: number;
  time_percent: string;
  rows: Row[];
  total: Row;
}
interface Page<T> {
  data: T[];
  next_cursor: string | null;
}

let t: TestApp;
let PROVINCE: number;
let CITY: number;
let OTHER_CITY: number;
/** Two counties of one city (the seed figures), one of another city (system-measured targets). */
let A: number;
let B: number;
let D: number;
const WAN = 1_000_000; // 1万 yuan in fen
const YEAR = new Date().getUTCFullYear();
const TODAY = new Date().toISOString().slice(0, 10);
const shift = (days: number) => new Date(Date.now() + days * 86_400_000).toISOString().slice(0, 10);
const SEED = { start: '2013-01-01', end: '2013-12-31', mid: '2013-07-03' };

const token = tokenCache(() => t);
const clerk = (county: number) => token(county, ['county_operator'], `user:progress:clerk:${county}`);
const cityReviewer = (city: number) => token(city, ['city_reviewer'], `user:progress:city:${city}`);
const provinceAdmin = (province: number) =>
  token(province, ['province_admin'], `user:progress:province:${province}`);

const call = caller(() => t);

beforeAll(async () => {
  t = await createTestApp();
  const {
    province,
    counties: [first, second],
  } = await freshCities(t, 2);
  PROVINCE = province;
  [A, B] = first as [number, number];
  D = second[0] as number;
  CITY = A - (A % 100);
  OTHER_CITY = D - (D % 100);
});
afterAll(() => t.close());

async function target(county: number, body: Record<string, unknown>, as?: string) {
  return call('POST', '/v1/progress-targets', as ?? (await provinceAdmin(PROVINCE)), {
    county_code: county,
    name: `目标${randomUUID().slice(0, 6)}`,
    period_start: SEED.start,
    period_end: SEED.end,
    ...body,
  });
}
const report = async (id: string, as_of: string, done_value: number, as?: string) =>
  call('POST', `/v1/progress-targets/${id}/reports`, as ?? (await clerk(A)), { as_of, done_value });
const progress = async (as: string, query: string) =>
  ok<Report>(await call('GET', `/v1/progress-report?${query}`, as));

async function auditActions(county: number, entityId: string): Promise<string[]> {
  return rowsOf<{ action: string }>(
    await t.admin.orm.execute(sql`SELECT action FROM audit_events WHERE division_code = ${county}
      AND entity_id = ${entityId} ORDER BY seq`),
  ).map((r) => r.action);
}

let people: Target;
let money: Target;

describe('the seed’s 双过半 figures, reported by the counties', () => {
  it('7,500 of 13,050 people = 57.47% and 3,779.7万 of 6,310.84万 = 59.89% on 2013-07-03 (50.41% of the year)', async () => {
    people = await ok<Target>(await target(A, { kind: 'people', target_value: 13_050 }), 201);
    expect(people).toMatchObject({
      county_code: A,
      kind: 'people',
      done_source: 'reported',
      target_value: 13_050,
    });
    money = await ok<Target>(
      await target(B, { kind: 'money', done_source: 'reported', target_value: 6_310.84 * WAN }),
      201,
    );
    expect(money.target_value).toBe(6_310_840_000);
    await ok(await report(people.id, '2013-06-30', 7_500), 201);
    await ok(await report(money.id, '2013-06-30', 3_779.7 * WAN, await clerk(B)), 201);

    const p = await progress(await provinceAdmin(PROVINCE), `kind=people&on=${SEED.mid}&division=${CITY}`);
    expect(p).toMatchObject({
      division_code: CITY,
      period_start: SEED.start,
      period_end: SEED.end,
      elapsed_days: 184,
      total_days: 365,
      time_percent: '50.41',
    });
    expect(p.rows).toEqual([
      expect.objectContaining({
        division_code: A,
        targets: 1,
        target_value: 13_050,
        done_value: 7_500,
        time_percent: '50.41',
        done_percent: '57.47',
        on_track: true,
        double_half: true,
      }),
    ]);
    const m = await progress(await cityReviewer(CITY), `kind=money&on=${SEED.mid}`);
    expect(m.division_code).toBe(CITY);
    expect(m.rows.find((r) => r.division_code === B)).toEqual(
      expect.objectContaining({
        division_code: B,
        target_value: 6_310_840_000,
        done_value: 3_779_700_000,
        done_percent: '59.89',
        double_half: true,
      }),
    );
    expect(m.total).toMatchObject({ division_code: CITY, done_percent: '59.89', double_half: true });
    expect(await auditActions(A, people.id)).toEqual(['progress_target.create', 'progress_report.create']);
  });

  it('sums per child division: the province sees its city, the county itself', async () => {
    const p = await progress(await provinceAdmin(PROVINCE), `kind=people&on=${SEED.mid}`);
    expect(p.division_code).toBe(PROVINCE);
    expect(p.rows).toEqual([
      expect.objectContaining({ division_code: CITY, target_value: 13_050, done_value: 7_500 }),
    ]);
    expect(p.total).toMatchObject({ division_code: PROVINCE, done_percent: '57.47' });
    const own = await progress(
      await clerk(A),
      `kind=people&on=${SEED.mid}&period_start=${SEED.start}&period_end=${SEED.end}`,
    );
    expect(own.rows.map((r) => [r.division_code, r.done_percent])).toEqual([[A, '57.47']]);
  });

  it('uses the latest figure dated on or before the day: nothing before the first report, a later report from its day', async () => {
    const before = await progress(
      await provinceAdmin(PROVINCE),
      `kind=people&on=2013-06-29&division=${CITY}`,
    );
    expect(before.rows[0]).toMatchObject({
      done_value: 0,
      done_percent: '0.00',
      time_percent: '49.32',
      on_track: false,
      double_half: false,
    });
    await ok(await report(people.id, '2013-09-30', 9_000), 201);
    expect(
      (
        await progress(
          await clerk(A),
          `kind=people&on=${SEED.mid}&period_start=${SEED.start}&period_end=${SEED.end}`,
        )
      ).rows[0]?.done_value,
    ).toBe(7_500);
    expect(
      (
        await progress(
          await clerk(A),
          `kind=people&on=2013-10-01&period_start=${SEED.start}&period_end=${SEED.end}`,
        )
      ).rows[0],
    ).toMatchObject({
      done_value: 9_000,
      done_percent: '68.97',
    });
    const detail = await ok<Target & { reports: { as_of: string; done_value: number }[] }>(
      await call('GET', `/v1/progress-targets/${people.id}`, await cityReviewer(CITY)),
    );
    expect(detail.reports.map((r) => [r.as_of, r.done_value])).toEqual([
      ['2013-06-30', 7_500],
      ['2013-09-30', 9_000],
    ]);
  });
});

describe('what the system knows: projects approved and funds committed in the period', () => {
  it('counts the county’s approved projects and sums their commitments as of the day', async () => {
    const period = `period_start=${YEAR}-01-01&period_end=${YEAR}-12-31`;
    const thisYear = { period_start: `${YEAR}-01-01`, period_end: `${YEAR}-12-31` };
    const projects = await ok<Target>(
      await target(D, { kind: 'projects', target_value: 4, ...thisYear }),
      201,
    );
    expect(projects.done_source).toBe('projects_approved');
    const funds = await ok<Target>(
      await target(D, { kind: 'money', target_value: 100 * WAN, ...thisYear }),
      201,
    );
    expect(funds.done_source).toBe('funds_committed');

    const village = (await makeTownship(t.db, D, 1)).villages[0]?.code as number;
    await ok(
      await call(
        'POST',
        '/v1/fund-allocations',
        await provinceAdmin(PROVINCE),
        {
          county_code: D,
          source: 'post_support',
          year: YEAR,
          amount_fen: 50 * WAN,
          document_no: `测〔${YEAR}〕${randomUUID().slice(0, 4)}号`,
          allocated_on: TODAY,
        },
        { 'idempotency-key': randomUUID() },
      ),
      201,
    );
    const submitted = async () => {
      const p = await ok<{ id: string }>(
        await call('POST', '/v1/projects', await clerk(D), {
          name: `进度项目${randomUUID().slice(0, 4)}`,
          category: 'infrastructure',
          year: YEAR,
          village_codes: [village],
          total_fen: 30 * WAN,
          funding_lines: [
            { source: 'post_support', amount_fen: 20 * WAN },
            { source: 'self_raised', amount_fen: 10 * WAN },
          ],
          posting_from: shift(-30),
          posting_to: shift(-15),
        }),
        201,
      );
      await ok(await call('POST', `/v1/projects/${p.id}/plan`, await clerk(D)));
      await ok(await call('POST', `/v1/projects/${p.id}/submit`, await clerk(D)));
      return p;
    };
    const approved = await submitted();
    await submitted(); // submitted, not approved: not done
    await ok(
      await call('POST', `/v1/projects/${approved.id}/review`, await cityReviewer(OTHER_CITY), {
        action: 'approve',
      }),
    );

    const p = await progress(await cityReviewer(OTHER_CITY), `kind=projects&on=${TODAY}&${period}`);
    expect(p.rows).toEqual([
      expect.objectContaining({ division_code: D, target_value: 4, done_value: 1, done_percent: '25.00' }),
    ]);
    const m = await progress(await cityReviewer(OTHER_CITY), `kind=money&on=${TODAY}&${period}`);
    expect(m.rows).toEqual([
      expect.objectContaining({
        division_code: D,
        target_value: 100 * WAN,
        done_value: 20 * WAN,
        done_percent: '20.00',
      }),
    ]);
    // Approved today: nothing was done the day before.
    const before = await progress(await cityReviewer(OTHER_CITY), `kind=projects&on=${shift(-1)}&${period}`);
    expect(before.rows[0]?.done_value).toBe(0);

    // Nothing is reported on a target the system measures.
    const res = await report(projects.id, TODAY, 3, await clerk(D));
    expect(res.status).toBe(409);
    expect((await problem(res)).code).toBe('conflict');
  });
});

describe('money done as paid and as investment completed (the projects’ payments and progress reports)', () => {
  /** An approved 30万 project of the county (20万 post-support, 10万 self-raised) with a 30万 contract. */
  async function building(county: number) {
    await ok(
      await call(
        'POST',
        '/v1/fund-allocations',
        await provinceAdmin(PROVINCE),
        {
          county_code: county,
          source: 'post_support',
          year: YEAR,
          amount_fen: 50 * WAN,
          document_no: `测〔${YEAR}〕${randomUUID().slice(0, 4)}号`,
          allocated_on: TODAY,
        },
        { 'idempotency-key': randomUUID() },
      ),
      201,
    );
    const village = (await makeTownship(t.db, county, 1)).villages[0]?.code as number;
    const p = await ok<{ id: string; funding_lines: { id: string; source: string }[] }>(
      await call('POST', '/v1/projects', await clerk(county), {
        name: `建设项目${randomUUID().slice(0, 4)}`,
        category: 'infrastructure',
        year: YEAR,
        village_codes: [village],
        total_fen: 30 * WAN,
        funding_lines: [
          { source: 'post_support', amount_fen: 20 * WAN },
          { source: 'self_raised', amount_fen: 10 * WAN },
        ],
        posting_from: shift(-30),
        posting_to: shift(-15),
      }),
      201,
    );
    await ok(await call('POST', `/v1/projects/${p.id}/plan`, await clerk(county)));
    await ok(await call('POST', `/v1/projects/${p.id}/submit`, await clerk(county)));
    await ok(
      await call('POST', `/v1/projects/${p.id}/review`, await cityReviewer(CITY), { action: 'approve' }),
    );
    const contract = await ok<{ id: string }>(
      await call('POST', `/v1/projects/${p.id}/contracts`, await clerk(county), {
        contractor: '测试路桥建设有限公司',
        contract_no: `HT-${randomUUID().slice(0, 8)}`,
        amount_fen: 30 * WAN,
        signed_on: TODAY,
      }),
      201,
    );
    return { p, village, contract };
  }
  const period = `period_start=${YEAR}-01-01&period_end=${YEAR}-12-31`;
  const thisYear = { period_start: `${YEAR}-01-01`, period_end: `${YEAR}-12-31` };

  it('funds_paid sums the county’s contractor payments dated in the period through the day', async () => {
    const { p, contract } = await building(A);
    const paid = await ok<Target>(
      await target(A, { kind: 'money', done_source: 'funds_paid', target_value: 10 * WAN, ...thisYear }),
      201,
    );
    expect(paid.done_source).toBe('funds_paid');
    const line = p.funding_lines.find((l) => l.source === 'post_support');
    await ok(
      await call(
        'POST',
        `/v1/projects/${p.id}/payments`,
        await token(A, ['county_approver'], `user:progress:approver:${A}`),
        {
          contract_id: contract.id,
          funding_line_id: line?.id,
          stage: 'contract',
          amount_fen: 3 * WAN,
          paid_on: TODAY,
          reference: `报账${randomUUID().slice(0, 12)}`,
        },
        { 'idempotency-key': randomUUID() },
      ),
      201,
    );
    const m = await progress(await cityReviewer(CITY), `kind=money&on=${TODAY}&${period}`);
    expect(m.rows.find((r) => r.division_code === A)).toEqual(
      expect.objectContaining({
        division_code: A,
        target_value: 10 * WAN,
        done_value: 3 * WAN,
        done_percent: '30.00',
      }),
    );
    const before = await progress(await cityReviewer(CITY), `kind=money&on=${shift(-1)}&${period}`);
    expect(before.rows.find((r) => r.division_code === A)?.done_value).toBe(0);
  });

  it('investment_completed counts the investment reported in the period, not before it', async () => {
    const { p, village } = await building(B);
    const invest = await ok<Target>(
      await target(B, {
        kind: 'money',
        done_source: 'investment_completed',
        target_value: 20 * WAN,
        ...thisYear,
      }),
      201,
    );
    expect(invest.done_source).toBe('investment_completed');
    // A report of last year, already counted then: 4万 of the cumulative figure is not this year's.
    await t.admin.orm.execute(sql`INSERT INTO project_progress_reports (division_code, project_id, seq,
        reported_on, investment_completed_fen, percent_complete, village_codes, created_by)
      VALUES (${B}, ${p.id}, 1, ${`${YEAR - 1}-12-01`}::date, ${4 * WAN}, 10, ARRAY[${village}]::bigint[], 'test')`);
    await ok(
      await call('POST', `/v1/projects/${p.id}/progress-reports`, await clerk(B), {
        reported_on: TODAY,
        investment_completed_fen: 15 * WAN,
        percent_complete: 50,
        achieved_outputs: {},
        village_codes: [village],
      }),
      201,
    );
    const m = await progress(await cityReviewer(CITY), `kind=money&on=${TODAY}&${period}`);
    expect(m.rows.find((r) => r.division_code === B)).toEqual(
      expect.objectContaining({
        division_code: B,
        target_value: 20 * WAN,
        done_value: 11 * WAN,
        done_percent: '55.00',
      }),
    );
  });
});

describe('errors', () => {
  it('409 for a second target of the county, kind and period', async () => {
    const res = await target(A, { kind: 'people', target_value: 1 });
    expect(res.status).toBe(409);
    await problem(res);
  });

  it('422 for a done source that does not measure the kind, or a period ending before it starts', async () => {
    const wrong = await target(A, {
      kind: 'people',
      done_source: 'funds_committed',
      target_value: 1,
      period_start: '2014-01-01',
      period_end: '2014-12-31',
    });
    expect(wrong.status).toBe(422);
    expect(fields(await problem(wrong))).toEqual(['done_source']);
    const inverted = await target(A, {
      kind: 'people',
      target_value: 1,
      period_start: '2014-12-31',
      period_end: '2014-01-01',
    });
    expect(inverted.status).toBe(422);
    expect(fields(await problem(inverted))).toEqual(['period_end']);
    const badReport = await call(
      'GET',
      `/v1/progress-report?kind=people&period_start=2014-12-31&period_end=2014-01-01`,
      await clerk(A),
    );
    expect(badReport.status).toBe(422);
    await problem(badReport);
  });

  it('422 for a report outside the period or in the future', async () => {
    for (const day of ['2012-12-31', '2014-01-01']) {
      const res = await report(people.id, day, 1);
      expect(res.status).toBe(422);
      expect(fields(await problem(res))).toEqual(['as_of']);
    }
    const current = await ok<Target>(
      await target(A, {
        kind: 'people',
        target_value: 10,
        period_start: `${YEAR}-01-01`,
        period_end: `${YEAR + 1}-12-31`,
      }),
      201,
    );
    const future = await report(current.id, shift(1), 1);
    expect(future.status).toBe(422);
    await problem(future);
  });

  it('400 for a missing kind or a negative figure', async () => {
    const noKind = await call('GET', '/v1/progress-report', await clerk(A));
    expect(noKind.status).toBe(400);
    await problem(noKind);
    const negative = await report(people.id, '2013-08-01', -1);
    expect(negative.status).toBe(400);
    await problem(negative);
  });
});

describe('who may do what', () => {
  it('only the province sets targets (403 for a county or city), for its own counties (404 otherwise)', async () => {
    for (const as of [await clerk(A), await cityReviewer(CITY)]) {
      const res = await target(
        A,
        { kind: 'people', target_value: 1, period_start: '2015-01-01', period_end: '2015-12-31' },
        as,
      );
      expect(res.status).toBe(403);
      await problem(res);
    }
    const otherProvince = PROVINCE === 320000 ? 330000 : 320000;
    const foreign = await target(otherProvince + 102, { kind: 'people', target_value: 1 });
    expect(foreign.status).toBe(404);
    expect(fields(await problem(foreign))).toEqual(['county_code']);
  });

  it('only the target’s county reports (404 for another county, 403 for the province)', async () => {
    const other = await report(people.id, '2013-08-01', 1, await clerk(B));
    expect(other.status).toBe(404);
    await problem(other);
    const province = await report(people.id, '2013-08-01', 1, await provinceAdmin(PROVINCE));
    expect(province.status).toBe(403);
    await problem(province);
    expect(await auditActions(A, people.id)).toEqual([
      'progress_target.create',
      'progress_report.create',
      'progress_report.create',
    ]);
  });

  it('another county or province sees nothing of it', async () => {
    const byId = await call('GET', `/v1/progress-targets/${people.id}`, await clerk(B));
    expect(byId.status).toBe(404);
    await problem(byId);
    const list = await ok<Page<Target>>(await call('GET', '/v1/progress-targets?limit=200', await clerk(B)));
    expect(list.data.length).toBeGreaterThan(0);
    expect(list.data.every((x) => x.county_code === B)).toBe(true);
    const otherProvince = PROVINCE === 320000 ? 330000 : 320000;
    const outside = await call(
      'GET',
      `/v1/progress-report?kind=people&division=${CITY}`,
      await provinceAdmin(otherProvince),
    );
    expect(outside.status).toBe(404);
    await problem(outside);
    const sibling = await call('GET', `/v1/progress-report?kind=people&division=${A}`, await clerk(B));
    expect(sibling.status).toBe(404);
    await problem(sibling);
    const cityList = await ok<Page<Target>>(
      await call('GET', `/v1/progress-targets?kind=people&on=${SEED.mid}`, await cityReviewer(CITY)),
    );
    expect(cityList.data.map((x) => x.id)).toEqual([people.id]);
  });
});
