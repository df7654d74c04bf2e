/**
 * Implementation 项目实施 and completion acceptance 竣工验收 of post-support projects through the API
 * (docs/projects.md, issue 5 capabilities 5 and 6): progress reports moving an approved project to
 * in progress and completed, contracts within the total, contractor payments by the province's payment
 * schedule (10/40/30/10 + 10% quality deposit) charged to the project's funding lines and the county's
 * balance (`paid_fen`, idle funds), no payment on an unapproved project, the acceptance route by size
 * with the wrong level trying at every stage (403), the three flags (plan moved, work undone, funds
 * diverted) recorded and blocking a pass, the asset handed over to a named maintainer, and concurrent
 * payments that never overspend a line or the schedule (really racing on PostgreSQL, serialised on
 * PGlite).
 *
 * Works on a shared PostgreSQL too: the counties are picked from two cities of one province where
 * nobody has data, all data comes from the factories, and nothing depends on global counts.
 */
import { randomUUID } from 'node:crypto';
import { rowsOf } from '@houfu/db';
import { acceptanceChecks } from '@houfu/domain';
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
  id: string;
  source: string;
  amount_fen: number;
  committed_fen: number;
  paid_fen: number;
}
interface Project {
  id: string;
  project_no: string;
  total_fen: number;
  funding_lines: Line[];
  status: string;
  completed_at: string | null;
  accepted_at: string | null;
  asset_name: string | null;
  asset_maintainer: string | null;
  version: number;
}
interface Report {
  id: string;
  seq: number;
  percent_complete: number;
  achieved_outputs: Record<string, string>;
  village_codes: number[];
}
interface Contract {
  id: string;
  amount_fen: number;
  paid_fen: number;
}
interface Payment {
  id: string;
  contract_id: string;
  funding_line_id: string;
  source: string | null;
  stage: string;
  amount_fen: number;
}
interface Flag {
  flag: string;
  message: string;
  detail: Record<string, unknown>;
}
interface Acceptance {
  status: string;
  route: { stage: string; level: string; state: string; label: string }[];
  current_stage: string | null;
  flags: Flag[];
  asset_name: string | null;
  asset_maintainer: string | null;
  accepted_at: string | null;
  records: {
    seq: number;
    stage: string;
    result: string;
    flags: Flag[];
    actor: string;
    asset_name: string | null;
  }[];
}
interface Figures {
  allocated_fen: number;
  committed_fen: number;
  paid_fen: number;
  idle_fen: number;
}
interface Balance extends Figures {
  sources: (Figures & { source: string })[];
}

let t: TestApp;
/** Counties of the first fresh city. */
let HAPPY: number;
let ERRORS: number;
let FLAGS: number;
/** Counties of the second fresh city (the sibling city of the first). */
let RACE: number;
let OTHER: number;
const villages = new Map<number, number[]>();

const cityOf = (county: number) => county - (county % 100);
const provinceOf = (code: number) => code - (code % 10_000);
const YEAR = new Date().getUTCFullYear();
const daysAgo = (n: number) => new Date(Date.now() - n * 86_400_000).toISOString().slice(0, 10);
const WAN = 1_000_000; // 1万 yuan in fen

const token = tokenCache(() => t);
const clerk = (county: number) => token(county, ['county_operator'], `user:impl:clerk:${county}`);
const countyApprover = (county: number) => token(county, ['county_approver'], `user:impl:approver:${county}`);
const cityReviewer = (code: number) =>
  token(cityOf(code), ['city_reviewer'], `user:impl:city:${cityOf(code)}`);
const provinceAdmin = (code: number) =>
  token(provinceOf(code), ['province_admin'], `user:impl:province:${provinceOf(code)}`);

beforeAll(async () => {
  t = await createTestApp();
  const {
    counties: [first, second],
  } = await freshCities(t);
  [HAPPY, ERRORS, FLAGS] = first as [number, number, number];
  [RACE, OTHER] = second as [number, number];
  for (const county of [HAPPY, ERRORS, FLAGS, RACE, OTHER]) {
    villages.set(
      county,
      (await makeTownship(t.db, county, 3)).villages.map((v) => v.code),
    );
  }
});
afterAll(() => t.close());

// ── Factories ──────────────────────────────────────────────────────────────────────────────────

const call = caller(() => t);

const village = (county: number, i = 0) => villages.get(county)?.[i] as number;

