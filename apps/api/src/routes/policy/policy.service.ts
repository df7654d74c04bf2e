import {
  appendAudit,
  type Changes,
  type CountyRef,
  deletePaymentModeSetting,
  deletePolicyOverride as deleteStoredOverride,
  getDivision,
  getPaymentModeSetting,
  getPolicyOverride,
  getVillage,
  lastFrozenPeriodEnd,
  listCountiesIn,
  listPaymentModeSettings,
  lockProvincePolicy,
  type PaymentModeSettingRow,
  personsWithRemovals,
  type StoredPaymentMode,
  type StoredPolicyValue,
  type Tx,
  upsertPaymentModeSetting,
  upsertPolicyOverride,
  villageCodesOf,
} from '@houfu/db';
import {
  countyOfLocality,
  divisionLevel,
  isPolicyParameterId,
  isWithin,
  type Parameter,
  type PaymentFrequency,
  type PaymentModeEntry,
  type PaymentModeSetting,
  type PolicyParameterId,
  paymentModeParameter,
  policyParameterIds,
  policyParameters,
  type RemovalEffectiveRule,
  resolvePaymentMode,
  type SupportWindowRule,
  scopeOf,
  subsidyParameterIds,
} from '@houfu/domain';
import { z } from 'zod';
import { today } from '../../lib/dates.js';
import {
  loadParameterSet,
  loadProvinceParameters,
  type PolicyLevel,
  type PolicyValueInForce,
  policyValueInForce,
  provinceOf,
  valueInForce,
} from '../../lib/policy.js';
import { ApiError, type FieldError } from '../../lib/problem.js';
import type { ServiceContext } from '../../lib/service-context.js';
import { refreshPersonStatuses } from '../persons/persons.service.js';

export { loadParameter, loadPolicyValue } from '../../lib/policy.js';

export type Context = ServiceContext;

const field = (name: string, message: string, code: string): FieldError => ({ field: name, message, code });

// ── What other slices call ─────────────────────────────────────────────────────────────────────

/** What a payment batch needs for `county` on `on` (period start): values and their sources. */
export interface SubsidyPolicy {
  annualStandardFen: number;
  frequency: PaymentFrequency;
  supportWindow: SupportWindowRule;
  removalRule: RemovalEffectiveRule;
  /** The province's (or national) payment mode: the fallback of every county and village setting. */
  paymentMode: PaymentModeSetting;
  /** parameter id → {from, value, source, level} as used (stored in the batch as its policy snapshot) */
  snapshot: Record<string, { from: string; value: unknown; source: string; level: PolicyLevel }>;
}

/**
 * The policy of a county on `on` (a period's first day): every parameter of `policyParameters` with
 * the province's stored overrides, read in one query (dates before the 2006 policy read its first
 * value, as every other rule does).
 */
export async function loadSubsidyPolicy(tx: Tx, county: number, on: string): Promise<SubsidyPolicy> {
  const { parameters } = await loadParameterSet(tx, policyParameters, provinceOf(county));
  const snapshot: SubsidyPolicy['snapshot'] = {};
  for (const id of subsidyParameterIds) {
    const v = policyValueInForce(parameters[id], county, on);
    snapshot[id] = { from: v.from, value: v.value, source: v.source, level: v.level };
  }
  const value = <T>(id: PolicyParameterId) => snapshot[id]?.value as T;
  return {
    annualStandardFen: value<number>('subsidy.annual_standard'),
    frequency: value<PaymentFrequency>('subsidy.payment_frequency'),
    supportWindow: value<SupportWindowRule>('subsidy.support_window'),
    removalRule: value<RemovalEffectiveRule>('registry.removal_effective'),
    paymentMode: value<PaymentModeSetting>('subsidy.payment_mode'),
    snapshot,
  };
}

const entryOf = (r: PaymentModeSettingRow): PaymentModeEntry => ({
  from: r.from,
  setting: { mode: r.mode, cashPercent: r.cashPercent },
});

/** Every village of the county → its payment mode on `on` (resolvePaymentMode: village → county → fallback). */
export async function villagePaymentModes(
  tx: Tx,
  county: number,
  on: string,
  fallback: PaymentModeSetting,
): Promise<Map<number, PaymentModeSetting>> {
  const villages = await villageCodesOf(tx, county);
  const settings = await listPaymentModeSettings(tx, [county]);
  const countyEntries = settings.filter((s) => s.locality === 0).map(entryOf);
  const byVillage = new Map<number, PaymentModeEntry[]>();
  for (const s of settings) {
    if (s.locality === 0) continue;
    const list = byVillage.get(s.locality) ?? [];
    list.push(entryOf(s));
    byVillage.set(s.locality, list);
  }
  return new Map(
    villages.map((v) => [v, resolvePaymentMode(on, byVillage.get(v) ?? [], countyEntries, fallback)]),
  );
}

