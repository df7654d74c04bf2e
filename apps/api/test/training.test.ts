/**
 * /v1/training-* 移民培训 (docs/training.md) through the API: the county's annual plan checked against
 * the province's budget rules (cost per trainee within the cap, funding adding up), the approval route
 * of projects with the reviewer's level checked (403 for the wrong level), returns with comments, an
 * approved plan locked (409 `training_plan_locked`), providers and the competitive selection (too few
 * bids refused, the ranking and reasons recorded), sessions whose cost never exceeds the approved
 * budget — also when recorded concurrently (really racing on PostgreSQL, serialised on PGlite) — with
 * registered persons linked, and the plan-vs-done report with 双过半.
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
  makePerson,
  makeTownship,
  ok,
  problem,
  type TestApp,
  tokenCache,
} from './helpers.js';

interface Line {
  kind: string;
  label: string;
  sessions: number;
  trainees: number;
  trainee_times: number;
  courses: string[];
  budget_fen: number;
  spent_fen: number;
  cost_per_trainee_fen: number;
}
interface Plan {
  id: string;
  county_code: number;
  year: number;
  name: string;
  budget_fen: number;
  spent_fen: number;
  lines: Line[];
  funding_lines: { source: string; amount_fen: number }[];
  status: string;
  locked: boolean;
  route: { index: number; level: string; action: string; label: string; state: string }[] | null;
  current_step: number | null;
  history: { seq: number; level: string; action: string; decision: string; comment: string | null }[];
  version: number;
}
interface Call {
  id: string;
  status: string;
  bids: { provider_id: string; provider_name: string; price_per_trainee_fen: number }[];
  selection: {
    selected: string[];
    ranking: { rank: number; provider_id: string; total_score: string; selected: boolean; reason: string }[];
    disqualified: { provider_id: string; reason: string }[];
    min_bids: number;
    weights: Record<string, number>;
  } | null;
}
interface Session {
  id: string;
  plan_id: string;
  kind: string;
  trainees: number;
  person_ids: string[];
  cost_fen: number;
  provider_id: string | null;
}
interface Measure {
  planned: number;
  done: number;
  time_percent: string;
  done_percent: string | null;
  on_track: boolean;
  double_half: boolean;
}
interface Report {
  year: number;
  on: string;
  data: {
    county_code: number;
    status: string;
    sessions: Measure;
    trainee_times: Measure;
    spend_fen: Measure;
    double_half: boolean;
    behind: string[];
  }[];
  total: { sessions: Measure; trainee_times: Measure; spend_fen: Measure; double_half: boolean };
}
interface Page<T> {
  data: T[];
  next_cursor: string | null;
}

let t: TestApp;
/** Counties of the first fresh city. */
let HAPPY: number;
let ERRORS: number;
let LOCK: number;
/** Counties of the second fresh city (the sibling city of the first). */
let BIDS: number;
let RACE: number;
let village: number;

const cityOf = (county: number) => county - (county % 100);
const provinceOf = (code: number) => code - (code % 10_000);
const YEAR = 2026;
const WAN = 1_000_000; // 1万 yuan in fen

const token = tokenCache(() => t);
const clerk = (county: number) => token(county, ['county_operator'], `user:train:clerk:${county}`);
const countyApprover = (county: number) =>
  token(county, ['county_approver'], `user:train:approver:${county}`);
const cityReviewer = (code: number) =>
  token(cityOf(code), ['city_reviewer'], `user:train:city:${cityOf(code)}`);
const provinceAdmin = (code: number) =>
  token(provinceOf(code), ['province_admin'], `user:train:province:${provinceOf(code)}`);

beforeAll(async () => {
  t = await createTestApp();
  const {
    counties: [first, second],
  } = await freshCities(t);
  [HAPPY, ERRORS, LOCK] = first as [number, number, number];
  [BIDS, RACE] = second as [number, number];
  village = (await makeTownship(t.db, HAPPY, 1)).villages[0]?.code as number;
});
afterAll(() => t.close());

