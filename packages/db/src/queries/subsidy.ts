import { type SQL, sql } from 'drizzle-orm';
import type { Tx } from '../client.js';
import { rowsOf } from '../tenant.js';
import { type DivisionRange, divisionUnits, groupKey, type RegistryGroupLevel } from './registry.js';

/*
 * Direct subsidy 直补资金发放: payment batches 发放批次, their lines 发放明细 and exclusions 未发放名单,
 * bank return files 银行回盘 and the exceptions they raise, oversight sums. The entitlement of a whole
 * county is one set-based statement (see computeRegularBatch); dates cross the driver boundary as
 * `YYYY-MM-DD` text, timestamps as ISO text, fen as numbers (bigint sums are cast to text first).
 */

export const batchStatuses = [
  'computing',
  'draft',
  'approved',
  'exported',
  'reconciling',
  'closed',
  'cancelled',
  'failed',
] as const;
export type BatchStatus = (typeof batchStatuses)[number];
export type BatchKind = 'regular' | 'reissue';

export interface PaymentBatch {
  divisionCode: number;
  id: string;
  batchNo: string;
  period: string;
  periodStart: string;
  periodEnd: string;
  kind: BatchKind;
  sourceBatchId: string | null;
  status: BatchStatus;
  jobId: string | null;
  policy: Record<string, unknown> | null;
  lineCount: number;
  totalFen: number;
  projectFen: number;
  excludedCount: number;
  contentHash: string | null;
  note: string | null;
  preparedBy: string;
  computedAt: string | null;
  approvedBy: string | null;
  approvedAt: string | null;
  exportedAt: string | null;
  closedAt: string | null;
  cancelledAt: string | null;
  version: number;
  createdAt: string;
  updatedAt: string;
  countyName: string | null;
}

const ts = (column: string) =>
  sql.raw(`to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`);

const batchColumns = sql`b.division_code, b.id, b.batch_no, b.period, b.period_start::text AS period_start,
  b.period_end::text AS period_end, b.kind, b.source_batch_id, b.status, b.job_id, b.policy, b.line_count,
  b.total_fen::text AS total_fen, b.project_fen::text AS project_fen, b.excluded_count, b.content_hash, b.note,
  b.prepared_by, ${ts('b.computed_at')} AS computed_at, b.approved_by, ${ts('b.approved_at')} AS approved_at,
  ${ts('b.exported_at')} AS exported_at, ${ts('b.closed_at')} AS closed_at,
  ${ts('b.cancelled_at')} AS cancelled_at, b.version, ${ts('b.created_at')} AS created_at,
  ${ts('b.updated_at')} AS updated_at, (SELECT d.name FROM divisions d WHERE d.code = b.division_code) AS county_name`;

function toBatch(r: Record<string, unknown>): PaymentBatch {
  return {
    divisionCode: Number(r.division_code),
    id: String(r.id),
    batchNo: String(r.batch_no),
    period: String(r.period),
    periodStart: String(r.period_start),
    periodEnd: String(r.period_end),
    kind: r.kind as BatchKind,
    sourceBatchId: (r.source_batch_id as string | null) ?? null,
    status: r.status as BatchStatus,
    jobId: (r.job_id as string | null) ?? null,
    policy: (typeof r.policy === 'string' ? JSON.parse(r.policy) : r.policy) as Record<
      string,
      unknown
    > | null,
    lineCount: Number(r.line_count),
    totalFen: Number(r.total_fen),
    projectFen: Number(r.project_fen),
    excludedCount: Number(r.excluded_count),
    contentHash: (r.content_hash as string | null) ?? null,
    note: (r.note as string | null) ?? null,
    preparedBy: String(r.prepared_by),
    computedAt: (r.computed_at as string | null) ?? null,
    approvedBy: (r.approved_by as string | null) ?? null,
    approvedAt: (r.approved_at as string | null) ?? null,
    exportedAt: (r.exported_at as string | null) ?? null,
    closedAt: (r.closed_at as string | null) ?? null,
    cancelledAt: (r.cancelled_at as string | null) ?? null,
    version: Number(r.version),
    createdAt: String(r.created_at),
    updatedAt: String(r.updated_at),
    countyName: (r.county_name as string | null) ?? null,
  };
}

/**
 * Serialises batch creation per county and period (the batch number's sequence, one live regular
 * batch) and returns the next sequence number.
 */
export async function nextBatchSeq(tx: Tx, county: number, period: string): Promise<number> {
  await tx.execute(sql`SELECT pg_advisory_xact_lock(7341, hashtext(${`${county}:${period}`}))`);
  const [row] = rowsOf<{ n: number }>(
    await tx.execute(sql`SELECT count(*)::int AS n FROM payment_batches
      WHERE division_code = ${county} AND period = ${period}`),
  );
  return Number(row?.n ?? 0) + 1;
}

/** The live regular batch of a county and period (not cancelled or failed), if any. */
export async function liveRegularBatch(
  tx: Tx,
  county: number,
  period: string,
): Promise<PaymentBatch | undefined> {
  const [row] = rowsOf<Record<string, unknown>>(
    await tx.execute(sql`SELECT ${batchColumns} FROM payment_batches b
      WHERE b.division_code = ${county} AND b.period = ${period} AND b.kind = 'regular'
        AND b.status NOT IN ('cancelled', 'failed')`),
  );
  return row ? toBatch(row) : undefined;
}

export interface NewPaymentBatch {
  divisionCode: number;
  batchNo: string;
  period: string;
  periodStart: string;
  periodEnd: string;
  kind: BatchKind;
  sourceBatchId: string | null;
  note: string | null;
  preparedBy: string;
}

export async function insertPaymentBatch(tx: Tx, b: NewPaymentBatch): Promise<PaymentBatch> {
  const [row] = rowsOf<{ id: string }>(
    await tx.execute(sql`INSERT INTO payment_batches
        (division_code, batch_no, period, period_start, period_end, kind, source_batch_id, note, prepared_by)
      VALUES (${b.divisionCode}, ${b.batchNo}, ${b.period}, ${b.periodStart}::date, ${b.periodEnd}::date,
              ${b.kind}, ${b.sourceBatchId}::uuid, ${b.note}, ${b.preparedBy})
      RETURNING id`),
  );
  if (!row) throw new Error('batch not inserted');
  const batch = await getPaymentBatch(tx, row.id);
  if (!batch) throw new Error('batch not visible after insert');
  return batch;
}