// ── Parameters ─────────────────────────────────────────────────────────────────────────────────

export interface ProvinceValue {
  from: string;
  value: unknown;
  source: string;
  /** false: defined in code (packages/domain); true: stored through this API. */
  stored: boolean;
  setBy: string | null;
  setAt: string | null;
}

export interface ParameterView {
  id: PolicyParameterId;
  description: string;
  valueSchema: Record<string, unknown>;
  national: { from: string; value: unknown; source: string }[];
  province: { code: number; name: string; values: ProvinceValue[] } | null;
  on: string;
  inForce: PolicyValueInForce<unknown> | null;
}

const jsonSchemas = new Map<string, Record<string, unknown>>();
function valueSchemaOf(p: Parameter<unknown>): Record<string, unknown> {
  let schema = jsonSchemas.get(p.id);
  if (!schema) {
    schema = z.toJSONSchema(p.schema as z.ZodType, { unrepresentable: 'any' }) as Record<string, unknown>;
    jsonSchemas.set(p.id, schema);
  }
  return schema;
}

/**
 * The province a read is about: the one named (a province of the dictionary), else the caller's
 * (a county or city caller reads its province's values; a national caller the national ones only).
 * Policy is public: any province may be named.
 */
async function readProvince(ctx: Context, requested: number | undefined) {
  const code = requested ?? provinceOf(ctx.actor.division);
  if (code === null) return null;
  if (divisionLevel(code) !== 'province') {
    throw new ApiError('validation_failed', `${code} is not a province.`, [
      field('query.province', 'Not a province-level division code', 'invalid_value'),
    ]);
  }
  const division = await getDivision(ctx.tx, code);
  if (!division) throw new ApiError('not_found', `Province ${code} is not in the dictionary.`);
  return { code, name: division.name };
}

function parameterView(
  id: PolicyParameterId,
  merged: Parameter<unknown>,
  province: { code: number; name: string } | null,
  stored: readonly StoredPolicyValue[],
  on: string,
): ParameterView {
  const code = policyParameters[id];
  let values: ProvinceValue[] = [];
  if (province) {
    const own = stored.filter((s) => s.parameter === id && s.province === province.code);
    const storedFrom = new Set(own.map((s) => s.from));
    values = [
      ...(code.provinces[province.code] ?? [])
        .filter((v) => !storedFrom.has(v.from))
        .map((v) => ({ ...v, stored: false, setBy: null, setAt: null })),
      ...own.map((s) => ({
        from: s.from,
        value: s.value,
        source: s.source,
        stored: true,
        setBy: s.setBy,
        setAt: s.setAt,
      })),
    ].sort((a, b) => (a.from < b.from ? -1 : a.from > b.from ? 1 : 0));
  }
  return {
    id,
    description: code.description,
    valueSchema: valueSchemaOf(code),
    national: code.national.map((v) => ({ from: v.from, value: v.value, source: v.source })),
    province: province ? { ...province, values } : null,
    on,
    inForce: valueInForce(merged, province?.code ?? 0, on),
  };
}

export async function listParameters(
  ctx: Context,
  input: { province?: number | undefined; on?: string | undefined },
): Promise<ParameterView[]> {
  const province = await readProvince(ctx, input.province);
  const on = input.on ?? today(ctx.now);
  const { parameters, stored } = await loadParameterSet(ctx.tx, policyParameters, province?.code ?? null);
  return policyParameterIds.map((id) => parameterView(id, parameters[id], province, stored, on));
}

function knownParameter(id: string): PolicyParameterId {
  if (!isPolicyParameterId(id)) throw new ApiError('not_found', `No policy parameter ${id}.`);
  return id;
}

export async function getParameter(
  ctx: Context,
  id: string,
  input: { province?: number | undefined; on?: string | undefined },
): Promise<ParameterView> {
  const known = knownParameter(id);
  const province = await readProvince(ctx, input.province);
  const on = input.on ?? today(ctx.now);
  const { parameters, stored } = await loadParameterSet(
    ctx.tx,
    { [known]: policyParameters[known] } as Record<PolicyParameterId, Parameter<unknown>>,
    province?.code ?? null,
  );
  return parameterView(known, parameters[known], province, stored, on);
}

// ── Writes: guards ─────────────────────────────────────────────────────────────────────────────

