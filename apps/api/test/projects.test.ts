/**
 * /v1/projects 后扶项目 and /v1/fund-allocations, /v1/fund-balances (docs/projects.md) through the API:
 * the county's library, funding lines that add up (the seed's 3,285.44万 = 800 + 1,358.96 + 1,126.48),
 * the category's funding rules at submission, the village posting before the annual plan, the three
 * approval routes by amount with the reviewer's level checked at each step (403 for the wrong level,
 * 404 outside the scope, 409 for a step already acted on), returns and resubmission, approval locking
 * the scope (409 `project_locked`) and a scope change re-entering the route, allocations by the
 * province only, balances with idle funds, commitments refused when the allocation cannot cover them,
 * and concurrent approvals against one allocation that never overspend it (really racing on
 * PostgreSQL, serialised on PGlite).
 *
 * Works on a shared PostgreSQL too: the counties are picked from two cities of one province where
 * nobody has data, all data comes from the factories, and nothing depends on global counts.
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

interface Line {
  source: string;
  amount_fen: number;
  committed_fen: number;
}
interface Project {
  id: string;
  project_no: string;
  county_code: number;
  name: string;
  category: string;
  batch_no: string | null;
  year: number;
  village_codes: number[];
  description: string | null;
  planned_outputs: Record<string, string>;
  total_fen: number;
  funding_lines: Line[];
  status: string;
  route:
    | { index: number; level: string; action: string; scope: string | null; label: string; state: string }[]
    | null;
  current_step: number | null;
  locked: boolean;
  approved_at: string | null;
  version: number;
}
interface Review {
  seq: number;
  step_index: number | null;
  level: string | null;
  action: string;
  decision: string;
  comment: string | null;
  actor: string;
  changes: Record<string, unknown> | null;
}
interface Figures {
  allocated_fen: number;
  committed_fen: number;
  paid_fen: number;
  available_fen: number;
  idle_fen: number;
}
interface Balance extends Figures {
  county_code: number;
  year: number;
  idle_months: number;
  sources: (Figures & { source: string })[];
}
interface Page<T> {
  data: T[];
  next_cursor: string | null;
}

let t: TestApp;
/** Counties of the first fresh city: the happy paths, the errors, locking and changes. */
let HAPPY: number;
let ERRORS: number;
let LOCK: number;
/** Counties of the second fresh city (the sibling city of the first). */
let FUNDS: number;
let RACE: number;
const villages = new Map<number, number[]>();

const cityOf = (county: number) => county - (county % 100);
const provinceOf = (code: number) => code - (code % 10_000);
const YEAR = new Date().getUTCFullYear();
const daysAgo = (n: number) => new Date(Date.now() - n * 86_400_000).toISOString().slice(0, 10);
const WAN = 1_000_000; // 1万 yuan in fen

const token = tokenCache(() => t);
const clerk = (county: number) => token(county, ['county_operator'], `user:proj:clerk:${county}`);
const countyApprover = (county: number) => token(county, ['county_approver'], `user:proj:approver:${county}`);
const cityReviewer = (code: number) =>
  token(cityOf(code), ['city_reviewer'], `user:proj:city:${cityOf(code)}`);
const provinceAdmin = (code: number) =>
  token(provinceOf(code), ['province_admin'], `user:proj:province:${provinceOf(code)}`);
const nationalAdmin = () => token(0, ['national_admin'], 'user:proj:nation');

beforeAll(async () => {
  t = await createTestApp();
  const {
    counties: [first, second],
  } = await freshCities(t);
  [HAPPY, ERRORS, LOCK] = first as [number, number, number];
  [FUNDS, RACE] = second as [number, number];
  for (const county of [HAPPY, ERRORS, LOCK, FUNDS, RACE]) {
    villages.set(
      county,
      (await makeTownship(t.db, county, 3)).villages.map((v) => v.code),
    );
  }
});
afterAll(() => t.close());

// ── Helpers ────────────────────────────────────────────────────────────────────────────────────

const call = caller(() => t);

const village = (county: number, i = 0) => villages.get(county)?.[i] as number;

/** A project body of `county` (posting over, 16 days long) with `lines` adding up to their sum. */
function body(county: number, lines: [string, number][], extra: Record<string, unknown> = {}) {
  return {
    name: `测试项目${randomUUID().slice(0, 6)}`,
    category: 'infrastructure',
    year: YEAR,
    village_codes: [village(county)],
    planned_outputs: { road_km: '13.62' },
    beneficiaries_farmers: 120,
    beneficiaries_migrants: 40,
    total_fen: lines.reduce((a, [, f]) => a + f, 0),
    funding_lines: lines.map(([source, amount_fen]) => ({ source, amount_fen })),
    posting_from: daysAgo(30),
    posting_to: daysAgo(15),
    posting_place: '村务公开栏',
    ...extra,
  };
}