// ── Helpers ────────────────────────────────────────────────────────────────────────────────────

const call = caller(() => t);

/** The codes a problem's `errors` carry. */
const codes = (body: { errors?: { field: string }[] }) =>
  ((body.errors ?? []) as { code?: string }[]).map((e) => e.code);

interface LineSpec {
  kind?: string;
  trainees?: number;
  budget?: number;
  sessions?: number;
}

/** A plan body: practical-skills lines by default, funded from post-support funds in full. */
function planBody(lines: LineSpec[], extra: Record<string, unknown> = {}) {
  const built = lines.map((l) => ({
    kind: l.kind ?? 'practical_skills',
    sessions: l.sessions ?? 10,
    trainees: l.trainees ?? 100,
    trainee_times: (l.trainees ?? 100) * 2,
    courses: ['柑桔栽培', '蔬菜生产'],
    budget_fen: l.budget ?? 5 * WAN,
  }));
  const total = built.reduce((a, l) => a + l.budget_fen, 0);
  return {
    year: YEAR,
    name: `测试培训计划${randomUUID().slice(0, 6)}`,
    lines: built,
    funding_lines: [{ source: 'post_support', amount_fen: total }],
    ...extra,
  };
}

/** A PUT body: the plan body without its year. */
const putBody = (lines: LineSpec[]) => {
  const { year: _, ...rest } = planBody(lines);
  return rest;
};

const createPlan = async (county: number, lines: LineSpec[], year = YEAR) =>
  ok<Plan>(await call('POST', '/v1/training-plans', await clerk(county), planBody(lines, { year })), 201);
const submit = async (county: number, id: string) =>
  ok<Plan>(await call('POST', `/v1/training-plans/${id}/submit`, await clerk(county)));
const review = (id: string, as: string, action: string, extra: Record<string, unknown> = {}) =>
  call('POST', `/v1/training-plans/${id}/review`, as, { action, ...extra });

/** A plan under 50万 (city approves, province records), approved by the city. */
async function approvedPlan(county: number, lines: LineSpec[], year = YEAR) {
  const plan = await createPlan(county, lines, year);
  await submit(county, plan.id);
  return ok<Plan>(await review(plan.id, await cityReviewer(county), 'approve'));
}

const getPlan = async (id: string, as: string) => ok<Plan>(await call('GET', `/v1/training-plans/${id}`, as));

function sessionBody(plan: Plan, cost: number, extra: Record<string, unknown> = {}) {
  return {
    plan_id: plan.id,
    kind: 'practical_skills',
    held_on: `${plan.year}-04-12`,
    place: '红花套镇农技站',
    course: '柑桔栽培',
    trainees: 50,
    materials: 60,
    cost_fen: cost,
    ...extra,
  };
}
const session = async (county: number, body: Record<string, unknown>) =>
  call('POST', '/v1/training-sessions', await clerk(county), body, { 'idempotency-key': randomUUID() });

async function auditActions(county: number, entityId: string): Promise<string[]> {
  return rowsOf<{ action: string }>(
    await t.admin.orm.execute(sql`SELECT action FROM audit_events WHERE division_code = ${county}
      AND entity_id = ${entityId} ORDER BY seq`),
  ).map((r) => r.action);
}

// ── Plans and their approval ───────────────────────────────────────────────────────────────────

