import { listPolicyOverrides, type StoredPolicyValue, type Tx } from '@houfu/db';
import {
  divisionLevel,
  type Parameter,
  type ParameterValue,
  parameterValue,
  withStoredOverrides,
} from '@houfu/domain';

/**
 * The value of a policy parameter in force on `on` for `division`. Dates before the parameter's first
 * value (the 2006 policy began on 2006-07-01) read that first value: a registry status on such a date
 * still needs a rule, and no earlier rule exists.
 */
export function policyValue<T>(parameter: Parameter<T>, division: number, on: string): ParameterValue<T> {
  const first = parameter.national[0]?.from;
  return parameterValue(parameter, division, first !== undefined && on < first ? first : on);
}

/** Where a value in force comes from: the national default or the province's own (code or stored). */
export type PolicyLevel = 'national' | 'province';

export interface PolicyValueInForce<T> extends ParameterValue<T> {
  level: PolicyLevel;
}

/** The province of a division code, or null for the nation. */
export function provinceOf(division: number): number | null {
  return divisionLevel(division) === 'nation' ? null : division - (division % 10_000);
}

/**
 * `parameter` with `province`'s stored overrides merged in. A stored value the code no longer accepts
 * (its schema tightened after it was stored) is an operator's problem, never silently skipped: the
 * error names the parameter and the province.
 */
function merged<T>(
  parameter: Parameter<T>,
  province: number,
  stored: readonly StoredPolicyValue[],
): Parameter<T> {
  if (stored.length === 0) return parameter;
  try {
    return withStoredOverrides(
      parameter,
      province,
      stored.map((s) => ({ from: s.from, value: s.value as T, source: s.source })),
    );
  } catch (error) {
    if (!(error instanceof RangeError)) throw error;
    throw new Error(`stored policy of province ${province} is invalid: ${error.message}`);
  }
}

/** A parameter with the stored overrides of `division`'s province merged in (the nation: unchanged). */
export async function loadParameter<T>(
  tx: Tx,
  parameter: Parameter<T>,
  division: number,
): Promise<Parameter<T>> {
  const province = provinceOf(division);
  if (province === null) return parameter;
  const stored = await listPolicyOverrides(tx, { provinces: [province], parameter: parameter.id });
  return merged(parameter, province, stored);
}

/** A parameter per province, each with that province's stored overrides merged in (one query). */
export async function loadProvinceParameters<T>(
  tx: Tx,
  parameter: Parameter<T>,
  provinces: readonly number[],
): Promise<Map<number, Parameter<T>>> {
  const stored = await listPolicyOverrides(tx, { provinces, parameter: parameter.id });
  return new Map(
    provinces.map((p) => [
      p,
      merged(
        parameter,
        p,
        stored.filter((s) => s.province === p),
      ),
    ]),
  );
}

/**
 * Every parameter of `parameters` with the province's stored overrides merged in, from one query
 * (`province` null: the national values only).
 */
export async function loadParameterSet<K extends string>(
  tx: Tx,
  parameters: Readonly<Record<K, Parameter<unknown>>>,
  province: number | null,
): Promise<{ parameters: Record<K, Parameter<unknown>>; stored: StoredPolicyValue[] }> {
  const stored = province === null ? [] : await listPolicyOverrides(tx, { provinces: [province] });
  const out = {} as Record<K, Parameter<unknown>>;
  for (const [id, p] of Object.entries(parameters) as [K, Parameter<unknown>][]) {
    out[id] =
      province === null
        ? p
        : merged(
            p,
            province,
            stored.filter((s) => s.parameter === p.id),
          );
  }
  return { parameters: out, stored };
}

/** Like {@link policyValue}, with the province's stored overrides (dates before the first value read the first). */
export async function loadPolicyValue<T>(
  tx: Tx,
  parameter: Parameter<T>,
  division: number,
  on: string,
): Promise<ParameterValue<T>> {
  return policyValue(await loadParameter(tx, parameter, division), division, on);
}

/**
 * The value in force on `on` for `division` with where it comes from, or null when no value is in
 * force that day (before the policy began), as {@link parameterValue} decides it.
 */
export function valueInForce<T>(
  parameter: Parameter<T>,
  division: number,
  on: string,
): PolicyValueInForce<T> | null {
  let value: ParameterValue<T>;
  try {
    value = parameterValue(parameter, division, on);
  } catch (error) {
    if (error instanceof RangeError) return null;
    throw error;
  }
  const province = provinceOf(division);
  const own = province === null ? [] : (parameter.provinces[province] ?? []);
  return { ...value, level: own.includes(value) ? 'province' : 'national' };
}

/** Like {@link valueInForce}, reading the first value for dates before it (as {@link policyValue}). */
export function policyValueInForce<T>(
  parameter: Parameter<T>,
  division: number,
  on: string,
): PolicyValueInForce<T> {
  const first = parameter.national[0]?.from;
  const value = valueInForce(parameter, division, first !== undefined && on < first ? first : on);
  if (!value)
    throw new RangeError(`parameter ${parameter.id}: no value in force on ${on} for division ${division}`);
  return value;
}
