/**
 * /v1/vocational-aid-applications 移民子女职业教育资助 (docs/training.md) through the API: an application
 * entered by the county clerk (the child's ID validated, answered masked only), the village posting,
 * the township's review recorded by the clerk, the county approver's payment; every limit of
 * `training.vocational_aid` (national default: 1,000–4,000 yuan a year at every level, at most 45% of
 * recognised costs, ages 14–22, 3 years, registered migrant parent) refused with 422 naming the field
 * and the rule; one live application per child and school year; concurrent payments that never pay a
 * year twice nor pass the year limit (really racing on PostgreSQL, serialised on PGlite); 403 for the
 * wrong role, 404 for another county.
 *
 * Works on a shared PostgreSQL too: the counties are picked from a city of a province where nobody has
 * data, all data comes from the factories, and nothing depends on global counts.
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
  makeNationalId,
  makePerson,
  makeTownship,
  ok,
  problem,
  type TestApp,
  tokenCache,
} from './helpers.js';

interface Application {
  id: string;
  county_code: number;
  township_code: number;
  village_code: number;
  child_name: string;
  child_national_id_masked: string;
  child_birth_date: string;
  child_age: number;
  parent_person_id: string | null;
  parent_name: string | null;
  level: string;
  level_label: string;
  school_year: number;
  requested_fen: number;
  applied_on: string;
  status: string;
  status_label: string;
  posting_to: string | null;
  township_reviewer: string | null;
  paid_fen: number | null;
  paid_on: string | null;
  payment_reference: string | null;
  rejection_reason: string | null;
}
interface Page<T> {
  data: T[];
  next_cursor: string | null;
}

let t: TestApp;
/** Two counties of one fresh city. */
let COUNTY: number;
let OTHER: number;
let village: number;
let parent: string;
let movedOutParent: string;
let otherCountyParent: string;

const YUAN = 100;
const YEAR = new Date().getUTCFullYear();
const day = (offset: number) => new Date(Date.now() + offset * 86_400_000).toISOString().slice(0, 10);
const TODAY = day(0);
/** The birth date of someone who turns `age` in `days` days (negative: turned it that many days ago). */
function bornAged(age: number, days = -30): string {
  const d = new Date(`${day(days)}T00:00:00Z`);
  d.setUTCFullYear(d.getUTCFullYear() - age);
  return d.toISOString().slice(0, 10);
}

const token = tokenCache(() => t);
const clerk = (county = COUNTY) => token(county, ['county_operator'], `user:aid:clerk:${county}`);
const approver = (county = COUNTY) => token(county, ['county_approver'], `user:aid:approver:${county}`);
const cityReviewer = () =>
  token(COUNTY - (COUNTY % 100), ['city_reviewer'], `user:aid:city:${COUNTY - (COUNTY % 100)}`);

beforeAll(async () => {
  t = await createTestApp();
  [COUNTY, OTHER] = (await freshCities(t, 2)).counties[0] as [number, number];
  village = (await makeTownship(t.db, COUNTY, 2)).villages[0]?.code as number;
  parent = (await makePerson(t, COUNTY, { village, name: '李大山' })).id;
  movedOutParent = (await makePerson(t, COUNTY, { village, status: 'moved_out' })).id;
  otherCountyParent = (await makePerson(t, OTHER)).id;
});
afterAll(() => t.close());

// ── Helpers ────────────────────────────────────────────────────────────────────────────────────

const call = caller(() => t);

/** A child's ID number: 16 years old unless `birthDate` is given. */
/** A child's ID number; never the same twice in this file (a random sequence number collided now and then). */
let childSeq = 0;
function childId(birthDate = bornAged(16)): string {
  childSeq += 1;
  return makeNationalId(COUNTY, birthDate, childSeq % 1000);
}

function body(extra: Record<string, unknown> = {}) {
  return {
    village_code: village,
    child_name: '李小明',
    child_national_id: childId(),
    parent_person_id: parent,
    school: '职业教育中心',
    level: 'secondary',
    school_year: YEAR,
    recognised_cost_fen: 600_000,
    requested_fen: 200_000,
    ...extra,
  };
}

