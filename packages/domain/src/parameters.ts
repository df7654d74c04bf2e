/**
 * Policy parameters 政策参数 as data (in the spirit of OpenFisca): a rule that
 * differs between provinces and over time is a {@link Parameter} with a dated
 * national default 全国默认值 and dated per-province overrides 省级设定, never a
 * constant in code. Lookups take the date explicitly: no clock here.
 */

import type { z } from 'zod';
import { divisionLevel, isDivisionCode, NATION } from './divisions.js';
import { isIsoDate } from './internal/calendar.js';

/** One dated value of a parameter: in force from `from` (inclusive) until the next value. */
export interface ParameterValue<T> {
  /** First day the value is in force, ISO `YYYY-MM-DD`, inclusive. */
  from: string;
  value: T;
  /** Citation 依据, e.g. `国发〔2006〕17号` or `DOMAIN.md: 新疆 practice`. */
  source: string;
}

/** A policy parameter: national defaults plus province overrides, each a list sorted by `from`. */
export interface Parameter<T> {
  /** Stable identifier, e.g. `registry.removal_effective`. */
  id: string;
  /** English description, with the Chinese term. */
  description: string;
  /** Validates values (also used by the API when provinces set overrides). */
  schema: z.ZodType<T>;
  /** National defaults, sorted strictly by `from`. */
  national: readonly ParameterValue<T>[];
  /** Province code (e.g. `650000`) → that province's overrides, sorted strictly by `from`. */
  provinces: Readonly<Record<number, readonly ParameterValue<T>[]>>;
}

function deepFreeze<V>(v: V): V {
  if (v !== null && typeof v === 'object' && !Object.isFrozen(v)) {
    Object.freeze(v);
    for (const key of Object.keys(v)) deepFreeze((v as Record<string, unknown>)[key]);
  }
  return v;
}

function assertProvinceCode(code: number, what: string): void {
  if (!isDivisionCode(code) || code === NATION || divisionLevel(code) !== 'province') {
    throw new RangeError(`${what} must be a province-level division code (e.g. 650000), got ${String(code)}`);
  }
}

function checkValues<T>(
  id: string,
  schema: z.ZodType<T>,
  values: readonly ParameterValue<T>[],
  where: string,
): readonly ParameterValue<T>[] {
  if (!Array.isArray(values)) throw new RangeError(`parameter ${id}: ${where} values must be an array`);
  const out: ParameterValue<T>[] = [];
  let previous: string | null = null;
  for (const [i, v] of values.entries()) {
    const at = `parameter ${id}: ${where} value #${i}`;
    if (v === null || typeof v !== 'object') throw new RangeError(`${at} must be an object`);
    if (!isIsoDate(v.from)) {
      throw new RangeError(`${at}: from must be an ISO date YYYY-MM-DD, got ${JSON.stringify(v.from)}`);
    }
    if (previous !== null && v.from <= previous) {
      throw new RangeError(`${at}: values must be sorted strictly by from (${v.from} after ${previous})`);
    }
    if (typeof v.source !== 'string' || v.source.trim() === '') {
      throw new RangeError(`${at}: source (citation) is required`);
    }
    const parsed = schema.safeParse(v.value);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new RangeError(
        `${at} (from ${v.from}): invalid value: ${issue?.message ?? 'rejected by schema'}`,
      );
    }
    previous = v.from;
    out.push({ from: v.from, value: parsed.data, source: v.source });
  }
  return out;
}

/**
 * Validates and freezes a parameter: a non-empty id, ISO `from` dates sorted
 * strictly ascending in every list, a non-empty source on each value, each
 * value accepted by `schema` (the parsed value is stored), and province keys
 * that are province-level division codes. Throws RangeError otherwise.
 */
export function defineParameter<T>(p: Parameter<T>): Parameter<T> {
  if (p === null || typeof p !== 'object') throw new RangeError('parameter must be an object');
  if (typeof p.id !== 'string' || p.id.trim() === '' || /\s/.test(p.id)) {
    throw new RangeError(
      `parameter id must be a non-empty string without spaces, got ${JSON.stringify(p.id)}`,
    );
  }
  if (typeof p.description !== 'string' || p.description.trim() === '') {
    throw new RangeError(`parameter ${p.id}: description is required`);
  }
  if (p.schema === null || typeof p.schema !== 'object' || typeof p.schema.safeParse !== 'function') {
    throw new RangeError(`parameter ${p.id}: schema must be a zod schema`);
  }
  const national = checkValues(p.id, p.schema, p.national, 'national');
  if (p.provinces === null || typeof p.provinces !== 'object') {
    throw new RangeError(`parameter ${p.id}: provinces must be an object`);
  }
  const provinces: Record<number, readonly ParameterValue<T>[]> = {};
  for (const [key, values] of Object.entries(p.provinces)) {
    const code = Number(key);
    if (String(code) !== key) {
      throw new RangeError(
        `parameter ${p.id}: province key must be a division code, got ${JSON.stringify(key)}`,
      );
    }
    assertProvinceCode(code, `parameter ${p.id}: province key`);
    provinces[code] = checkValues(p.id, p.schema, values, `province ${key}`);
  }
  return Object.freeze({
    id: p.id,
    description: p.description,
    schema: p.schema,
    national: deepFreeze(national),
    provinces: deepFreeze(provinces),
  });
}