/** One batch by id as far as the scope sees; `lock` takes the row lock (state changes). */
export async function getPaymentBatch(
  tx: Tx,
  id: string,
  options: { lock?: boolean } = {},
): Promise<PaymentBatch | undefined> {
  const [row] = rowsOf<Record<string, unknown>>(
    await tx.execute(sql`SELECT ${batchColumns} FROM payment_batches b WHERE b.id = ${id}::uuid
      ${options.lock ? sql`FOR UPDATE OF b` : sql``}`),
  );
  return row ? toBatch(row) : undefined;
}

export interface PaymentBatchFilter {
  range: DivisionRange;
  county?: number | undefined;
  period?: string | undefined;
  status?: BatchStatus | undefined;
  kind?: BatchKind | undefined;
  after?: { divisionCode: number; batchNo: string } | undefined;
  limit: number;
}

/** Batches in a range, by county then batch number. */
export async function listPaymentBatches(tx: Tx, f: PaymentBatchFilter): Promise<PaymentBatch[]> {
  const where: SQL[] = [sql`b.division_code BETWEEN ${f.range.lo} AND ${f.range.hi}`];
  if (f.county !== undefined) where.push(sql`b.division_code = ${f.county}`);
  if (f.period !== undefined) where.push(sql`b.period = ${f.period}`);
  if (f.status !== undefined) where.push(sql`b.status = ${f.status}`);
  if (f.kind !== undefined) where.push(sql`b.kind = ${f.kind}`);
  if (f.after) where.push(sql`(b.division_code, b.batch_no) > (${f.after.divisionCode}, ${f.after.batchNo})`);
  const rows = rowsOf<Record<string, unknown>>(
    await tx.execute(sql`SELECT ${batchColumns} FROM payment_batches b WHERE ${sql.join(where, sql` AND `)}
      ORDER BY b.division_code, b.batch_no LIMIT ${f.limit}`),
  );
  return rows.map(toBatch);
}

/** Sets the batch's status and the columns that go with it; bumps the version. */
export async function updatePaymentBatch(
  tx: Tx,
  batch: Pick<PaymentBatch, 'divisionCode' | 'id'>,
  set: {
    status?: BatchStatus;
    jobId?: string;
    policy?: Record<string, unknown>;
    approvedBy?: string;
    approved?: boolean;
    exported?: boolean;
    closed?: boolean;
    cancelled?: boolean;
    computed?: boolean;
    preparedBy?: string;
  },
): Promise<void> {
  const parts: SQL[] = [sql`version = version + 1`, sql`updated_at = now()`];
  if (set.status) parts.push(sql`status = ${set.status}`);
  if (set.jobId) parts.push(sql`job_id = ${set.jobId}::uuid`);
  if (set.policy) parts.push(sql`policy = ${JSON.stringify(set.policy)}::jsonb`);
  if (set.approvedBy) parts.push(sql`approved_by = ${set.approvedBy}`);
  if (set.preparedBy) parts.push(sql`prepared_by = ${set.preparedBy}`);
  if (set.approved) parts.push(sql`approved_at = now()`);
  if (set.exported) parts.push(sql`exported_at = coalesce(exported_at, now())`);
  if (set.closed) parts.push(sql`closed_at = now()`);
  if (set.cancelled) parts.push(sql`cancelled_at = now()`);
  if (set.computed) parts.push(sql`computed_at = now()`);
  await tx.execute(sql`UPDATE payment_batches SET ${sql.join(parts, sql`, `)}
    WHERE division_code = ${batch.divisionCode} AND id = ${batch.id}::uuid`);
}

// ── Computing a batch ───────────────────────────────────────────────────────────────────────────

/** A person of the county with recorded events, and their events (the domain derives the status). */
export interface PersonWithEvents {
  personId: string;
  registeredOn: string;
  events: {
    id: string;
    kind: string;
    effectiveDate: string;
    reason: string | null;
    correctsId: string | null;
    recordedAt: string;
  }[];
}

/** Every person of the county who has at least one event, with all their events. */
export async function countyPersonsWithEvents(tx: Tx, county: number): Promise<PersonWithEvents[]> {
  const rows = rowsOf<Record<string, string | null>>(
    await tx.execute(sql`
      SELECT e.person_id, p.registered_on::text AS registered_on, e.id, e.kind, e.effective_date::text AS effective_date,
             e.reason, e.corrects_id,
             to_char(e.recorded_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS recorded_at
      FROM person_events e
      JOIN persons p ON p.division_code = e.division_code AND p.id = e.person_id
      WHERE e.division_code = ${county}
      ORDER BY e.person_id`),
  );
  const out: PersonWithEvents[] = [];
  for (const r of rows) {
    let person = out.at(-1);
    if (person === undefined || person.personId !== r.person_id) {
      person = { personId: String(r.person_id), registeredOn: String(r.registered_on), events: [] };
      out.push(person);
    }
    person.events.push({
      id: String(r.id),
      kind: String(r.kind),
      effectiveDate: String(r.effective_date),
      reason: r.reason ?? null,
      correctsId: r.corrects_id ?? null,
      recordedAt: String(r.recorded_at),
    });
  }
  return out;
}

export interface RegularBatchInput {
  county: number;
  batchId: string;
  batchNo: string;
  period: string;
  /** The period's first day: the reference date of every rule. */
  start: string;
  /** The period's share of the annual standard, fen. */
  shareFen: number;
  window: { cutoff: string; start: string; years: number };
  /** Village code → percent paid as cash (100 cash, 0 project, 1..99 both). */
  villageCashPercent: ReadonlyMap<number, number>;
  /** Status on `start` of every person with events (derived by the domain); others have none. */
  derivedStatus: ReadonlyMap<string, string>;
}

/**
 * Runs whole-county statements with hash joins: under RLS, and over rows written moments ago (no
 * planner statistics yet: PGlite never analyses, autovacuum comes later), the planner's estimates are
 * far too small and it picks nested loops that are quadratic on a county (a minute for 10,000 lines).
 * Nested loops are off for `work`, and JIT with them (the one nested loop left would otherwise cost a
 * JIT compilation of ~0.7 s on PostgreSQL); both are restored afterwards.
 */
async function withHashJoins<T>(tx: Tx, work: () => Promise<T>): Promise<T> {
  const [settings] = rowsOf<{ nestloop: string; jit: string }>(
    await tx.execute(
      sql`SELECT current_setting('enable_nestloop') AS nestloop, current_setting('jit') AS jit`,
    ),
  );
  await tx.execute(sql`SELECT set_config('enable_nestloop', 'off', true), set_config('jit', 'off', true)`);
  const result = await work();
  await tx.execute(
    sql`SELECT set_config('enable_nestloop', ${settings?.nestloop ?? 'on'}, true),
               set_config('jit', ${settings?.jit ?? 'on'}, true)`,
  );
  return result;
}