const apply = async (extra: Record<string, unknown> = {}) =>
  call('POST', '/v1/vocational-aid-applications', await clerk(), body(extra));

const posting = async (id: string, from = day(-10), to = day(-3)) =>
  call('POST', `/v1/vocational-aid-applications/${id}/posting`, await clerk(), {
    posting_from: from,
    posting_to: to,
    posting_place: '村务公开栏',
  });

const townshipReview = async (id: string, decision = 'approve', extra: Record<string, unknown> = {}) =>
  call('POST', `/v1/vocational-aid-applications/${id}/township-review`, await clerk(), {
    decision,
    reviewer: '王审核（镇移民站）',
    reviewed_on: day(-2),
    comment: '公示无异议，同意',
    ...extra,
  });

const pay = async (id: string, amount = 200_000, as?: string) =>
  call('POST', `/v1/vocational-aid-applications/${id}/payment`, as ?? (await approver()), {
    amount_fen: amount,
    paid_on: TODAY,
    reference: `资〔${YEAR}〕${randomUUID().slice(0, 4)}号`,
  });

/** An application taken up to the township's approval. */
async function reviewed(extra: Record<string, unknown> = {}): Promise<Application> {
  const a = await ok<Application>(await apply(extra), 201);
  await ok<Application>(await posting(a.id));
  return ok<Application>(await townshipReview(a.id));
}

/** An application paid in full. */
async function paid(extra: Record<string, unknown> = {}): Promise<Application> {
  const a = await reviewed(extra);
  return ok<Application>(await pay(a.id, (extra.requested_fen as number | undefined) ?? 200_000));
}

/** The rule codes of a 422 with the fields they name. */
async function violations(res: Response): Promise<[string, string][]> {
  expect(res.status, await res.clone().text()).toBe(422);
  const p = (await problem(res)) as { errors?: { field: string; code: string }[] };
  return (p.errors ?? []).map((e) => [e.code, e.field]);
}

async function auditActions(entityId: string): Promise<string[]> {
  return rowsOf<{ action: string }>(
    await t.admin.orm.execute(sql`SELECT action FROM audit_events WHERE division_code = ${COUNTY}
      AND entity_id = ${entityId} ORDER BY seq`),
  ).map((r) => r.action);
}

// ── Tests ──────────────────────────────────────────────────────────────────────────────────────