function latestFrom<T>(
  values: readonly ParameterValue<T>[] | undefined,
  on: string,
): ParameterValue<T> | null {
  if (values === undefined) return null;
  let found: ParameterValue<T> | null = null;
  for (const v of values) {
    if (v.from <= on) found = v;
    else break;
  }
  return found;
}

/**
 * The value of `p` in force on `on` for the province containing `division`
 * (a province, city or county code; the nation `0` uses the national values):
 * the latest province override with `from <= on`, else the latest national
 * value with `from <= on`. Throws RangeError on an invalid division or date,
 * or when no value is in force on that date.
 */
export function parameterValue<T>(p: Parameter<T>, division: number, on: string): ParameterValue<T> {
  if (!isIsoDate(on)) {
    throw new RangeError(`parameter ${p.id}: date must be an ISO date YYYY-MM-DD, got ${JSON.stringify(on)}`);
  }
  const level = divisionLevel(division);
  const province = level === 'nation' ? null : division - (division % 10_000);
  const override = province === null ? null : latestFrom(p.provinces[province], on);
  if (override !== null) return override;
  const national = latestFrom(p.national, on);
  if (national !== null) return national;
  throw new RangeError(`parameter ${p.id}: no value in force on ${on} for division ${division}`);
}

/**
 * A validated, frozen copy of `p` whose override list for `province` is
 * replaced by `values` (an empty list removes the province's overrides).
 * The original is left unchanged. Throws RangeError like {@link defineParameter}.
 */
export function withOverrides<T>(
  p: Parameter<T>,
  province: number,
  values: readonly ParameterValue<T>[],
): Parameter<T> {
  assertProvinceCode(province, `parameter ${p.id}: province`);
  if (!Array.isArray(values)) throw new RangeError(`parameter ${p.id}: override values must be an array`);
  const provinces: Record<number, readonly ParameterValue<T>[]> = { ...p.provinces };
  if (values.length === 0) delete provinces[province];
  else provinces[province] = values;
  return defineParameter({ ...p, provinces });
}

/**
 * `p` with a province's stored overrides (from the database) merged into its
 * code-defined ones: a stored value replaces a code value with the same
 * `from`; stored values may come in any order. The result is validated and
 * frozen like {@link defineParameter} (a stored value rejected by the schema,
 * without a source, or two stored values with the same `from` throw
 * RangeError); the original is left unchanged.
 */
export function withStoredOverrides<T>(
  p: Parameter<T>,
  province: number,
  stored: readonly ParameterValue<T>[],
): Parameter<T> {
  assertProvinceCode(province, `parameter ${p.id}: province`);
  if (!Array.isArray(stored)) throw new RangeError(`parameter ${p.id}: stored values must be an array`);
  const byFrom = new Map<string, ParameterValue<T>>();
  for (const v of p.provinces[province] ?? []) byFrom.set(v.from, v);
  const seen = new Set<string>();
  for (const [i, v] of (stored as readonly ParameterValue<T>[]).entries()) {
    if (v === null || typeof v !== 'object') {
      throw new RangeError(`parameter ${p.id}: stored value #${i} must be an object`);
    }
    if (!isIsoDate(v.from)) {
      throw new RangeError(
        `parameter ${p.id}: stored value #${i}: from must be an ISO date YYYY-MM-DD, got ${JSON.stringify(v.from)}`,
      );
    }
    if (seen.has(v.from)) throw new RangeError(`parameter ${p.id}: two stored values from ${v.from}`);
    seen.add(v.from);
    byFrom.set(v.from, v);
  }
  const merged = [...byFrom.values()].sort((a, b) => (a.from < b.from ? -1 : a.from > b.from ? 1 : 0));
  return withOverrides(p, province, merged);
}
