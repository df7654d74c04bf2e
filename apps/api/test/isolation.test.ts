/**
 * Tenant isolation (OWASP API1 BOLA), derived from the OpenAPI document so that a new route is covered
 * without editing this file: resources of 宜都市 (420581) are read by id, listed and written by callers of
 * 当阳市 (420582, same city), 武汉市 (420100, another city) and 北京市 (110000, another province), each
 * with a role holding the operation's permission at its level. Reads by id answer 404 exactly as for an
 * id that does not exist; lists carry nothing of 420581; writes never succeed and audit nothing.
 * A templated path whose collection has no fixture below fails, naming the collection.
 */
import { randomUUID } from 'node:crypto';
import { detectConflicts, rowsOf, schema, withDivision } from '@houfu/db';
import {
  type DivisionLevel,
  importColumns,
  type Permission,
  type Role,
  roleDefinitions,
  roles,
  townshipCodeFrom9,
} from '@houfu/domain';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openApiDocument } from '../src/index.js';
import {
  createTestApp,
  makeDisbursement,
  makeNationalId,
  makePerson,
  makeTownship,
  type TestApp,
} from './helpers.js';

const OWNER = 420581; // 宜都市
const OWNER_CITY = 420500; // 宜昌市, which reviews 420581's conflicts
const SAME_CITY = 420582; // 当阳市
const OTHER_CITY = 420100; // 武汉市
const OTHER_PROVINCE = 110000; // 北京市
/** Reference data every authenticated caller reads (the GB/T 2260 dictionary), not tenant data. */
const SHARED = new Set(['/v1/divisions']);

interface Operation {
  operationId: string;
  'x-permission'?: Permission | 'authenticated';
  parameters?: { name: string; in: string }[];
  requestBody?: { content?: Record<string, { schema?: SchemaObject }> };
  responses?: Record<string, { content?: Record<string, { schema?: SchemaObject }> }>;
}
interface SchemaObject {
  $ref?: string;
  type?: string;
  example?: Record<string, unknown>;
  properties?: Record<string, SchemaObject & { example?: unknown; format?: string }>;
  anyOf?: SchemaObject[];
  oneOf?: SchemaObject[];
}

const doc = openApiDocument();
const components = (doc.components?.schemas ?? {}) as Record<string, SchemaObject>;
const resolve = (s: SchemaObject | undefined) => (s?.$ref ? components[s.$ref.split('/').pop() ?? ''] : s);
const operations = Object.entries(doc.paths ?? {}).flatMap(([path, item]) =>
  Object.entries((item ?? {}) as Record<string, Operation>)
    .filter(([, op]) => op['x-permission'])
    .map(([method, op]) => ({
      path,
      method: method.toUpperCase(),
      op,
      permission: op['x-permission'] as Permission | 'authenticated',
      /** The collection a templated path belongs to: `/v1/persons/{id}/events` → `/v1/persons`. */
      base: path.split('/{')[0] as string,
      label: `${method.toUpperCase()} ${path}`,
    })),
);
const templated = (path: string) => /\{(id|code|reference)\}/.test(path);
const tenant = (o: { base: string }) => !SHARED.has(o.base);
const reads = operations.filter((o) => o.method === 'GET' && templated(o.path) && tenant(o));
const writes = operations.filter((o) => ['POST', 'PATCH', 'PUT'].includes(o.method) && templated(o.path));
const returnsPage = (op: Operation) => {
  const top = resolve(op.responses?.['200']?.content?.['application/json']?.schema);
  const branches = [top, ...(top?.anyOf ?? []), ...(top?.oneOf ?? [])].map(resolve);
  return branches.some((b) => b?.properties?.data?.type === 'array');
};
const lists = operations.filter(
  (o) => o.method === 'GET' && !o.path.includes('{') && returnsPage(o.op) && tenant(o),
);

// ── Callers ────────────────────────────────────────────────────────────────────────────────────────