/** The first day of the 2006 policy: no value starts before it. */
function assertAfterPolicyBegan(parameter: Parameter<unknown>, from: string) {
  const first = parameter.national[0]?.from;
  if (first !== undefined && from < first) {
    throw new ApiError('unprocessable', `${from} is before the policy began (${first}).`, [
      field('param.from', `Not before ${first}`, 'before_policy'),
    ]);
  }
}

/**
 * Never retroactively change a frozen batch: `from` must be later than the last day of every period
 * paid by an approved (or later) batch of the counties in `range`.
 */
async function assertNotFrozen(ctx: Context, range: { lo: number; hi: number }, from: string, what: string) {
  const end = await lastFrozenPeriodEnd(ctx.tx, range);
  if (end !== null && from <= end) {
    throw new ApiError(
      'policy_frozen',
      `${what}: payment batches up to ${end} are approved and frozen with the policy they were computed with; a change must start after ${end}.`,
      [field('param.from', `Must be after ${end}`, 'policy_frozen')],
    );
  }
}

const sameJson = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

/** Keys of `input` objects that the schema dropped from `output` (unknown fields are rejected, not stripped). */
function droppedKeys(input: unknown, output: unknown, at: string): string[] {
  if (input === null || typeof input !== 'object' || Array.isArray(input)) return [];
  if (output === null || typeof output !== 'object' || Array.isArray(output)) return [];
  return Object.entries(input).flatMap(([k, v]) =>
    k in output ? droppedKeys(v, (output as Record<string, unknown>)[k], `${at}.${k}`) : [`${at}.${k}`],
  );
}

/** The value as the parameter's schema parses it; 400 naming `value` (and the part of it) otherwise. */
function parseValue(parameter: Parameter<unknown>, value: unknown): unknown {
  const parsed = parameter.schema.safeParse(value);
  if (!parsed.success) {
    throw new ApiError(
      'validation_failed',
      `The value is not a valid ${parameter.id}.`,
      parsed.error.issues.map((i) => ({
        field: ['value', ...i.path.map(String)].join('.'),
        message: i.message,
        code: i.code,
      })),
    );
  }
  const dropped = droppedKeys(value, parsed.data, 'value');
  if (dropped.length > 0) {
    throw new ApiError(
      'validation_failed',
      `The value has fields ${parameter.id} does not know.`,
      dropped.map((f) => field(f, 'Unrecognized key', 'unrecognized_keys')),
    );
  }
  return parsed.data;
}

// ── Overrides 省级设定 ────────────────────────────────────────────────────────────────────────────

export interface OverrideKey {
  parameter: string;
  province: number;
  from: string;
}

/** The province a write is about: it must be the caller's own (a province sets only its own policy). */
function ownProvince(ctx: Context, province: number): number {
  if (divisionLevel(province) !== 'province') {
    throw new ApiError('validation_failed', `${province} is not a province.`, [
      field('param.province', 'Not a province-level division code', 'invalid_value'),
    ]);
  }
  if (ctx.actor.division !== province) {
    throw new ApiError('forbidden', `Only province ${province} itself sets its policy.`);
  }
  return province;
}

const overrideEntity = (k: { province: number; parameter: string; from: string }) =>
  `${k.province}:${k.parameter}:${k.from}`;

/** After a change of the removal rule, `persons.status` of the province's removed persons follows it. */
async function afterOverrideChange(ctx: Context, parameter: PolicyParameterId, province: number) {
  if (parameter !== 'registry.removal_effective') return 0;
  const ids = await personsWithRemovals(ctx.tx, scopeOf(province));
  return ids.length > 0 ? refreshPersonStatuses(ctx, ids) : 0;
}

export async function setOverride(
  ctx: Context,
  key: OverrideKey,
  input: { value: unknown; source: string },
): Promise<{ stored: StoredPolicyValue; created: boolean; statusesChanged: number }> {
  const id = knownParameter(key.parameter);
  const province = ownProvince(ctx, key.province);
  const parameter = policyParameters[id];
  const value = parseValue(parameter, input.value);
  assertAfterPolicyBegan(parameter, key.from);
  await lockProvincePolicy(ctx.tx, province);
  if (subsidyParameterIds.includes(id)) {
    await assertNotFrozen(ctx, scopeOf(province), key.from, `Province ${province}`);
  }
  const previous = await getPolicyOverride(ctx.tx, { province, parameter: id, from: key.from });
  if (previous && sameJson(previous.value, value) && previous.source === input.source) {
    return { stored: previous, created: false, statusesChanged: 0 };
  }
  const stored = await upsertPolicyOverride(ctx.tx, {
    province,
    parameter: id,
    from: key.from,
    value,
    source: input.source,
    setBy: ctx.actor.sub,
  });
  await appendAudit(ctx.tx, {
    division: province,
    actor: ctx.actor,
    action: 'policy.override.set',
    entityType: 'policy_override',
    entityId: overrideEntity(stored),
    changes: {
      value: { old: previous?.value ?? null, new: stored.value },
      source: { old: previous?.source ?? null, new: stored.source },
    },
    requestId: ctx.requestId,
    occurredAt: ctx.now,
  });
  const statusesChanged = await afterOverrideChange(ctx, id, province);
  return { stored, created: previous === undefined, statusesChanged };
}

