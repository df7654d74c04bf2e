/**
 * Property tests for every JSON write operation of the OpenAPI document (a new one is covered without
 * editing this file): random bodies built from the contract's own fields plus server-owned fields
 * (division, status, amounts, approver, version) never cause a 500; a rejected request answers
 * problem+json and changes nothing — no audit record, which every mutation writes.
 */
import { randomUUID } from 'node:crypto';
import { detectConflicts, rowsOf, schema, withDivision } from '@houfu/db';
import { type Permission, roleDefinitions, roles } from '@houfu/domain';
import { eq, or, sql } from 'drizzle-orm';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openApiDocument } from '../src/index.js';
import {
  createTestApp,
  makeDisbursement,
  makeNationalId,
  makePerson,
  makeTownship,
  problem,
  type TestApp,
} from './helpers.js';

// 远安县: written only by this file, so its audit head moves only when these requests do.
const COUNTY = 420525;
// 宜昌市, and 兴山县 beside it: the other county of a registration conflict the city reviews.
const CITY = 420500;
const OTHER_COUNTY = 420526;
// 云南省 and 五华区: policy is written by a province (its overrides, its counties' payment modes); only
// this file writes there.
const PROVINCE = 530000;
const PROVINCE_COUNTY = 530102;
const SERVER_OWNED = [
  'division_code',
  'county_code',
  'status',
  'amount_fen',
  'approver',
  'version',
  'source',
  'id',
];

let t: TestApp;
let township: number;
/** Ids of this county's resources, by the collection a `{id}` path belongs to. */
const fixtures: Record<string, string> = {};
/** Documented examples replaced by ones valid for this file's fixtures (a reviewed hash, a free period). */
const exampleOverrides: Record<string, Record<string, unknown>> = {};
/** Templated paths that are neither `{id}` nor a township `{code}`: the concrete path to write. */
const concretePaths: Record<string, string> = {
  '/v1/policy/parameters/{parameter}/provinces/{province}/values/{from}': `/v1/policy/parameters/subsidy.annual_standard/provinces/${PROVINCE}/values/2090-01-01`,
  '/v1/policy/payment-modes/{code}/values/{from}': `/v1/policy/payment-modes/${PROVINCE_COUNTY}/values/2090-01-01`,
};
beforeAll(async () => {
  t = await createTestApp();
  const made = await makeTownship(t.db, COUNTY, 1);
  township = made.township.code;
  const person = await makePerson(t, COUNTY, {
    village: made.villages[0]?.code,
    bankAccount: '6228480012345678',
  });
  fixtures['/v1/persons'] = person.id;
  fixtures['/v1/households'] = person.householdId;
  // The same ID registered here and next door: a conflict for the city (its audit chain is the
  // city's). Persons of its own, so that ID corrections of the person above leave it open.
  const here = await makePerson(t, COUNTY, { village: made.villages[0]?.code });
  const twin = await makePerson(t, OTHER_COUNTY, { nationalId: here.nationalId });
  await withDivision(t.db, OTHER_COUNTY, (tx) => detectConflicts(tx, OTHER_COUNTY, [twin.id]));
  const [conflict] = await withDivision(t.db, CITY, (tx) =>
    tx
      .select()
      .from(schema.registryConflicts)
      .where(
        or(eq(schema.registryConflicts.personA, twin.id), eq(schema.registryConflicts.personB, twin.id)),
      ),
  );
  fixtures['/v1/registry/conflicts'] = conflict?.id as string;
  // Payment batches in the states their writes need: a draft to approve (with the hash an approver
  // reviewed as its example), and one reconciled with a failed line and an open exception; a free
  // period to prepare.
  const periods = await freePeriods(COUNTY, 3);
  const draft = await makeDisbursement(t, COUNTY, periods[0] as string, 'draft');
  const returned = await makeDisbursement(t, COUNTY, periods[1] as string, 'returned');
  fixtures['/v1/disbursements'] = returned.id;
  fixtures['/v1/disbursement-exceptions'] = returned.exceptionId as string;
  concretePaths['/v1/disbursements/{id}/approve'] = `/v1/disbursements/${draft.id}/approve`;
  concretePaths['/v1/payment-lines/{reference}/write-off'] = `/v1/payment-lines/${returned.failed}/write-off`;
  exampleOverrides['/v1/disbursements/{id}/approve'] = { content_hash: draft.contentHash };
  exampleOverrides['/v1/disbursements'] = { period: periods[2] };
  await projectFixtures(made.villages[0]?.code as number);
  await demonstrationFixtures(made.villages[0]?.code as number);
  await aidFixtures(made.villages[0]?.code as number);
  await trainingFixtures();
});

