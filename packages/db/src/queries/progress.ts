import { type SQL, sql } from 'drizzle-orm';
import type { Tx } from '../client.js';
import { rowsOf } from '../tenant.js';
import type { DivisionRange } from './registry.js';

/*
 * 双过半 progress targets and the counties' progress reports 进度上报 (0007_demonstration_progress.sql),
 * and what is done on a target as of a day: the latest reported figure, or what the system knows
 * (projects approved in the period, the funds they committed). The double-half rule lives in
 * packages/domain/src/progress.ts and is applied by the API.
 */

const ts = (column: string) =>
  sql.raw(`to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`);

export interface ProgressTarget {
  divisionCode: number;
  id: string;
  countyName: string | null;
  kind: string;
  doneSource: string;
  name: string;
  periodStart: string;
  periodEnd: string;
  targetValue: number;
  createdBy: string;
  createdByDivision: number;
  createdAt: string;
}

const targetColumns = sql`t.division_code, t.id, t.kind, t.done_source, t.name, t.period_start::text AS period_start,
  t.period_end::text AS period_end, t.target_value::text AS target_value, t.created_by, t.created_by_division,
  ${ts('t.created_at')} AS created_at, (SELECT d.name FROM divisions d WHERE d.code = t.division_code) AS county_name`;

const toTarget = (r: Record<string, unknown>): ProgressTarget => ({
  divisionCode: Number(r.division_code),
  id: String(r.id),
  countyName: (r.county_name as string | null) ?? null,
  kind: String(r.kind),
  doneSource: String(r.done_source),
  name: String(r.name),
  periodStart: String(r.period_start),
  periodEnd: String(r.period_end),
  targetValue: Number(r.target_value),
  createdBy: String(r.created_by),
  createdByDivision: Number(r.created_by_division),
  createdAt: String(r.created_at),
});

export interface NewProgressTarget {
  divisionCode: number;
  kind: string;
  doneSource: string;
  name: string;
  periodStart: string;
  periodEnd: string;
  targetValue: number;
  createdBy: string;
  createdByDivision: number;
}

/** Inserts a target; undefined when the county already has one of the kind and period. */
export async function insertProgressTarget(tx: Tx, t: NewProgressTarget): Promise<string | undefined> {
  const [row] = rowsOf<{ id: string }>(
    await tx.execute(sql`INSERT INTO progress_targets (division_code, kind, done_source, name, period_start, period_end,
        target_value, created_by, created_by_division)
      VALUES (${t.divisionCode}, ${t.kind}, ${t.doneSource}, ${t.name}, ${t.periodStart}::date, ${t.periodEnd}::date,
              ${t.targetValue}, ${t.createdBy}, ${t.createdByDivision})
      ON CONFLICT (division_code, kind, period_start, period_end) DO NOTHING
      RETURNING id`),
  );
  return row ? String(row.id) : undefined;
}

/** One target by id as far as the scope sees. */
export async function getProgressTarget(tx: Tx, id: string): Promise<ProgressTarget | undefined> {
  const [row] = rowsOf<Record<string, unknown>>(
    await tx.execute(sql`SELECT ${targetColumns} FROM progress_targets t WHERE t.id = ${id}::uuid`),
  );
  return row ? toTarget(row) : undefined;
}

export interface ProgressTargetFilter {
  range: DivisionRange;
  county?: number | undefined;
  kind?: string | undefined;
  /** Targets whose period contains this day. */
  on?: string | undefined;
  after?: { divisionCode: number; periodStart: string; id: string } | undefined;
  limit: number;
}

/** Targets in a range, by county, period start and id. */
export async function listProgressTargets(tx: Tx, f: ProgressTargetFilter): Promise<ProgressTarget[]> {
  const where: SQL[] = [sql`t.division_code BETWEEN ${f.range.lo} AND ${f.range.hi}`];
  if (f.county !== undefined) where.push(sql`t.division_code = ${f.county}`);
  if (f.kind !== undefined) where.push(sql`t.kind = ${f.kind}`);
  if (f.on !== undefined) where.push(sql`${f.on}::date BETWEEN t.period_start AND t.period_end`);
  if (f.after) {
    where.push(
      sql`(t.division_code, t.period_start, t.id) > (${f.after.divisionCode}, ${f.after.periodStart}::date, ${f.after.id}::uuid)`,
    );
  }
  const rows = rowsOf<Record<string, unknown>>(
    await tx.execute(sql`SELECT ${targetColumns} FROM progress_targets t WHERE ${sql.join(where, sql` AND `)}
      ORDER BY t.division_code, t.period_start, t.id LIMIT ${f.limit}`),
  );
  return rows.map(toTarget);
}

export interface TargetReport {
  id: string;
  targetId: string;
  asOf: string;
  doneValue: number;
  note: string | null;
  reportedBy: string;
  reportedAt: string;
}

const toReport = (r: Record<string, unknown>): TargetReport => ({
  id: String(r.id),
  targetId: String(r.target_id),
  asOf: String(r.as_of),
  doneValue: Number(r.done_value),
  note: (r.note as string | null) ?? null,
  reportedBy: String(r.reported_by),
  reportedAt: String(r.reported_at),
});

