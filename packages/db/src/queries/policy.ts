import { type SQL, sql } from 'drizzle-orm';
import type { Tx } from '../client.js';
import { rowsOf } from '../tenant.js';
import type { DivisionRange } from './registry.js';

/*
 * Policy 政策参数: a province's stored, dated overrides of the policy parameters of
 * packages/domain/src/policy.ts (`policy_overrides`, readable under every scope, written only in the
 * province's own), and the dated payment modes 扶持方式 of counties and villages
 * (`payment_mode_settings`, county rows). Values cross the driver boundary as JSON text, dates as
 * `YYYY-MM-DD` text and timestamps as ISO text, so PGlite and postgres.js return the same shapes.
 */

const ts = (column: string) =>
  sql.raw(`to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`);

/** Batch statuses from which a batch, and the policy it was computed with, is frozen. */
export const frozenBatchStatuses = ['approved', 'exported', 'reconciling', 'closed'] as const;

/**
 * Serialises the policy writes of a province (its overrides and its counties' and villages' payment
 * modes) until commit, so a write reads the state it replaces. Batch approval may take the same
 * lock to keep a policy write and an approval of the same province from crossing.
 */
export async function lockProvincePolicy(tx: Tx, province: number): Promise<void> {
  await tx.execute(sql`SELECT pg_advisory_xact_lock(hashtextextended(${`houfu.policy:${province}`}, 0))`);
}

/**
 * The last day of the latest period paid by a frozen batch (approved, exported, reconciling or
 * closed) of any county in `range`, or null when there is none. Policy in force up to that day is
 * frozen: a new or changed value must start later.
 */
export async function lastFrozenPeriodEnd(tx: Tx, range: DivisionRange): Promise<string | null> {
  const [row] = rowsOf<{ end: string | null }>(
    await tx.execute(sql`
      SELECT to_char(max(period_end), 'YYYY-MM-DD') AS "end"
      FROM payment_batches
      WHERE division_code BETWEEN ${range.lo} AND ${range.hi}
        AND status IN ('approved', 'exported', 'reconciling', 'closed')`),
  );
  return row?.end ?? null;
}

// ── Province overrides 省级设定 ──────────────────────────────────────────────────────────────────

export interface StoredPolicyValue {
  province: number;
  parameter: string;
  from: string;
  value: unknown;
  source: string;
  setBy: string;
  setAt: string;
}

const overrideColumns = sql`o.division_code, o.parameter, to_char(o.effective_from, 'YYYY-MM-DD') AS effective_from,
  o.value::text AS value_json, o.source, o.set_by, ${ts('o.set_at')} AS set_at`;

function toStored(r: Record<string, unknown>): StoredPolicyValue {
  return {
    province: Number(r.division_code),
    parameter: String(r.parameter),
    from: String(r.effective_from),
    value: JSON.parse(String(r.value_json)) as unknown,
    source: String(r.source),
    setBy: String(r.set_by),
    setAt: String(r.set_at),
  };
}

/**
 * Stored overrides, by province, parameter and date: of these provinces (every province when
 * omitted) and, when given, of one parameter.
 */
export async function listPolicyOverrides(
  tx: Tx,
  f: { provinces?: readonly number[] | undefined; parameter?: string | undefined } = {},
): Promise<StoredPolicyValue[]> {
  if (f.provinces?.length === 0) return [];
  const where: SQL[] = [sql`true`];
  if (f.provinces) where.push(sql`o.division_code = ANY(${sql.param([...f.provinces])}::int[])`);
  if (f.parameter !== undefined) where.push(sql`o.parameter = ${f.parameter}`);
  const rows = rowsOf<Record<string, unknown>>(
    await tx.execute(sql`SELECT ${overrideColumns} FROM policy_overrides o
      WHERE ${sql.join(where, sql` AND `)}
      ORDER BY o.division_code, o.parameter, o.effective_from`),
  );
  return rows.map(toStored);
}

export async function getPolicyOverride(
  tx: Tx,
  key: { province: number; parameter: string; from: string },
): Promise<StoredPolicyValue | undefined> {
  const [row] = rowsOf<Record<string, unknown>>(
    await tx.execute(sql`SELECT ${overrideColumns} FROM policy_overrides o
      WHERE o.division_code = ${key.province} AND o.parameter = ${key.parameter}
        AND o.effective_from = ${key.from}::date`),
  );
  return row ? toStored(row) : undefined;
}