export async function deleteOverride(ctx: Context, key: OverrideKey): Promise<{ statusesChanged: number }> {
  const id = knownParameter(key.parameter);
  const province = ownProvince(ctx, key.province);
  await lockProvincePolicy(ctx.tx, province);
  const existing = await getPolicyOverride(ctx.tx, { province, parameter: id, from: key.from });
  if (!existing) {
    throw new ApiError('not_found', `Province ${province} has no stored ${id} from ${key.from}.`);
  }
  if (subsidyParameterIds.includes(id)) {
    await assertNotFrozen(ctx, scopeOf(province), key.from, `Province ${province}`);
  }
  await deleteStoredOverride(ctx.tx, { province, parameter: id, from: key.from });
  await appendAudit(ctx.tx, {
    division: province,
    actor: ctx.actor,
    action: 'policy.override.delete',
    entityType: 'policy_override',
    entityId: overrideEntity(existing),
    changes: {
      value: { old: existing.value, new: null },
      source: { old: existing.source, new: null },
    },
    requestId: ctx.requestId,
    occurredAt: ctx.now,
  });
  return { statusesChanged: await afterOverrideChange(ctx, id, province) };
}

// ── Payment modes 扶持方式 ────────────────────────────────────────────────────────────────────────

export type ModeLevel = 'village' | 'county' | PolicyLevel;

export interface ModeInForce {
  mode: StoredPaymentMode;
  cashPercent: number;
  from: string;
  source: string;
  level: ModeLevel;
}

export interface VillagePaymentModes {
  code: number;
  name: string | null;
  inForce: ModeInForce;
  settings: PaymentModeSettingRow[];
}

export interface CountyPaymentModes {
  county: CountyRef;
  inForce: ModeInForce;
  /** The county's own settings (locality 0). */
  settings: PaymentModeSettingRow[];
  /** Villages with settings of their own. */
  villages: VillagePaymentModes[];
}

/** The latest setting in force on `on`, as `level`, or undefined. */
function latestSetting(rows: readonly PaymentModeSettingRow[], on: string, level: ModeLevel) {
  let found: PaymentModeSettingRow | undefined;
  for (const r of rows) if (r.from <= on && (!found || r.from > found.from)) found = r;
  return found
    ? { mode: found.mode, cashPercent: found.cashPercent, from: found.from, source: found.source, level }
    : undefined;
}

/** A county code (6 digits) in the caller's scope, else 404, as for one that does not exist. */
async function countyInScope(ctx: Context, county: number, what = `County ${county}`) {
  const division = isWithin(county, ctx.actor.division) ? await getDivision(ctx.tx, county) : undefined;
  if (division?.level !== 'county') throw new ApiError('not_found', `${what} is not in your scope.`);
  return division;
}

export async function listPaymentModes(
  ctx: Context,
  input: { county?: number | undefined; on?: string | undefined; after?: number | undefined; limit: number },
): Promise<{ on: string; rows: CountyPaymentModes[] }> {
  if (input.county !== undefined) {
    if (divisionLevel(input.county) !== 'county') {
      throw new ApiError('validation_failed', `${input.county} is not a county.`, [
        field('query.county', 'Not a county-level division code', 'invalid_value'),
      ]);
    }
    await countyInScope(ctx, input.county);
  }
  const on = input.on ?? today(ctx.now);
  const counties = await listCountiesIn(ctx.tx, {
    range: scopeOf(ctx.actor.division),
    county: input.county,
    after: input.after,
    limit: input.limit,
  });
  const settings = await listPaymentModeSettings(
    ctx.tx,
    counties.map((c) => c.code),
  );
  const provinces = [...new Set(counties.map((c) => provinceOf(c.code) as number))];
  const fallbacks = await loadProvinceParameters(ctx.tx, paymentModeParameter, provinces);
  const rows = counties.map((county): CountyPaymentModes => {
    const own = settings.filter((s) => s.county === county.code);
    const countyRows = own.filter((s) => s.locality === 0);
    const parameter = fallbacks.get(provinceOf(county.code) as number) ?? paymentModeParameter;
    const fallback = policyValueInForce(parameter, county.code, on);
    const countyInForce: ModeInForce = latestSetting(countyRows, on, 'county') ?? {
      mode: fallback.value.mode,
      cashPercent: fallback.value.cashPercent,
      from: fallback.from,
      source: fallback.source,
      level: fallback.level,
    };
    const villages = new Map<number, PaymentModeSettingRow[]>();
    for (const s of own) {
      if (s.locality === 0) continue;
      villages.set(s.locality, [...(villages.get(s.locality) ?? []), s]);
    }
    return {
      county,
      inForce: countyInForce,
      settings: countyRows,
      villages: [...villages.entries()].map(([code, list]) => ({
        code,
        name: list[0]?.localityName ?? null,
        inForce: latestSetting(list, on, 'village') ?? countyInForce,
        settings: list,
      })),
    };
  });
  return { on, rows };
}