async function create(county: number, lines: [string, number][], extra: Record<string, unknown> = {}) {
  return ok<Project>(
    await call('POST', '/v1/projects', await clerk(county), body(county, lines, extra)),
    201,
  );
}

/** Creates, plans and submits a project. */
async function submitted(county: number, lines: [string, number][], extra: Record<string, unknown> = {}) {
  const p = await create(county, lines, extra);
  await ok<Project>(await call('POST', `/v1/projects/${p.id}/plan`, await clerk(county)));
  return ok<Project>(await call('POST', `/v1/projects/${p.id}/submit`, await clerk(county)));
}

const review = (id: string, as: string, action: string, extra: Record<string, unknown> = {}) =>
  call('POST', `/v1/projects/${id}/review`, as, { action, ...extra });

async function allocate(county: number, amountFen: number, source = 'post_support', on = daysAgo(1)) {
  return ok<{ id: string; amount_fen: number }>(
    await call(
      'POST',
      '/v1/fund-allocations',
      await provinceAdmin(county),
      {
        county_code: county,
        source,
        year: YEAR,
        amount_fen: amountFen,
        document_no: `测〔${YEAR}〕${randomUUID().slice(0, 4)}号`,
        allocated_on: on,
      },
      { 'idempotency-key': randomUUID() },
    ),
    201,
  );
}

async function balance(county: number, as?: string, query = ''): Promise<Balance | undefined> {
  const page = await ok<Page<Balance>>(
    await call('GET', `/v1/fund-balances?county=${county}&year=${YEAR}${query}`, as ?? (await clerk(county))),
  );
  return page.data[0];
}

const get = async (id: string, as: string) => ok<Project>(await call('GET', `/v1/projects/${id}`, as));
const reviews = async (id: string, as: string) =>
  (await ok<{ data: Review[] }>(await call('GET', `/v1/projects/${id}/reviews`, as))).data;

async function auditActions(county: number, entityId: string): Promise<string[]> {
  return rowsOf<{ action: string }>(
    await t.admin.orm.execute(sql`SELECT action FROM audit_events WHERE division_code = ${county}
      AND entity_id = ${entityId} ORDER BY seq`),
  ).map((r) => r.action);
}

/** The seed example: 3,285.44万 = 800 + 1,358.96 + 1,126.48 (万 yuan). */
const SEED: [string, number][] = [
  ['post_support', 800 * WAN],
  ['integrated', 1_358.96 * WAN],
  ['self_raised', 1_126.48 * WAN],
];

// ── Happy paths ────────────────────────────────────────────────────────────────────────────────