async function allocate(county: number, amountFen: number, on = daysAgo(1)) {
  await ok(
    await call(
      'POST',
      '/v1/fund-allocations',
      await provinceAdmin(county),
      {
        county_code: county,
        source: 'post_support',
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

/** A project of `county` in the library (posting over), with `lines` adding up to the total. */
async function create(county: number, lines: [string, number][], outputs = { road_km: '2.5' }) {
  return ok<Project>(
    await call('POST', '/v1/projects', await clerk(county), {
      name: `实施测试${randomUUID().slice(0, 6)}`,
      category: 'infrastructure',
      year: YEAR,
      village_codes: [village(county)],
      planned_outputs: outputs,
      total_fen: lines.reduce((a, [, f]) => a + f, 0),
      funding_lines: lines.map(([source, amount_fen]) => ({ source, amount_fen })),
      posting_from: daysAgo(30),
      posting_to: daysAgo(15),
      posting_place: '村务公开栏',
    }),
    201,
  );
}

/** A project taken through its whole approval route (by amount) to `approved`. */
async function approved(county: number, lines: [string, number][], outputs = { road_km: '2.5' }) {
  const p = await create(county, lines, outputs);
  await ok(await call('POST', `/v1/projects/${p.id}/plan`, await clerk(county)));
  let current = await ok<Project & { current_step: number | null; route: { level: string }[] }>(
    await call('POST', `/v1/projects/${p.id}/submit`, await clerk(county)),
  );
  while (current.status === 'submitted' && current.current_step !== null) {
    const level = current.route[current.current_step]?.level;
    const as = level === 'city' ? await cityReviewer(county) : await provinceAdmin(county);
    current = await ok(await call('POST', `/v1/projects/${p.id}/review`, as, { action: 'approve' }));
  }
  expect(current.status).toBe('approved');
  return current as Project;
}

const lineOf = (p: Project, source: string) => p.funding_lines.find((l) => l.source === source) as Line;

const report = (
  p: Project,
  county: number,
  percent: number,
  extra: Record<string, unknown> = {},
  as?: string,
) =>
  (async () =>
    call('POST', `/v1/projects/${p.id}/progress-reports`, as ?? (await clerk(county)), {
      reported_on: daysAgo(1),
      investment_completed_fen: Math.floor((p.total_fen * percent) / 100),
      percent_complete: percent,
      achieved_outputs: percent === 100 ? { road_km: '2.5' } : { road_km: '1' },
      village_codes: [village(county)],
      ...extra,
    }))();

async function contract(p: Project, county: number, amountFen: number) {
  return ok<Contract>(
    await call('POST', `/v1/projects/${p.id}/contracts`, await clerk(county), {
      contractor: '测试路桥建设有限公司',
      contract_no: `HT-${randomUUID().slice(0, 8)}`,
      amount_fen: amountFen,
      signed_on: daysAgo(20),
    }),
    201,
  );
}

const pay = async (
  p: Project,
  county: number,
  c: Contract,
  line: Line,
  stage: string,
  amountFen: number,
  key = randomUUID(),
  as?: string,
) =>
  call(
    'POST',
    `/v1/projects/${p.id}/payments`,
    as ?? (await countyApprover(county)),
    {
      contract_id: c.id,
      funding_line_id: line.id,
      stage,
      amount_fen: amountFen,
      paid_on: daysAgo(1),
      reference: `报账${randomUUID().slice(0, 12)}`,
    },
    { 'idempotency-key': key },
  );

const allChecks = (passed = true) =>
  Object.fromEntries(acceptanceChecks.map((c) => [c, { passed }])) as Record<string, { passed: boolean }>;

const act = (p: Project, as: string, body: Record<string, unknown>) =>
  call('POST', `/v1/projects/${p.id}/acceptance`, as, { checks: allChecks(), ...body });

const acceptance = async (p: Project, as: string) =>
  ok<Acceptance>(await call('GET', `/v1/projects/${p.id}/acceptance`, as));

const get = async (p: Project, as: string) => ok<Project>(await call('GET', `/v1/projects/${p.id}`, as));

async function balance(county: number): Promise<Balance | undefined> {
  const page = await ok<{ data: Balance[] }>(
    await call('GET', `/v1/fund-balances?county=${county}&year=${YEAR}`, await clerk(county)),
  );
  return page.data[0];
}

async function auditActions(county: number, entityId: string): Promise<string[]> {
  return rowsOf<{ action: string }>(
    await t.admin.orm.execute(sql`SELECT action FROM audit_events WHERE division_code = ${county}
      AND entity_id = ${entityId} ORDER BY seq`),
  ).map((r) => r.action);
}

// ── Happy path ─────────────────────────────────────────────────────────────────────────────────

describe('from approval to acceptance (≥ 100万: self-check → county → city → province)', () => {
  it('progress, payments by the schedule, acceptance at each level with the wrong level trying, handover', async () => {
    await allocate(HAPPY, 100 * WAN, daysAgo(800));
    const p = await approved(HAPPY, [
      ['post_support', 60 * WAN],
      ['self_raised', 60 * WAN],
    ]);
    expect(p.total_fen).toBe(120 * WAN);
    const ps = lineOf(p, 'post_support');
    const own = lineOf(p, 'self_raised');
    const c = await contract(p, HAPPY, 100 * WAN);

    // 10% on contract, from the post-support line: the project is in progress, the balance pays.
    const first = await ok<Payment>(await pay(p, HAPPY, c, ps, 'contract', 10 * WAN), 201);
    expect(first).toMatchObject({ stage: 'contract', amount_fen: 10 * WAN, source: 'post_support' });
    expect((await get(p, await clerk(HAPPY))).status).toBe('in_progress');
    const before = await balance(HAPPY);
    expect(before?.sources.find((s) => s.source === 'post_support')).toMatchObject({
      allocated_fen: 100 * WAN,
      committed_fen: 60 * WAN,
      paid_fen: 10 * WAN,
      idle_fen: 90 * WAN,
    });

    // Half done unlocks 40% more (50% of the contract in all).
    await ok<Report>(await report(p, HAPPY, 50), 201);
    const early = await problem(await pay(p, HAPPY, c, own, 'completion', 10 * WAN));
    expect(early).toMatchObject({ status: 422 });
    expect(early.errors?.[0]).toMatchObject({ field: 'stage', code: 'stage_not_reached' });
    const over = await problem(await pay(p, HAPPY, c, own, 'half_done', 40 * WAN + 1));
    expect(over.errors?.[0]).toMatchObject({ field: 'amount_fen', code: 'exceeds_schedule' });
    await ok<Payment>(await pay(p, HAPPY, c, own, 'half_done', 40 * WAN), 201);

    // 100% completes the project; 30% more at completion.
    const done = await ok<Report>(await report(p, HAPPY, 100), 201);
    expect(done.seq).toBe(2);
    const completed = await get(p, await clerk(HAPPY));
    expect(completed.status).toBe('completed');
    expect(completed.completed_at).not.toBeNull();
    await ok<Payment>(await pay(p, HAPPY, c, ps, 'completion', 30 * WAN), 201);
    const final = await problem(await pay(p, HAPPY, c, ps, 'final_accounts', 10 * WAN));
    expect(final.errors?.[0]).toMatchObject({ code: 'stage_not_reached' });

    // The acceptance route of 120万: four stages, each only by its level.
    const state = await acceptance(p, await clerk(HAPPY));
    expect(state.route.map((s) => [s.stage, s.level])).toEqual([
      ['self_check', 'county'],
      ['county', 'county'],
      ['city', 'city'],
      ['province', 'province'],
    ]);
    expect(state.current_stage).toBe('self_check');
    expect(state.flags).toEqual([]);

    const county = await clerk(HAPPY);
    const city = await cityReviewer(HAPPY);
    const province = await provinceAdmin(HAPPY);
    const wrong: [string, string[]][] = [
      ['self_check', [city, province]],
      ['county', [city, province]],
      ['city', [county, province]],
      ['province', [county, city]],
    ];
    for (const [stage, intruders] of wrong) {
      for (const as of intruders) {
        const res = await act(p, as, { stage, result: 'passed' });
        expect((await problem(res)).status, `${stage} by the wrong level`).toBe(403);
      }
      const right = stage === 'city' ? city : stage === 'province' ? province : county;
      const handover =
        stage === 'province'
          ? { asset_name: '测试村通组公路 2.5 公里', asset_maintainer: '测试村村民委员会' }
          : {};
      const after = await ok<Acceptance>(
        await act(p, right, {
          stage,
          result: 'passed',
          participants: stage === 'county' ? '县移民局、县财政局、县发改局' : undefined,
          ...handover,
        }),
      );
      expect(after.records.at(-1)).toMatchObject({ stage, result: 'passed' });
    }
    const accepted = await get(p, county);
    expect(accepted).toMatchObject({
      status: 'accepted',
      asset_name: '测试村通组公路 2.5 公里',
      asset_maintainer: '测试村村民委员会',
    });
    expect(accepted.accepted_at).not.toBeNull();
    const finalState = await acceptance(p, city);
    expect(finalState.route.every((s) => s.state === 'done')).toBe(true);
    expect(finalState.records.map((r) => r.stage)).toEqual(['self_check', 'county', 'city', 'province']);

    // After acceptance: the final 10%, then the 10% quality deposit; the contract is paid in full.
    await ok<Payment>(await pay(p, HAPPY, c, own, 'final_accounts', 10 * WAN), 201);
    await ok<Payment>(await pay(p, HAPPY, c, ps, 'quality_deposit', 10 * WAN), 201);
    const more = await problem(await pay(p, HAPPY, c, ps, 'quality_deposit', 1));
    expect(more.errors?.[0]).toMatchObject({ code: 'exceeds_schedule' });
    const contracts = await ok<{ data: Contract[] }>(
      await call('GET', `/v1/projects/${p.id}/contracts`, city),
    );
    expect(contracts.data).toEqual([
      expect.objectContaining({ id: c.id, amount_fen: 100 * WAN, paid_fen: 100 * WAN }),
    ]);
    const payments = await ok<{ data: Payment[] }>(
      await call('GET', `/v1/projects/${p.id}/payments`, province),
    );
    expect(payments.data.map((x) => x.stage)).toEqual([
      'contract',
      'half_done',
      'completion',
      'final_accounts',
      'quality_deposit',
    ]);
    const lines = (await get(p, county)).funding_lines;
    expect(lineOf({ ...p, funding_lines: lines }, 'post_support').paid_fen).toBe(50 * WAN);
    expect(lineOf({ ...p, funding_lines: lines }, 'self_raised').paid_fen).toBe(50 * WAN);
    const after = await balance(HAPPY);
    expect(after?.sources.find((s) => s.source === 'post_support')).toMatchObject({
      paid_fen: 50 * WAN,
      idle_fen: 50 * WAN,
    });

    expect(await auditActions(HAPPY, p.id)).toEqual([
      'project.create',
      'project.plan',
      'project.submit',
      'project.review',
      'project.approve',
      'project.progress',
      'project.progress',
      'project.acceptance_stage',
      'project.acceptance_stage',
      'project.acceptance_stage',
      'project.accept',
    ]);
    expect(await auditActions(HAPPY, first.id)).toEqual(['project.payment']);
    expect(await auditActions(HAPPY, c.id)).toEqual(['project.contract']);
  });

  it('a small project (< 50万) is accepted by the county alone', async () => {
    const p = await approved(ERRORS, [['self_raised', 20 * WAN]]);
    await ok(await report(p, ERRORS, 100), 201);
    const state = await acceptance(p, await clerk(ERRORS));
    expect(state.route.map((s) => s.stage)).toEqual(['self_check', 'county']);
    await ok(await act(p, await clerk(ERRORS), { result: 'passed' }));
    // The city has no stage here: 403 on the county's.
    expect((await problem(await act(p, await cityReviewer(ERRORS), { result: 'passed' }))).status).toBe(403);
    const noHandover = await problem(await act(p, await clerk(ERRORS), { result: 'passed' }));
    expect(noHandover.status).toBe(422);
    expect(fields(noHandover)).toEqual(['asset_name', 'asset_maintainer']);
    const done = await ok<Acceptance>(
      await act(p, await clerk(ERRORS), {
        stage: 'county',
        result: 'passed',
        asset_name: '测试村蓄水池',
        asset_maintainer: '测试村用水户协会',
      }),
    );
    expect(done).toMatchObject({
      status: 'accepted',
      current_stage: null,
      asset_maintainer: '测试村用水户协会',
    });
  });

  it('progress reports are listed oldest first; a county sees its reports, the city too', async () => {
    const p = await approved(ERRORS, [['self_raised', 10 * WAN]]);
    const first = await ok<Report>(await report(p, ERRORS, 30), 201);
    expect(first).toMatchObject({ seq: 1, percent_complete: 30, achieved_outputs: { road_km: '1' } });
    expect((await get(p, await clerk(ERRORS))).status).toBe('in_progress');
    await ok(await report(p, ERRORS, 30, { comment: '雨季停工' }), 201);
    const list = await ok<{ data: Report[] }>(
      await call('GET', `/v1/projects/${p.id}/progress-reports`, await cityReviewer(ERRORS)),
    );
    expect(list.data.map((r) => [r.seq, r.percent_complete])).toEqual([
      [1, 30],
      [2, 30],
    ]);
  });
});

// ── Errors ─────────────────────────────────────────────────────────────────────────────────────

describe('errors', () => {
  it('no approved plan, no money: no payment, contract or progress before approval (409)', async () => {
    const p = await create(ERRORS, [['self_raised', 10 * WAN]]);
    const line = lineOf(p, 'self_raised');
    const fake = { id: randomUUID(), amount_fen: 10 * WAN, paid_fen: 0 };
    expect((await problem(await pay(p, ERRORS, fake, line, 'contract', WAN))).status).toBe(409);
    const res = await call('POST', `/v1/projects/${p.id}/contracts`, await clerk(ERRORS), {
      contractor: '某公司',
      contract_no: 'HT-1',
      amount_fen: WAN,
      signed_on: daysAgo(2),
    });
    expect((await problem(res)).status).toBe(409);
    expect((await problem(await report(p, ERRORS, 10))).status).toBe(409);
    await ok(await call('POST', `/v1/projects/${p.id}/plan`, await clerk(ERRORS)));
    await ok(await call('POST', `/v1/projects/${p.id}/submit`, await clerk(ERRORS)));
    expect((await problem(await pay(p, ERRORS, fake, line, 'contract', WAN))).status).toBe(409);
    expect(await auditActions(ERRORS, p.id)).toEqual(['project.create', 'project.plan', 'project.submit']);
  });

  it('payments: the project’s own contract and line, a key, dates, and the line’s amount', async () => {
    const p = await approved(ERRORS, [['self_raised', 10 * WAN]]);
    const q = await approved(ERRORS, [['self_raised', 10 * WAN]]);
    const c = await contract(p, ERRORS, 10 * WAN);
    const other = await contract(q, ERRORS, 10 * WAN);
    const line = lineOf(p, 'self_raised');
    const foreignContract = await problem(await pay(p, ERRORS, other, line, 'contract', WAN));
    expect(foreignContract.errors?.[0]).toMatchObject({ field: 'contract_id', code: 'unknown_contract' });
    const foreignLine = await problem(await pay(p, ERRORS, c, lineOf(q, 'self_raised'), 'contract', WAN));
    expect(foreignLine.errors?.[0]).toMatchObject({ field: 'funding_line_id', code: 'not_project_line' });
    const noKey = await call('POST', `/v1/projects/${p.id}/payments`, await countyApprover(ERRORS), {
      contract_id: c.id,
      funding_line_id: line.id,
      stage: 'contract',
      amount_fen: WAN,
      paid_on: daysAgo(1),
      reference: `报账${randomUUID().slice(0, 8)}`,
    });
    expect((await problem(noKey)).status).toBe(400);
    const future = await call(
      'POST',
      `/v1/projects/${p.id}/payments`,
      await countyApprover(ERRORS),
      {
        contract_id: c.id,
        funding_line_id: line.id,
        stage: 'contract',
        amount_fen: WAN,
        paid_on: daysAgo(-2),
        reference: `报账${randomUUID().slice(0, 8)}`,
      },
      { 'idempotency-key': randomUUID() },
    );
    expect(fields(await problem(future))).toEqual(['paid_on']);
    // A retry with the same key replays the first answer and pays once.
    const retry = {
      contract_id: c.id,
      funding_line_id: line.id,
      stage: 'contract',
      amount_fen: WAN,
      paid_on: daysAgo(1),
      reference: `报账${randomUUID().slice(0, 8)}`,
    };
    const key = { 'idempotency-key': randomUUID() };
    const path = `/v1/projects/${p.id}/payments`;
    const once = await ok<Payment>(await call('POST', path, await countyApprover(ERRORS), retry, key), 201);
    const again = await ok<Payment>(await call('POST', path, await countyApprover(ERRORS), retry, key), 201);
    expect(again.id).toBe(once.id);
    expect((await get(p, await clerk(ERRORS))).funding_lines[0]?.paid_fen).toBe(WAN);
    expect(await auditActions(ERRORS, once.id)).toEqual(['project.payment']);
  });

  it('a line never pays more than its amount (409 insufficient_funds)', async () => {
    const p = await approved(ERRORS, [
      ['self_raised', 2 * WAN],
      ['labour', 18 * WAN],
    ]);
    await ok(await report(p, ERRORS, 100), 201);
    const c = await contract(p, ERRORS, 20 * WAN);
    const short = await problem(await pay(p, ERRORS, c, lineOf(p, 'self_raised'), 'contract', 2 * WAN + 1));
    expect(short).toMatchObject({ status: 409, code: 'insufficient_funds' });
    expect(short.errors?.[0]).toMatchObject({ field: 'funding_line_id' });
    expect((await get(p, await clerk(ERRORS))).funding_lines.every((l) => l.paid_fen === 0)).toBe(true);
  });

  it('contracts stay within the total; progress never goes back; numbers are unique', async () => {
    const p = await approved(ERRORS, [['self_raised', 10 * WAN]]);
    const c = await contract(p, ERRORS, 6 * WAN);
    const body = {
      contractor: '某公司',
      contract_no: 'HT-X',
      amount_fen: 4 * WAN + 1,
      signed_on: daysAgo(3),
    };
    const over = await problem(
      await call('POST', `/v1/projects/${p.id}/contracts`, await clerk(ERRORS), body),
    );
    expect(over.errors?.[0]).toMatchObject({ field: 'amount_fen', code: 'exceeds_total' });
    await ok(
      await call('POST', `/v1/projects/${p.id}/contracts`, await clerk(ERRORS), {
        ...body,
        amount_fen: 3 * WAN,
      }),
      201,
    );
    const dup = await call('POST', `/v1/projects/${p.id}/contracts`, await clerk(ERRORS), {
      ...body,
      amount_fen: 1,
    });
    expect((await problem(dup)).status).toBe(409);
    expect(c.paid_fen).toBe(0);

    await ok(await report(p, ERRORS, 40), 201);
    const back = await problem(await report(p, ERRORS, 39));
    expect(back.errors?.[0]).toMatchObject({ field: 'percent_complete', code: 'progress_backwards' });
    // Investment completed is cumulative too: less than last reported is refused.
    const less = await problem(await report(p, ERRORS, 45, { investment_completed_fen: WAN }));
    expect(less.status).toBe(422);
    expect(less.errors?.[0]).toMatchObject({
      field: 'investment_completed_fen',
      code: 'investment_backwards',
    });
    const elsewhere = await problem(await report(p, ERRORS, 50, { village_codes: [village(OTHER)] }));
    expect(elsewhere.errors?.[0]).toMatchObject({ field: 'village_codes.0', code: 'unknown_village' });
    const tooMuch = await problem(await report(p, ERRORS, 50, { investment_completed_fen: 10 * WAN + 1 }));
    expect(fields(tooMuch)).toEqual(['investment_completed_fen']);
  });

  it('acceptance: only a completed project; every check passed; a failure sends it back to rectification', async () => {
    const p = await approved(ERRORS, [['self_raised', 10 * WAN]]);
    await ok(await report(p, ERRORS, 90), 201);
    expect((await problem(await act(p, await clerk(ERRORS), { result: 'passed' }))).status).toBe(409);
    await ok(await report(p, ERRORS, 100), 201);
    const checks = { ...allChecks(), archives: { passed: false, note: '档案不全' } };
    const bad = await problem(await act(p, await clerk(ERRORS), { result: 'passed', checks }));
    expect(fields(bad)).toEqual(['checks.archives']);
    expect(
      (await problem(await act(p, await clerk(ERRORS), { stage: 'county', result: 'passed' }))).status,
    ).toBe(409);
    const failed = await ok<Acceptance>(
      await act(p, await clerk(ERRORS), { result: 'failed', checks, comment: '补齐档案后再验' }),
    );
    expect(failed).toMatchObject({ status: 'in_progress', current_stage: null });
    expect(failed.records).toEqual([expect.objectContaining({ stage: 'self_check', result: 'failed' })]);
    // Rectified: 100% again, and the route starts over.
    await ok(await report(p, ERRORS, 100), 201);
    expect((await acceptance(p, await clerk(ERRORS))).current_stage).toBe('self_check');
    expect(await auditActions(ERRORS, p.id)).toContain('project.acceptance_fail');
  });

  it('a scope change is refused once contractors were paid', async () => {
    const p = await approved(ERRORS, [['self_raised', 10 * WAN]]);
    const c = await contract(p, ERRORS, 10 * WAN);
    await ok(await pay(p, ERRORS, c, lineOf(p, 'self_raised'), 'contract', WAN), 201);
    const res = await call('POST', `/v1/projects/${p.id}/changes`, await clerk(ERRORS), {
      category: 'infrastructure',
      village_codes: [village(ERRORS)],
      planned_outputs: { road_km: '3' },
      total_fen: 12 * WAN,
      funding_lines: [{ source: 'self_raised', amount_fen: 12 * WAN }],
      comment: '增加长度',
    });
    expect((await problem(res)).status).toBe(409);
  });
});

// ── Flags ──────────────────────────────────────────────────────────────────────────────────────

describe('acceptance flags (项目计划不挪位、项目实施不缺位、项目资金不挪用)', () => {
  it('plan moved: the work was done in another village than approved', async () => {
    const p = await approved(FLAGS, [['self_raised', 10 * WAN]]);
    await ok(await report(p, FLAGS, 100, { village_codes: [village(FLAGS, 1)] }), 201);
    const state = await acceptance(p, await clerk(FLAGS));
    expect(state.flags).toEqual([
      expect.objectContaining({
        flag: 'plan_moved',
        detail: { missing: [village(FLAGS)], added: [village(FLAGS, 1)] },
      }),
    ]);
    const refused = await problem(await act(p, await clerk(FLAGS), { result: 'passed' }));
    expect(refused.errors).toEqual([expect.objectContaining({ field: 'flags', code: 'plan_moved' })]);
    const failed = await ok<Acceptance>(await act(p, await clerk(FLAGS), { result: 'failed' }));
    expect(failed.records[0]?.flags.map((f) => f.flag)).toEqual(['plan_moved']);
  });

  it('work undone: a planned output achieved below plan', async () => {
    const p = await approved(FLAGS, [['self_raised', 10 * WAN]], { road_km: '2.5' });
    await ok(await report(p, FLAGS, 100, { achieved_outputs: { road_km: '2.4' } }), 201);
    const state = await acceptance(p, await cityReviewer(FLAGS));
    expect(state.flags).toEqual([
      expect.objectContaining({ flag: 'work_undone', detail: { kinds: ['road_km'] } }),
    ]);
    const refused = await problem(await act(p, await clerk(FLAGS), { result: 'passed' }));
    expect(refused.errors?.map((e) => (e as { code?: string }).code)).toEqual(['work_undone']);
  });

  it('funds diverted: a payment recorded against a line outside the project', async () => {
    const p = await approved(FLAGS, [['self_raised', 10 * WAN]]);
    const q = await approved(FLAGS, [['self_raised', 10 * WAN]]);
    const c = await contract(p, FLAGS, 10 * WAN);
    await ok(await pay(p, FLAGS, c, lineOf(p, 'self_raised'), 'contract', WAN), 201);
    // The API refuses such a payment (see errors); one recorded outside it (an import, a correction)
    // is what the flag finds.
    await t.admin.orm.execute(sql`INSERT INTO project_payments (division_code, project_id, contract_id,
        funding_line_id, stage, amount_fen, paid_on, reference, created_by)
      VALUES (${FLAGS}, ${p.id}::uuid, ${c.id}::uuid, ${lineOf(q, 'self_raised').id}::uuid, 'contract', 50000,
              ${daysAgo(1)}::date, ${`挪用${randomUUID().slice(0, 8)}`}, 'user:impl:import')`);
    await ok(await report(p, FLAGS, 100), 201);
    const state = await acceptance(p, await provinceAdmin(FLAGS));
    expect(state.flags).toEqual([
      expect.objectContaining({ flag: 'funds_diverted', detail: { payments: [1], amountFen: 50_000 } }),
    ]);
    const refused = await problem(await act(p, await clerk(FLAGS), { result: 'passed' }));
    expect(refused.errors?.map((e) => (e as { code?: string }).code)).toEqual(['funds_diverted']);
  });

  it('no flag when the plan, the work and the money match (nor before anything is reported built)', async () => {
    const p = await approved(FLAGS, [['self_raised', 10 * WAN]]);
    const c = await contract(p, FLAGS, 10 * WAN);
    await ok(await pay(p, FLAGS, c, lineOf(p, 'self_raised'), 'contract', WAN), 201);
    const early = await acceptance(p, await clerk(FLAGS));
    expect(early).toMatchObject({ status: 'in_progress', current_stage: null, flags: [] });
    await ok(await report(p, FLAGS, 100), 201);
    expect((await acceptance(p, await clerk(FLAGS))).flags).toEqual([]);
  });
});

// ── Security ───────────────────────────────────────────────────────────────────────────────────

describe('security', () => {
  it('only the county approver pays; the clerk, reviewers and the province cannot (403); another county sees nothing (404)', async () => {
    const p = await approved(OTHER, [['self_raised', 10 * WAN]]);
    const c = await contract(p, OTHER, 10 * WAN);
    const line = lineOf(p, 'self_raised');
    for (const as of [await cityReviewer(OTHER), await clerk(OTHER), await provinceAdmin(OTHER)]) {
      expect((await problem(await pay(p, OTHER, c, line, 'contract', WAN, randomUUID(), as))).status).toBe(
        403,
      );
    }
    const neighbour = await clerk(RACE);
    expect(
      (await problem(await pay(p, OTHER, c, line, 'contract', WAN, randomUUID(), await countyApprover(RACE))))
        .status,
    ).toBe(404);
    expect((await problem(await report(p, OTHER, 10, {}, neighbour))).status).toBe(404);
    for (const path of ['progress-reports', 'contracts', 'payments', 'acceptance']) {
      const res = await call('GET', `/v1/projects/${p.id}/${path}`, neighbour);
      expect((await problem(res)).status, path).toBe(404);
    }
    // Another city's reviewer: the project does not exist for it.
    const foreignCity = await cityReviewer(HAPPY);
    expect((await problem(await call('GET', `/v1/projects/${p.id}/acceptance`, foreignCity))).status).toBe(
      404,
    );
    expect((await problem(await act(p, foreignCity, { result: 'passed' }))).code).toBe('not_found');
    // The county approver holds no acceptance permission.
    expect((await problem(await act(p, await countyApprover(OTHER), { result: 'passed' }))).code).toBe(
      'forbidden',
    );
    expect((await get(p, await clerk(OTHER))).funding_lines[0]?.paid_fen).toBe(0);
  });
});

// ── Concurrency ────────────────────────────────────────────────────────────────────────────────

describe('concurrent payments never overspend', () => {
  it('racing on one line and on one contract’s schedule: exactly those that fit succeed', async () => {
    await allocate(RACE, 20 * WAN);
    const p = await approved(RACE, [
      ['post_support', 10 * WAN],
      ['self_raised', 30 * WAN],
    ]);
    await ok(await report(p, RACE, 100), 201);
    const c = await contract(p, RACE, 40 * WAN); // completion: 80% = 32万 payable
    const N = 8;

    // The post-support line holds 10万: of 8 payments of 3万 exactly 3 fit.
    const ps = lineOf(p, 'post_support');
    const onLine = await Promise.all(
      Array.from({ length: N }, () => pay(p, RACE, c, ps, 'completion', 3 * WAN)),
    );
    const lineCodes = await Promise.all(
      onLine.map(async (r) => ((await r.json()) as { code?: string }).code),
    );
    expect(onLine.filter((r) => r.status === 201)).toHaveLength(3);
    expect(lineCodes.filter((x) => x === 'insufficient_funds')).toHaveLength(N - 3);

    // The schedule leaves 32 − 9 = 23万 on the contract: of 8 payments of 5万 from the 30万 line, 4 fit.
    const own = lineOf(p, 'self_raised');
    const onSchedule = await Promise.all(
      Array.from({ length: N }, () => pay(p, RACE, c, own, 'completion', 5 * WAN)),
    );
    const scheduleCodes = await Promise.all(
      onSchedule.map(async (r) => ((await r.json()) as { errors?: { code: string }[] }).errors?.[0]?.code),
    );
    expect(onSchedule.filter((r) => r.status === 201)).toHaveLength(4);
    expect(scheduleCodes.filter((x) => x === 'exceeds_schedule')).toHaveLength(N - 4);

    const [db] = rowsOf<{ contract: string; ps: string; own: string; balance: string; count: number }>(
      await t.admin.orm.execute(sql`SELECT
          (SELECT paid_fen::text FROM project_contracts WHERE id = ${c.id}::uuid) AS contract,
          (SELECT paid_fen::text FROM project_funding_lines WHERE id = ${ps.id}::uuid) AS ps,
          (SELECT paid_fen::text FROM project_funding_lines WHERE id = ${own.id}::uuid) AS own,
          (SELECT paid_fen::text FROM fund_balances WHERE division_code = ${RACE} AND year = ${YEAR}
             AND source = 'post_support') AS balance,
          (SELECT count(*)::int FROM project_payments WHERE project_id = ${p.id}::uuid) AS count`),
    );
    expect(Number(db?.ps)).toBe(9 * WAN);
    expect(Number(db?.own)).toBe(20 * WAN);
    expect(Number(db?.contract)).toBe(29 * WAN);
    expect(Number(db?.balance)).toBe(9 * WAN);
    expect(Number(db?.count)).toBe(7);
  });
});