/**
 * The regular batch of a county and period, set-based: one statement evaluates the entitlement of
 * every person of the county (mirroring `entitlement` in packages/domain/src/subsidy.ts, checked
 * against it by the test suite), inserts the due lines in a stable order (village, household, ID)
 * and every other person as an exclusion with their reasons. A person already paid for the period
 * (another batch, or the same ID in another county) is caught by the unique index
 * `payment_lines_once_per_period` (ON CONFLICT DO NOTHING) and excluded as `already_paid`; their line
 * number is left unused. The persons are judged once (`judged` is materialised, being read twice);
 * the exclusions anti-join the lines the statement's first part inserted.
 */
export async function computeRegularBatch(tx: Tx, i: RegularBatchInput): Promise<void> {
  await withHashJoins(tx, async () => {
    await tx.execute(sql`
    ${judgedPersons(i)}, inserted AS (
      INSERT INTO payment_lines (division_code, batch_id, line_no, reference, period, person_id, id_hash, id_masked,
                                 name, village_code, bank_name, bank_account_sealed, bank_account_masked,
                                 amount_fen, project_fen)
      SELECT ${i.county}, ${i.batchId}::uuid, n.line_no,
             ${i.batchNo} || '-' || lpad(n.line_no::text, 7, '0'), ${i.period}, n.person_id, n.id_hash, n.id_masked,
             n.name, n.village_code, n.bank_name, n.bank_account_sealed, n.bank_account_masked,
             n.cash_part, n.amount - n.cash_part
      FROM (SELECT j.*, row_number() OVER (ORDER BY j.village_code, j.household_no, j.id_masked, j.person_id)::int
                     AS line_no
            FROM judged j WHERE j.due) AS n
      ON CONFLICT (id_hash, period) WHERE outcome <> 'failed' DO NOTHING
      RETURNING person_id
    )
    INSERT INTO payment_exclusions (division_code, batch_id, person_id, village_code, name, id_masked, status,
                                    reasons, amount_fen, project_fen)
    SELECT ${i.county}, ${i.batchId}::uuid, j.person_id, j.village_code, j.name, j.id_masked, j.status,
           CASE WHEN j.due THEN ARRAY['already_paid'] ELSE j.reasons END,
           j.amount,
           CASE WHEN j.due THEN 0
                WHEN j.in_window AND (j.status = 'removed' OR (j.status = 'registered' AND j.cash_part = 0))
                  THEN j.amount
                ELSE 0 END
    FROM judged j
    WHERE NOT j.due OR NOT EXISTS (SELECT 1 FROM inserted l WHERE l.person_id = j.person_id)`);
  });
}

/** The `WITH … judged AS (…)` prefix: every person of the county with their entitlement (see above). */
function judgedPersons(i: RegularBatchInput): SQL {
  const villages = [...i.villageCashPercent.keys()].map(String);
  const percents = [...i.villageCashPercent.values()].map(String);
  const ids = [...i.derivedStatus.keys()];
  const statuses = [...i.derivedStatus.values()];
  return sql`
    WITH modes AS (
      SELECT v::bigint AS village_code, pct::int AS cash_percent
      FROM unnest(${sql.param(villages)}::text[], ${sql.param(percents)}::text[]) AS m (v, pct)
    ), derived AS (
      SELECT id::uuid AS person_id, status
      FROM unnest(${sql.param(ids)}::text[], ${sql.param(statuses)}::text[]) AS d (id, status)
    ), base AS (
      SELECT p.id AS person_id, p.id_hash, p.id_masked, p.name, h.village_code, h.household_no,
             p.bank_name, p.bank_account_sealed, p.bank_account_masked,
             coalesce(d.status, CASE WHEN p.registered_on <= ${i.start}::date THEN 'registered'
                                     ELSE 'not_registered' END) AS status,
             coalesce(m.cash_percent, 100) AS cash_percent,
             CASE WHEN p.relocation_date <= ${i.window.cutoff}::date THEN ${i.window.start}::date
                  ELSE p.relocation_date END AS w_from
      FROM persons p
      JOIN households h ON h.division_code = p.division_code AND h.id = p.household_id
      LEFT JOIN derived d ON d.person_id = p.id
      LEFT JOIN modes m ON m.village_code = h.village_code
      WHERE p.division_code = ${i.county}
    ), windowed AS (
      -- The day before the anniversary; from 29 February into a common year, 28 February.
      SELECT b.*, CASE WHEN to_char(b.w_from, 'MM-DD') = '02-29'
                         AND to_char((b.w_from + make_interval(years => ${i.window.years}))::date, 'MM-DD') = '02-28'
                       THEN (b.w_from + make_interval(years => ${i.window.years}))::date
                       ELSE (b.w_from + make_interval(years => ${i.window.years}))::date - 1 END AS w_until
      FROM base b
    ), ent AS (
      SELECT w.*,
             (w.w_from <= ${i.start}::date AND ${i.start}::date <= w.w_until) AS in_window,
             floor(${i.shareFen}::bigint * w.cash_percent / 100)::bigint AS cash_part
      FROM windowed w
    ), judged AS (
      SELECT e.*,
             (e.in_window AND e.status = 'registered' AND e.cash_part > 0
               AND e.bank_account_sealed IS NOT NULL) AS due,
             CASE WHEN e.in_window AND e.status IN ('registered', 'removed') THEN ${i.shareFen}::bigint ELSE 0 END
               AS amount,
             array_remove(ARRAY[
               CASE e.status WHEN 'not_registered' THEN 'not_yet_registered' WHEN 'deceased' THEN 'deceased'
                             WHEN 'moved_out' THEN 'moved_out' WHEN 'removed' THEN 'removed' END,
               CASE WHEN ${i.start}::date < e.w_from THEN 'window_not_started' END,
               CASE WHEN ${i.start}::date > e.w_until THEN 'window_ended' END,
               -- No cash due (a project-mode village, or a mixed share that rounds to 0 fen): all project funds.
               CASE WHEN e.in_window AND e.status = 'registered' AND e.cash_part = 0 THEN 'project_mode' END,
               CASE WHEN e.in_window AND e.status = 'registered' AND e.cash_part > 0
                         AND e.bank_account_sealed IS NULL THEN 'no_bank_account' END
             ], NULL) AS reasons
      FROM ent e
    )`;
}

/**
 * A reissue batch 补发: every failed, unresolved line of `sourceBatchId` not already in another reissue,
 * paid again to the person's current account (corrected since), same amount. Persons still without an
 * account are left for later. The source lines become `reissued` when this batch is approved
 * ({@link markReissued}). Returns how many lines were inserted.
 */
