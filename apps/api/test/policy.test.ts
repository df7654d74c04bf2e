/**
 * /v1/policy: the policy parameters 政策参数 with national defaults and a province's own values
 * (in code or stored through the API), province overrides set, replaced and deleted by the province
 * itself, the county and village payment modes 扶持方式, the freeze guard (an approved batch's policy is
 * never changed retroactively), the audit trail, the status refresh after a removal-rule change, and
 * the functions the disbursement slice calls.
 *
 * Works on a shared PostgreSQL too: everything happens in 江西省 (360000), which no other test file
 * touches, and the rows made here are removed before and after.
 */
import { randomUUID } from 'node:crypto';
import { rowsOf, withDivision } from '@houfu/db';
import { paymentModeParameter, type Role } from '@houfu/domain';
import { sql } from 'drizzle-orm';
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadSubsidyPolicy, villagePaymentModes } from '../src/routes/policy/policy.service.js';
import {
  createTestApp,
  fields,
  json,
  makePerson,
  makeTownship,
  problem,
  type TestApp,
  tokenSettings,
} from './helpers.js';

/** The app's clock: today is 2026-11-22. */
const NOW = new Date('2026-11-22T02:00:00.000Z');
const PROVINCE = 360000; // 江西省
const COUNTY = 360121; // 南昌县
const OTHER_COUNTY = 360123; // 安义县
const FROZEN_COUNTY = 360124; // 进贤县: gets an approved batch
const OTHER_PROVINCE = 430000; // 湖南省

let t: TestApp;
const tokens = new Map<string, string>();
async function token(division: number, role: Role): Promise<string> {
  const key = `${division}:${role}`;
  let value = tokens.get(key);
  if (!value) {
    // Issued by the app's clock (t.token would use the machine's).
    value = await new SignJWT({ division, roles: [role] })
      .setProtectedHeader({ alg: 'ES256', kid: t.keys.activeKid, typ: 'at+jwt' })
      .setIssuer(tokenSettings.issuer)
      .setAudience(tokenSettings.audience)
      .setSubject(`user:policy-test:${role}:${division}`)
      .setIssuedAt(NOW)
      .setExpirationTime(new Date(NOW.getTime() + 600_000))
      .sign(t.keys.signingKey);
    tokens.set(key, value);
  }
  return value;
}
const admin = () => token(PROVINCE, 'province_admin');

async function cleanUp() {
  await t.admin.orm.execute(sql`DELETE FROM policy_overrides WHERE division_code = ${PROVINCE}`);
  await t.admin.orm.execute(
    sql`DELETE FROM payment_mode_settings WHERE division_code BETWEEN ${PROVINCE} AND ${PROVINCE + 9999}`,
  );
  await t.admin.orm.execute(
    sql`DELETE FROM payment_batches WHERE division_code BETWEEN ${PROVINCE} AND ${PROVINCE + 9999}`,
  );
}

let villages: number[];
beforeAll(async () => {
  t = await createTestApp({ now: () => NOW });
  await cleanUp();
  villages = (await makeTownship(t.db, COUNTY, 2)).villages.map((v) => v.code);
});
afterAll(async () => {
  await cleanUp();
  await t.close();
});

interface InForce {
  from: string;
  value: unknown;
  source: string;
  level: 'national' | 'province';
}
interface ParameterBody {
  id: string;
  description: string;
  value_schema: Record<string, unknown>;
  national: { from: string; value: unknown; source: string }[];
  province: {
    code: number;
    name: string;
    values: { from: string; value: unknown; source: string; stored: boolean; set_by: string | null }[];
  } | null;
  on: string;
  in_force: InForce | null;
}

async function parameter(id: string, query = '', as?: string) {
  const res = await t.call('GET', `/v1/policy/parameters/${id}${query}`, { token: as ?? (await admin()) });
  expect(res.status, await res.clone().text()).toBe(200);
  return json<ParameterBody>(res);
}

const overridePath = (id: string, from: string, province = PROVINCE) =>
  `/v1/policy/parameters/${id}/provinces/${province}/values/${from}`;