/**
 * Training plans in the states their writes need (in years the county has no plan yet): a draft
 * (replaced), a draft (submitted), a submitted one (reviewed), an approved one (calls, sessions); a
 * provider and an open call (bids).
 */
async function trainingFixtures() {
  const clerk = await t.token(COUNTY, ['county_operator'], 'user:properties:training');
  const city = await t.token(CITY, ['city_reviewer'], 'user:properties:training-city');
  const used = new Set(
    rowsOf<{ year: number }>(
      await t.admin.orm.execute(sql`SELECT year FROM training_plans WHERE division_code = ${COUNTY}`),
    ).map((r) => Number(r.year)),
  );
  const years = [...Array(190).keys()].map((i) => 2010 + i).filter((y) => !used.has(y));
  const run = randomUUID().slice(0, 6);
  const must = async (res: Response, status = 200) => {
    expect(res.status, await res.clone().text()).toBe(status);
    return (await res.json()) as { id: string };
  };
  const lines = [
    {
      kind: 'practical_skills',
      sessions: 40,
      trainees: 1014,
      trainee_times: 3600,
      courses: ['柑桔栽培'],
      budget_fen: 40_000_000,
    },
  ];
  const plan = async (year: number) =>
    must(
      await t.call('POST', '/v1/training-plans', {
        token: clerk,
        body: {
          year,
          name: '属性测试培训计划',
          lines,
          funding_lines: [{ source: 'post_support', amount_fen: 40_000_000 }],
        },
      }),
      201,
    );
  const step = (id: string, action: string, as = clerk, body?: unknown) =>
    t.call('POST', `/v1/training-plans/${id}/${action}`, { token: as, ...(body ? { body } : {}) });
  const [y1, y2, y3, y4, y5] = years as [number, number, number, number, number];
  const approved = await plan(y1);
  await must(await step(approved.id, 'submit'));
  await must(await step(approved.id, 'review', city, { action: 'approve' }));
  fixtures['/v1/training-plans'] = approved.id;
  concretePaths['/v1/training-plans/{id}'] = `/v1/training-plans/${(await plan(y2)).id}`;
  concretePaths['/v1/training-plans/{id}/submit'] = `/v1/training-plans/${(await plan(y3)).id}/submit`;
  const submitted = await plan(y4);
  await must(await step(submitted.id, 'submit'));
  concretePaths['/v1/training-plans/{id}/review'] = `/v1/training-plans/${submitted.id}/review`;
  exampleOverrides['/v1/training-plans'] = {
    year: y5,
    name: '属性测试新培训计划',
    lines,
    funding_lines: [{ source: 'post_support', amount_fen: 40_000_000 }],
  };
  const provider = await must(
    await t.call('POST', '/v1/training-providers', {
      token: clerk,
      body: { name: `属性测试承训单位${run}` },
    }),
    201,
  );
  fixtures['/v1/training-providers'] = provider.id;
  exampleOverrides['/v1/training-providers'] = { name: `属性测试新承训单位${run}` };
  const callBody = {
    plan_id: approved.id,
    kind: 'practical_skills',
    title: '属性测试竞争性选择',
    trainees: 100,
    budget_fen: 7_000_000,
    providers: 1,
  };
  exampleOverrides['/v1/training-calls'] = callBody;
  const open = await must(await t.call('POST', '/v1/training-calls', { token: clerk, body: callBody }), 201);
  fixtures['/v1/training-calls'] = open.id;
  concretePaths['/v1/training-calls/{id}/bids'] = `/v1/training-calls/${open.id}/bids`;
  exampleOverrides['/v1/training-calls/{id}/bids'] = {
    provider_id: provider.id,
    price_per_trainee_fen: 60_000,
    scores: { scheme: 90, capacity: 85, record: 80 },
  };
  exampleOverrides['/v1/training-sessions'] = {
    plan_id: approved.id,
    kind: 'practical_skills',
    held_on: `${y1}-04-12`,
    place: '属性测试培训地点',
    course: '柑桔栽培',
    trainees: 90,
    materials: 100,
    cost_fen: 630_000,
  };
}