export interface PaymentModeInput {
  mode: StoredPaymentMode;
  cash_percent?: number | undefined;
  source: string;
}

/** The county and locality (0 for the county itself) a payment-mode code names, checked in scope. */
async function modeTarget(ctx: Context, code: number) {
  if (code < 1_000_000) {
    const county = await countyInScope(ctx, code);
    return { county: county.code, locality: 0, name: county.name };
  }
  const county = countyOfLocality(code);
  const village = isWithin(county, ctx.actor.division) ? await getVillage(ctx.tx, county, code) : undefined;
  if (!village) throw new ApiError('not_found', `Village ${code} is not in your scope.`);
  return { county, locality: code, name: village.name };
}

const modeEntity = (k: { county: number; locality: number; from: string }) =>
  `${k.county}:${k.locality}:${k.from}`;

export async function setPaymentMode(
  ctx: Context,
  code: number,
  from: string,
  input: PaymentModeInput,
): Promise<{ setting: PaymentModeSettingRow; created: boolean }> {
  const target = await modeTarget(ctx, code);
  const cashPercent = input.mode === 'cash' ? 100 : input.mode === 'project' ? 0 : (input.cash_percent ?? 0);
  assertAfterPolicyBegan(paymentModeParameter as Parameter<unknown>, from);
  await lockProvincePolicy(ctx.tx, provinceOf(target.county) as number);
  await assertNotFrozen(ctx, scopeOf(target.county), from, `County ${target.county}`);
  const key = { county: target.county, locality: target.locality, from };
  const previous = await getPaymentModeSetting(ctx.tx, key);
  if (
    previous &&
    previous.mode === input.mode &&
    previous.cashPercent === cashPercent &&
    previous.source === input.source
  ) {
    return { setting: { ...previous, localityName: target.name }, created: false };
  }
  const setting = await upsertPaymentModeSetting(ctx.tx, {
    ...key,
    mode: input.mode,
    cashPercent,
    source: input.source,
    setBy: ctx.actor.sub,
  });
  const changes: Changes = {
    mode: { old: previous?.mode ?? null, new: setting.mode },
    cash_percent: { old: previous?.cashPercent ?? null, new: setting.cashPercent },
    source: { old: previous?.source ?? null, new: setting.source },
  };
  await appendAudit(ctx.tx, {
    division: target.county,
    actor: ctx.actor,
    action: 'policy.payment_mode.set',
    entityType: 'payment_mode_setting',
    entityId: modeEntity(key),
    changes,
    requestId: ctx.requestId,
    occurredAt: ctx.now,
  });
  return { setting: { ...setting, localityName: target.name }, created: previous === undefined };
}

export async function deletePaymentMode(ctx: Context, code: number, from: string): Promise<void> {
  const target = await modeTarget(ctx, code);
  await lockProvincePolicy(ctx.tx, provinceOf(target.county) as number);
  const key = { county: target.county, locality: target.locality, from };
  const existing = await getPaymentModeSetting(ctx.tx, key);
  if (!existing) throw new ApiError('not_found', `No payment mode of ${code} from ${from} is stored.`);
  await assertNotFrozen(ctx, scopeOf(target.county), from, `County ${target.county}`);
  await deletePaymentModeSetting(ctx.tx, key);
  await appendAudit(ctx.tx, {
    division: target.county,
    actor: ctx.actor,
    action: 'policy.payment_mode.delete',
    entityType: 'payment_mode_setting',
    entityId: modeEntity(key),
    changes: {
      mode: { old: existing.mode, new: null },
      cash_percent: { old: existing.cashPercent, new: null },
      source: { old: existing.source, new: null },
    },
    requestId: ctx.requestId,
    occurredAt: ctx.now,
  });
}