export async function computeReissueBatch(
  tx: Tx,
  i: { county: number; batchId: string; batchNo: string; sourceBatchId: string },
): Promise<number> {
  const rows = rowsOf<{ reissue_of: string }>(
    await tx.execute(sql`
      WITH failed AS (
        SELECT l.reference, l.period, l.person_id, l.amount_fen,
               row_number() OVER (ORDER BY l.line_no)::int AS line_no
        FROM payment_lines l
        JOIN persons p ON p.division_code = l.division_code AND p.id = l.person_id
        WHERE l.division_code = ${i.county} AND l.batch_id = ${i.sourceBatchId}::uuid
          AND l.outcome = 'failed' AND l.resolution IS NULL AND p.bank_account_sealed IS NOT NULL
          AND NOT EXISTS (SELECT 1 FROM payment_lines r WHERE r.division_code = l.division_code
                            AND r.reissue_of = l.reference)
      )
      INSERT INTO payment_lines (division_code, batch_id, line_no, reference, period, person_id, id_hash, id_masked,
                                 name, village_code, bank_name, bank_account_sealed, bank_account_masked,
                                 amount_fen, project_fen, reissue_of)
      SELECT ${i.county}, ${i.batchId}::uuid, f.line_no, ${i.batchNo} || '-' || lpad(f.line_no::text, 7, '0'),
             f.period, p.id, p.id_hash, p.id_masked, p.name, h.village_code, p.bank_name, p.bank_account_sealed,
             p.bank_account_masked, f.amount_fen, 0, f.reference
      FROM failed f
      JOIN persons p ON p.division_code = ${i.county} AND p.id = f.person_id
      JOIN households h ON h.division_code = p.division_code AND h.id = p.household_id
      ON CONFLICT (id_hash, period) WHERE outcome <> 'failed' DO NOTHING
      RETURNING reissue_of`),
  );
  return rows.length;
}

/** At a reissue batch's approval: the failed lines it pays again become `reissued`. */
export async function markReissued(
  tx: Tx,
  batch: Pick<PaymentBatch, 'divisionCode' | 'id'>,
): Promise<number> {
  const rows = rowsOf<{ reference: string }>(
    await tx.execute(sql`
      UPDATE payment_lines s SET resolution = 'reissued', resolved_by = 'system:reissue', resolved_at = now()
      FROM payment_lines l
      WHERE l.division_code = ${batch.divisionCode} AND l.batch_id = ${batch.id}::uuid AND l.reissue_of IS NOT NULL
        AND s.division_code = l.division_code AND s.reference = l.reissue_of AND s.resolution IS NULL
      RETURNING s.reference`),
  );
  return rows.length;
}

/**
 * Sets a computed batch's totals and content hash from its lines and exclusions: SHA-256 over one
 * text line per payment line in line order, `reference|id_masked|name|bank_account_masked|amount_fen|
 * sha256(sealed account)`, joined by `\n` (docs/subsidy.md). Returns the totals.
 */
export async function finalizeBatchTotals(
  tx: Tx,
  batch: Pick<PaymentBatch, 'divisionCode' | 'id'>,
): Promise<{
  lineCount: number;
  totalFen: number;
  projectFen: number;
  excludedCount: number;
  contentHash: string;
}> {
  const [row] = rowsOf<Record<string, string | number>>(
    await tx.execute(sql`
      WITH l AS (
        SELECT count(*)::int AS n, coalesce(sum(amount_fen), 0) AS total, coalesce(sum(project_fen), 0) AS project,
               encode(sha256(convert_to(coalesce(string_agg(
                 reference || '|' || id_masked || '|' || name || '|' || bank_account_masked || '|' || amount_fen
                   || '|' || encode(sha256(bank_account_sealed), 'hex'), E'\n' ORDER BY line_no), ''), 'UTF8')), 'hex')
                 AS hash
        FROM payment_lines WHERE division_code = ${batch.divisionCode} AND batch_id = ${batch.id}::uuid
      ), x AS (
        SELECT count(*)::int AS n, coalesce(sum(project_fen), 0) AS project
        FROM payment_exclusions WHERE division_code = ${batch.divisionCode} AND batch_id = ${batch.id}::uuid
      )
      UPDATE payment_batches b
         SET line_count = l.n, total_fen = l.total, project_fen = l.project + x.project, excluded_count = x.n,
             content_hash = l.hash
        FROM l, x
       WHERE b.division_code = ${batch.divisionCode} AND b.id = ${batch.id}::uuid
      RETURNING b.line_count, b.total_fen::text AS total_fen, b.project_fen::text AS project_fen, b.excluded_count,
                b.content_hash`),
  );
  if (!row) throw new Error('batch totals not set');
  return {
    lineCount: Number(row.line_count),
    totalFen: Number(row.total_fen),
    projectFen: Number(row.project_fen),
    excludedCount: Number(row.excluded_count),
    contentHash: String(row.content_hash),
  };
}

/** Removes a draft's lines and exclusions (recompute, cancel). */
export async function clearBatchContent(
  tx: Tx,
  batch: Pick<PaymentBatch, 'divisionCode' | 'id'>,
): Promise<void> {
  await tx.execute(sql`DELETE FROM payment_lines WHERE division_code = ${batch.divisionCode}
    AND batch_id = ${batch.id}::uuid`);
  await tx.execute(sql`DELETE FROM payment_exclusions WHERE division_code = ${batch.divisionCode}
    AND batch_id = ${batch.id}::uuid`);
  await tx.execute(sql`UPDATE payment_batches SET line_count = 0, total_fen = 0, project_fen = 0, excluded_count = 0,
    content_hash = NULL WHERE division_code = ${batch.divisionCode} AND id = ${batch.id}::uuid`);
}

// ── Lines and exclusions ────────────────────────────────────────────────────────────────────────

export type LineOutcome = 'pending' | 'paid' | 'failed';

export interface PaymentLine {
  batchId: string;
  lineNo: number;
  reference: string;
  period: string;
  personId: string;
  idMasked: string;
  name: string;
  villageCode: number;
  bankName: string | null;
  bankAccountMasked: string;
  amountFen: number;
  projectFen: number;
  reissueOf: string | null;
  outcome: LineOutcome;
  outcomeReason: string | null;
  outcomeAt: string | null;
  resolution: 'reissued' | 'written_off' | null;
  resolutionNote: string | null;
  resolvedBy: string | null;
  resolvedAt: string | null;
  batchNo: string;
  divisionCode: number;
}

const lineColumns = sql`l.batch_id, l.line_no, l.reference, l.period, l.person_id, l.id_masked, l.name,
  l.village_code, l.bank_name, l.bank_account_masked, l.amount_fen::text AS amount_fen,
  l.project_fen::text AS project_fen, l.reissue_of, l.outcome, l.outcome_reason, ${ts('l.outcome_at')} AS outcome_at,
  l.resolution, l.resolution_note, l.resolved_by, ${ts('l.resolved_at')} AS resolved_at, b.batch_no, l.division_code`;