async function auditOf(division: number, entityId: string) {
  return rowsOf<{
    action: string;
    changes: Record<string, { old: unknown; new: unknown }>;
    actor_sub: string;
  }>(
    await t.admin.orm.execute(sql`SELECT action, changes, actor_sub FROM audit_events
      WHERE division_code = ${division} AND entity_id = ${entityId} ORDER BY seq`),
  ).map((r) => ({ ...r, changes: typeof r.changes === 'string' ? JSON.parse(r.changes) : r.changes }));
}

// ── Reading ────────────────────────────────────────────────────────────────────────────────────

describe('GET /v1/policy/parameters', () => {
  it('a county caller reads every parameter with its schema, the national values and its province', async () => {
    const res = await t.call('GET', '/v1/policy/parameters?on=2026-11-22', {
      token: await token(COUNTY, 'county_operator'),
    });
    expect(res.status).toBe(200);
    const { data } = await json<{ data: ParameterBody[] }>(res);
    expect(data.map((p) => p.id)).toEqual([
      'subsidy.annual_standard',
      'subsidy.payment_frequency',
      'subsidy.payment_mode',
      'subsidy.support_window',
      'registry.removal_effective',
      'projects.funding_rules',
      'projects.approval_thresholds',
      'projects.posting_days',
      'projects.payment_schedule',
      'projects.acceptance_levels',
      'projects.idle_months',
      'demonstration.eligibility',
      'demonstration.funding',
      'demonstration.quota',
      'demonstration.scoring',
      'training.budget_rules',
      'training.approval_thresholds',
      'training.provider_selection',
      'training.vocational_aid',
    ]);
    const annual = data[0] as ParameterBody;
    expect(annual.national).toEqual([{ from: '2006-07-01', value: 60000, source: '国发〔2006〕17号' }]);
    expect(annual.value_schema).toMatchObject({ type: 'integer', minimum: 1, maximum: 10000000 });
    expect(annual.province).toEqual({ code: PROVINCE, name: '江西省', values: [] });
    expect(annual.in_force).toEqual({
      from: '2006-07-01',
      value: 60000,
      source: '国发〔2006〕17号',
      level: 'national',
    });
    expect(data[2]?.value_schema).toMatchObject({ type: 'object' });
  });

  it('a national caller reads national values only; any province can be named (policy is public)', async () => {
    const national = await token(0, 'national_admin');
    const own = await parameter('registry.removal_effective', '?on=2026-11-22', national);
    expect(own.province).toBeNull();
    expect(own.in_force).toMatchObject({ value: 'annual_review', level: 'national' });
    // 新疆's rule is defined in code: stored false, in force at province level.
    const xinjiang = await parameter(
      'registry.removal_effective',
      '?province=650000&on=2026-11-22',
      await token(COUNTY, 'county_operator'),
    );
    expect(xinjiang.province?.values).toEqual([
      expect.objectContaining({ from: '2006-07-01', value: 'next_january', stored: false, set_by: null }),
    ]);
    expect(xinjiang.in_force).toMatchObject({ value: 'next_january', level: 'province' });
  });

  it('before the policy began nothing is in force; today is the default day', async () => {
    expect((await parameter('subsidy.annual_standard', '?on=2006-06-30')).in_force).toBeNull();
    expect((await parameter('subsidy.annual_standard')).on).toBe('2026-11-22');
  });

  it('an unknown parameter → 404; a province that is not one → 400; not in the dictionary → 404', async () => {
    const as = { token: await admin() };
    const unknown = await t.call('GET', '/v1/policy/parameters/subsidy.nothing', as);
    expect(unknown.status).toBe(404);
    expect((await problem(unknown)).code).toBe('not_found');
    const city = await t.call('GET', '/v1/policy/parameters?province=360100', as);
    expect(city.status).toBe(400);
    expect(fields(await problem(city))).toContain('query.province');
    const missing = await t.call('GET', '/v1/policy/parameters?province=990000', as);
    expect(missing.status).toBe(404);
    const badDate = await t.call('GET', '/v1/policy/parameters?on=2026-02-30', as);
    expect(badDate.status).toBe(400);
    expect(fields(await problem(badDate))).toContain('query.on');
  });
});

// ── Overrides ──────────────────────────────────────────────────────────────────────────────────