const levelOf: Record<number, DivisionLevel> = {
  [OWNER]: 'county',
  [SAME_CITY]: 'county',
  [OWNER_CITY]: 'city',
  [OTHER_CITY]: 'city',
  [OTHER_PROVINCE]: 'province',
};

/** A role holding `permission` at the division's level (bureau roles before the auditor), if any. */
function roleFor(permission: Permission | 'authenticated', division: number): Role | undefined {
  const level = levelOf[division] as DivisionLevel;
  return roles.find(
    (r) =>
      roleDefinitions[r].levels.includes(level) &&
      (permission === 'authenticated' || roleDefinitions[r].permissions.includes(permission)),
  );
}

interface Caller {
  division: number;
  role: Role;
  token: string;
}
const tokens = new Map<string, string>();
async function callerAt(
  permission: Permission | 'authenticated',
  division: number,
): Promise<Caller | undefined> {
  const role = roleFor(permission, division);
  if (!role) return undefined;
  const key = `${role}@${division}`;
  if (!tokens.has(key)) tokens.set(key, await t.token(division, [role], `user:isolation:${key}`));
  return { division, role, token: tokens.get(key) as string };
}
/** The foreign callers holding the permission; at least one, or the operation is not tested at all. */
async function foreignCallers(permission: Permission | 'authenticated', label: string) {
  const callers = (
    await Promise.all([SAME_CITY, OTHER_CITY, OTHER_PROVINCE].map((d) => callerAt(permission, d)))
  ).filter((c): c is Caller => c !== undefined);
  expect(callers.length, `a foreign division holds ${permission} for ${label}`).toBeGreaterThan(0);
  return callers;
}

// ── Fixtures: 420581's resources, by collection ────────────────────────────────────────────────────

interface Fixture {
  /** The path parameter. */
  id: string;
  /** Values that identify the resource (besides `id`): none may reach a foreign caller. */
  identifying: string[];
  /** An id of the same shape that does not exist. */
  missing: string;
  /** Who owns it (200 when read by id). */
  owner: number;
  /** Also listed in 420582's lists legitimately (a conflict's id is shown to both counties). */
  sharedWithSameCity?: boolean;
  /** Values of the path's other parameters (`{from}` of a dated setting). */
  params?: Record<string, string>;
}

let t: TestApp;
const fixtures: Record<string, Fixture> = {};
let foreignVillage: number;