const reportColumns = sql`id, target_id, as_of::text AS as_of, done_value::text AS done_value, note, reported_by,
  ${ts('reported_at')} AS reported_at`;

/** Appends a county's figure of what is done on a target as of a day. */
export async function insertTargetReport(
  tx: Tx,
  target: Pick<ProgressTarget, 'divisionCode' | 'id'>,
  r: { asOf: string; doneValue: number; note: string | null; by: string },
): Promise<TargetReport> {
  const [row] = rowsOf<Record<string, unknown>>(
    await tx.execute(sql`INSERT INTO progress_reports (division_code, target_id, as_of, done_value, note, reported_by)
      VALUES (${target.divisionCode}, ${target.id}::uuid, ${r.asOf}::date, ${r.doneValue}, ${r.note}, ${r.by})
      RETURNING ${reportColumns}`),
  );
  if (!row) throw new Error('progress report not inserted');
  return toReport(row);
}

/** Every report on a target, by day then time of reporting. */
export async function listTargetReports(
  tx: Tx,
  target: Pick<ProgressTarget, 'divisionCode' | 'id'>,
): Promise<TargetReport[]> {
  const rows = rowsOf<Record<string, unknown>>(
    await tx.execute(sql`SELECT ${reportColumns} FROM progress_reports
      WHERE division_code = ${target.divisionCode} AND target_id = ${target.id}::uuid
      ORDER BY as_of, reported_at, id`),
  );
  return rows.map(toReport);
}

export interface TargetProgress extends ProgressTarget {
  /** Done as of the day, in the target's unit. */
  doneValue: number;
}

/**
 * Targets of `kind` with exactly the period `start`..`end` in the range, each with what is done on `on`:
 * `reported`, the latest report dated on or before `on` (0 without one; the last entered wins a day);
 * `projects_approved`, the county's projects approved (UTC day of approval) from `start` through `on`
 * and still approved or beyond; `funds_committed`, what the lines of those same projects hold committed;
 * `funds_paid`, the county's contractor payments dated from `start` through `on`; `investment_completed`,
 * per project of the county the cumulative investment of its latest progress report dated on or before
 * `on` less that of its latest report before `start` (reports are cumulative).
 */
/** A project's cumulative investment completed by its latest progress report matching `when` (0 without one). */
const investmentAsOf = (
  when: SQL,
) => sql`coalesce((SELECT r.investment_completed_fen FROM project_progress_reports r
    WHERE r.division_code = p.division_code AND r.project_id = p.id AND ${when}
    ORDER BY r.reported_on DESC, r.seq DESC LIMIT 1), 0)`;

export async function targetsWithDone(
  tx: Tx,
  f: { range: DivisionRange; kind: string; start: string; end: string; on: string },
): Promise<TargetProgress[]> {
  const approved = sql`p.division_code = t.division_code
    AND p.status IN ('approved', 'in_progress', 'completed', 'accepted')
    AND (p.approved_at AT TIME ZONE 'UTC')::date BETWEEN t.period_start AND LEAST(t.period_end, ${f.on}::date)`;
  const rows = rowsOf<Record<string, unknown>>(
    await tx.execute(sql`SELECT ${targetColumns},
        (CASE t.done_source
          WHEN 'reported' THEN coalesce((SELECT r.done_value FROM progress_reports r
            WHERE r.division_code = t.division_code AND r.target_id = t.id AND r.as_of <= ${f.on}::date
            ORDER BY r.as_of DESC, r.reported_at DESC, r.id DESC LIMIT 1), 0)
          WHEN 'projects_approved' THEN (SELECT count(*) FROM projects p WHERE ${approved})
          WHEN 'funds_paid' THEN (SELECT coalesce(sum(pp.amount_fen), 0) FROM project_payments pp
            WHERE pp.division_code = t.division_code
              AND pp.paid_on BETWEEN t.period_start AND LEAST(t.period_end, ${f.on}::date))
          WHEN 'investment_completed' THEN (SELECT coalesce(sum(
              ${investmentAsOf(sql`r.reported_on <= LEAST(t.period_end, ${f.on}::date)`)}
              - ${investmentAsOf(sql`r.reported_on < t.period_start`)}), 0)
            FROM projects p WHERE p.division_code = t.division_code)
          ELSE (SELECT coalesce(sum(l.committed_fen), 0) FROM projects p JOIN project_funding_lines l
            ON l.division_code = p.division_code AND l.project_id = p.id WHERE ${approved})
        END)::text AS done_value
      FROM progress_targets t
      WHERE t.division_code BETWEEN ${f.range.lo} AND ${f.range.hi} AND t.kind = ${f.kind}
        AND t.period_start = ${f.start}::date AND t.period_end = ${f.end}::date
      ORDER BY t.division_code`),
  );
  return rows.map((r) => ({ ...toTarget(r), doneValue: Number(r.done_value) }));
}