describe('the procedure: apply → village posting → township review → county payment', () => {
  it('takes an application through payment, masked throughout, every step audited', async () => {
    const id = childId(bornAged(16));
    const created = await ok<Application>(await apply({ child_national_id: id }), 201);
    expect(created).toMatchObject({
      county_code: COUNTY,
      village_code: village,
      township_code: village - (village % 1000),
      child_national_id_masked: `${id.slice(0, 6)}********${id.slice(14)}`,
      child_birth_date: bornAged(16),
      child_age: 16,
      parent_person_id: parent,
      parent_name: '李大山',
      level: 'secondary',
      level_label: '中等职业教育',
      status: 'applied',
      status_label: '已申请',
      applied_on: TODAY,
    });
    expect(JSON.stringify(created)).not.toContain(id);

    const posted = await ok<Application>(await posting(created.id));
    expect(posted).toMatchObject({ status: 'posted', status_label: '村级公示', posting_to: day(-3) });
    const approved = await ok<Application>(await townshipReview(created.id));
    expect(approved).toMatchObject({
      status: 'township_reviewed',
      status_label: '乡镇审核',
      township_reviewer: '王审核（镇移民站）',
    });
    const done = await ok<Application>(await pay(created.id, 200_000));
    expect(done).toMatchObject({
      status: 'paid',
      status_label: '县级发放',
      paid_fen: 200_000,
      paid_on: TODAY,
    });
    expect(done.payment_reference).toMatch(/^资〔/);

    expect(await auditActions(created.id)).toEqual([
      'vocational_aid.apply',
      'vocational_aid.post',
      'vocational_aid.township_approve',
      'vocational_aid.pay',
    ]);
    const audit = rowsOf<{ changes: unknown }>(
      await t.admin.orm.execute(
        sql`SELECT changes::text AS changes FROM audit_events WHERE entity_id = ${created.id}`,
      ),
    );
    expect(JSON.stringify(audit)).not.toContain(id);

    // The city reads it (masked) in its list; the county's own get answers the same.
    const page = await ok<Page<Application>>(
      await call('GET', `/v1/vocational-aid-applications?county=${COUNTY}&status=paid`, await cityReviewer()),
    );
    const listed = page.data.find((a) => a.id === created.id);
    expect(listed?.child_national_id_masked).toBe(created.child_national_id_masked);
    expect(JSON.stringify(page)).not.toContain(id);
    const read = await ok<Application>(
      await call('GET', `/v1/vocational-aid-applications/${created.id}`, await clerk()),
    );
    expect(read.status).toBe('paid');
  });

  it('a township rejection ends the application with its reason; a rejected year may be applied for again', async () => {
    const id = childId();
    const a = await ok<Application>(await apply({ child_national_id: id }), 201);
    await ok(await posting(a.id));
    const noReason = await townshipReview(a.id, 'reject', { comment: null });
    expect(noReason.status).toBe(422);
    expect(fields(await problem(noReason))).toEqual(['comment']);
    // A reason longer than the 500 characters stored is refused by the contract, never a 500.
    const long = await townshipReview(a.id, 'reject', { comment: '情'.repeat(501) });
    expect(long.status).toBe(400);
    expect(fields(await problem(long))).toEqual(['comment']);
    const rejected = await ok<Application>(await townshipReview(a.id, 'reject', { comment: '家庭情况不符' }));
    expect(rejected).toMatchObject({
      status: 'rejected',
      status_label: '不予资助',
      rejection_reason: '家庭情况不符',
    });
    expect((await pay(a.id)).status).toBe(409);
    expect(await auditActions(a.id)).toEqual([
      'vocational_aid.apply',
      'vocational_aid.post',
      'vocational_aid.reject',
    ]);
    await ok<Application>(await apply({ child_national_id: id }), 201);
  });

  it('the county rejects an application the township approved (only then, only its approver), freeing the year', async () => {
    const id = childId();
    const a = await ok<Application>(await apply({ child_national_id: id }), 201);
    const reject = async (as?: string, reason = '父亲已迁出，不再符合资助条件') =>
      call('POST', `/v1/vocational-aid-applications/${a.id}/rejection`, as ?? (await approver()), { reason });
    // Before the township's approval there is nothing for the county to reject.
    expect((await problem(await reject())).status).toBe(409);
    await ok(await posting(a.id));
    await ok(await townshipReview(a.id));
    // The clerk does not decide on payment; another county does not see it.
    expect((await problem(await reject(await clerk()))).status).toBe(403);
    expect((await problem(await reject(await approver(OTHER)))).status).toBe(404);
    const rejected = await ok<Application>(await reject());
    expect(rejected).toMatchObject({ status: 'rejected', rejection_reason: '父亲已迁出，不再符合资助条件' });
    expect((await problem(await pay(a.id))).status).toBe(409);
    expect((await problem(await reject())).status).toBe(409);
    expect((await auditActions(a.id)).at(-1)).toBe('vocational_aid.county_reject');
    await ok<Application>(await apply({ child_national_id: id }), 201);
  });

  it('steps out of order answer 409; the township approves only after the posting has ended', async () => {
    const a = await ok<Application>(await apply(), 201);
    expect((await townshipReview(a.id)).status).toBe(409);
    expect((await pay(a.id)).status).toBe(409);
    const backwards = await posting(a.id, day(-3), day(-10));
    expect(backwards.status).toBe(422);
    expect(fields(await problem(backwards))).toEqual(['posting_to']);
    await ok(await posting(a.id, day(-2), day(2)));
    expect(await violations(await townshipReview(a.id))).toEqual([['posting_not_ended', 'decision']]);
    expect((await posting(a.id)).status).toBe(409);
    expect(await auditActions(a.id)).toEqual(['vocational_aid.apply', 'vocational_aid.post']);
  });
});