describe('annual plans and their approval route', () => {
  it('enters the seed plan (77.42万 for 1,014 trainees: 763.51 yuan each) and lists it', async () => {
    const plan = await createPlan(HAPPY, [
      { trainees: 1014, budget: 77_420_000, sessions: 40 },
      { kind: 'cadre', trainees: 100, budget: 8_000_000, sessions: 1 },
    ]);
    expect(plan).toMatchObject({
      county_code: HAPPY,
      status: 'draft',
      locked: false,
      budget_fen: 85_420_000,
    });
    expect(plan.lines.map((l) => [l.kind, l.cost_per_trainee_fen])).toEqual([
      ['cadre', 80_000],
      ['practical_skills', 76_351],
    ]);
    const res = await call('GET', `/v1/training-plans/${plan.id}`, await clerk(HAPPY));
    expect(res.headers.get('etag')).toBe('"v1"');
    const page = await ok<Page<Plan>>(
      await call('GET', `/v1/training-plans?county=${HAPPY}&year=${YEAR}`, await cityReviewer(HAPPY)),
    );
    expect(page.data.map((p) => p.id)).toEqual([plan.id]);
    expect(await auditActions(HAPPY, plan.id)).toEqual(['training_plan.create']);

    // 85.42万: city review → province approves → city approves the implementation scheme.
    const submitted = await submit(HAPPY, plan.id);
    expect(submitted.route?.map((s) => s.label)).toEqual([
      '市级审核',
      '省级审批（可行性研究）',
      '市级审批（初步设计）',
    ]);
    expect(submitted.locked).toBe(true);
    // The province cannot act on the city's step: 403, nothing changes.
    const wrong = await review(plan.id, await provinceAdmin(HAPPY), 'approve');
    expect(wrong.status).toBe(403);
    expect((await problem(wrong)).detail).toContain('city');
    await ok<Plan>(await review(plan.id, await cityReviewer(HAPPY), 'approve', { step: 0, comment: '同意' }));
    // Now the city is the wrong level.
    expect((await review(plan.id, await cityReviewer(HAPPY), 'approve')).status).toBe(403);
    // The province approves the plan; the city's approval of the implementation scheme completes it.
    const passed = await ok<Plan>(await review(plan.id, await provinceAdmin(HAPPY), 'approve'));
    expect(passed).toMatchObject({ status: 'submitted', current_step: 2 });
    const done = await ok<Plan>(await review(plan.id, await cityReviewer(HAPPY), 'approve'));
    expect(done).toMatchObject({ status: 'approved', current_step: null });
    expect(done.history.map((h) => `${h.level}:${h.action}:${h.decision}`)).toEqual([
      'county:submit:submitted',
      'city:review:passed',
      'province:approve:passed',
      'city:approve:approved',
    ]);
    expect(await auditActions(HAPPY, plan.id)).toEqual([
      'training_plan.create',
      'training_plan.submit',
      'training_plan.review',
      'training_plan.approve',
      'training_plan.approve',
    ]);
  });

  it('a small plan: the city approves and the province records', async () => {
    const plan = await createPlan(HAPPY, [{ budget: 5 * WAN }], YEAR + 1);
    const submitted = await submit(HAPPY, plan.id);
    expect(submitted.route?.map((s) => s.label)).toEqual(['市级审批（可行性研究及初步设计）', '省级备案']);
    expect((await review(plan.id, await provinceAdmin(HAPPY), 'record')).status).toBe(403);
    await ok<Plan>(await review(plan.id, await cityReviewer(HAPPY), 'approve'));
    const wrongAction = await review(plan.id, await provinceAdmin(HAPPY), 'approve');
    expect(wrongAction.status).toBe(422);
    const recorded = await ok<Plan>(await review(plan.id, await provinceAdmin(HAPPY), 'record'));
    expect(recorded).toMatchObject({ status: 'approved', current_step: null });
    expect((await review(plan.id, await provinceAdmin(HAPPY), 'record')).status).toBe(409);
  });

  it('a return needs a comment; the county corrects and resubmits', async () => {
    const plan = await createPlan(ERRORS, [{ budget: 5 * WAN }]);
    await submit(ERRORS, plan.id);
    const bare = await review(plan.id, await cityReviewer(ERRORS), 'return');
    expect(bare.status).toBe(400);
    expect(fields(await problem(bare))).toEqual(['comment']);
    const returned = await ok<Plan>(
      await review(plan.id, await cityReviewer(ERRORS), 'return', { comment: '请补充培训内容' }),
    );
    expect(returned).toMatchObject({ status: 'returned', locked: false, current_step: null });
    expect(returned.history.at(-1)).toMatchObject({ action: 'return', comment: '请补充培训内容' });
    const body = putBody([{ budget: 4 * WAN }]);
    const replaced = await ok<Plan>(
      await call('PUT', `/v1/training-plans/${plan.id}`, await clerk(ERRORS), body, {
        'if-match': `"v${returned.version}"`,
      }),
    );
    expect(replaced.budget_fen).toBe(4 * WAN);
    const again = await submit(ERRORS, plan.id);
    expect(again.history.at(-1)).toMatchObject({ action: 'resubmit' });
    expect(await auditActions(ERRORS, plan.id)).toEqual([
      'training_plan.create',
      'training_plan.submit',
      'training_plan.return',
      'training_plan.update',
      'training_plan.resubmit',
    ]);
  });

  it('a submitted or approved plan is locked: 409 training_plan_locked', async () => {
    const plan = await createPlan(LOCK, [{ budget: 5 * WAN }]);
    const submitted = await submit(LOCK, plan.id);
    const put = async (version: number) =>
      call('PUT', `/v1/training-plans/${plan.id}`, await clerk(LOCK), putBody([{ budget: 6 * WAN }]), {
        'if-match': `"v${version}"`,
      });
    const whileReviewed = await put(submitted.version);
    expect(whileReviewed.status).toBe(409);
    expect((await problem(whileReviewed)).code).toBe('training_plan_locked');
    const approved = await ok<Plan>(await review(plan.id, await cityReviewer(LOCK), 'approve'));
    const afterApproval = await put(approved.version);
    expect(afterApproval.status).toBe(409);
    const body = await problem(afterApproval);
    expect(body.code).toBe('training_plan_locked');
    expect(body.detail).toContain('approval');
    expect((await getPlan(plan.id, await clerk(LOCK))).budget_fen).toBe(5 * WAN);
    // A stale If-Match on a draft: 412; none: 428.
    const draft = await createPlan(LOCK, [{ budget: 5 * WAN }], YEAR + 1);
    const stale = await call('PUT', `/v1/training-plans/${draft.id}`, await clerk(LOCK), putBody([{}]), {
      'if-match': '"v9"',
    });
    expect(stale.status).toBe(412);
    expect(
      (await call('PUT', `/v1/training-plans/${draft.id}`, await clerk(LOCK), putBody([{}]))).status,
    ).toBe(428);
    // A second plan for the year: 409.
    const twice = await call('POST', '/v1/training-plans', await clerk(LOCK), planBody([{}]));
    expect(twice.status).toBe(409);
  });
});