/**
 * Vocational education aid applications in the states their steps need: one entered (posted), one
 * posted (reviewed by the township), two approved by the township (one paid, one rejected by the county); the parent a registered
 * person of its own (other writes may record events of the persons fixture); a child to apply for.
 */
async function aidFixtures(village: number) {
  const clerk = await t.token(COUNTY, ['county_operator'], 'user:properties:aid');
  const parent = await makePerson(t, COUNTY, { village });
  fixtures['aid parent'] = parent.id;
  const today = new Date().toISOString().slice(0, 10);
  const daysAgo = (n: number) => new Date(Date.now() - n * 86_400_000).toISOString().slice(0, 10);
  const sixteen = daysAgo(16 * 366);
  const base = {
    village_code: village,
    child_name: '属性测试子女',
    parent_person_id: parent.id,
    school: '职业教育中心',
    level: 'secondary',
    school_year: 2026,
    recognised_cost_fen: 600_000,
    requested_fen: 200_000,
  };
  const must = async (res: Response, status = 200) => {
    expect(res.status, await res.clone().text()).toBe(status);
    return (await res.json()) as { id: string };
  };
  const make = async () =>
    must(
      await t.call('POST', '/v1/vocational-aid-applications', {
        token: clerk,
        body: { ...base, child_national_id: makeNationalId(COUNTY, sixteen) },
      }),
      201,
    );
  const step = (id: string, action: string, body: unknown) =>
    t.call('POST', `/v1/vocational-aid-applications/${id}/${action}`, { token: clerk, body });
  const posting = { posting_from: daysAgo(10), posting_to: daysAgo(3), posting_place: '村务公开栏' };
  const review = { decision: 'approve', reviewer: '镇审核人', reviewed_on: today, comment: '同意' };
  const entered = await make();
  fixtures['/v1/vocational-aid-applications'] = entered.id;
  concretePaths['/v1/vocational-aid-applications/{id}/posting'] =
    `/v1/vocational-aid-applications/${entered.id}/posting`;
  exampleOverrides['/v1/vocational-aid-applications/{id}/posting'] = posting;
  const posted = await make();
  await must(await step(posted.id, 'posting', posting));
  concretePaths['/v1/vocational-aid-applications/{id}/township-review'] =
    `/v1/vocational-aid-applications/${posted.id}/township-review`;
  exampleOverrides['/v1/vocational-aid-applications/{id}/township-review'] = review;
  const approved = await make();
  await must(await step(approved.id, 'posting', posting));
  await must(await step(approved.id, 'township-review', review));
  concretePaths['/v1/vocational-aid-applications/{id}/payment'] =
    `/v1/vocational-aid-applications/${approved.id}/payment`;
  const toReject = await make();
  await must(await step(toReject.id, 'posting', posting));
  await must(await step(toReject.id, 'township-review', review));
  concretePaths['/v1/vocational-aid-applications/{id}/rejection'] =
    `/v1/vocational-aid-applications/${toReject.id}/rejection`;
  exampleOverrides['/v1/vocational-aid-applications/{id}/payment'] = {
    amount_fen: 200_000,
    paid_on: today,
    reference: '属性测试〔2026〕1号',
  };
  exampleOverrides['/v1/vocational-aid-applications'] = {
    ...base,
    child_national_id: makeNationalId(COUNTY, sixteen),
  };
}