describe('the three approval routes', () => {
  it('≥ 100万 (the seed’s 3,285.44万): city review → province approves feasibility and design; funds committed', async () => {
    await allocate(HAPPY, 1_000 * WAN);
    const created = await create(HAPPY, SEED);
    expect(created.total_fen).toBe(3_285_440_000);
    expect(created.project_no).toMatch(new RegExp(`^${HAPPY}-${YEAR}-\\d{3}$`));
    expect(created.status).toBe('library');
    expect(created.planned_outputs).toEqual({ road_km: '13.62' });
    const p = await submitted(HAPPY, SEED);
    expect(p.status).toBe('submitted');
    expect(p.route?.map((s) => s.label)).toEqual(['市级审核', '省级审批（可行性研究及初步设计）']);
    expect(p.current_step).toBe(0);

    const afterCity = await ok<Project>(
      await review(p.id, await cityReviewer(HAPPY), 'approve', { comment: '同意上报' }),
    );
    expect(afterCity).toMatchObject({ status: 'submitted', current_step: 1 });
    const approved = await ok<Project>(
      await review(p.id, await provinceAdmin(HAPPY), 'approve', { comment: '批复' }),
    );
    expect(approved).toMatchObject({ status: 'approved', current_step: null, locked: true });
    expect(approved.approved_at).not.toBeNull();
    expect(approved.funding_lines.find((l) => l.source === 'post_support')?.committed_fen).toBe(800 * WAN);
    expect(approved.funding_lines.find((l) => l.source === 'integrated')?.committed_fen).toBe(0);

    const history = await reviews(p.id, await clerk(HAPPY));
    expect(history.map((r) => [r.action, r.level, r.decision])).toEqual([
      ['plan', 'county', 'planned'],
      ['submit', 'county', 'submitted'],
      ['review', 'city', 'passed'],
      ['approve', 'province', 'approved'],
    ]);
    expect(history[3]?.actor).toBe(`user:proj:province:${provinceOf(HAPPY)}`);
    expect(await auditActions(HAPPY, p.id)).toEqual([
      'project.create',
      'project.plan',
      'project.submit',
      'project.review',
      'project.approve',
    ]);
    const b = await balance(HAPPY);
    expect(b?.sources.find((s) => s.source === 'post_support')).toMatchObject({
      allocated_fen: 1_000 * WAN,
      committed_fen: 800 * WAN,
      available_fen: 200 * WAN,
      paid_fen: 0,
    });
  });

  it('50万–99.99万: city review → province approves feasibility → city approves design (the commitment)', async () => {
    const p = await submitted(HAPPY, [
      ['post_support', 50 * WAN],
      ['self_raised', 49.99 * WAN],
    ]);
    expect(p.total_fen).toBe(99_990_000);
    expect(p.route?.map((s) => s.label)).toEqual([
      '市级审核',
      '省级审批（可行性研究）',
      '市级审批（初步设计）',
    ]);
    await ok(await review(p.id, await cityReviewer(HAPPY), 'approve'));
    const feasibility = await ok<Project>(await review(p.id, await provinceAdmin(HAPPY), 'approve'));
    expect(feasibility).toMatchObject({ status: 'submitted', current_step: 2 });
    expect(feasibility.funding_lines.every((l) => l.committed_fen === 0)).toBe(true);
    const design = await ok<Project>(await review(p.id, await cityReviewer(HAPPY), 'approve'));
    expect(design).toMatchObject({ status: 'approved', current_step: null });
    expect(design.route?.map((s) => s.state)).toEqual(['done', 'done', 'done']);
    expect(design.funding_lines.find((l) => l.source === 'post_support')?.committed_fen).toBe(50 * WAN);
  });

  it('< 50万 (49.99万): the city approves, the province records 备案 later without gating', async () => {
    const p = await submitted(HAPPY, [
      ['post_support', 40 * WAN],
      ['labour', 9.99 * WAN],
    ]);
    expect(p.total_fen).toBe(49_990_000);
    expect(p.route?.map((s) => s.label)).toEqual(['市级审批（可行性研究及初步设计）', '省级备案']);
    const approved = await ok<Project>(await review(p.id, await cityReviewer(HAPPY), 'approve'));
    expect(approved).toMatchObject({ status: 'approved', current_step: 1 });
    expect(approved.funding_lines.find((l) => l.source === 'post_support')?.committed_fen).toBe(40 * WAN);
    // The record step takes `record` only, from the province only.
    expect((await problem(await review(p.id, await provinceAdmin(HAPPY), 'approve'))).code).toBe(
      'unprocessable',
    );
    expect((await problem(await review(p.id, await cityReviewer(HAPPY), 'record'))).code).toBe('forbidden');
    const recorded = await ok<Project>(
      await review(p.id, await provinceAdmin(HAPPY), 'record', { comment: '已备案' }),
    );
    expect(recorded).toMatchObject({ status: 'approved', current_step: null });
    expect((await reviews(p.id, await clerk(HAPPY))).at(-1)).toMatchObject({
      action: 'record',
      level: 'province',
    });
    // The whole county's commitments: 800万 + 50万 + 40万 of the 1,000万 allocated.
    expect((await balance(HAPPY))?.committed_fen).toBe(890 * WAN);
  });

  it('lists by status, category and year with cursor pages; the city and province see the county’s projects', async () => {
    const all = await ok<Page<Project>>(
      await call('GET', `/v1/projects?county=${HAPPY}&limit=2`, await clerk(HAPPY)),
    );
    expect(all.data).toHaveLength(2);
    expect(all.next_cursor).not.toBeNull();
    const rest = await ok<Page<Project>>(
      await call('GET', `/v1/projects?county=${HAPPY}&limit=2&cursor=${all.next_cursor}`, await clerk(HAPPY)),
    );
    expect(rest.data.length).toBeGreaterThan(0);
    expect(rest.data.map((p) => p.id)).not.toContain(all.data[0]?.id);
    const approved = await ok<Page<Project>>(
      await call(
        'GET',
        `/v1/projects?county=${HAPPY}&status=approved&year=${YEAR}&category=infrastructure`,
        await cityReviewer(HAPPY),
      ),
    );
    expect(approved.data).toHaveLength(3);
    const byProvince = await ok<Page<Project>>(
      await call('GET', `/v1/projects?county=${HAPPY}&status=library`, await provinceAdmin(HAPPY)),
    );
    expect(byProvince.data.every((p) => p.status === 'library' && p.county_code === HAPPY)).toBe(true);
  });
});