beforeAll(async () => {
  t = await createTestApp();
  const run = randomUUID().slice(0, 8);
  const made = await makeTownship(t.db, OWNER, 1);
  const village = made.villages[0]?.code as number;
  foreignVillage = (await makeTownship(t.db, SAME_CITY, 1)).villages[0]?.code as number;

  const person = await makePerson(t, OWNER, { village, name: `隔离${run}`, bankAccount: '6228480012345678' });
  const [row] = await withDivision(t.db, OWNER, (tx) =>
    tx.select().from(schema.persons).where(sql`${schema.persons.id} = ${person.id}`),
  );
  const masked = row?.idMasked as string;
  fixtures['/v1/persons'] = {
    id: person.id,
    identifying: [person.name, person.nationalId, masked, person.householdId],
    missing: randomUUID(),
    owner: OWNER,
  };
  fixtures['/v1/households'] = {
    id: person.householdId,
    identifying: [person.id, person.name, masked],
    missing: randomUUID(),
    owner: OWNER,
  };
  fixtures['/v1/localities'] = {
    id: String(made.township.code),
    identifying: [made.township.name, String(village)],
    // makeTownship draws 200–999: 150 is never made.
    missing: String(townshipCodeFrom9(OWNER * 1000 + 150)),
    owner: OWNER,
  };

  // An import of one row, through the job runner.
  const filename = `isolation-${run}.csv`;
  const cells: Record<string, string> = {
    household_no: `ISO-${run}`,
    relationship: '户主',
    name: `导入${run}`,
    national_id: makeNationalId(OWNER),
    reservoir: '三峡水库',
    relocation_date: '2003-05-01',
    relocatee_kind: '原迁移民',
    village_code: String(village),
  };
  const csv = `${importColumns.map((c) => c.header).join(',')}\r\n${importColumns.map((c) => cells[c.key] ?? '').join(',')}\r\n`;
  const operator = await t.token(OWNER, ['county_operator'], 'user:isolation:owner');
  const posted = await t.app.request(`/v1/imports?filename=${filename}`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${operator}`,
      'content-type': 'text/csv',
      'idempotency-key': randomUUID(),
    },
    body: csv,
  });
  expect(posted.status, await posted.clone().text()).toBe(202);
  const created = (await posted.json()) as { id: string; job: { id: string } };
  await t.jobs.runUntilIdle();
  fixtures['/v1/imports'] = {
    id: created.id,
    identifying: [filename, created.job.id, cells.name as string, cells.household_no as string],
    missing: randomUUID(),
    owner: OWNER,
  };
  fixtures['/v1/jobs'] = {
    id: created.job.id,
    identifying: [created.id, filename],
    missing: randomUUID(),
    owner: OWNER,
  };

  // One national ID registered here and next door: a conflict the city reviews.
  const here = await makePerson(t, OWNER, { village, name: `重复${run}` });
  const twin = await makePerson(t, SAME_CITY, { village: foreignVillage, nationalId: here.nationalId });
  await withDivision(t.db, SAME_CITY, (tx) => detectConflicts(tx, SAME_CITY, [twin.id]));
  const [conflict] = await withDivision(t.db, OWNER_CITY, (tx) =>
    tx
      .select()
      .from(schema.registryConflicts)
      .where(
        sql`${schema.registryConflicts.personA} = ${here.id} OR ${schema.registryConflicts.personB} = ${here.id}`,
      ),
  );
  expect(conflict, 'the twin registration opened a conflict').toBeDefined();
  fixtures['/v1/registry/conflicts'] = {
    id: conflict?.id as string,
    identifying: [here.id, here.name],
    missing: randomUUID(),
    owner: OWNER_CITY,
    sharedWithSameCity: true,
  };

  // A village's own payment mode 扶持方式 (far in the future: no batch of the county reaches it).
  const modeSource = `村民代表大会决议 ${run}`;
  await withDivision(t.db, OWNER, (tx) =>
    tx.execute(sql`INSERT INTO payment_mode_settings
        (division_code, locality_code, effective_from, mode, cash_percent, source, set_by)
      VALUES (${OWNER}, ${village}, '2090-01-01', 'project', 0, ${modeSource}, 'user:isolation:owner')`),
  );
  // A payment batch of the county, exported, with a bank return: a failed line and an open exception.
  const free = await freePeriod(OWNER);
  const batch = await makeDisbursement(t, OWNER, free, 'returned');
  fixtures['/v1/disbursements'] = {
    id: batch.id,
    identifying: [batch.contentHash, person.name],
    missing: randomUUID(),
    owner: OWNER,
  };
  fixtures['/v1/disbursement-exceptions'] = {
    id: batch.exceptionId as string,
    identifying: [batch.id],
    missing: randomUUID(),
    owner: OWNER,
  };
  fixtures['/v1/payment-lines'] = {
    id: batch.failed as string,
    identifying: [batch.id, person.name],
    missing: `${OWNER}-2000-H1-98-0000001`,
    owner: OWNER,
  };

  fixtures['/v1/policy/payment-modes'] = {
    id: String(village),
    identifying: [modeSource, made.villages[0]?.name as string],
    // A village of a township makeTownship never makes (it draws 200–999).
    missing: String(townshipCodeFrom9(OWNER * 1000 + 150) + 1),
    owner: OWNER,
    params: { from: '2090-01-01' },
  };

  // A post-support project of the county, and an allocation to it from the province.
  const projectName = `隔离项目${run}`;
  const createdProject = await t.call('POST', '/v1/projects', {
    token: operator,
    body: {
      name: projectName,
      category: 'infrastructure',
      year: 2026,
      village_codes: [village],
      total_fen: 1_000_000,
      funding_lines: [{ source: 'self_raised', amount_fen: 1_000_000 }],
    },
  });
  expect(createdProject.status, await createdProject.clone().text()).toBe(201);
  const project = (await createdProject.json()) as { id: string; project_no: string };
  fixtures['/v1/projects'] = {
    id: project.id,
    identifying: [projectName, project.project_no],
    missing: randomUUID(),
    owner: OWNER,
  };
  // An approved training plan of the county (in a year it has no plan yet), a call for bids and a session.
  const usedYears = rowsOf<{ year: number }>(
    await t.admin.orm.execute(sql`SELECT year FROM training_plans WHERE division_code = ${OWNER}`),
  ).map((r) => Number(r.year));
  const trainingYear = [...Array(90).keys()].map((i) => 2110 + i).find((y) => !usedYears.includes(y));
  const planName = `隔离培训计划${run}`;
  const madePlan = await t.call('POST', '/v1/training-plans', {
    token: operator,
    body: {
      year: trainingYear,
      name: planName,
      lines: [
        {
          kind: 'practical_skills',
          sessions: 2,
          trainees: 100,
          trainee_times: 200,
          courses: ['柑桔'],
          budget_fen: 1_000_000,
        },
      ],
      funding_lines: [{ source: 'post_support', amount_fen: 1_000_000 }],
    },
  });
  expect(madePlan.status, await madePlan.clone().text()).toBe(201);
  const plan = (await madePlan.json()) as { id: string };
  const cityReviewer = await t.token(OWNER_CITY, ['city_reviewer'], 'user:isolation:training-city');
  for (const [path, as, body] of [
    [`/v1/training-plans/${plan.id}/submit`, operator, undefined],
    [`/v1/training-plans/${plan.id}/review`, cityReviewer, { action: 'approve' }],
  ] as const) {
    const res = await t.call('POST', path, { token: as, ...(body ? { body } : {}) });
    expect(res.status, await res.clone().text()).toBe(200);
  }
  fixtures['/v1/training-plans'] = {
    id: plan.id,
    identifying: [planName],
    missing: randomUUID(),
    owner: OWNER,
  };
  const callTitle = `隔离竞争性选择${run}`;
  const madeCall = await t.call('POST', '/v1/training-calls', {
    token: operator,
    body: {
      plan_id: plan.id,
      kind: 'practical_skills',
      title: callTitle,
      trainees: 10,
      budget_fen: 500_000,
      providers: 1,
    },
  });
  expect(madeCall.status, await madeCall.clone().text()).toBe(201);
  fixtures['/v1/training-calls'] = {
    id: ((await madeCall.json()) as { id: string }).id,
    identifying: [callTitle],
    missing: randomUUID(),
    owner: OWNER,
  };
  const sessionPlace = `隔离培训地点${run}`;
  const madeSession = await t.call('POST', '/v1/training-sessions', {
    token: operator,
    body: {
      plan_id: plan.id,
      kind: 'practical_skills',
      held_on: `${trainingYear}-03-01`,
      place: sessionPlace,
      course: '柑桔',
      trainees: 10,
      cost_fen: 100_000,
    },
    headers: { 'idempotency-key': randomUUID() },
  });
  expect(madeSession.status, await madeSession.clone().text()).toBe(201);
  fixtures['/v1/training-sessions'] = {
    id: ((await madeSession.json()) as { id: string }).id,
    identifying: [sessionPlace, plan.id],
    missing: randomUUID(),
    owner: OWNER,
  };

  const allocated = await t.call('POST', '/v1/fund-allocations', {
    token: await t.token(420000, ['province_admin'], 'user:isolation:province'),
    body: {
      county_code: OWNER,
      source: 'post_support',
      year: 2026,
      amount_fen: 1_000_000,
      document_no: `隔离文号${run}`,
      allocated_on: '2026-01-05',
    },
    headers: { 'idempotency-key': randomUUID() },
  });
  expect(allocated.status, await allocated.clone().text()).toBe(201);

  // A demonstration village of the county (its collective income of the year before recorded first),
  // and a 双过半 target the province set for it with one reported figure.
  const demoYear = await freeDemonstrationYear(OWNER);
  const income = await t.call('POST', '/v1/collective-incomes', {
    token: operator,
    body: { village_code: village, year: demoYear - 1, income_fen: 1_250_000 },
  });
  expect(income.status, await income.clone().text()).toBe(200);
  const demo = await t.call('POST', '/v1/demonstration-villages', {
    token: operator,
    body: {
      village_code: village,
      year: demoYear,
      migrants: 860,
      population: 1240,
      development_plan: `隔离规划${run}`,
      planned_total_fen: 5_000_000,
      planned_integrated_fen: 900_000,
    },
  });
  expect(demo.status, await demo.clone().text()).toBe(201);
  const demoVillage = (await demo.json()) as { id: string };
  fixtures['/v1/demonstration-villages'] = {
    id: demoVillage.id,
    identifying: [`隔离规划${run}`],
    missing: randomUUID(),
    owner: OWNER,
  };
  const targetName = `隔离目标${run}`;
  const target = await t.call('POST', '/v1/progress-targets', {
    token: await t.token(420000, ['province_admin'], 'user:isolation:province'),
    body: {
      county_code: OWNER,
      kind: 'people',
      name: targetName,
      period_start: randomDay(),
      period_end: '2099-12-31',
      target_value: 13_050,
    },
  });
  expect(target.status, await target.clone().text()).toBe(201);
  const progressTarget = (await target.json()) as { id: string };
  fixtures['/v1/progress-targets'] = {
    id: progressTarget.id,
    identifying: [targetName],
    missing: randomUUID(),
    owner: OWNER,
  };

  // A vocational education aid application of the county, for a child of the registered person.
  const childName = `隔离子女${run}`;
  const birth = new Date(Date.now() - 16 * 365.25 * 86_400_000).toISOString().slice(0, 10);
  const aid = await t.call('POST', '/v1/vocational-aid-applications', {
    token: operator,
    body: {
      village_code: village,
      child_name: childName,
      child_national_id: makeNationalId(OWNER, birth),
      parent_person_id: person.id,
      school: `隔离职校${run}`,
      level: 'secondary',
      school_year: 2026,
      recognised_cost_fen: 600_000,
      requested_fen: 200_000,
    },
  });
  expect(aid.status, await aid.clone().text()).toBe(201);
  fixtures['/v1/vocational-aid-applications'] = {
    id: ((await aid.json()) as { id: string }).id,
    identifying: [childName, `隔离职校${run}`],
    missing: randomUUID(),
    owner: OWNER,
  };
});
afterAll(() => t.close());

/** A year with a place left in the county's demonstration-village quota (a shared database may hold others). */
async function freeDemonstrationYear(county: number): Promise<number> {
  const [row] = rowsOf<{ year: number }>(
    await t.admin.orm.execute(sql`SELECT y AS year FROM generate_series(2007, 2026) y
      WHERE (SELECT count(*) FROM demonstration_villages v WHERE v.division_code = ${county} AND v.year = y
             AND v.status IN ('applied', 'named')) < 3
      ORDER BY y LIMIT 1`),
  );
  expect(row, `a year with a free demonstration place for ${county}`).toBeDefined();
  return Number(row?.year);
}

/** A random day of 2000–2089: the start of a period no other run has used. */
const randomDay = () =>
  new Date(Date.UTC(2000 + Math.floor(Math.random() * 90), 0, 1 + Math.floor(Math.random() * 365)))
    .toISOString()
    .slice(0, 10);

/** A semi-annual period with no live batch of the county yet (a shared database may hold others). */
async function freePeriod(county: number): Promise<string> {
  const used = new Set(
    rowsOf<{ period: string }>(
      await t.admin.orm.execute(sql`SELECT period FROM payment_batches WHERE division_code = ${county}
        AND kind = 'regular' AND status NOT IN ('cancelled', 'failed')`),
    ).map((r) => r.period),
  );
  for (let year = 2007; year <= 2025; year += 1) {
    for (const half of ['H1', 'H2']) if (!used.has(`${year}-${half}`)) return `${year}-${half}`;
  }
  throw new Error(`no free period for ${county}`);
}

function fixtureOf(o: { base: string; label: string }): Fixture {
  const fixture = fixtures[o.base];
  expect(
    fixture,
    `no fixture for ${o.base} (needed by ${o.label}): add a 420581 resource to fixtures in isolation.test.ts`,
  ).toBeDefined();
  return fixture as Fixture;
}
/** The path with `id` as its first parameter and the fixture's values for the others. */
const pathWith = (path: string, id: string, params: Record<string, string> = {}) =>
  path.replace(/\{\w+\}/, id).replace(/\{(\w+)\}/g, (m, name: string) => params[name] ?? m);

/** The problem body with the request's own id (echoed in `detail`) and the request id blanked out. */
function normalized(text: string, id: string) {
  const body = JSON.parse(text.replaceAll(id, '{id}')) as Record<string, unknown>;
  delete body.requestId;
  return body;
}

async function auditHeads(): Promise<number> {
  const result = await t.admin.orm.execute(sql`SELECT coalesce(sum(seq), 0) AS seq FROM audit_heads`);
  return Number(rowsOf<{ seq: string }>(result)[0]?.seq ?? 0);
}

// ── Reads by id ────────────────────────────────────────────────────────────────────────────────────

describe('reading another division’s resource by id answers 404, as for an id that does not exist', () => {
  it('there are such operations', () => {
    expect(reads.length).toBeGreaterThan(0);
  });

  it.each(reads.map((o) => [o.label, o] as const))('%s', async (label, o) => {
    const fixture = fixtureOf(o);
    const path = pathWith(o.path, fixture.id, fixture.params);

    // The fixture is valid: its owner reads it.
    const owner = await callerAt(o.permission, fixture.owner);
    expect(owner, `a ${fixture.owner} role holds ${o.permission}`).toBeDefined();
    const own = await t.call('GET', path, { token: owner?.token });
    expect(own.status, `${label} as its owner: ${await own.clone().text()}`).toBe(200);
    await own.arrayBuffer();

    for (const caller of await foreignCallers(o.permission, label)) {
      const as = `${label} as ${caller.role}@${caller.division}`;
      const res = await t.call('GET', path, { token: caller.token });
      const text = await res.text();
      expect(res.status, `${as}: ${text}`).toBe(404);
      expect(res.headers.get('content-type'), as).toMatch(/^application\/problem\+json/);
      for (const value of fixture.identifying) expect(text, `${as} leaks ${value}`).not.toContain(value);
      // Nothing tells it apart from an id that does not exist (the request's own id is echoed in both).
      const missing = await t.call('GET', pathWith(o.path, fixture.missing, fixture.params), {
        token: caller.token,
      });
      expect(missing.status, `${as}, missing id`).toBe(404);
      expect(normalized(text, fixture.id), as).toEqual(normalized(await missing.text(), fixture.missing));
    }
  });
});

// ── Lists ──────────────────────────────────────────────────────────────────────────────────────────

/** Where an item names 420581: a `*code`/`county`/`division` field holding 420581 or one of its 12-digit codes. */
function ownerCodes(value: unknown, at = '$'): string[] {
  if (Array.isArray(value)) return value.flatMap((v, i) => ownerCodes(v, `${at}[${i}]`));
  if (value === null || typeof value !== 'object') return [];
  return Object.entries(value).flatMap(([k, v]) => {
    const here = `${at}.${k}`;
    const codeField = /(code|county|division)$/.test(k);
    const named = codeField && typeof v === 'number' && (v === OWNER || Math.floor(v / 1_000_000) === OWNER);
    return [...(named ? [`${here}=${v}`] : []), ...ownerCodes(v, here)];
  });
}

describe('lists of other divisions carry nothing of 420581', () => {
  it('there are such operations', () => {
    expect(lists.length).toBeGreaterThan(0);
  });

  it.each(lists.map((o) => [o.label, o] as const))('%s', async (label, o) => {
    const callers = (await Promise.all([SAME_CITY, OTHER_CITY].map((d) => callerAt(o.permission, d)))).filter(
      (c): c is Caller => c !== undefined,
    );
    expect(callers.length, `a foreign division holds ${o.permission} for ${label}`).toBeGreaterThan(0);
    const secrets = Object.values(fixtures).flatMap((f) => [
      ...(f.sharedWithSameCity ? [] : [f.id]),
      ...f.identifying,
    ]);
    for (const caller of callers) {
      const as = `${label} as ${caller.role}@${caller.division}`;
      const res = await t.call('GET', `${o.path}?limit=100`, { token: caller.token });
      const text = await res.text();
      expect(res.status, `${as}: ${text}`).toBe(200);
      const body = JSON.parse(text) as { data?: unknown[] };
      expect(Array.isArray(body.data), `${as} answers a page`).toBe(true);
      expect(ownerCodes(body.data), as).toEqual([]);
      expect(
        secrets.filter((s) => text.includes(s)),
        as,
      ).toEqual([]);
    }
  });
});

// ── Writes by id ───────────────────────────────────────────────────────────────────────────────────

/** The body's documented example (else its fields' examples), 12-digit codes pointed at the caller's own village. */
/** A file body (a CSV upload) for an operation that takes one. */
const fileBodyFor = (o: (typeof writes)[number]) =>
  o.op.requestBody?.content?.['text/csv'] ? '参考号,金额,结果,失败原因\n' : undefined;

function bodyFor(o: (typeof writes)[number]) {
  const schemaObject = resolve(o.op.requestBody?.content?.['application/json']?.schema);
  if (!schemaObject) return undefined;
  const example =
    schemaObject.example ??
    Object.fromEntries(
      Object.entries(schemaObject.properties ?? {})
        .filter(([, p]) => p.example !== undefined && p.format !== 'uuid')
        .map(([k, p]) => [k, p.example]),
    );
  return Object.fromEntries(
    Object.entries(example).map(([k, v]) => [k, typeof v === 'number' && v >= 1e11 ? foreignVillage : v]),
  );
}

describe('writing another division’s resource by id never succeeds and audits nothing', () => {
  it('there are such operations', () => {
    expect(writes.length).toBeGreaterThan(0);
  });

  it.each(writes.map((o) => [o.label, o] as const))('%s', async (label, o) => {
    const fixture = fixtureOf(o);
    const path = pathWith(o.path, fixture.id, fixture.params);
    const body = bodyFor(o);
    // The county next door: its role holding the permission, else its operator (who must meet 403).
    const sameCity =
      (await callerAt(o.permission, SAME_CITY)) ?? (await callerAt('authenticated', SAME_CITY));
    const others = (
      await Promise.all([OTHER_CITY, OTHER_PROVINCE].map((d) => callerAt(o.permission, d)))
    ).filter((c): c is Caller => c !== undefined);
    // A current ETag, so that only the resource's division can stop the write.
    const owner = await callerAt('registry:read', OWNER);
    const readable = o.method === 'PATCH' ? await t.call('GET', path, { token: owner?.token }) : undefined;
    const etag = readable?.headers.get('etag');
    await readable?.arrayBuffer();

    for (const caller of [sameCity as Caller, ...others]) {
      const as = `${label} as ${caller.role}@${caller.division}`;
      const before = await auditHeads();
      const file = fileBodyFor(o);
      const res = await t.call(o.method, path, {
        token: caller.token,
        ...(body ? { body } : {}),
        ...(file ? { body: file } : {}),
        headers: {
          'idempotency-key': randomUUID(),
          ...(etag ? { 'if-match': etag } : {}),
          ...(file ? { 'content-type': 'text/csv' } : {}),
        },
      });
      const text = await res.text();
      expect([403, 404], `${as}: ${res.status} ${text}`).toContain(res.status);
      for (const value of fixture.identifying) expect(text, `${as} leaks ${value}`).not.toContain(value);
      expect(await auditHeads(), `${as} audited something`).toBe(before);
    }
  });
});