function toLine(r: Record<string, unknown>): PaymentLine {
  return {
    batchId: String(r.batch_id),
    lineNo: Number(r.line_no),
    reference: String(r.reference),
    period: String(r.period),
    personId: String(r.person_id),
    idMasked: String(r.id_masked),
    name: String(r.name),
    villageCode: Number(r.village_code),
    bankName: (r.bank_name as string | null) ?? null,
    bankAccountMasked: String(r.bank_account_masked),
    amountFen: Number(r.amount_fen),
    projectFen: Number(r.project_fen),
    reissueOf: (r.reissue_of as string | null) ?? null,
    outcome: r.outcome as LineOutcome,
    outcomeReason: (r.outcome_reason as string | null) ?? null,
    outcomeAt: (r.outcome_at as string | null) ?? null,
    resolution: (r.resolution as PaymentLine['resolution']) ?? null,
    resolutionNote: (r.resolution_note as string | null) ?? null,
    resolvedBy: (r.resolved_by as string | null) ?? null,
    resolvedAt: (r.resolved_at as string | null) ?? null,
    batchNo: String(r.batch_no),
    divisionCode: Number(r.division_code),
  };
}

export interface PaymentLineFilter {
  batch: Pick<PaymentBatch, 'divisionCode' | 'id'>;
  outcome?: LineOutcome | undefined;
  /** Failed lines with no resolution yet. */
  unresolved?: boolean | undefined;
  village?: number | undefined;
  afterLineNo?: number | undefined;
  limit: number;
}

export async function listPaymentLines(tx: Tx, f: PaymentLineFilter): Promise<PaymentLine[]> {
  const where: SQL[] = [
    sql`l.division_code = ${f.batch.divisionCode}`,
    sql`l.batch_id = ${f.batch.id}::uuid`,
  ];
  if (f.outcome) where.push(sql`l.outcome = ${f.outcome}`);
  if (f.unresolved) where.push(sql`l.outcome = 'failed' AND l.resolution IS NULL`);
  if (f.village !== undefined) where.push(sql`l.village_code = ${f.village}`);
  if (f.afterLineNo !== undefined) where.push(sql`l.line_no > ${f.afterLineNo}`);
  const rows = rowsOf<Record<string, unknown>>(
    await tx.execute(sql`SELECT ${lineColumns} FROM payment_lines l
      JOIN payment_batches b ON b.division_code = l.division_code AND b.id = l.batch_id
      WHERE ${sql.join(where, sql` AND `)} ORDER BY l.line_no LIMIT ${f.limit}`),
  );
  return rows.map(toLine);
}

/** One line by its reference within the scope, with its row lock. */
export async function lockPaymentLine(tx: Tx, reference: string): Promise<PaymentLine | undefined> {
  const [row] = rowsOf<Record<string, unknown>>(
    await tx.execute(sql`SELECT ${lineColumns} FROM payment_lines l
      JOIN payment_batches b ON b.division_code = l.division_code AND b.id = l.batch_id
      WHERE l.reference = ${reference} FOR UPDATE OF l`),
  );
  return row ? toLine(row) : undefined;
}

/** The highest line number of a batch (0 without lines): the bank file reads up to it. */
export async function lastLineNo(tx: Tx, batch: Pick<PaymentBatch, 'divisionCode' | 'id'>): Promise<number> {
  const [row] = rowsOf<{ n: number | null }>(
    await tx.execute(sql`SELECT max(line_no) AS n FROM payment_lines
      WHERE division_code = ${batch.divisionCode} AND batch_id = ${batch.id}::uuid`),
  );
  return Number(row?.n ?? 0);
}

/**
 * Lines of a batch for the bank file, with the sealed account, in line order: those numbered
 * `afterLineNo` < n ≤ `throughLineNo` (ranges of line numbers, so that pages can be read in parallel).
 */
export async function bankFileLines(
  tx: Tx,
  batch: Pick<PaymentBatch, 'divisionCode' | 'id'>,
  afterLineNo: number,
  throughLineNo: number,
): Promise<
  {
    reference: string;
    name: string;
    bankName: string | null;
    sealed: Uint8Array;
    amountFen: number;
  }[]
> {
  const rows = rowsOf<Record<string, unknown>>(
    await tx.execute(sql`SELECT reference, name, bank_name, bank_account_sealed, amount_fen::text AS amount_fen
      FROM payment_lines WHERE division_code = ${batch.divisionCode} AND batch_id = ${batch.id}::uuid
        AND line_no > ${afterLineNo} AND line_no <= ${throughLineNo}
      ORDER BY line_no`),
  );
  return rows.map((r) => ({
    reference: String(r.reference),
    name: String(r.name),
    bankName: (r.bank_name as string | null) ?? null,
    sealed: r.bank_account_sealed as Uint8Array,
    amountFen: Number(r.amount_fen),
  }));
}

export interface PaymentExclusion {
  personId: string;
  villageCode: number;
  name: string;
  idMasked: string;
  status: string;
  reasons: string[];
  amountFen: number;
  projectFen: number;
}

export async function listPaymentExclusions(
  tx: Tx,
  f: {
    batch: Pick<PaymentBatch, 'divisionCode' | 'id'>;
    reason?: string | undefined;
    afterPersonId?: string | undefined;
    limit: number;
  },
): Promise<PaymentExclusion[]> {
  const where: SQL[] = [sql`division_code = ${f.batch.divisionCode}`, sql`batch_id = ${f.batch.id}::uuid`];
  if (f.reason) where.push(sql`${f.reason} = ANY (reasons)`);
  if (f.afterPersonId) where.push(sql`person_id > ${f.afterPersonId}::uuid`);
  const rows = rowsOf<Record<string, unknown>>(
    await tx.execute(sql`SELECT person_id, village_code, name, id_masked, status, reasons,
        amount_fen::text AS amount_fen, project_fen::text AS project_fen
      FROM payment_exclusions WHERE ${sql.join(where, sql` AND `)} ORDER BY person_id LIMIT ${f.limit}`),
  );
  return rows.map((r) => ({
    personId: String(r.person_id),
    villageCode: Number(r.village_code),
    name: String(r.name),
    idMasked: String(r.id_masked),
    status: String(r.status),
    reasons: parseTextArray(r.reasons),
    amountFen: Number(r.amount_fen),
    projectFen: Number(r.project_fen),
  }));
}

/** A text[] as either driver returns it (an array, or PostgreSQL's `{a,b}` literal). */
function parseTextArray(v: unknown): string[] {
  if (Array.isArray(v)) return v.map(String);
  const s = String(v ?? '');
  if (s === '{}' || s === '') return [];
  return s.slice(1, -1).split(',');
}