// ── Funding and posting errors ─────────────────────────────────────────────────────────────────

describe('funding lines and the village posting', () => {
  it('lines that do not add up to the total: 422 naming the field (one fen off)', async () => {
    const b = body(ERRORS, SEED, { total_fen: 3_285_440_001 });
    const res = await call('POST', '/v1/projects', await clerk(ERRORS), b);
    expect(res.status).toBe(422);
    const p = await problem(res);
    expect(fields(p)).toContain('funding_lines');
    expect(p.detail).toMatch(/不符/);
  });

  it('a repeated source, a non-positive line (400 by the contract) and an unknown village', async () => {
    const dup = await call(
      'POST',
      '/v1/projects',
      await clerk(ERRORS),
      body(ERRORS, [
        ['self_raised', 100],
        ['self_raised', 100],
      ]),
    );
    expect(dup.status).toBe(422);
    expect(
      (await problem(dup)).errors?.some((e) => (e as { code?: string }).code === 'duplicate_source'),
    ).toBe(true);
    const zero = await call('POST', '/v1/projects', await clerk(ERRORS), body(ERRORS, [['self_raised', 0]]));
    expect(zero.status).toBe(400);
    expect(fields(await problem(zero))).toContain('funding_lines.0.amount_fen');
    const foreign = await call(
      'POST',
      '/v1/projects',
      await clerk(ERRORS),
      body(ERRORS, [['self_raised', 100]], { village_codes: [village(FUNDS)] }),
    );
    expect(foreign.status).toBe(422);
    expect(fields(await problem(foreign))).toEqual(['village_codes.0']);
    const pilot = await call(
      'POST',
      '/v1/projects',
      await clerk(ERRORS),
      body(ERRORS, [['self_raised', 100]], { category: 'hazard_relief_pilot' }),
    );
    expect(fields(await problem(pilot))).toEqual(['batch_no']);
    await ok(
      await call(
        'POST',
        '/v1/projects',
        await clerk(ERRORS),
        body(ERRORS, [['self_raised', 100]], { category: 'hazard_relief_pilot', batch_no: '第三批' }),
      ),
      201,
    );
  });

  it('the category’s share rule is checked at submission: a demonstration village takes ≥ 15% integrated funds', async () => {
    const short = await create(
      ERRORS,
      [
        ['post_support', 86 * WAN],
        ['integrated', 14 * WAN],
      ],
      { category: 'demonstration_village' },
    );
    await ok(await call('POST', `/v1/projects/${short.id}/plan`, await clerk(ERRORS)));
    const res = await call('POST', `/v1/projects/${short.id}/submit`, await clerk(ERRORS));
    expect(res.status).toBe(422);
    const p = await problem(res);
    expect(p.errors).toEqual([
      expect.objectContaining({ field: 'funding_lines.1.amount_fen', code: 'share_below_minimum' }),
    ]);
    expect((await get(short.id, await clerk(ERRORS))).status).toBe('planned');
    // 15% exactly passes.
    const fine = await submitted(
      ERRORS,
      [
        ['post_support', 85 * WAN],
        ['integrated', 15 * WAN],
      ],
      { category: 'demonstration_village' },
    );
    expect(fine.status).toBe('submitted');
  });

  it('no posting, a posting too short or not yet ended: the project stays in the library', async () => {
    const none = await create(ERRORS, [['self_raised', 100]], { posting_from: null, posting_to: null });
    const a = await call('POST', `/v1/projects/${none.id}/plan`, await clerk(ERRORS));
    expect(a.status).toBe(422);
    expect((await problem(a)).errors).toEqual([
      expect.objectContaining({ field: 'posting_from', code: 'no_posting' }),
    ]);
    const short = await create(ERRORS, [['self_raised', 100]], {
      posting_from: daysAgo(10),
      posting_to: daysAgo(5),
    });
    const b = await call('POST', `/v1/projects/${short.id}/plan`, await clerk(ERRORS));
    expect((await problem(b)).errors).toEqual([
      expect.objectContaining({ field: 'posting_to', code: 'posting_too_short' }),
    ]);
    const open = await create(ERRORS, [['self_raised', 100]], {
      posting_from: daysAgo(10),
      posting_to: daysAgo(-3),
    });
    const c = await call('POST', `/v1/projects/${open.id}/plan`, await clerk(ERRORS));
    expect((await problem(c)).errors).toEqual([expect.objectContaining({ code: 'posting_not_ended' })]);
    // Seven days, both ends counted, is enough (the national default of projects.posting_days).
    const seven = await create(ERRORS, [['self_raised', 100]], {
      posting_from: daysAgo(8),
      posting_to: daysAgo(2),
    });
    expect(
      (await ok<Project>(await call('POST', `/v1/projects/${seven.id}/plan`, await clerk(ERRORS)))).status,
    ).toBe('planned');
    // Submitting from the library skips the plan: 409.
    expect(
      (await problem(await call('POST', `/v1/projects/${none.id}/submit`, await clerk(ERRORS)))).code,
    ).toBe('conflict');
  });
});