/**
 * A demonstration village of the province's county to assess (applied by its clerk, with the
 * collective income of the year before); this county's village and a free year for new applications;
 * a `reported` progress target of this county to report on, and a fresh period for new targets.
 */
async function demonstrationFixtures(village: number) {
  const must = async (res: Response, status = 200) => {
    expect(res.status, await res.clone().text()).toBe(status);
    return (await res.json()) as { id: string };
  };
  const year = new Date().getUTCFullYear();
  const provinceYear = await freeDemonstrationYear(PROVINCE_COUNTY, year);
  const provinceVillage = (await makeTownship(t.db, PROVINCE_COUNTY, 1)).villages[0]?.code as number;
  const provinceClerk = await t.token(PROVINCE_COUNTY, ['county_operator'], 'user:properties:demo-clerk');
  await must(
    await t.call('POST', '/v1/collective-incomes', {
      token: provinceClerk,
      body: { village_code: provinceVillage, year: provinceYear - 1, income_fen: 1_250_000 },
    }),
  );
  const applied = await must(
    await t.call('POST', '/v1/demonstration-villages', {
      token: provinceClerk,
      body: {
        village_code: provinceVillage,
        year: provinceYear,
        migrants: 860,
        population: 1240,
        development_plan: '村发展规划',
        planned_total_fen: 5_000_000,
        planned_integrated_fen: 900_000,
      },
    }),
    201,
  );
  concretePaths['/v1/demonstration-villages/{id}/assessments'] =
    `/v1/demonstration-villages/${applied.id}/assessments`;
  fixtures['/v1/demonstration-villages'] = applied.id;
  exampleOverrides['/v1/demonstration-villages/{id}/assessments'] = {
    scores: { production: 92, livelihood: 88, civility: 90, cleanliness: 95, democracy: 85 },
    assessed_on: new Date().toISOString().slice(0, 10),
  };

  const freeYear = await freeDemonstrationYear(COUNTY, year);
  const clerk = await t.token(COUNTY, ['county_operator'], 'user:properties:demo');
  await must(
    await t.call('POST', '/v1/collective-incomes', {
      token: clerk,
      body: { village_code: village, year: freeYear - 1, income_fen: 1_250_000 },
    }),
  );
  exampleOverrides['/v1/collective-incomes'] = {
    village_code: village,
    year: year - 1,
    income_fen: 1_250_000,
  };
  exampleOverrides['/v1/demonstration-villages'] = {
    village_code: village,
    year: freeYear,
    migrants: 860,
    population: 1240,
    development_plan: '村发展规划',
    planned_total_fen: 5_000_000,
    planned_integrated_fen: 900_000,
  };

  // Periods no other run has used (a shared database keeps the targets of earlier runs).
  const offset = Math.floor(Math.random() * 150);
  const day = (n: number) => new Date(Date.UTC(2013, 0, 1 + n)).toISOString().slice(0, 10);
  const target = await must(
    await t.call('POST', '/v1/progress-targets', {
      token: await t.token(COUNTY - (COUNTY % 10_000), ['province_admin'], 'user:properties:progress-hubei'),
      body: {
        county_code: COUNTY,
        kind: 'people',
        name: '属性测试目标',
        period_start: day(offset),
        period_end: day(364 - Math.floor(Math.random() * 150)),
        target_value: 13_050,
      },
    }),
    201,
  );
  fixtures['/v1/progress-targets'] = target.id;
  concretePaths['/v1/progress-targets/{id}/reports'] = `/v1/progress-targets/${target.id}/reports`;
  exampleOverrides['/v1/progress-targets/{id}/reports'] = { as_of: day(offset + 1), done_value: 7_500 };
  exampleOverrides['/v1/progress-targets'] = {
    county_code: PROVINCE_COUNTY,
    kind: 'money',
    name: '属性测试资金目标',
    period_start: day(Math.floor(Math.random() * 3650) - 3650),
    period_end: '2099-12-31',
    target_value: 631_084_0000,
  };
}