describe('the limits of training.vocational_aid (national default)', () => {
  it.each<[string, string, [string, string][]]>([
    ['13 (14 tomorrow)', bornAged(14, 1), [['age_below_minimum', 'child_national_id']]],
    ['23 (since a month)', bornAged(23), [['age_above_maximum', 'child_national_id']]],
  ])('refuses a child aged %s', async (_, birth, expected) => {
    expect(await violations(await apply({ child_national_id: childId(birth) }))).toEqual(expected);
  });

  it.each<[string, string]>([
    ['14 on the birthday', bornAged(14, 0)],
    ['22 the day before the 23rd birthday', bornAged(23, 1)],
  ])('accepts a child aged %s', async (_, birth) => {
    await ok<Application>(await apply({ child_national_id: childId(birth) }), 201);
  });

  it.each<[string, Record<string, unknown>, [string, string][]]>([
    [
      'below the level’s 1,000 yuan',
      { requested_fen: 999 * YUAN },
      [['amount_below_level_minimum', 'requested_fen']],
    ],
    [
      'above the level’s 4,000 yuan',
      { requested_fen: 4_000 * YUAN + 1, recognised_cost_fen: 10_000 * YUAN },
      [['amount_above_level_maximum', 'requested_fen']],
    ],
    [
      'above 45% of the recognised costs',
      { requested_fen: 2_701 * YUAN, recognised_cost_fen: 6_000 * YUAN },
      [['amount_above_cost_share', 'requested_fen']],
    ],
    ['without recognised costs', { recognised_cost_fen: null }, [['cost_unknown', 'recognised_cost_fen']]],
    ['without a parent', { parent_person_id: null }, [['not_migrant_child', 'parent_person_id']]],
    ['of a parent who moved out', { parent_person_id: 'moved' }, [['not_migrant_child', 'parent_person_id']]],
  ])('refuses an amount or a parent %s', async (_, extra, expected) => {
    const resolved =
      extra.parent_person_id === 'moved' ? { ...extra, parent_person_id: movedOutParent } : extra;
    expect(await violations(await apply(resolved))).toEqual(expected);
  });

  it('accepts 45% of the costs and both ends of the range exactly', async () => {
    await ok(await apply({ requested_fen: 2_700 * YUAN, recognised_cost_fen: 6_000 * YUAN }), 201);
    await ok(await apply({ requested_fen: 1_000 * YUAN }), 201);
    await ok(await apply({ requested_fen: 4_000 * YUAN, recognised_cost_fen: 10_000 * YUAN }), 201);
  });

  it('a parent of another county is not a parent of this one', async () => {
    expect(await violations(await apply({ parent_person_id: otherCountyParent }))).toEqual([
      ['unknown_person', 'parent_person_id'],
    ]);
  });

  it('the payment is checked again: not above the request, within the level’s range', async () => {
    const a = await reviewed({ requested_fen: 1_800 * YUAN, recognised_cost_fen: 4_000 * YUAN });
    expect(await violations(await pay(a.id, 1_800 * YUAN + 1))).toEqual([['above_requested', 'amount_fen']]);
    const lower = await reviewed({ requested_fen: 1_350 * YUAN, recognised_cost_fen: 3_000 * YUAN });
    expect(await violations(await pay(lower.id, 999 * YUAN))).toEqual([
      ['amount_below_level_minimum', 'amount_fen'],
    ]);
    expect(await auditActions(a.id)).not.toContain('vocational_aid.pay');
    await ok(await pay(a.id, 1_200 * YUAN));
  });

  it('a year already paid is refused, and so is a fourth year', async () => {
    const id = childId(bornAged(18));
    for (const year of [YEAR - 3, YEAR - 2, YEAR - 1])
      await paid({ child_national_id: id, school_year: year });
    expect(await violations(await apply({ child_national_id: id, school_year: YEAR - 1 }))).toEqual([
      ['already_aided_this_year', 'school_year'],
    ]);
    expect(await violations(await apply({ child_national_id: id, school_year: YEAR }))).toEqual([
      ['duration_exceeded', 'school_year'],
    ]);
  });

  it('one live application per child and school year (409)', async () => {
    const id = childId();
    await ok(await apply({ child_national_id: id }), 201);
    const again = await apply({ child_national_id: id });
    expect(again.status).toBe(409);
    expect((await problem(again)).detail).not.toContain(id);
  });
});