// ── Who acts on a step ─────────────────────────────────────────────────────────────────────────

describe('each step is acted on by its level, in the county’s scope', () => {
  it('wrong level → 403, sibling city and other province → 404, the county itself → 403, twice → 409', async () => {
    const p = await submitted(ERRORS, [['integrated', 120 * WAN]]);
    const before = await get(p.id, await clerk(ERRORS));
    // The province on the city's step, the county's own clerk and approver.
    expect((await problem(await review(p.id, await provinceAdmin(ERRORS), 'approve'))).code).toBe(
      'forbidden',
    );
    expect((await problem(await review(p.id, await clerk(ERRORS), 'approve'))).code).toBe('forbidden');
    expect((await problem(await review(p.id, await countyApprover(ERRORS), 'approve'))).code).toBe(
      'forbidden',
    );
    // Another city of the province, another province: the project does not exist for them.
    const sibling = await review(p.id, await cityReviewer(FUNDS), 'approve');
    expect(sibling.status).toBe(404);
    const otherProvince = await review(
      p.id,
      await provinceAdmin(provinceOf(ERRORS) === 110000 ? 120000 : 110000),
      'approve',
    );
    expect(otherProvince.status).toBe(404);
    expect((await problem(await call('GET', `/v1/projects/${p.id}`, await cityReviewer(FUNDS)))).code).toBe(
      'not_found',
    );
    expect(await get(p.id, await clerk(ERRORS))).toEqual(before);

    // The city acts once; again on the same step → 409; the city on the province's step → 403.
    await ok(await review(p.id, await cityReviewer(ERRORS), 'approve', { step: 0 }));
    expect((await problem(await review(p.id, await cityReviewer(ERRORS), 'approve', { step: 0 }))).code).toBe(
      'conflict',
    );
    expect((await problem(await review(p.id, await cityReviewer(ERRORS), 'approve'))).code).toBe('forbidden');
    await ok(await review(p.id, await provinceAdmin(ERRORS), 'approve'));
    // Approved, nothing awaits: 409.
    expect((await problem(await review(p.id, await provinceAdmin(ERRORS), 'approve'))).code).toBe('conflict');
    // The nation has no review permission.
    expect((await problem(await review(p.id, await nationalAdmin(), 'approve'))).code).toBe('forbidden');
  });

  it('a return needs a comment, goes back to the county, and a resubmission restarts the route', async () => {
    const p = await submitted(ERRORS, [['integrated', 60 * WAN]]);
    await ok(await review(p.id, await cityReviewer(ERRORS), 'approve'));
    const noComment = await review(p.id, await provinceAdmin(ERRORS), 'return');
    expect(fields(await problem(noComment))).toEqual(['comment']);
    const returned = await ok<Project>(
      await review(p.id, await provinceAdmin(ERRORS), 'return', { comment: '可研报告不完整' }),
    );
    expect(returned).toMatchObject({ status: 'returned', current_step: null, locked: false });
    // Editable again: the funding is corrected, then resubmitted.
    const etag = (await call('GET', `/v1/projects/${p.id}`, await clerk(ERRORS))).headers.get(
      'etag',
    ) as string;
    await ok(
      await call(
        'PUT',
        `/v1/projects/${p.id}/funding`,
        await clerk(ERRORS),
        { total_fen: 40 * WAN, funding_lines: [{ source: 'integrated', amount_fen: 40 * WAN }] },
        { 'if-match': etag },
      ),
    );
    const again = await ok<Project>(
      await call('POST', `/v1/projects/${p.id}/submit`, await clerk(ERRORS), { comment: '已按意见修改' }),
    );
    expect(again).toMatchObject({ status: 'submitted', current_step: 0 });
    expect(again.route?.map((s) => s.label)).toEqual(['市级审批（可行性研究及初步设计）', '省级备案']);
    const history = await reviews(p.id, await clerk(ERRORS));
    expect(history.map((r) => r.action)).toEqual(['plan', 'submit', 'review', 'return', 'resubmit']);
    expect(history[3]).toMatchObject({ level: 'province', comment: '可研报告不完整', step_index: 1 });
  });
});