/** Creates or replaces the stored value of a parameter for a province from a date. */
export async function upsertPolicyOverride(
  tx: Tx,
  v: { province: number; parameter: string; from: string; value: unknown; source: string; setBy: string },
): Promise<StoredPolicyValue> {
  await tx.execute(sql`
    INSERT INTO policy_overrides (division_code, parameter, effective_from, value, source, set_by, set_at)
    VALUES (${v.province}, ${v.parameter}, ${v.from}::date, ${JSON.stringify(v.value)}::jsonb, ${v.source},
            ${v.setBy}, now())
    ON CONFLICT (division_code, parameter, effective_from)
    DO UPDATE SET value = EXCLUDED.value, source = EXCLUDED.source, set_by = EXCLUDED.set_by, set_at = now()`);
  const stored = await getPolicyOverride(tx, v);
  if (!stored) throw new Error('policy override not visible after upsert');
  return stored;
}

/** Deletes a stored value; returns it, or undefined when there was none. */
export async function deletePolicyOverride(
  tx: Tx,
  key: { province: number; parameter: string; from: string },
): Promise<StoredPolicyValue | undefined> {
  const [row] = rowsOf<Record<string, unknown>>(
    await tx.execute(sql`DELETE FROM policy_overrides o
      WHERE o.division_code = ${key.province} AND o.parameter = ${key.parameter}
        AND o.effective_from = ${key.from}::date
      RETURNING ${overrideColumns}`),
  );
  return row ? toStored(row) : undefined;
}

/**
 * Persons of the counties in `range` with a live removal 核减 (not voided by a correction): their
 * status depends on the removal rule, so it is derived again when the rule changes.
 */
export async function personsWithRemovals(tx: Tx, range: DivisionRange): Promise<string[]> {
  const rows = rowsOf<{ id: string }>(
    await tx.execute(sql`
      SELECT DISTINCT e.person_id::text AS id
      FROM person_events e
      WHERE e.division_code BETWEEN ${range.lo} AND ${range.hi} AND e.kind = 'removed'
        AND NOT EXISTS (SELECT 1 FROM person_events x
          WHERE x.division_code = e.division_code AND x.kind = 'correction' AND x.corrects_id = e.id)
      ORDER BY 1`),
  );
  return rows.map((r) => r.id);
}

// ── Payment modes 扶持方式 ────────────────────────────────────────────────────────────────────────

export type StoredPaymentMode = 'cash' | 'project' | 'both';

export interface PaymentModeSettingRow {
  county: number;
  /** 0 for the county's own setting, else the 12-digit village code. */
  locality: number;
  from: string;
  mode: StoredPaymentMode;
  cashPercent: number;
  source: string;
  setBy: string;
  setAt: string;
  /** The village's name (null for the county's own setting or an unknown village). */
  localityName: string | null;
}

const modeColumns = sql`s.division_code, s.locality_code, to_char(s.effective_from, 'YYYY-MM-DD') AS effective_from,
  s.mode, s.cash_percent, s.source, s.set_by, ${ts('s.set_at')} AS set_at,
  (SELECT l.name FROM localities l WHERE l.division_code = s.division_code AND l.code = s.locality_code)
    AS locality_name`;

function toModeRow(r: Record<string, unknown>): PaymentModeSettingRow {
  return {
    county: Number(r.division_code),
    locality: Number(r.locality_code),
    from: String(r.effective_from),
    mode: r.mode as StoredPaymentMode,
    cashPercent: Number(r.cash_percent),
    source: String(r.source),
    setBy: String(r.set_by),
    setAt: String(r.set_at),
    localityName: (r.locality_name as string | null) ?? null,
  };
}

/** Every stored payment mode of these counties (county rows first), by county, locality and date. */
export async function listPaymentModeSettings(
  tx: Tx,
  counties: readonly number[],
): Promise<PaymentModeSettingRow[]> {
  if (counties.length === 0) return [];
  const rows = rowsOf<Record<string, unknown>>(
    await tx.execute(sql`SELECT ${modeColumns} FROM payment_mode_settings s
      WHERE s.division_code = ANY(${sql.param([...counties])}::int[])
      ORDER BY s.division_code, s.locality_code, s.effective_from`),
  );
  return rows.map(toModeRow);
}