describe('budget rules on every write', () => {
  it('refuses a cost per trainee above the province cap (exact, on the totals)', async () => {
    // Cap 800 yuan: 100 trainees hold at most 80,000 yuan = 8,000,000 fen.
    const over = await call(
      'POST',
      '/v1/training-plans',
      await clerk(ERRORS),
      planBody([{ trainees: 100, budget: 8_000_001 }], { year: YEAR + 3 }),
    );
    expect(over.status).toBe(422);
    const body = await problem(over);
    expect(body.errors).toContainEqual(
      expect.objectContaining({ field: 'lines.0.budget_fen', code: 'cost_per_trainee_above_cap' }),
    );
    const at = await call(
      'POST',
      '/v1/training-plans',
      await clerk(ERRORS),
      planBody([{ trainees: 100, budget: 8_000_000 }], { year: YEAR + 3 }),
    );
    expect(at.status).toBe(201);
  });

  it('refuses funding that does not add up, duplicate kinds and missing trainees', async () => {
    const body = planBody([{ budget: 5 * WAN }], { year: YEAR + 4 });
    body.funding_lines = [{ source: 'post_support', amount_fen: 4 * WAN }];
    const res = await call('POST', '/v1/training-plans', await clerk(ERRORS), body);
    expect(res.status).toBe(422);
    expect(fields(await problem(res))).toContain('funding_lines');
    const dup = await call(
      'POST',
      '/v1/training-plans',
      await clerk(ERRORS),
      planBody([{ budget: WAN }, { budget: WAN }], { year: YEAR + 4 }),
    );
    expect(dup.status).toBe(422);
    expect(fields(await problem(dup))).toContain('lines.1.kind');
    const none = await call(
      'POST',
      '/v1/training-plans',
      await clerk(ERRORS),
      planBody([{ trainees: 0, budget: WAN }], { year: YEAR + 4 }),
    );
    expect(none.status).toBe(422);
    expect(fields(await problem(none))).toContain('lines.0.trainees');
  });

  it('a session needs an approved plan, a cost within the cap per trainee and within the budget', async () => {
    const draft = await createPlan(ERRORS, [{ budget: 5 * WAN }], YEAR + 5);
    const early = await session(ERRORS, sessionBody(draft, 10_000));
    expect(early.status).toBe(409);
    expect(fields(await problem(early))).toEqual(['plan_id']);

    const plan = await approvedPlan(ERRORS, [{ trainees: 100, budget: 60_000 * 50 }], YEAR + 6);
    // 50 trainees × 800 yuan = 4,000,000 fen at most.
    const dear = await session(ERRORS, sessionBody(plan, 4_000_001));
    expect(dear.status).toBe(422);
    expect(codes(await problem(dear))).toEqual(['cost_per_trainee_above_cap']);
    // A session spends money: without an Idempotency-Key it is refused; a retry with the key is recorded once.
    const noKey = await call(
      'POST',
      '/v1/training-sessions',
      await clerk(ERRORS),
      sessionBody(plan, 2_000_000),
    );
    expect(noKey.status).toBe(400);
    const key = { 'idempotency-key': randomUUID() };
    const body = sessionBody(plan, 2_000_000);
    const first = await ok<Session>(
      await call('POST', '/v1/training-sessions', await clerk(ERRORS), body, key),
      201,
    );
    const retried = await ok<Session>(
      await call('POST', '/v1/training-sessions', await clerk(ERRORS), body, key),
      201,
    );
    expect(retried.id).toBe(first.id);
    expect(first).toMatchObject({ trainees: 50, cost_fen: 2_000_000 });
    const otherYear = await session(ERRORS, sessionBody(plan, 10_000, { held_on: `${YEAR}-04-12` }));
    expect(otherYear.status).toBe(422);
    expect(fields(await problem(otherYear))).toEqual(['held_on']);
    // 3,000,000 budget − 2,000,000 spent: 1,000,000 left.
    const over = await session(ERRORS, sessionBody(plan, 1_000_001));
    expect(over.status).toBe(409);
    const p = await problem(over);
    expect(p.code).toBe('training_budget_exceeded');
    expect(p.detail).toContain('1000000 fen');
    await ok<Session>(await session(ERRORS, sessionBody(plan, 1_000_000)), 201);
    expect((await getPlan(plan.id, await clerk(ERRORS))).lines[0]).toMatchObject({
      budget_fen: 3_000_000,
      spent_fen: 3_000_000,
    });
    // No cadre line in this plan.
    const cadre = await session(ERRORS, sessionBody(plan, 10_000, { kind: 'cadre' }));
    expect(cadre.status).toBe(422);
    expect(codes(await problem(cadre))).toEqual(['no_budget_line']);
    expect(await auditActions(ERRORS, first.id)).toEqual(['training_session.create']);
  });

  it('links registered persons of the county, and refuses unknown ones', async () => {
    const plan = await approvedPlan(HAPPY, [{ budget: 5 * WAN }], YEAR + 2);
    const a = await makePerson(t, HAPPY, { village });
    const b = await makePerson(t, HAPPY, { village });
    const made = await ok<Session>(
      await session(HAPPY, sessionBody(plan, 100_000, { person_ids: [a.id, b.id] })),
      201,
    );
    expect([...made.person_ids].sort()).toEqual([a.id, b.id].sort());
    const got = await ok<Session>(
      await call('GET', `/v1/training-sessions/${made.id}`, await cityReviewer(HAPPY)),
    );
    expect(got.person_ids).toHaveLength(2);
    const unknown = await session(HAPPY, sessionBody(plan, 100_000, { person_ids: [randomUUID()] }));
    expect(unknown.status).toBe(422);
    expect(fields(await problem(unknown))).toEqual(['person_ids.0']);
    const list = await ok<Page<Session>>(
      await call('GET', `/v1/training-sessions?plan_id=${plan.id}`, await clerk(HAPPY)),
    );
    expect(list.data.map((s) => s.id)).toEqual([made.id]);
  });

  it('concurrent session costs never exceed the approved budget', async () => {
    const N = 8;
    const each = 3 * WAN;
    const budget = 10 * WAN; // room for exactly 3
    const plan = await approvedPlan(RACE, [{ trainees: 1000, budget }]);
    const as = await clerk(RACE);
    const results = await Promise.all(
      Array.from({ length: N }, () =>
        call('POST', '/v1/training-sessions', as, sessionBody(plan, each, { trainees: 400 }), {
          'idempotency-key': randomUUID(),
        }),
      ),
    );
    const statuses = results.map((r) => r.status);
    const codes = await Promise.all(results.map(async (r) => ((await r.json()) as { code?: string }).code));
    expect(statuses.filter((s) => s === 201)).toHaveLength(3);
    expect(codes.filter((c) => c === 'training_budget_exceeded')).toHaveLength(N - 3);
    const [db] = rowsOf<{ spent: string; budget: string; sessions: string; total: string }>(
      await t.admin.orm.execute(sql`SELECT l.spent_fen::text AS spent, l.budget_fen::text AS budget,
          (SELECT count(*) FROM training_sessions s WHERE s.division_code = l.division_code
            AND s.plan_id = l.plan_id)::text AS sessions,
          (SELECT coalesce(sum(cost_fen), 0) FROM training_sessions s WHERE s.division_code = l.division_code
            AND s.plan_id = l.plan_id)::text AS total
        FROM training_plan_lines l WHERE l.division_code = ${RACE} AND l.plan_id = ${plan.id}::uuid`),
    );
    expect(Number(db?.spent)).toBe(9 * WAN);
    expect(Number(db?.total)).toBe(9 * WAN);
    expect(Number(db?.sessions)).toBe(3);
    expect(Number(db?.spent)).toBeLessThanOrEqual(Number(db?.budget));
  });
});