// ── Locking and scope changes ──────────────────────────────────────────────────────────────────

describe('approval locks the scope; a change re-enters the route', () => {
  let id: string;
  beforeAll(async () => {
    await allocate(LOCK, 200 * WAN);
    const p = await submitted(LOCK, [
      ['post_support', 100 * WAN],
      ['self_raised', 20 * WAN],
    ]);
    id = p.id;
    await ok(await review(id, await cityReviewer(LOCK), 'approve'));
    await ok(await review(id, await provinceAdmin(LOCK), 'approve'));
  });

  const etagOf = async () =>
    (await call('GET', `/v1/projects/${id}`, await clerk(LOCK))).headers.get('etag') as string;

  it('refuses scope edits (409 project_locked) and accepts other corrections', async () => {
    const patch = (b: unknown, etag: string) =>
      call('PATCH', `/v1/projects/${id}`, clerk_, b, { 'if-match': etag });
    const clerk_ = await clerk(LOCK);
    for (const b of [
      { category: 'production' },
      { village_codes: [village(LOCK, 1)] },
      { planned_outputs: { road_km: '14' } },
      { year: YEAR + 1 },
    ]) {
      const res = await patch(b, await etagOf());
      expect(res.status, JSON.stringify(b)).toBe(409);
      expect((await problem(res)).code).toBe('project_locked');
    }
    const funding = await call(
      'PUT',
      `/v1/projects/${id}/funding`,
      clerk_,
      {
        total_fen: 120 * WAN,
        funding_lines: [
          { source: 'post_support', amount_fen: 90 * WAN },
          { source: 'self_raised', amount_fen: 30 * WAN },
        ],
      },
      { 'if-match': await etagOf() },
    );
    expect((await problem(funding)).code).toBe('project_locked');
    // The same values again, and a typo fix: fine.
    const fixed = await ok<Project>(
      await patch({ category: 'infrastructure', description: '道路硬化（修正）' }, await etagOf()),
    );
    expect(fixed).toMatchObject({ status: 'approved', description: '道路硬化（修正）' });
    // Stale and missing If-Match.
    const stale = await patch({ description: 'x' }, `"v${fixed.version - 1}"`);
    expect((await problem(stale)).code).toBe('precondition_failed');
    const missing = await call('PATCH', `/v1/projects/${id}`, clerk_, { description: 'x' });
    expect((await problem(missing)).code).toBe('precondition_required');
  });

  it('a change releases the commitments, keeps the difference and re-enters the route', async () => {
    expect((await balance(LOCK))?.committed_fen).toBe(100 * WAN);
    const change = {
      category: 'infrastructure',
      village_codes: [village(LOCK), village(LOCK, 1)],
      planned_outputs: { road_km: '13.62', bridge: '1' },
      total_fen: 150 * WAN,
      funding_lines: [
        { source: 'post_support', amount_fen: 130 * WAN },
        { source: 'self_raised', amount_fen: 20 * WAN },
      ],
      comment: '增加一座便民桥',
    };
    const same = await call('POST', `/v1/projects/${id}/changes`, await clerk(LOCK), {
      ...change,
      village_codes: [village(LOCK)],
      planned_outputs: { road_km: '13.62' },
      total_fen: 120 * WAN,
      funding_lines: [
        { source: 'post_support', amount_fen: 100 * WAN },
        { source: 'self_raised', amount_fen: 20 * WAN },
      ],
    });
    expect(same.status).toBe(422);
    await same.arrayBuffer();
    const changed = await ok<Project>(
      await call('POST', `/v1/projects/${id}/changes`, await clerk(LOCK), change),
    );
    expect(changed).toMatchObject({ status: 'submitted', current_step: 0, total_fen: 150 * WAN });
    expect(changed.route?.map((s) => s.label)).toEqual(['市级审核', '省级审批（可行性研究及初步设计）']);
    expect(changed.funding_lines.every((l) => l.committed_fen === 0)).toBe(true);
    expect((await balance(LOCK))?.committed_fen).toBe(0);
    const last = (await reviews(id, await clerk(LOCK))).at(-1);
    expect(last).toMatchObject({ action: 'change', comment: '增加一座便民桥' });
    expect(last?.changes).toMatchObject({
      total_fen: { old: 120 * WAN, new: 150 * WAN },
      village_codes: { old: [village(LOCK)], new: [village(LOCK), village(LOCK, 1)] },
      released_fen: { post_support: 100 * WAN },
    });
    // Only an approved project changes scope.
    expect(
      (await problem(await call('POST', `/v1/projects/${id}/changes`, await clerk(LOCK), change))).code,
    ).toBe('conflict');
    // Through the route again, committing the new amount.
    await ok(await review(id, await cityReviewer(LOCK), 'approve'));
    const approved = await ok<Project>(await review(id, await provinceAdmin(LOCK), 'approve'));
    expect(approved.status).toBe('approved');
    expect((await balance(LOCK))?.committed_fen).toBe(130 * WAN);
    expect(await auditActions(LOCK, id)).toContain('project.change');
  });

  it('cancelling releases the commitments', async () => {
    const cancelled = await ok<Project>(
      await call('POST', `/v1/projects/${id}/cancel`, await clerk(LOCK), { reason: '选址调整，另行申报' }),
    );
    expect(cancelled.status).toBe('cancelled');
    expect((await balance(LOCK))?.committed_fen).toBe(0);
    expect(
      (
        await problem(
          await call('POST', `/v1/projects/${id}/cancel`, await clerk(LOCK), { reason: '再次取消' }),
        )
      ).code,
    ).toBe('conflict');
  });
});