export interface PaymentModeKey {
  county: number;
  locality: number;
  from: string;
}

export async function getPaymentModeSetting(
  tx: Tx,
  key: PaymentModeKey,
): Promise<PaymentModeSettingRow | undefined> {
  const [row] = rowsOf<Record<string, unknown>>(
    await tx.execute(sql`SELECT ${modeColumns} FROM payment_mode_settings s
      WHERE s.division_code = ${key.county} AND s.locality_code = ${key.locality}
        AND s.effective_from = ${key.from}::date`),
  );
  return row ? toModeRow(row) : undefined;
}

/** Creates or replaces a county's or village's payment mode from a date. */
export async function upsertPaymentModeSetting(
  tx: Tx,
  v: PaymentModeKey & { mode: StoredPaymentMode; cashPercent: number; source: string; setBy: string },
): Promise<PaymentModeSettingRow> {
  await tx.execute(sql`
    INSERT INTO payment_mode_settings
      (division_code, locality_code, effective_from, mode, cash_percent, source, set_by, set_at)
    VALUES (${v.county}, ${v.locality}, ${v.from}::date, ${v.mode}, ${v.cashPercent}, ${v.source}, ${v.setBy}, now())
    ON CONFLICT (division_code, locality_code, effective_from)
    DO UPDATE SET mode = EXCLUDED.mode, cash_percent = EXCLUDED.cash_percent, source = EXCLUDED.source,
                  set_by = EXCLUDED.set_by, set_at = now()`);
  const stored = await getPaymentModeSetting(tx, v);
  if (!stored) throw new Error('payment mode not visible after upsert');
  return stored;
}

/** Deletes a stored payment mode; returns it, or undefined when there was none. */
export async function deletePaymentModeSetting(
  tx: Tx,
  key: PaymentModeKey,
): Promise<PaymentModeSettingRow | undefined> {
  const existing = await getPaymentModeSetting(tx, key);
  if (!existing) return undefined;
  await tx.execute(sql`DELETE FROM payment_mode_settings
    WHERE division_code = ${key.county} AND locality_code = ${key.locality} AND effective_from = ${key.from}::date`);
  return existing;
}

export interface CountyRef {
  code: number;
  name: string;
}

/** Counties of the dictionary in a range (or the one `county`), by code, after `after`. */
export async function listCountiesIn(
  tx: Tx,
  f: { range: DivisionRange; county?: number | undefined; after?: number | undefined; limit: number },
): Promise<CountyRef[]> {
  const rows = rowsOf<{ code: number; name: string }>(
    await tx.execute(sql`SELECT code, name FROM divisions
      WHERE level = 'county' AND code BETWEEN ${f.range.lo} AND ${f.range.hi}
        ${f.county !== undefined ? sql`AND code = ${f.county}` : sql``}
        ${f.after !== undefined ? sql`AND code > ${f.after}` : sql``}
      ORDER BY code LIMIT ${f.limit}`),
  );
  return rows.map((r) => ({ code: Number(r.code), name: r.name }));
}

/** A village of a county (any status), with its name, as far as the scope sees. */
export async function getVillage(
  tx: Tx,
  county: number,
  village: number,
): Promise<{ code: number; name: string } | undefined> {
  const [row] = rowsOf<{ code: number | string; name: string }>(
    await tx.execute(sql`SELECT code, name FROM localities
      WHERE division_code = ${county} AND code = ${village} AND level = 'village'`),
  );
  return row ? { code: Number(row.code), name: row.name } : undefined;
}

/** Every village code of a county (active or not: persons may still live in an inactive one). */
export async function villageCodesOf(tx: Tx, county: number): Promise<number[]> {
  const rows = rowsOf<{ code: number | string }>(
    await tx.execute(sql`SELECT code FROM localities WHERE division_code = ${county} AND level = 'village'
      ORDER BY code`),
  );
  return rows.map((r) => Number(r.code));
}