describe('PUT/DELETE /v1/policy/parameters/{parameter}/provinces/{province}/values/{from}', () => {
  const path = overridePath('subsidy.annual_standard', '2027-01-01');
  const entity = `${PROVINCE}:subsidy.annual_standard:2027-01-01`;

  it('creates (201), shows it as stored, and puts it in force from its date', async () => {
    const res = await t.call('PUT', path, {
      token: await admin(),
      body: { value: 72000, source: '赣府发〔2026〕5号' },
    });
    expect(res.status, await res.clone().text()).toBe(201);
    expect(await res.json()).toMatchObject({
      parameter: 'subsidy.annual_standard',
      province_code: PROVINCE,
      from: '2027-01-01',
      value: 72000,
      source: '赣府发〔2026〕5号',
      set_by: `user:policy-test:province_admin:${PROVINCE}`,
      statuses_changed: 0,
    });
    const read = await parameter('subsidy.annual_standard', '?on=2027-03-01');
    expect(read.province?.values).toEqual([
      expect.objectContaining({ from: '2027-01-01', value: 72000, stored: true, set_by: expect.any(String) }),
    ]);
    expect(read.in_force).toEqual({
      from: '2027-01-01',
      value: 72000,
      source: '赣府发〔2026〕5号',
      level: 'province',
    });
    expect((await parameter('subsidy.annual_standard', '?on=2026-12-31')).in_force?.level).toBe('national');
    // Another province does not see it in force for itself.
    const hunan = await parameter('subsidy.annual_standard', `?province=${OTHER_PROVINCE}&on=2027-03-01`);
    expect(hunan.in_force?.value).toBe(60000);
  });

  it('replaces (200), audited with the old and new value; the same value again changes nothing', async () => {
    const res = await t.call('PUT', path, {
      token: await admin(),
      body: { value: 75000, source: '赣府发〔2026〕6号' },
    });
    expect(res.status).toBe(200);
    expect((await json<{ value: number }>(res)).value).toBe(75000);
    const again = await t.call('PUT', path, {
      token: await admin(),
      body: { value: 75000, source: '赣府发〔2026〕6号' },
    });
    expect(again.status).toBe(200);
    const audit = await auditOf(PROVINCE, entity);
    expect(audit.map((a) => a.action)).toEqual(['policy.override.set', 'policy.override.set']);
    expect(audit[0]?.changes).toEqual({
      value: { old: null, new: 72000 },
      source: { old: null, new: '赣府发〔2026〕5号' },
    });
    expect(audit[1]?.changes).toEqual({
      value: { old: 72000, new: 75000 },
      source: { old: '赣府发〔2026〕5号', new: '赣府发〔2026〕6号' },
    });
    expect(audit[1]?.actor_sub).toBe(`user:policy-test:province_admin:${PROVINCE}`);
  });

  it('deletes (204, audited); the national value is in force again; deleting again → 404', async () => {
    const res = await t.call('DELETE', path, { token: await admin() });
    expect(res.status).toBe(204);
    const read = await parameter('subsidy.annual_standard', '?on=2027-03-01');
    expect(read.province?.values).toEqual([]);
    expect(read.in_force?.value).toBe(60000);
    const audit = await auditOf(PROVINCE, entity);
    expect(audit.at(-1)).toMatchObject({
      action: 'policy.override.delete',
      changes: { value: { old: 75000, new: null }, source: { old: '赣府发〔2026〕6号', new: null } },
    });
    const again = await t.call('DELETE', path, { token: await admin() });
    expect(again.status).toBe(404);
    expect((await problem(again)).code).toBe('not_found');
  });

  it('a value the parameter’s schema rejects → 400 naming value (and its part); nothing stored', async () => {
    const as = await admin();
    const cases: [string, unknown, string][] = [
      ['subsidy.annual_standard', 'sixty', 'value'],
      ['subsidy.annual_standard', 0, 'value'],
      ['subsidy.payment_frequency', 'weekly', 'value'],
      ['subsidy.payment_mode', { mode: 'both', cashPercent: 100 }, 'value.cashPercent'],
      ['subsidy.payment_mode', { mode: 'cash', cashPercent: 100, note: 'x' }, 'value.note'],
      ['subsidy.support_window', { cutoff: '2006-06-30', start: '2006-07-01' }, 'value.years'],
    ];
    for (const [id, value, field] of cases) {
      const res = await t.call('PUT', overridePath(id, '2027-01-01'), {
        token: as,
        body: { value, source: '赣府发〔2026〕7号' },
      });
      expect(res.status, `${id} ${JSON.stringify(value)}`).toBe(400);
      const body = await problem(res);
      expect(body.code).toBe('validation_failed');
      expect(fields(body), `${id} ${JSON.stringify(value)}`).toContain(field);
    }
    const missing = await t.call('PUT', overridePath('subsidy.annual_standard', '2027-01-01'), {
      token: as,
      body: { source: '赣府发〔2026〕7号' },
    });
    expect(missing.status).toBe(400);
    expect(fields(await problem(missing))).toContain('value');
    const extra = await t.call('PUT', overridePath('subsidy.annual_standard', '2027-01-01'), {
      token: as,
      body: { value: 70000, source: 'x', province: PROVINCE },
    });
    expect(extra.status).toBe(400);
    expect(fields(await problem(extra)).join(',')).toContain('province');
    expect((await parameter('subsidy.annual_standard')).province?.values).toEqual([]);
  });

  it('an unknown parameter → 404, a date before the policy → 422, a bad date or province → 400', async () => {
    const as = await admin();
    const body = { value: 70000, source: '赣府发〔2026〕7号' };
    expect(
      (await t.call('PUT', overridePath('subsidy.nothing', '2027-01-01'), { token: as, body })).status,
    ).toBe(404);
    const early = await t.call('PUT', overridePath('subsidy.annual_standard', '2006-06-30'), {
      token: as,
      body,
    });
    expect(early.status).toBe(422);
    expect(fields(await problem(early))).toContain('param.from');
    const badDate = await t.call('PUT', overridePath('subsidy.annual_standard', '2027-02-30'), {
      token: as,
      body,
    });
    expect(badDate.status).toBe(400);
    const city = await t.call('PUT', overridePath('subsidy.annual_standard', '2027-01-01', 360100), {
      token: as,
      body,
    });
    expect(city.status).toBe(400);
    expect(fields(await problem(city))).toContain('param.province');
  });

  it('another province → 403; county and city staff → 403; nothing stored or audited', async () => {
    const body = { value: 70000, source: '湘政发〔2026〕1号' };
    for (const [division, role] of [
      [OTHER_PROVINCE, 'province_admin'],
      [COUNTY, 'county_operator'],
      [COUNTY, 'county_approver'],
      [360100, 'city_reviewer'],
      [0, 'national_admin'],
    ] as const) {
      for (const method of ['PUT', 'DELETE']) {
        const res = await t.call(method, overridePath('subsidy.annual_standard', '2027-01-01'), {
          token: await token(division, role),
          ...(method === 'PUT' ? { body } : {}),
        });
        expect(res.status, `${method} as ${role}@${division}`).toBe(403);
        expect((await problem(res)).code).toBe('forbidden');
      }
    }
    // The other province's administrator sets its own.
    const own = await t.call('PUT', overridePath('subsidy.annual_standard', '2027-01-01', OTHER_PROVINCE), {
      token: await token(OTHER_PROVINCE, 'province_admin'),
      body,
    });
    expect(own.status).toBe(201);
    expect(
      (
        await t.call('DELETE', overridePath('subsidy.annual_standard', '2027-01-01', OTHER_PROVINCE), {
          token: await token(OTHER_PROVINCE, 'province_admin'),
        })
      ).status,
    ).toBe(204);
    expect((await parameter('subsidy.annual_standard')).province?.values).toEqual([]);
  });
});