/**
 * Post-support projects in the states their writes need: one in the library (edited, cancelled), one
 * with its funding replaced, one planned (submitted), one at the city's step (reviewed), one approved
 * (its scope changed); an allocation to the province's county.
 */
async function projectFixtures(village: number) {
  const clerk = await t.token(COUNTY, ['county_operator'], 'user:properties:projects');
  const city = await t.token(CITY, ['city_reviewer'], 'user:properties:projects-city');
  const lines = [{ source: 'self_raised', amount_fen: 1_000_000 }];
  const base = {
    name: '属性测试项目',
    category: 'infrastructure',
    year: 2026,
    village_codes: [village],
    total_fen: 1_000_000,
    funding_lines: lines,
    posting_from: '2026-01-01',
    posting_to: '2026-01-15',
  };
  const must = async (res: Response, status = 200) => {
    expect(res.status, await res.clone().text()).toBe(status);
    return (await res.json()) as { id: string };
  };
  const make = async () => must(await t.call('POST', '/v1/projects', { token: clerk, body: base }), 201);
  const step = (id: string, action: string, as = clerk, body?: unknown) =>
    t.call('POST', `/v1/projects/${id}/${action}`, { token: as, ...(body ? { body } : {}) });
  fixtures['/v1/projects'] = (await make()).id;
  const funded = await make();
  concretePaths['/v1/projects/{id}/funding'] = `/v1/projects/${funded.id}/funding`;
  exampleOverrides['/v1/projects/{id}/funding'] = {
    total_fen: 2_000_000,
    funding_lines: [{ source: 'self_raised', amount_fen: 2_000_000 }],
  };
  const planned = await make();
  await must(await step(planned.id, 'plan'));
  concretePaths['/v1/projects/{id}/submit'] = `/v1/projects/${planned.id}/submit`;
  const reviewed = await make();
  await must(await step(reviewed.id, 'plan'));
  await must(await step(reviewed.id, 'submit'));
  concretePaths['/v1/projects/{id}/review'] = `/v1/projects/${reviewed.id}/review`;
  const approved = await make();
  await must(await step(approved.id, 'plan'));
  await must(await step(approved.id, 'submit'));
  await must(await step(approved.id, 'review', city, { action: 'approve' }));
  concretePaths['/v1/projects/{id}/changes'] = `/v1/projects/${approved.id}/changes`;
  exampleOverrides['/v1/projects/{id}/changes'] = {
    category: 'infrastructure',
    village_codes: [village],
    planned_outputs: { road_km: '1.5' },
    total_fen: 1_200_000,
    funding_lines: [{ source: 'self_raised', amount_fen: 1_200_000 }],
    comment: '增加道路长度',
  };
  // Implementation and acceptance: one approved project being built (progress reported, contracts
  // signed, a contractor paid on its contract and funding line), one completed (its acceptance).
  const approve = async () => {
    const p = await make();
    await must(await step(p.id, 'plan'));
    await must(await step(p.id, 'submit'));
    return must(await step(p.id, 'review', city, { action: 'approve' }));
  };
  const building = (await approve()) as { id: string; funding_lines?: { id: string }[] };
  const signed = await must(
    await t.call('POST', `/v1/projects/${building.id}/contracts`, {
      token: clerk,
      body: {
        contractor: '属性测试建筑公司',
        contract_no: 'PROP-HT-1',
        amount_fen: 500_000,
        signed_on: '2026-01-10',
      },
    }),
    201,
  );
  for (const action of ['progress-reports', 'contracts', 'payments']) {
    concretePaths[`/v1/projects/{id}/${action}`] = `/v1/projects/${building.id}/${action}`;
  }
  exampleOverrides['/v1/projects/{id}/progress-reports'] = {
    reported_on: '2026-02-01',
    investment_completed_fen: 100_000,
    percent_complete: 10,
    village_codes: [village],
  };
  exampleOverrides['/v1/projects/{id}/contracts'] = {
    contractor: '属性测试建筑公司',
    contract_no: 'PROP-HT-2',
    amount_fen: 1_000,
    signed_on: '2026-01-10',
  };
  exampleOverrides['/v1/projects/{id}/payments'] = {
    contract_id: signed.id,
    funding_line_id: building.funding_lines?.[0]?.id,
    stage: 'contract',
    amount_fen: 1,
    paid_on: '2026-01-20',
    reference: `属性测试报账${randomUUID().slice(0, 8)}`,
  };
  const done = await approve();
  await must(
    await t.call('POST', `/v1/projects/${done.id}/progress-reports`, {
      token: clerk,
      body: {
        reported_on: '2026-02-01',
        investment_completed_fen: 1_000_000,
        percent_complete: 100,
        village_codes: [village],
      },
    }),
    201,
  );
  concretePaths['/v1/projects/{id}/acceptance'] = `/v1/projects/${done.id}/acceptance`;
  exampleOverrides['/v1/projects'] = { ...base, name: '属性测试新项目' };
  exampleOverrides['/v1/fund-allocations'] = {
    county_code: PROVINCE_COUNTY,
    source: 'post_support',
    year: 2026,
    amount_fen: 1_000_000,
    document_no: '云移〔2026〕1号',
    allocated_on: '2026-01-05',
  };
}