// ── Providers and competitive selection ────────────────────────────────────────────────────────

describe('providers and competitive selection', () => {
  const provider = async (county: number, name: string) =>
    ok<{ id: string; name: string }>(
      await call('POST', '/v1/training-providers', await clerk(county), { name, contact: '0717-4812345' }),
      201,
    );
  const bid = async (callId: string, providerId: string, price: number, scores = [90, 85, 80]) =>
    call('POST', `/v1/training-calls/${callId}/bids`, await clerk(BIDS), {
      provider_id: providerId,
      price_per_trainee_fen: price,
      scores: { scheme: scores[0], capacity: scores[1], record: scores[2] },
    });

  it('refuses too few bids, then ranks, selects and records the reasons', async () => {
    const plan = await approvedPlan(BIDS, [{ trainees: 1014, budget: 77_420_000 / 2 }]);
    const a = await provider(BIDS, '宜都市农业技术推广中心');
    const b = await provider(BIDS, '宜都市职业教育中心');
    const c = await provider(BIDS, '红花套镇农技站');
    const d = await provider(BIDS, '高价培训学校');
    expect(
      (await call('POST', '/v1/training-providers', await clerk(BIDS), { name: '红花套镇农技站' })).status,
    ).toBe(409);
    const opened = await ok<Call>(
      await call('POST', '/v1/training-calls', await clerk(BIDS), {
        plan_id: plan.id,
        kind: 'practical_skills',
        title: '移民实用技术培训承训单位竞争性选择',
        trainees: 500,
        budget_fen: 35_000_000,
        providers: 2,
      }),
      201,
    );
    await ok<Call>(await bid(opened.id, a.id, 60_000, [90, 90, 90]), 201);
    await ok<Call>(await bid(opened.id, b.id, 65_000, [80, 80, 80]), 201);
    // Above the 800-yuan cap: disqualified, so only 2 qualifying bids of the 3 required.
    await ok<Call>(await bid(opened.id, d.id, 80_001), 201);
    expect((await bid(opened.id, a.id, 59_000)).status).toBe(409);
    const few = await call('POST', `/v1/training-calls/${opened.id}/selection`, await clerk(BIDS));
    expect(few.status).toBe(422);
    expect(codes(await problem(few))).toContain('too_few_bids');
    expect(
      (await ok<Call>(await call('GET', `/v1/training-calls/${opened.id}`, await clerk(BIDS)))).status,
    ).toBe('open');
    await ok<Call>(await bid(opened.id, c.id, 70_000, [70, 70, 70]), 201);
    const decided = await ok<Call>(
      await call('POST', `/v1/training-calls/${opened.id}/selection`, await clerk(BIDS)),
    );
    expect(decided.status).toBe('selected');
    expect(decided.selection?.selected).toEqual([a.id, b.id]);
    expect(decided.selection?.ranking.map((r) => r.provider_id)).toEqual([a.id, b.id, c.id]);
    // Price points 30 (lowest), scheme 36, capacity 18, record 9.
    expect(decided.selection?.ranking[0]?.total_score).toBe('93.00');
    expect(decided.selection?.ranking[0]?.reason).toContain('第1名');
    expect(decided.selection?.disqualified).toEqual([
      expect.objectContaining({ provider_id: d.id, reason: 'above_per_trainee_cap' }),
    ]);
    expect(decided.selection).toMatchObject({
      min_bids: 3,
      weights: { price: 30, scheme: 40, capacity: 20, record: 10 },
    });
    expect((await call('POST', `/v1/training-calls/${opened.id}/selection`, await clerk(BIDS))).status).toBe(
      409,
    );
    expect(await auditActions(BIDS, opened.id)).toEqual([
      'training_call.create',
      'training_call.bid',
      'training_call.bid',
      'training_call.bid',
      'training_call.bid',
      'training_call.select',
    ]);
    // Sessions of the kind now go to a selected provider only.
    const rejected = await session(BIDS, sessionBody(plan, 100_000, { provider_id: c.id }));
    expect(rejected.status).toBe(422);
    expect(codes(await problem(rejected))).toEqual(['provider_not_selected']);
    await ok<Session>(await session(BIDS, sessionBody(plan, 100_000, { provider_id: a.id })), 201);
    const listed = await ok<Page<{ id: string }>>(
      await call('GET', `/v1/training-providers?county=${BIDS}`, await cityReviewer(BIDS)),
    );
    expect(listed.data).toHaveLength(4);
  });

  it('a call needs an approved plan and stays within the line’s budget', async () => {
    const draft = await createPlan(BIDS, [{ budget: 5 * WAN }], YEAR + 1);
    const body = {
      plan_id: draft.id,
      kind: 'practical_skills',
      title: '竞争性选择',
      trainees: 10,
      budget_fen: WAN,
      providers: 1,
    };
    expect((await call('POST', '/v1/training-calls', await clerk(BIDS), body)).status).toBe(409);
    await submit(BIDS, draft.id);
    await ok<Plan>(await review(draft.id, await cityReviewer(BIDS), 'approve'));
    const over = await call('POST', '/v1/training-calls', await clerk(BIDS), {
      ...body,
      budget_fen: 5 * WAN + 1,
    });
    expect(over.status).toBe(422);
    expect(fields(await problem(over))).toEqual(['budget_fen']);
    const other = await call('POST', '/v1/training-calls', await clerk(RACE), body);
    expect(other.status).toBe(422);
    expect(fields(await problem(other))).toEqual(['plan_id']);
  });
});