// ── Removal rule → statuses ────────────────────────────────────────────────────────────────────

describe('changing registry.removal_effective refreshes the stored statuses', () => {
  it('a removal pending the annual review takes effect under event_date, and is pending again after deletion', async () => {
    const person = await makePerson(t, COUNTY, { village: villages[0] });
    const clerk = await token(COUNTY, 'county_operator');
    const event = await t.call('POST', `/v1/persons/${person.id}/events`, {
      token: clerk,
      body: {
        kind: 'removed',
        reason: 'civil_servant',
        effective_date: '2026-03-01',
        evidence_ref: '录用通知 2026-01',
      },
    });
    expect(event.status, await event.clone().text()).toBe(201);
    const status = async () =>
      (await json<{ status: string }>(await t.call('GET', `/v1/persons/${person.id}`, { token: clerk })))
        .status;
    // National rule: annual_review — pending until the county submits 2026's verification.
    expect(await status()).toBe('registered');

    const path = overridePath('registry.removal_effective', '2026-01-01');
    const set = await t.call('PUT', path, {
      token: await admin(),
      body: { value: 'event_date', source: '赣移发〔2026〕3号' },
    });
    expect(set.status, await set.clone().text()).toBe(201);
    expect((await json<{ statuses_changed: number }>(set)).statuses_changed).toBeGreaterThanOrEqual(1);
    expect(await status()).toBe('removed');
    const rule = await t.call('GET', `/v1/persons/${person.id}/status?on=2026-11-22`, { token: clerk });
    expect(await rule.json()).toMatchObject({ status: 'removed', removal_rule: 'event_date' });
    const personAudit = await auditOf(COUNTY, person.id);
    expect(personAudit.at(-1)).toMatchObject({
      action: 'person.status',
      changes: { status: { old: 'registered', new: 'removed' } },
    });

    expect((await t.call('DELETE', path, { token: await admin() })).status).toBe(204);
    expect(await status()).toBe('registered');
  });
});