/** The latest year up to `until` with a place left in the county's quota (3 a year by default; a shared database keeps earlier runs' applications). */
async function freeDemonstrationYear(county: number, until: number): Promise<number> {
  const rows = (await t.admin.orm.execute(sql`SELECT y AS year FROM generate_series(2007, ${until}) y
    WHERE (SELECT count(*) FROM demonstration_villages v WHERE v.division_code = ${county} AND v.year = y
           AND v.status IN ('applied', 'named')) < 3 ORDER BY y DESC LIMIT 1`)) as unknown as
    | { rows?: { year: number }[] }
    | { year: number }[];
  const year = Number((Array.isArray(rows) ? rows : (rows.rows ?? []))[0]?.year);
  expect(year, `a year with a free demonstration place for ${county}`).toBeGreaterThan(2006);
  return year;
}

/** Semi-annual periods with no live batch of the county yet (a shared database may hold others). */
async function freePeriods(county: number, n: number): Promise<string[]> {
  const rows = (await t.admin.orm.execute(
    sql`SELECT period FROM payment_batches WHERE division_code = ${county} AND kind = 'regular'
      AND status NOT IN ('cancelled', 'failed')`,
  )) as unknown as { rows?: { period: string }[] } | { period: string }[];
  const used = new Set((Array.isArray(rows) ? rows : (rows.rows ?? [])).map((r) => r.period));
  const free: string[] = [];
  for (let year = 2007; year <= 2025 && free.length < n; year += 1) {
    for (const half of ['H1', 'H2'])
      if (!used.has(`${year}-${half}`) && free.length < n) free.push(`${year}-${half}`);
  }
  return free;
}
afterAll(() => t.close());

interface Property {
  type?: string;
  format?: string;
  enum?: unknown[];
  example?: unknown;
}

interface Operation {
  operationId: string;
  'x-permission'?: Permission;
  requestBody?: {
    content?: Record<string, { schema?: { $ref?: string; properties?: Record<string, unknown> } }>;
  };
}