/** Exclusion counts of a batch by reason (a person may have several). */
export async function exclusionReasonCounts(
  tx: Tx,
  batch: Pick<PaymentBatch, 'divisionCode' | 'id'>,
): Promise<Record<string, number>> {
  const rows = rowsOf<{ reason: string; n: number }>(
    await tx.execute(sql`SELECT r AS reason, count(*)::int AS n
      FROM payment_exclusions, unnest(reasons) AS r
      WHERE division_code = ${batch.divisionCode} AND batch_id = ${batch.id}::uuid GROUP BY r`),
  );
  return Object.fromEntries(rows.map((r) => [r.reason, Number(r.n)]));
}

/** Outcome counts and sums of a batch's lines; `open` = failed lines not yet resolved. */
export interface BatchOutcomes {
  pending: number;
  paid: number;
  failed: number;
  paidFen: number;
  failedFen: number;
  unresolved: number;
  openExceptions: number;
}

export async function batchOutcomes(
  tx: Tx,
  batch: Pick<PaymentBatch, 'divisionCode' | 'id'>,
): Promise<BatchOutcomes> {
  const [row] = rowsOf<Record<string, string | number>>(
    await tx.execute(sql`
      SELECT count(*) FILTER (WHERE outcome = 'pending')::int AS pending,
             count(*) FILTER (WHERE outcome = 'paid')::int AS paid,
             count(*) FILTER (WHERE outcome = 'failed')::int AS failed,
             coalesce(sum(amount_fen) FILTER (WHERE outcome = 'paid'), 0)::text AS paid_fen,
             coalesce(sum(amount_fen) FILTER (WHERE outcome = 'failed'), 0)::text AS failed_fen,
             count(*) FILTER (WHERE outcome = 'failed' AND resolution IS NULL)::int AS unresolved,
             (SELECT count(*)::int FROM payment_return_exceptions x
               WHERE x.division_code = ${batch.divisionCode} AND x.batch_id = ${batch.id}::uuid AND x.status = 'open')
               AS open_exceptions
      FROM payment_lines WHERE division_code = ${batch.divisionCode} AND batch_id = ${batch.id}::uuid`),
  );
  return {
    pending: Number(row?.pending ?? 0),
    paid: Number(row?.paid ?? 0),
    failed: Number(row?.failed ?? 0),
    paidFen: Number(row?.paid_fen ?? 0),
    failedFen: Number(row?.failed_fen ?? 0),
    unresolved: Number(row?.unresolved ?? 0),
    openExceptions: Number(row?.open_exceptions ?? 0),
  };
}

/** Marks a failed line written off (explained: not to be paid again), with a note. */
export async function writeOffLine(
  tx: Tx,
  line: Pick<PaymentLine, 'divisionCode' | 'reference'>,
  note: string,
  by: string,
): Promise<void> {
  await tx.execute(sql`UPDATE payment_lines SET resolution = 'written_off', resolution_note = ${note},
    resolved_by = ${by}, resolved_at = now()
    WHERE division_code = ${line.divisionCode} AND reference = ${line.reference}`);
}

/**
 * The batch number of the reissue that pays a failed line again, if any (a cancelled reissue keeps
 * no lines, so this is a computing, draft or later batch).
 */
export async function reissuingBatchNo(
  tx: Tx,
  line: Pick<PaymentLine, 'divisionCode' | 'reference'>,
): Promise<string | undefined> {
  const [row] = rowsOf<{ batch_no: string }>(
    await tx.execute(sql`SELECT b.batch_no FROM payment_lines r
      JOIN payment_batches b ON b.division_code = r.division_code AND b.id = r.batch_id
      WHERE r.division_code = ${line.divisionCode} AND r.reissue_of = ${line.reference} LIMIT 1`),
  );
  return row?.batch_no;
}

// ── Bank returns ────────────────────────────────────────────────────────────────────────────────

export interface PaymentReturn {
  id: string;
  batchId: string;
  sha256: string;
  filename: string | null;
  rows: number;
  paid: number;
  failed: number;
  paidFen: number;
  failedFen: number;
  exceptions: number;
  fileCount: number;
  fileFen: number;
  balanced: boolean;
  importedBy: string;
  importedAt: string;
}

const returnColumns = sql`id, batch_id, sha256, filename, rows, paid, failed, paid_fen::text AS paid_fen,
  failed_fen::text AS failed_fen, exceptions, file_count, file_fen::text AS file_fen, balanced, imported_by,
  ${ts('imported_at')} AS imported_at`;

function toReturn(r: Record<string, unknown>): PaymentReturn {
  return {
    id: String(r.id),
    batchId: String(r.batch_id),
    sha256: String(r.sha256),
    filename: (r.filename as string | null) ?? null,
    rows: Number(r.rows),
    paid: Number(r.paid),
    failed: Number(r.failed),
    paidFen: Number(r.paid_fen),
    failedFen: Number(r.failed_fen),
    exceptions: Number(r.exceptions),
    fileCount: Number(r.file_count),
    fileFen: Number(r.file_fen),
    balanced: r.balanced === true || r.balanced === 't',
    importedBy: String(r.imported_by),
    importedAt: String(r.imported_at),
  };
}

export async function findPaymentReturn(
  tx: Tx,
  batch: Pick<PaymentBatch, 'divisionCode' | 'id'>,
  sha256: string,
): Promise<PaymentReturn | undefined> {
  const [row] = rowsOf<Record<string, unknown>>(
    await tx.execute(sql`SELECT ${returnColumns} FROM payment_returns
      WHERE division_code = ${batch.divisionCode} AND batch_id = ${batch.id}::uuid AND sha256 = ${sha256}`),
  );
  return row ? toReturn(row) : undefined;
}

export async function listPaymentReturns(
  tx: Tx,
  batch: Pick<PaymentBatch, 'divisionCode' | 'id'>,
): Promise<PaymentReturn[]> {
  const rows = rowsOf<Record<string, unknown>>(
    await tx.execute(sql`SELECT ${returnColumns} FROM payment_returns
      WHERE division_code = ${batch.divisionCode} AND batch_id = ${batch.id}::uuid ORDER BY imported_at, id`),
  );
  return rows.map(toReturn);
}

export interface ReturnRowInput {
  rowNo: number;
  reference: string;
  amountFen: number;
  result: 'paid' | 'failed';
  reason: string | null;
}

/**
 * Applies a parsed bank return file to a batch, set-based, in the caller's transaction (the batch row
 * locked): rows are matched by reference only. A pending line takes the row's result; the same result
 * again changes nothing; anything else is queued as an exception for review — a reference not of this
 * batch, a reference twice in the file, an amount other than the line's, a result contradicting the
 * one recorded. Records the file (keyed by SHA-256) with its counts and the control check: the file's
 * matched lines against the batch's count and sum.
 */