// ── Payment modes ──────────────────────────────────────────────────────────────────────────────

interface ModesPage {
  on: string;
  data: {
    county_code: number;
    county_name: string;
    in_force: { mode: string; cash_percent: number; from: string; source: string; level: string };
    settings: { code: number; level: string; name: string | null; from: string; mode: string }[];
    villages: {
      code: number;
      name: string | null;
      in_force: { mode: string; cash_percent: number; level: string };
      settings: { code: number; from: string }[];
    }[];
  }[];
  next_cursor: string | null;
}

const modePath = (code: number, from: string) => `/v1/policy/payment-modes/${code}/values/${from}`;

async function modes(query: string, as?: string) {
  const res = await t.call('GET', `/v1/policy/payment-modes${query}`, { token: as ?? (await admin()) });
  expect(res.status, await res.clone().text()).toBe(200);
  return json<ModesPage>(res);
}

describe('payment modes 扶持方式', () => {
  it('sets a county’s mode (201) and a village’s (201), audited in the county’s trail', async () => {
    const county = await t.call('PUT', modePath(COUNTY, '2026-01-01'), {
      token: await admin(),
      body: { mode: 'both', cash_percent: 70, source: '南昌县政府常务会议纪要〔2025〕9号' },
    });
    expect(county.status, await county.clone().text()).toBe(201);
    expect(await county.json()).toMatchObject({
      county_code: COUNTY,
      code: COUNTY,
      level: 'county',
      name: '南昌县',
      from: '2026-01-01',
      mode: 'both',
      cash_percent: 70,
    });
    const village = await t.call('PUT', modePath(villages[0] as number, '2026-07-01'), {
      token: await admin(),
      body: { mode: 'project', source: '村民代表大会决议 2026-06' },
    });
    expect(village.status).toBe(201);
    expect(await village.json()).toMatchObject({
      county_code: COUNTY,
      code: villages[0],
      level: 'village',
      mode: 'project',
      cash_percent: 0,
    });
    const audit = await auditOf(COUNTY, `${COUNTY}:0:2026-01-01`);
    expect(audit).toEqual([
      expect.objectContaining({
        action: 'policy.payment_mode.set',
        changes: {
          mode: { old: null, new: 'both' },
          cash_percent: { old: null, new: 70 },
          source: { old: null, new: '南昌县政府常务会议纪要〔2025〕9号' },
        },
      }),
    ]);
  });

  it('resolves village → county → province/national on a date', async () => {
    const now = await modes(`?county=${COUNTY}&on=2026-11-22`);
    expect(now.on).toBe('2026-11-22');
    expect(now.data).toHaveLength(1);
    const row = now.data[0];
    expect(row?.county_name).toBe('南昌县');
    expect(row?.in_force).toMatchObject({
      mode: 'both',
      cash_percent: 70,
      level: 'county',
      from: '2026-01-01',
    });
    expect(row?.settings.map((s) => [s.code, s.level, s.name, s.from])).toEqual([
      [COUNTY, 'county', '南昌县', '2026-01-01'],
    ]);
    expect(row?.villages).toEqual([
      expect.objectContaining({
        code: villages[0],
        name: expect.stringMatching(/^测试村/),
        in_force: expect.objectContaining({ mode: 'project', cash_percent: 0, level: 'village' }),
      }),
    ]);
    // Before the village decided: the county's mode.
    const spring = await modes(`?county=${COUNTY}&on=2026-03-01`);
    expect(spring.data[0]?.villages[0]?.in_force).toMatchObject({ mode: 'both', level: 'county' });
    // Before the county decided: the national parameter.
    const before = await modes(`?county=${COUNTY}&on=2025-06-01`);
    expect(before.data[0]?.in_force).toMatchObject({ mode: 'cash', cash_percent: 100, level: 'national' });

    // The functions batches use: every village of the county, and the policy with its snapshot.
    const map = await withDivision(t.db, COUNTY, (tx) =>
      villagePaymentModes(tx, COUNTY, '2026-11-22', { mode: 'cash', cashPercent: 100 }),
    );
    expect(map.get(villages[0] as number)).toEqual({ mode: 'project', cashPercent: 0 });
    expect(map.get(villages[1] as number)).toEqual({ mode: 'both', cashPercent: 70 });
  });

  it('a province payment-mode override is the fallback of counties without their own', async () => {
    const set = await t.call('PUT', overridePath('subsidy.payment_mode', '2027-01-01'), {
      token: await admin(),
      body: { value: { mode: 'both', cashPercent: 60 }, source: '赣府发〔2026〕8号' },
    });
    expect(set.status, await set.clone().text()).toBe(201);
    const other = await modes(`?county=${OTHER_COUNTY}&on=2027-02-01`);
    expect(other.data[0]?.in_force).toMatchObject({
      mode: 'both',
      cash_percent: 60,
      level: 'province',
      source: '赣府发〔2026〕8号',
    });
    const policy = await withDivision(t.db, OTHER_COUNTY, (tx) =>
      loadSubsidyPolicy(tx, OTHER_COUNTY, '2027-01-01'),
    );
    expect(policy).toMatchObject({
      annualStandardFen: 60000,
      frequency: 'semi_annual',
      removalRule: 'annual_review',
      paymentMode: { mode: 'both', cashPercent: 60 },
      supportWindow: { cutoff: '2006-06-30', start: '2006-07-01', years: 20 },
    });
    expect(policy.snapshot['subsidy.payment_mode']).toEqual({
      from: '2027-01-01',
      value: { mode: 'both', cashPercent: 60 },
      source: '赣府发〔2026〕8号',
      level: 'province',
    });
    expect(policy.snapshot['subsidy.annual_standard']).toMatchObject({ value: 60000, level: 'national' });
    expect(Object.keys(policy.snapshot).sort()).toEqual([
      'registry.removal_effective',
      'subsidy.annual_standard',
      'subsidy.payment_frequency',
      'subsidy.payment_mode',
      'subsidy.support_window',
    ]);
    expect(
      (await t.call('DELETE', overridePath('subsidy.payment_mode', '2027-01-01'), { token: await admin() }))
        .status,
    ).toBe(204);
    expect(paymentModeParameter.provinces[PROVINCE]).toBeUndefined();
  });

  it('replaces (200) and deletes (204) a setting; deleting again → 404', async () => {
    const replaced = await t.call('PUT', modePath(COUNTY, '2026-01-01'), {
      token: await admin(),
      body: { mode: 'cash', source: '南昌县政府常务会议纪要〔2026〕2号' },
    });
    expect(replaced.status).toBe(200);
    expect(await replaced.json()).toMatchObject({ mode: 'cash', cash_percent: 100 });
    const path = modePath(villages[0] as number, '2026-07-01');
    expect((await t.call('DELETE', path, { token: await admin() })).status).toBe(204);
    expect((await modes(`?county=${COUNTY}`)).data[0]?.villages).toEqual([]);
    const again = await t.call('DELETE', path, { token: await admin() });
    expect(again.status).toBe(404);
    const audit = await auditOf(COUNTY, `${COUNTY}:${villages[0]}:2026-07-01`);
    expect(audit.map((a) => a.action)).toEqual(['policy.payment_mode.set', 'policy.payment_mode.delete']);
  });

  it('rejects a bad body or code (400 naming the field)', async () => {
    const as = await admin();
    const cases: [string, unknown, string][] = [
      [modePath(COUNTY, '2026-01-01'), { mode: 'both', source: 'x' }, 'cash_percent'],
      [modePath(COUNTY, '2026-01-01'), { mode: 'cash', cash_percent: 100, source: 'x' }, 'cash_percent'],
      [modePath(COUNTY, '2026-01-01'), { mode: 'both', cash_percent: 100, source: 'x' }, 'cash_percent'],
      [modePath(COUNTY, '2026-01-01'), { mode: 'grant', source: 'x' }, 'mode'],
      [modePath(COUNTY, '2026-01-01'), { mode: 'cash' }, 'source'],
      [modePath(COUNTY, '2026-01-01'), { mode: 'cash', source: 'x', county_code: COUNTY }, 'county_code'],
      [modePath(360100, '2026-01-01'), { mode: 'cash', source: 'x' }, 'param.code'],
      [
        modePath((villages[0] as number) - ((villages[0] as number) % 1000), '2026-01-01'),
        { mode: 'cash', source: 'x' },
        'param.code',
      ],
      [`/v1/policy/payment-modes/12345/values/2026-01-01`, { mode: 'cash', source: 'x' }, 'param.code'],
      [modePath(COUNTY, '2026-13-01'), { mode: 'cash', source: 'x' }, 'param.from'],
    ];
    for (const [path, body, field] of cases) {
      const res = await t.call('PUT', path, { token: as, body });
      expect(res.status, `${path} ${JSON.stringify(body)}`).toBe(400);
      expect(fields(await problem(res)).join(','), `${path} ${JSON.stringify(body)}`).toContain(field);
    }
  });

  it('isolation: another province’s county or village → 404; county staff → 403; lists stay in scope', async () => {
    const hunan = await token(OTHER_PROVINCE, 'province_admin');
    const body = { mode: 'project', source: '湘移发〔2026〕1号' };
    for (const code of [COUNTY, villages[1] as number]) {
      const res = await t.call('PUT', modePath(code, '2026-01-01'), { token: hunan, body });
      expect(res.status, String(code)).toBe(404);
      expect((await problem(res)).code).toBe('not_found');
      expect((await t.call('DELETE', modePath(code, '2026-01-01'), { token: hunan })).status).toBe(404);
    }
    const list = await t.call('GET', `/v1/policy/payment-modes?county=${COUNTY}`, { token: hunan });
    expect(list.status).toBe(404);
    const clerk = await t.call('PUT', modePath(COUNTY, '2026-01-01'), {
      token: await token(COUNTY, 'county_operator'),
      body,
    });
    expect(clerk.status).toBe(403);
    // A county sees itself only, a province its counties (paginated by code).
    const own = await modes('', await token(OTHER_COUNTY, 'county_approver'));
    expect(own.data.map((r) => r.county_code)).toEqual([OTHER_COUNTY]);
    const first = await modes('?limit=2');
    expect(first.data).toHaveLength(2);
    expect(first.next_cursor).toBeTruthy();
    const second = await modes(`?limit=2&cursor=${first.next_cursor}`);
    expect(second.data[0]?.county_code).toBeGreaterThan(first.data[1]?.county_code as number);
    expect([...first.data, ...second.data].every((r) => Math.floor(r.county_code / 10000) === 36)).toBe(true);
    // A village that does not exist in the county → 404.
    const ghost = await t.call('PUT', modePath(COUNTY * 1_000_000 + 999_999, '2026-01-01'), {
      token: await admin(),
      body,
    });
    expect(ghost.status).toBe(404);
  });
});