const doc = openApiDocument();
const schemas = (doc.components?.schemas ?? {}) as Record<string, { properties?: Record<string, Property> }>;
const writes = Object.entries(doc.paths ?? {}).flatMap(([path, item]) =>
  Object.entries((item ?? {}) as Record<string, Operation>)
    .filter(
      ([method, op]) =>
        ['post', 'put', 'patch'].includes(method) &&
        op['x-permission'] &&
        op.requestBody?.content?.['application/json'],
    )
    .map(([method, op]) => {
      const schema = op.requestBody?.content?.['application/json']?.schema ?? {};
      const resolved = schema.$ref ? schemas[schema.$ref.split('/').pop() ?? ''] : schema;
      return {
        path,
        method: method.toUpperCase(),
        op,
        properties: (resolved?.properties ?? {}) as Record<string, Property>,
        example: (resolved as { example?: Record<string, unknown> } | undefined)?.example,
      };
    }),
);

/** Values of every JSON type, plus the shapes our fields take (codes, Chinese names). */
const anyValue = fc.oneof(
  fc.jsonValue({ maxDepth: 2 }),
  fc.integer({ min: COUNTY * 1_000_000, max: COUNTY * 1_000_000 + 999_999 }),
  fc.constantFrom('移民新村', '', ' ', '\u0000', 'x'.repeat(101), '420525100201'),
  fc.boolean(),
);

/** A plausible value for a contract field: its example's kind, aimed at this county's codes. */
function plausible(property: Property) {
  if (property.type === 'boolean') return fc.boolean();
  if (property.enum) return fc.constantFrom(...property.enum);
  if (property.format === 'date') {
    return fc.constantFrom(
      String(property.example ?? '2013-03-15'),
      '2013-03-15',
      '2099-01-01',
      '2013-02-30',
    );
  }
  if (property.format === 'uuid') return fc.constantFrom(...Object.values(fixtures), randomUUID());
  if (property.type === 'string') {
    return fc.oneof(
      fc.constantFrom('移民新村', '白水港村', String(property.example ?? '')),
      fc.string({ maxLength: 8 }),
    );
  }
  if (property.type === 'integer' || property.type === 'number') {
    const twelveDigits = typeof property.example === 'number' && property.example >= 1e11;
    return twelveDigits ? fc.integer({ min: 0, max: 60 }).map((n) => township + n) : fc.integer();
  }
  return anyValue;
}

/** Id fields that name a resource of another collection than households: the fixture they take. */
const idFixtures: Record<string, string> = { parent_person_id: 'aid parent' };
const idFor = (field: string) => fixtures[idFixtures[field] ?? '/v1/households'];

/** The documented example of each field (enums: the first value; ids: this county's), a random subset. */
function examples(properties: Record<string, Property>, example?: Record<string, unknown>, concrete = false) {
  const known = Object.entries(properties).flatMap(([k, p]): [string, unknown][] => {
    if (p.example !== undefined) return [[k, p.format === 'uuid' ? idFor(k) : p.example]];
    if (p.enum) return [[k, p.enum[0]]];
    if (p.format === 'uuid' && k.startsWith('household')) return [[k, fixtures['/v1/households']]];
    return [];
  });
  // The body's own documented example, its ids pointed at this county's resources (an override's ids
  // are this file's fixtures already).
  const full = example
    ? Object.entries(example).map(([k, v]): [string, unknown] => [
        k,
        properties[k]?.format === 'uuid' && !concrete ? idFor(k) : v,
      ])
    : known;
  return fc
    .oneof(fc.constant(full), fc.subarray(known, { minLength: 1 }))
    .map((entries) => Object.fromEntries(entries));
}