// ── Allocations and balances ───────────────────────────────────────────────────────────────────

describe('fund allocations and balances', () => {
  const allocationBody = (county: number, amount = 100 * WAN) => ({
    county_code: county,
    source: 'post_support',
    year: YEAR,
    amount_fen: amount,
    document_no: '测〔2026〕1号',
    allocated_on: daysAgo(400),
  });
  const post = (as: string, b: unknown) =>
    call('POST', '/v1/fund-allocations', as, b, { 'idempotency-key': randomUUID() });

  it('only the province (or the nation) allocates, to counties in its scope', async () => {
    expect((await problem(await post(await clerk(FUNDS), allocationBody(FUNDS)))).code).toBe('forbidden');
    expect((await problem(await post(await cityReviewer(FUNDS), allocationBody(FUNDS)))).code).toBe(
      'forbidden',
    );
    const elsewhere = await post(
      await provinceAdmin(provinceOf(FUNDS) === 110000 ? 120000 : 110000),
      allocationBody(FUNDS),
    );
    expect(elsewhere.status).toBe(404);
    await elsewhere.arrayBuffer();
    const notAllocated = await post(await provinceAdmin(FUNDS), {
      ...allocationBody(FUNDS),
      source: 'integrated',
    });
    expect(notAllocated.status).toBe(400);
    await notAllocated.arrayBuffer();
    const missingKey = await call(
      'POST',
      '/v1/fund-allocations',
      await provinceAdmin(FUNDS),
      allocationBody(FUNDS),
    );
    expect(missingKey.status).toBeGreaterThanOrEqual(400);
    await missingKey.arrayBuffer();
    const made = await ok<{ id: string; county_code: number; province_code: number }>(
      await post(await provinceAdmin(FUNDS), allocationBody(FUNDS)),
      201,
    );
    expect(made).toMatchObject({ county_code: FUNDS, province_code: provinceOf(FUNDS) });
    await ok(
      await post(await nationalAdmin(), {
        ...allocationBody(FUNDS, 50 * WAN),
        source: 'three_gorges',
        allocated_on: daysAgo(10),
      }),
      201,
    );
    expect(await auditActions(FUNDS, made.id)).toEqual(['fund_allocation.create']);

    const list = await ok<Page<{ id: string; source: string }>>(
      await call('GET', `/v1/fund-allocations?county=${FUNDS}`, await clerk(FUNDS)),
    );
    expect(list.data.map((a) => a.source).sort()).toEqual(['post_support', 'three_gorges']);
    const sibling = await ok<Page<unknown>>(
      await call('GET', `/v1/fund-allocations?county=${FUNDS}`, await clerk(RACE)),
    );
    expect(sibling.data).toEqual([]);
  });

  it('a county’s balance: allocated, committed, paid, available and idle (allocations older than idle_months)', async () => {
    const b = await balance(FUNDS);
    expect(b).toMatchObject({
      county_code: FUNDS,
      year: YEAR,
      idle_months: 12,
      allocated_fen: 150 * WAN,
      committed_fen: 0,
      paid_fen: 0,
      available_fen: 150 * WAN,
      idle_fen: 100 * WAN,
    });
    expect(b?.sources.map((s) => [s.source, s.idle_fen])).toEqual([
      ['post_support', 100 * WAN],
      ['three_gorges', 0],
    ]);
    // Judged a year later, the second allocation is idle too.
    expect((await balance(FUNDS, undefined, `&on=${YEAR + 1}-12-31`))?.idle_fen).toBe(150 * WAN);
    // The city and province see it; the sibling county does not.
    expect((await balance(FUNDS, await cityReviewer(FUNDS)))?.allocated_fen).toBe(150 * WAN);
    expect((await balance(FUNDS, await provinceAdmin(FUNDS)))?.allocated_fen).toBe(150 * WAN);
    expect(await balance(FUNDS, await clerk(RACE))).toBeUndefined();
  });

  it('a commitment the allocation cannot cover is refused whole (409 insufficient_funds)', async () => {
    const p = await submitted(FUNDS, [
      ['post_support', 90 * WAN],
      ['three_gorges', 60 * WAN],
    ]);
    await ok(await review(p.id, await cityReviewer(FUNDS), 'approve'));
    const res = await review(p.id, await provinceAdmin(FUNDS), 'approve');
    expect(res.status).toBe(409);
    const body = await problem(res);
    expect(body.code).toBe('insufficient_funds');
    expect(body.detail).toContain('three_gorges');
    expect(body.detail).toContain(`${50 * WAN} fen`);
    expect(body.detail).toContain(`${60 * WAN} fen`);
    expect(fields(body)).toEqual(['funding_lines.three_gorges']);
    // Nothing was committed, not even the post-support line that fitted.
    expect(await get(p.id, await clerk(FUNDS))).toMatchObject({ status: 'submitted', current_step: 1 });
    expect((await balance(FUNDS))?.committed_fen).toBe(0);
    // More money arrives; the same approval now passes.
    await allocate(FUNDS, 10 * WAN, 'three_gorges');
    expect((await ok<Project>(await review(p.id, await provinceAdmin(FUNDS), 'approve'))).status).toBe(
      'approved',
    );
    expect((await balance(FUNDS))?.sources.find((s) => s.source === 'three_gorges')?.available_fen).toBe(0);
  });

  it('concurrent approvals against one allocation never exceed it', async () => {
    const N = 8;
    const each = 3 * WAN;
    const allocated = 10 * WAN; // room for exactly 3
    await allocate(RACE, allocated);
    const projects = [];
    for (let i = 0; i < N; i += 1) projects.push(await submitted(RACE, [['post_support', each]]));
    const reviewer = await cityReviewer(RACE);
    const results = await Promise.all(projects.map((p) => review(p.id, reviewer, 'approve')));
    const statuses = results.map((r) => r.status);
    const codes = await Promise.all(results.map(async (r) => ((await r.json()) as { code?: string }).code));
    expect(statuses.filter((s) => s === 200)).toHaveLength(Math.floor(allocated / each));
    expect(codes.filter((c) => c === 'insufficient_funds')).toHaveLength(N - Math.floor(allocated / each));
    const b = await balance(RACE);
    expect(b?.committed_fen).toBe(Math.floor(allocated / each) * each);
    expect(b?.committed_fen).toBeLessThanOrEqual(b?.allocated_fen ?? 0);
    const [db] = rowsOf<{ committed: string; allocated: string }>(
      await t.admin.orm.execute(sql`SELECT committed_fen::text AS committed, allocated_fen::text AS allocated
        FROM fund_balances WHERE division_code = ${RACE} AND year = ${YEAR} AND source = 'post_support'`),
    );
    expect(Number(db?.committed)).toBe(9 * WAN);
    const approved = await ok<Page<Project>>(
      await call('GET', `/v1/projects?county=${RACE}&status=approved`, reviewer),
    );
    expect(approved.data).toHaveLength(3);
  });
});