// ── Security ───────────────────────────────────────────────────────────────────────────────────

describe('scope and permissions', () => {
  it('a county writes its own plans only; reviewers and approvers do not enter plans', async () => {
    const plan = await createPlan(LOCK, [{ budget: WAN }], YEAR + 2);
    // Another county (of another city) does not see it.
    expect((await call('GET', `/v1/training-plans/${plan.id}`, await clerk(BIDS))).status).toBe(404);
    expect((await call('POST', `/v1/training-plans/${plan.id}/submit`, await clerk(BIDS))).status).toBe(404);
    // A sibling county of the same city does not see it either.
    expect((await call('GET', `/v1/training-plans/${plan.id}`, await clerk(HAPPY))).status).toBe(404);
    // The county approver reads but does not write (no training:write).
    expect((await call('GET', `/v1/training-plans/${plan.id}`, await countyApprover(LOCK))).status).toBe(200);
    expect(
      (await call('POST', '/v1/training-plans', await countyApprover(LOCK), planBody([{}]))).status,
    ).toBe(403);
    // A county clerk cannot review (no training:approve).
    await submit(LOCK, plan.id);
    expect((await review(plan.id, await clerk(LOCK), 'approve')).status).toBe(403);
    // The city of another city's county: outside its scope.
    expect((await review(plan.id, await cityReviewer(BIDS), 'approve')).status).toBe(404);
    // No token: 401.
    expect((await t.call('GET', `/v1/training-plans/${plan.id}`)).status).toBe(401);
  });
});