export async function applyPaymentReturn(
  tx: Tx,
  i: {
    batch: Pick<PaymentBatch, 'divisionCode' | 'id' | 'lineCount' | 'totalFen'>;
    sha256: string;
    filename: string | null;
    importedBy: string;
    rows: readonly ReturnRowInput[];
  },
): Promise<PaymentReturn> {
  const county = i.batch.divisionCode;
  const batchId = i.batch.id;
  const [created] = rowsOf<{ id: string }>(
    await tx.execute(sql`INSERT INTO payment_returns (division_code, batch_id, sha256, filename, rows, paid, failed,
        paid_fen, failed_fen, exceptions, file_count, file_fen, balanced, imported_by)
      VALUES (${county}, ${batchId}::uuid, ${i.sha256}, ${i.filename}, ${i.rows.length}, 0, 0, 0, 0, 0, 0, 0, false,
              ${i.importedBy})
      RETURNING id`),
  );
  if (!created) throw new Error('return not inserted');
  const [row] = await withHashJoins(tx, async () =>
    rowsOf<Record<string, unknown>>(
      await tx.execute(sql`
      WITH f AS (
        SELECT r.row_no::int AS row_no, r.reference, r.amount::bigint AS amount, r.result,
               nullif(r.reason, '') AS reason
        FROM unnest(${sql.param(i.rows.map((r) => String(r.rowNo)))}::text[],
                    ${sql.param(i.rows.map((r) => r.reference))}::text[],
                    ${sql.param(i.rows.map((r) => String(r.amountFen)))}::text[],
                    ${sql.param(i.rows.map((r) => r.result))}::text[],
                    ${sql.param(i.rows.map((r) => r.reason ?? ''))}::text[])
          AS r (row_no, reference, amount, result, reason)
      ), classified AS (
        SELECT f.*, l.line_no, l.outcome AS line_outcome,
               row_number() OVER (PARTITION BY f.reference ORDER BY f.row_no) AS occurrence,
               CASE WHEN l.line_no IS NULL THEN 'unknown_reference'
                    WHEN row_number() OVER (PARTITION BY f.reference ORDER BY f.row_no) > 1 THEN 'duplicate_reference'
                    WHEN f.amount <> l.amount_fen THEN 'amount_mismatch'
                    WHEN l.outcome <> 'pending' AND l.outcome <> f.result THEN 'conflicting_result' END AS problem
        FROM f
        LEFT JOIN payment_lines l ON l.division_code = ${county} AND l.batch_id = ${batchId}::uuid
                                 AND l.reference = f.reference
      ), applied AS (
        UPDATE payment_lines l
           SET outcome = c.result, outcome_reason = c.reason, outcome_return_id = ${created.id}::uuid, outcome_at = now()
          FROM classified c
         WHERE c.problem IS NULL AND c.line_outcome = 'pending'
           AND l.division_code = ${county} AND l.batch_id = ${batchId}::uuid AND l.line_no = c.line_no
        RETURNING l.outcome, l.amount_fen
      ), queued AS (
        INSERT INTO payment_return_exceptions (division_code, batch_id, return_id, row_no, reference, kind, amount_fen,
                                               result, reason)
        SELECT ${county}, ${batchId}::uuid, ${created.id}::uuid, c.row_no, c.reference, c.problem, c.amount, c.result,
               c.reason
        FROM classified c WHERE c.problem IS NOT NULL
        RETURNING 1
      ), control AS (
        SELECT count(*)::int AS n, coalesce(sum(amount), 0) AS fen
        FROM classified WHERE line_no IS NOT NULL AND occurrence = 1
      )
      UPDATE payment_returns r
         SET paid = (SELECT count(*) FROM applied WHERE outcome = 'paid'),
             failed = (SELECT count(*) FROM applied WHERE outcome = 'failed'),
             paid_fen = (SELECT coalesce(sum(amount_fen), 0) FROM applied WHERE outcome = 'paid'),
             failed_fen = (SELECT coalesce(sum(amount_fen), 0) FROM applied WHERE outcome = 'failed'),
             exceptions = (SELECT count(*) FROM queued),
             file_count = control.n, file_fen = control.fen,
             balanced = (control.n = ${i.batch.lineCount} AND control.fen = ${i.batch.totalFen}::bigint)
        FROM control
       WHERE r.division_code = ${county} AND r.id = ${created.id}::uuid
      RETURNING ${returnColumns}`),
    ),
  );
  if (!row) throw new Error('return not recorded');
  return toReturn(row);
}

export interface ReturnException {
  id: string;
  batchId: string;
  returnId: string;
  rowNo: number;
  reference: string;
  kind: 'unknown_reference' | 'duplicate_reference' | 'amount_mismatch' | 'conflicting_result';
  amountFen: number;
  result: 'paid' | 'failed';
  reason: string | null;
  status: 'open' | 'resolved';
  resolutionNote: string | null;
  resolvedBy: string | null;
  resolvedAt: string | null;
  divisionCode: number;
}

const exceptionColumns = sql`id, batch_id, return_id, row_no, reference, kind, amount_fen::text AS amount_fen, result,
  reason, status, resolution_note, resolved_by, ${ts('resolved_at')} AS resolved_at, division_code`;

function toException(r: Record<string, unknown>): ReturnException {
  return {
    id: String(r.id),
    batchId: String(r.batch_id),
    returnId: String(r.return_id),
    rowNo: Number(r.row_no),
    reference: String(r.reference),
    kind: r.kind as ReturnException['kind'],
    amountFen: Number(r.amount_fen),
    result: r.result as ReturnException['result'],
    reason: (r.reason as string | null) ?? null,
    status: r.status as ReturnException['status'],
    resolutionNote: (r.resolution_note as string | null) ?? null,
    resolvedBy: (r.resolved_by as string | null) ?? null,
    resolvedAt: (r.resolved_at as string | null) ?? null,
    divisionCode: Number(r.division_code),
  };
}

export async function listReturnExceptions(
  tx: Tx,
  f: { batch: Pick<PaymentBatch, 'divisionCode' | 'id'>; status?: 'open' | 'resolved' | undefined },
): Promise<ReturnException[]> {
  const rows = rowsOf<Record<string, unknown>>(
    await tx.execute(sql`SELECT ${exceptionColumns} FROM payment_return_exceptions
      WHERE division_code = ${f.batch.divisionCode} AND batch_id = ${f.batch.id}::uuid
        ${f.status ? sql`AND status = ${f.status}` : sql``}
      ORDER BY return_id, row_no`),
  );
  return rows.map(toException);
}