// ── Freeze guard ───────────────────────────────────────────────────────────────────────────────

describe('an approved batch freezes the policy it was computed with', () => {
  beforeAll(async () => {
    // A setting from before the batch, to try to delete afterwards.
    const set = await t.call('PUT', modePath(FROZEN_COUNTY, '2026-01-01'), {
      token: await admin(),
      body: { mode: 'both', cash_percent: 80, source: '进贤县政府纪要〔2025〕1号' },
    });
    expect(set.status).toBe(201);
    await t.admin.orm.execute(sql`
      INSERT INTO payment_batches (division_code, id, batch_no, period, period_start, period_end, kind, status,
        prepared_by, approved_by, approved_at, content_hash, policy)
      VALUES (${FROZEN_COUNTY}, ${randomUUID()}::uuid, ${`${FROZEN_COUNTY}-2026-H2-01`}, '2026-H2',
        '2026-07-01', '2026-12-31', 'regular', 'approved', 'user:clerk', 'user:approver', now(),
        ${'a'.repeat(64)}, '{}'::jsonb)`);
  });

  it('a province value from a day up to the last frozen period end → 409 policy_frozen; later is fine', async () => {
    for (const from of ['2026-07-01', '2026-12-31']) {
      const res = await t.call('PUT', overridePath('subsidy.annual_standard', from), {
        token: await admin(),
        body: { value: 72000, source: '赣府发〔2026〕9号' },
      });
      expect(res.status, from).toBe(409);
      const body = await problem(res);
      expect(body.code).toBe('policy_frozen');
      expect(body.type).toBe('urn:houfu:problem:policy_frozen');
      expect(body.detail).toContain('2026-12-31');
      expect(fields(body)).toContain('param.from');
    }
    const later = await t.call('PUT', overridePath('subsidy.annual_standard', '2027-01-01'), {
      token: await admin(),
      body: { value: 72000, source: '赣府发〔2026〕9号' },
    });
    expect(later.status).toBe(201);
    expect(
      (
        await t.call('DELETE', overridePath('subsidy.annual_standard', '2027-01-01'), {
          token: await admin(),
        })
      ).status,
    ).toBe(204);
  });

  it('parameters that no payment batch is computed with are not frozen by one', async () => {
    const path = overridePath('projects.posting_days', '2026-07-01');
    const res = await t.call('PUT', path, {
      token: await admin(),
      body: { value: 10, source: '赣移发〔2026〕3号' },
    });
    expect(res.status).toBe(201);
    expect((await t.call('DELETE', path, { token: await admin() })).status).toBe(204);
  });

  it('the county’s payment modes are frozen too (set and delete); other counties are not', async () => {
    const body = { mode: 'project', source: '进贤县政府纪要〔2026〕4号' };
    const set = await t.call('PUT', modePath(FROZEN_COUNTY, '2026-10-01'), { token: await admin(), body });
    expect(set.status).toBe(409);
    expect((await problem(set)).code).toBe('policy_frozen');
    const replace = await t.call('PUT', modePath(FROZEN_COUNTY, '2026-01-01'), {
      token: await admin(),
      body,
    });
    expect(replace.status).toBe(409);
    const del = await t.call('DELETE', modePath(FROZEN_COUNTY, '2026-01-01'), { token: await admin() });
    expect(del.status).toBe(409);
    expect((await modes(`?county=${FROZEN_COUNTY}&on=2026-11-22`)).data[0]?.in_force).toMatchObject({
      mode: 'both',
      cash_percent: 80,
    });
    // Another county of the province has no frozen batch.
    const other = await t.call('PUT', modePath(OTHER_COUNTY, '2026-10-01'), { token: await admin(), body });
    expect(other.status).toBe(201);
    const later = await t.call('PUT', modePath(FROZEN_COUNTY, '2027-01-01'), { token: await admin(), body });
    expect(later.status).toBe(201);
  });

  it('nothing rejected was audited', async () => {
    const rejected = await auditOf(FROZEN_COUNTY, `${FROZEN_COUNTY}:0:2026-10-01`);
    expect(rejected).toEqual([]);
    const frozenOverride = await auditOf(PROVINCE, `${PROVINCE}:subsidy.annual_standard:2026-07-01`);
    expect(frozenOverride).toEqual([]);
  });
});