describe('concurrency (racing on PostgreSQL, serialised on PGlite)', () => {
  it('the same application paid twice at once is paid once', async () => {
    const a = await reviewed();
    const results = await Promise.all([pay(a.id), pay(a.id), pay(a.id)]);
    const statuses = results.map((r) => r.status).sort();
    await Promise.all(results.map((r) => r.arrayBuffer()));
    expect(statuses).toEqual([200, 409, 409]);
    expect((await auditActions(a.id)).filter((x) => x === 'vocational_aid.pay')).toHaveLength(1);
  });

  it('the same child’s same year applied for twice at once is entered once', async () => {
    const id = childId();
    const results = await Promise.all([1, 2, 3].map(() => apply({ child_national_id: id })));
    const statuses = results.map((r) => r.status).sort();
    await Promise.all(results.map((r) => r.arrayBuffer()));
    expect(statuses).toEqual([201, 409, 409]);
  });

  it('two years paid at once never pass the year limit together', async () => {
    const id = childId(bornAged(19));
    for (const year of [YEAR - 3, YEAR - 2]) await paid({ child_national_id: id, school_year: year });
    const a = await reviewed({ child_national_id: id, school_year: YEAR - 1 });
    const b = await reviewed({ child_national_id: id, school_year: YEAR });
    const results = await Promise.all([pay(a.id), pay(b.id)]);
    const statuses = results.map((r) => r.status).sort();
    expect(statuses).toEqual([200, 422]);
    const refused = results.find((r) => r.status === 422) as Response;
    expect(await violations(refused)).toEqual([['duration_exceeded', 'school_year']]);
    const count = rowsOf<{ n: number }>(
      await t.admin.orm.execute(sql`SELECT count(*)::int AS n FROM vocational_aid_applications
        WHERE division_code = ${COUNTY} AND id IN (${a.id}::uuid, ${b.id}::uuid) AND status = 'paid'`),
    );
    expect(Number(count[0]?.n)).toBe(1);
  });
});

describe('who may act', () => {
  it('the wrong role answers 403', async () => {
    const a = await reviewed();
    // The clerk who enters applications does not pay them; the approver does not enter them.
    expect((await pay(a.id, 200_000, await clerk())).status).toBe(403);
    expect((await call('POST', '/v1/vocational-aid-applications', await approver(), body())).status).toBe(
      403,
    );
    expect((await call('POST', '/v1/vocational-aid-applications', await cityReviewer(), body())).status).toBe(
      403,
    );
    expect(
      (
        await call('POST', `/v1/vocational-aid-applications/${a.id}/posting`, await approver(), {
          posting_from: day(-3),
          posting_to: day(-1),
        })
      ).status,
    ).toBe(403);
  });

  it('another county answers 404, as for an application that does not exist', async () => {
    const a = await reviewed();
    for (const res of [
      await call('GET', `/v1/vocational-aid-applications/${a.id}`, await clerk(OTHER)),
      await pay(a.id, 200_000, await approver(OTHER)),
      await call('POST', `/v1/vocational-aid-applications/${a.id}/posting`, await clerk(OTHER), {
        posting_from: day(-3),
        posting_to: day(-1),
      }),
    ]) {
      expect(res.status).toBe(404);
      await problem(res);
    }
    const page = await ok<Page<Application>>(
      await call('GET', '/v1/vocational-aid-applications', await clerk(OTHER)),
    );
    expect(page.data.some((x) => x.county_code === COUNTY)).toBe(false);
  });

  it('an invalid ID number answers 400 naming the field; nothing is entered', async () => {
    const valid = childId();
    const broken = `${valid.slice(0, 17)}${valid.endsWith('0') ? '1' : '0'}`;
    const res = await apply({ child_national_id: broken });
    expect(res.status).toBe(400);
    expect(fields(await problem(res))).toEqual(['child_national_id']);
    const short = await apply({ child_national_id: '42058120' });
    expect(short.status).toBe(400);
    expect(fields(await problem(short))).toEqual(['child_national_id']);
  });
});