export async function lockReturnException(tx: Tx, id: string): Promise<ReturnException | undefined> {
  const [row] = rowsOf<Record<string, unknown>>(
    await tx.execute(
      sql`SELECT ${exceptionColumns} FROM payment_return_exceptions WHERE id = ${id}::uuid FOR UPDATE`,
    ),
  );
  return row ? toException(row) : undefined;
}

export async function resolveReturnException(
  tx: Tx,
  e: Pick<ReturnException, 'divisionCode' | 'id'>,
  note: string,
  by: string,
): Promise<void> {
  await tx.execute(sql`UPDATE payment_return_exceptions SET status = 'resolved', resolution_note = ${note},
    resolved_by = ${by}, resolved_at = now() WHERE division_code = ${e.divisionCode} AND id = ${e.id}::uuid`);
}

// ── Oversight ───────────────────────────────────────────────────────────────────────────────────

export type SubsidySummaryLevel = RegistryGroupLevel | 'village';

export interface SubsidySummaryRow {
  code: number;
  name: string | null;
  period: string;
  lines: number;
  dueFen: number;
  paid: number;
  paidFen: number;
  failed: number;
  failedFen: number;
  pending: number;
  projectFen: number;
}

/**
 * Payment lines of approved (and later) batches per unit and period: lines, fen due, paid, failed,
 * pending, and project funds (the non-cash share of lines plus removed persons' and project-mode
 * villages' amounts from the exclusions).
 *
 * By province, city or county: one aggregate over the range's batches, whose totals say all of it —
 * `line_count`/`total_fen`/`project_fen` from the computation, paid and failed kept by triggers on the
 * lines (0011_batch_outcome_totals.sql); an approved batch always has lines. By village: one aggregate
 * over the range's lines and exclusions (a batch does not know its villages).
 */
export async function subsidySummary(
  tx: Tx,
  f: { range: DivisionRange; groupBy: SubsidySummaryLevel; period?: string | undefined },
): Promise<SubsidySummaryRow[]> {
  const live = sql`b.status IN ('approved', 'exported', 'reconciling', 'closed')`;
  const period = f.period === undefined ? sql`` : sql`AND b.period = ${f.period}`;
  const totals =
    f.groupBy === 'village'
      ? sql`
      WITH l AS (
        SELECT l.village_code AS code, l.period, count(*)::int AS lines, sum(l.amount_fen) AS due_fen,
               count(*) FILTER (WHERE l.outcome = 'paid')::int AS paid,
               coalesce(sum(l.amount_fen) FILTER (WHERE l.outcome = 'paid'), 0) AS paid_fen,
               count(*) FILTER (WHERE l.outcome = 'failed')::int AS failed,
               coalesce(sum(l.amount_fen) FILTER (WHERE l.outcome = 'failed'), 0) AS failed_fen,
               count(*) FILTER (WHERE l.outcome = 'pending')::int AS pending,
               sum(l.project_fen) AS project_fen
        FROM payment_lines l
        JOIN payment_batches b ON b.division_code = l.division_code AND b.id = l.batch_id AND ${live} ${period}
        WHERE l.division_code BETWEEN ${f.range.lo} AND ${f.range.hi}
        GROUP BY 1, 2
      ), x AS (
        SELECT x.village_code AS code, b.period, sum(x.project_fen) AS project_fen
        FROM payment_exclusions x
        JOIN payment_batches b ON b.division_code = x.division_code AND b.id = x.batch_id AND ${live} ${period}
        WHERE x.division_code BETWEEN ${f.range.lo} AND ${f.range.hi} AND x.project_fen > 0
        GROUP BY 1, 2
      ), units AS (
        SELECT code, name FROM localities
        WHERE level = 'village' AND division_code BETWEEN ${f.range.lo} AND ${f.range.hi}
      )`
      : sql`
      WITH l AS (
        SELECT ${groupKey(f.groupBy, sql.raw('b.division_code'))} AS code, b.period, sum(b.line_count)::int AS lines,
               sum(b.total_fen) AS due_fen, sum(b.paid_count)::int AS paid, sum(b.paid_fen) AS paid_fen,
               sum(b.failed_count)::int AS failed, sum(b.failed_fen) AS failed_fen,
               sum(b.line_count - b.paid_count - b.failed_count)::int AS pending, sum(b.project_fen) AS project_fen
        FROM payment_batches b
        WHERE b.division_code BETWEEN ${f.range.lo} AND ${f.range.hi} AND ${live} ${period}
        GROUP BY 1, 2
      ), x AS (
        SELECT NULL::bigint AS code, NULL::text AS period, NULL::bigint AS project_fen WHERE false
      ), units AS (${divisionUnits(f.groupBy, f.range)})`;
  const rows = rowsOf<Record<string, unknown>>(
    await tx.execute(sql`
      ${totals}
      SELECT coalesce(l.code, x.code) AS code, u.name, coalesce(l.period, x.period) AS period,
             coalesce(l.lines, 0) AS lines, coalesce(l.due_fen, 0)::text AS due_fen, coalesce(l.paid, 0) AS paid,
             coalesce(l.paid_fen, 0)::text AS paid_fen, coalesce(l.failed, 0) AS failed,
             coalesce(l.failed_fen, 0)::text AS failed_fen, coalesce(l.pending, 0) AS pending,
             (coalesce(l.project_fen, 0) + coalesce(x.project_fen, 0))::text AS project_fen
      FROM l FULL JOIN x ON x.code = l.code AND x.period = l.period
      LEFT JOIN units u ON u.code = coalesce(l.code, x.code)
      ORDER BY 3, 1`),
  );
  return rows.map((r) => ({
    code: Number(r.code),
    name: (r.name as string | null) ?? null,
    period: String(r.period),
    lines: Number(r.lines),
    dueFen: Number(r.due_fen),
    paid: Number(r.paid),
    paidFen: Number(r.paid_fen),
    failed: Number(r.failed),
    failedFen: Number(r.failed_fen),
    pending: Number(r.pending),
    projectFen: Number(r.project_fen),
  }));
}

/** A person's payment lines (every batch, newest period first). */
export async function personPaymentLines(tx: Tx, county: number, personId: string): Promise<PaymentLine[]> {
  const rows = rowsOf<Record<string, unknown>>(
    await tx.execute(sql`SELECT ${lineColumns} FROM payment_lines l
      JOIN payment_batches b ON b.division_code = l.division_code AND b.id = l.batch_id
      WHERE l.division_code = ${county} AND l.person_id = ${personId}::uuid
      ORDER BY b.period_start DESC, b.batch_no DESC, l.line_no`),
  );
  return rows.map(toLine);
}