/** Mostly contract-shaped bodies (some valid), sometimes with a random or server-owned field added. */
function bodies(properties: Record<string, Property>, example?: Record<string, unknown>, concrete = false) {
  const shaped = fc.record(
    Object.fromEntries(
      Object.entries(properties).map(([k, p]) => [
        k,
        fc.oneof({ weight: 4, arbitrary: plausible(p) }, anyValue),
      ]),
    ),
    { requiredKeys: [] },
  );
  const extra = fc.dictionary(fc.constantFrom(...SERVER_OWNED), anyValue, { minKeys: 1, maxKeys: 2 });
  return fc.oneof(
    { weight: 2, arbitrary: shaped },
    { weight: 1, arbitrary: examples(properties, example, concrete) },
    { weight: 1, arbitrary: fc.tuple(shaped, extra).map(([a, b]) => ({ ...a, ...b })) },
  );
}

async function auditHead(): Promise<number> {
  const rows = (await t.admin.orm.execute(
    sql`SELECT sum(seq) AS seq FROM audit_heads
      WHERE division_code IN (${COUNTY}, ${CITY}, ${OTHER_COUNTY}, ${PROVINCE}, ${PROVINCE_COUNTY})`,
  )) as unknown as { rows?: { seq: string }[] } | { seq: string }[];
  const list = Array.isArray(rows) ? rows : (rows.rows ?? []);
  return Number(list[0]?.seq ?? 0);
}

describe('write operations never answer 500 and reject without side effects', () => {
  it('there are write operations to test', () => {
    expect(writes.length).toBeGreaterThan(0);
  });

  it.each(writes.map((w) => [w.op.operationId, w] as const))('%s', async (_, w) => {
    // The county's own role when one holds the permission, else the city's (reviews, resolutions),
    // else the province's (policy).
    const holders = roles.filter((r) => roleDefinitions[r].permissions.includes(w.op['x-permission']!));
    const role =
      holders.find((r) => roleDefinitions[r].levels.includes('county')) ??
      holders.find((r) => roleDefinitions[r].levels.includes('city')) ??
      holders.find((r) => roleDefinitions[r].levels.includes('province'));
    expect(role, `a county, city or province role holds ${w.op['x-permission']}`).toBeDefined();
    const levels = roleDefinitions[role!].levels;
    const division = levels.includes('county') ? COUNTY : levels.includes('city') ? CITY : PROVINCE;
    const token = await t.token(division, [role!], `user:properties:${w.op.operationId}`);
    // `{id}` paths get a resource of this county (add a fixture for a new collection); codes a township.
    const path =
      concretePaths[w.path] ??
      w.path
        .replace(/^(\/v1\/.+?)\/\{id\}/, (_, base: string) => {
          expect(fixtures[base], `a fixture id for ${base}/{id}`).toBeDefined();
          return `${base}/${fixtures[base]}`;
        })
        .replace(/\{\w+\}/g, String(township));
    const body = bodies(w.properties, exampleOverrides[w.path] ?? w.example, w.path in exampleOverrides);

    const statuses: number[] = [];
    await fc.assert(
      fc.asyncProperty(body, fc.boolean(), fc.boolean(), async (payload, withKey, fresh) => {
        const before = await auditHead();
        // A PATCH (or a PUT of a readable resource) sends its current ETag half of the time (so some updates can succeed
        // however far its version has moved), else a guess that is usually stale.
        const current =
          (w.method === 'PATCH' || w.method === 'PUT') && fresh
            ? (await t.call('GET', path, { token })).headers.get('etag')
            : null;
        const ifMatch = current ?? `"v${1 + Math.floor(Math.random() * 3)}"`;
        const res = await t.call(w.method, path, {
          token,
          body: payload,
          headers: { 'if-match': ifMatch, ...(withKey ? { 'idempotency-key': randomUUID() } : {}) },
        });
        expect(res.status).toBeLessThan(500);
        statuses.push(res.status);
        if (res.status >= 400) {
          await problem(res);
          expect(await auditHead()).toBe(before);
        } else {
          await res.arrayBuffer();
        }
      }),
      { numRuns: 100 },
    );
    // The runs reached both sides: some writes were accepted, some rejected.
    expect(statuses.some((s) => s < 300)).toBe(true);
    expect(statuses.some((s) => s >= 400)).toBe(true);
  });
});