// ── Oversight ──────────────────────────────────────────────────────────────────────────────────

describe('plan vs done with 双过半', () => {
  it('reports sessions, trainee-times and spend per county, for the county, its city and province', async () => {
    // RACE's plan: 10 sessions, 2,000 trainee-times, 10万; 3 sessions of 400 (1,200), 9万 spent.
    const q = `year=${YEAR}&on=${YEAR}-07-15`;
    const own = await ok<Report>(await call('GET', `/v1/training-report?${q}`, await clerk(RACE)));
    expect(own.data).toHaveLength(1);
    const row = own.data[0];
    expect(row).toMatchObject({ county_code: RACE, status: 'approved' });
    expect(row?.sessions).toMatchObject({ planned: 10, done: 3, done_percent: '30.00', on_track: false });
    expect(row?.trainee_times).toMatchObject({
      planned: 2000,
      done: 1200,
      done_percent: '60.00',
      double_half: true,
    });
    expect(row?.spend_fen).toMatchObject({ planned: 10 * WAN, done: 9 * WAN, double_half: true });
    expect(row?.double_half).toBe(false);
    expect(row?.behind).toEqual(['sessions']);
    const city = await ok<Report>(
      await call('GET', `/v1/training-report?${q}&county=${RACE}`, await cityReviewer(RACE)),
    );
    expect(city.data.map((r) => r.county_code)).toEqual([RACE]);
    const province = await ok<Report>(
      await call('GET', `/v1/training-report?${q}`, await provinceAdmin(RACE)),
    );
    expect(province.data.map((r) => r.county_code)).toEqual(expect.arrayContaining([RACE, HAPPY, BIDS]));
    expect(province.total.sessions.planned).toBe(province.data.reduce((a, r) => a + r.sessions.planned, 0));
    // A county asking for another: 404.
    expect((await call('GET', `/v1/training-report?${q}&county=${HAPPY}`, await clerk(RACE))).status).toBe(
      404,
    );
  });
});
