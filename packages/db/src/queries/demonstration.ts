import { type SQL, sql } from 'drizzle-orm';
import type { Tx } from '../client.js';
import { rowsOf } from '../tenant.js';
import type { DivisionRange } from './registry.js';

/*
 * Demonstration villages 示范村, their assessments 考核验收/复核 and village collective incomes 村集体收入
 * (0007_demonstration_progress.sql). The rules live in packages/domain/src/demonstration.ts and are
 * applied by the API; these functions only read and write. Dates cross the driver boundary as
 * `YYYY-MM-DD` text, timestamps as ISO text, fen as numbers (bigints are cast to text first).
 */

const ts = (column: string) =>
  sql.raw(`to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`);
const json = <T>(v: unknown): T => (typeof v === 'string' ? (JSON.parse(v) as T) : (v as T));
const nullableNumber = (v: unknown) => (v === null || v === undefined ? null : Number(v));

export interface DemonstrationVillage {
  divisionCode: number;
  id: string;
  villageCode: number;
  villageName: string | null;
  countyName: string | null;
  year: number;
  migrants: number;
  population: number;
  developmentPlan: string | null;
  collectiveIncomeFen: number;
  plannedTotalFen: number;
  plannedIntegratedFen: number;
  status: string;
  provincial: boolean;
  totalHundredths: number | null;
  namedOn: string | null;
  reassessDue: string | null;
  version: number;
  createdBy: string;
  createdAt: string;
  updatedBy: string;
  updatedAt: string;
}

const villageColumns = sql`v.division_code, v.id, v.village_code::text AS village_code, v.year, v.migrants,
  v.population, v.development_plan, v.collective_income_fen::text AS collective_income_fen,
  v.planned_total_fen::text AS planned_total_fen, v.planned_integrated_fen::text AS planned_integrated_fen,
  v.status, v.provincial, v.total_hundredths, v.named_on::text AS named_on, v.reassess_due::text AS reassess_due,
  v.version, v.created_by, ${ts('v.created_at')} AS created_at, v.updated_by, ${ts('v.updated_at')} AS updated_at,
  (SELECT l.name FROM localities l WHERE l.division_code = v.division_code AND l.code = v.village_code) AS village_name,
  (SELECT d.name FROM divisions d WHERE d.code = v.division_code) AS county_name`;

function toVillage(r: Record<string, unknown>): DemonstrationVillage {
  return {
    divisionCode: Number(r.division_code),
    id: String(r.id),
    villageCode: Number(r.village_code),
    villageName: (r.village_name as string | null) ?? null,
    countyName: (r.county_name as string | null) ?? null,
    year: Number(r.year),
    migrants: Number(r.migrants),
    population: Number(r.population),
    developmentPlan: (r.development_plan as string | null) ?? null,
    collectiveIncomeFen: Number(r.collective_income_fen),
    plannedTotalFen: Number(r.planned_total_fen),
    plannedIntegratedFen: Number(r.planned_integrated_fen),
    status: String(r.status),
    provincial: Boolean(r.provincial),
    totalHundredths: nullableNumber(r.total_hundredths),
    namedOn: (r.named_on as string | null) ?? null,
    reassessDue: (r.reassess_due as string | null) ?? null,
    version: Number(r.version),
    createdBy: String(r.created_by),
    createdAt: String(r.created_at),
    updatedBy: String(r.updated_by),
    updatedAt: String(r.updated_at),
  };
}

/**
 * Serialises demonstration-village quota decisions of one county and year (applications and namings):
 * a transaction-scoped advisory lock, so two concurrent applications cannot both see a free place.
 */
export async function lockDemonstrationQuota(tx: Tx, county: number, year: number): Promise<void> {
  await tx.execute(sql`SELECT pg_advisory_xact_lock(7343, hashtext(${`${county}:${year}`}))`);
}

/** How many of the county's applications of `year` are in the given statuses (excluding `except`). */
export async function countDemonstrationVillages(
  tx: Tx,
  county: number,
  year: number,
  statuses: readonly string[],
  except?: string,
): Promise<number> {
  const [row] = rowsOf<{ n: number }>(
    await tx.execute(sql`SELECT count(*)::int AS n FROM demonstration_villages
      WHERE division_code = ${county} AND year = ${year}
        AND status IN (${sql.join(
          statuses.map((s) => sql`${s}`),
          sql`, `,
        )})
        ${except ? sql`AND id <> ${except}::uuid` : sql``}`),
  );
  return Number(row?.n ?? 0);
}

/** The live (applied or named) application of a village, if any. */
export async function liveDemonstrationVillage(
  tx: Tx,
  county: number,
  villageCode: number,
): Promise<DemonstrationVillage | undefined> {
  const [row] = rowsOf<Record<string, unknown>>(
    await tx.execute(sql`SELECT ${villageColumns} FROM demonstration_villages v
      WHERE v.division_code = ${county} AND v.village_code = ${villageCode} AND v.status IN ('applied', 'named')`),
  );
  return row ? toVillage(row) : undefined;
}

export interface NewDemonstrationVillage {
  divisionCode: number;
  villageCode: number;
  year: number;
  migrants: number;
  population: number;
  developmentPlan: string | null;
  collectiveIncomeFen: number;
  plannedTotalFen: number;
  plannedIntegratedFen: number;
  createdBy: string;
}

export async function insertDemonstrationVillage(tx: Tx, v: NewDemonstrationVillage): Promise<string> {
  const [row] = rowsOf<{ id: string }>(
    await tx.execute(sql`INSERT INTO demonstration_villages
        (division_code, village_code, year, migrants, population, development_plan, collective_income_fen,
         planned_total_fen, planned_integrated_fen, created_by, updated_by)
      VALUES (${v.divisionCode}, ${v.villageCode}, ${v.year}, ${v.migrants}, ${v.population}, ${v.developmentPlan},
              ${v.collectiveIncomeFen}, ${v.plannedTotalFen}, ${v.plannedIntegratedFen}, ${v.createdBy}, ${v.createdBy})
      RETURNING id`),
  );
  if (!row) throw new Error('demonstration village not inserted');
  return String(row.id);
}

/** One application by id as far as the scope sees; `lock` takes the row lock (every change does). */
export async function getDemonstrationVillage(
  tx: Tx,
  id: string,
  options: { lock?: boolean } = {},
): Promise<DemonstrationVillage | undefined> {
  const [row] = rowsOf<Record<string, unknown>>(
    await tx.execute(sql`SELECT ${villageColumns} FROM demonstration_villages v WHERE v.id = ${id}::uuid
      ${options.lock ? sql`FOR UPDATE OF v` : sql``}`),
  );
  return row ? toVillage(row) : undefined;
}

export interface DemonstrationVillageFilter {
  range: DivisionRange;
  county?: number | undefined;
  year?: number | undefined;
  status?: string | undefined;
  /** Named villages whose re-assessment is due on or before this day. */
  dueBy?: string | undefined;
  after?: { divisionCode: number; year: number; villageCode: number; id: string } | undefined;
  limit: number;
}

/** Applications in a range, by county, year, village and id. */
export async function listDemonstrationVillages(
  tx: Tx,
  f: DemonstrationVillageFilter,
): Promise<DemonstrationVillage[]> {
  const where: SQL[] = [sql`v.division_code BETWEEN ${f.range.lo} AND ${f.range.hi}`];
  if (f.county !== undefined) where.push(sql`v.division_code = ${f.county}`);
  if (f.year !== undefined) where.push(sql`v.year = ${f.year}`);
  if (f.status !== undefined) where.push(sql`v.status = ${f.status}`);
  if (f.dueBy !== undefined) where.push(sql`v.status = 'named' AND v.reassess_due <= ${f.dueBy}::date`);
  if (f.after) {
    where.push(sql`(v.division_code, v.year, v.village_code, v.id) >
      (${f.after.divisionCode}, ${f.after.year}, ${f.after.villageCode}, ${f.after.id}::uuid)`);
  }
  const rows = rowsOf<Record<string, unknown>>(
    await tx.execute(sql`SELECT ${villageColumns} FROM demonstration_villages v WHERE ${sql.join(where, sql` AND `)}
      ORDER BY v.division_code, v.year, v.village_code, v.id LIMIT ${f.limit}`),
  );
  return rows.map(toVillage);
}

export interface DemonstrationVillageUpdate {
  status: string;
  provincial: boolean;
  totalHundredths: number;
  namedOn: string | null;
  reassessDue: string | null;
}

/** Records the outcome of an assessment on the application; bumps the version. */
export async function updateDemonstrationVillage(
  tx: Tx,
  v: Pick<DemonstrationVillage, 'divisionCode' | 'id'>,
  set: DemonstrationVillageUpdate,
  by: string,
): Promise<void> {
  await tx.execute(sql`UPDATE demonstration_villages SET status = ${set.status}, provincial = ${set.provincial},
      total_hundredths = ${set.totalHundredths}, named_on = ${set.namedOn}::date,
      reassess_due = ${set.reassessDue}::date, version = version + 1, updated_at = now(), updated_by = ${by}
    WHERE division_code = ${v.divisionCode} AND id = ${v.id}::uuid`);
}

// ── Assessments ─────────────────────────────────────────────────────────────────────────────────

export interface DemonstrationAssessment {
  id: string;
  villageId: string;
  seq: number;
  kind: string;
  assessedOn: string;
  scores: Record<string, number>;
  totalHundredths: number;
  outcome: string;
  statusAfter: string;
  reassessDue: string | null;
  comment: string | null;
  actor: string;
  actorDivision: number;
  at: string;
}

export interface NewDemonstrationAssessment {
  kind: 'initial' | 'reassessment';
  assessedOn: string;
  scores: Record<string, number>;
  totalHundredths: number;
  outcome: string;
  statusAfter: string;
  reassessDue: string | null;
  comment: string | null;
  actor: string;
  actorDivision: number;
}

/** Appends an assessment (the village row is locked by the caller: `seq` cannot collide). */
export async function insertDemonstrationAssessment(
  tx: Tx,
  v: Pick<DemonstrationVillage, 'divisionCode' | 'id'>,
  a: NewDemonstrationAssessment,
): Promise<void> {
  await tx.execute(sql`INSERT INTO demonstration_assessments
      (division_code, village_id, seq, kind, assessed_on, scores, total_hundredths, outcome, status_after,
       reassess_due, comment, actor, actor_division)
    SELECT ${v.divisionCode}, ${v.id}::uuid, coalesce(max(seq), 0) + 1, ${a.kind}, ${a.assessedOn}::date,
           ${JSON.stringify(a.scores)}::jsonb, ${a.totalHundredths}, ${a.outcome}, ${a.statusAfter},
           ${a.reassessDue}::date, ${a.comment}, ${a.actor}, ${a.actorDivision}
    FROM demonstration_assessments WHERE division_code = ${v.divisionCode} AND village_id = ${v.id}::uuid`);
}

export async function listDemonstrationAssessments(
  tx: Tx,
  v: Pick<DemonstrationVillage, 'divisionCode' | 'id'>,
): Promise<DemonstrationAssessment[]> {
  const rows = rowsOf<Record<string, unknown>>(
    await tx.execute(sql`SELECT id, village_id, seq, kind, assessed_on::text AS assessed_on, scores::text AS scores,
        total_hundredths, outcome, status_after, reassess_due::text AS reassess_due, comment, actor, actor_division,
        ${ts('at')} AS at
      FROM demonstration_assessments WHERE division_code = ${v.divisionCode} AND village_id = ${v.id}::uuid
      ORDER BY seq`),
  );
  return rows.map((r) => ({
    id: String(r.id),
    villageId: String(r.village_id),
    seq: Number(r.seq),
    kind: String(r.kind),
    assessedOn: String(r.assessed_on),
    scores: json<Record<string, number>>(r.scores),
    totalHundredths: Number(r.total_hundredths),
    outcome: String(r.outcome),
    statusAfter: String(r.status_after),
    reassessDue: (r.reassess_due as string | null) ?? null,
    comment: (r.comment as string | null) ?? null,
    actor: String(r.actor),
    actorDivision: Number(r.actor_division),
    at: String(r.at),
  }));
}

// ── Collective incomes ──────────────────────────────────────────────────────────────────────────

export interface CollectiveIncome {
  divisionCode: number;
  villageCode: number;
  year: number;
  incomeFen: number;
  note: string | null;
  recordedBy: string;
  recordedAt: string;
}

const incomeColumns = sql`division_code, village_code::text AS village_code, year, income_fen::text AS income_fen,
  note, recorded_by, ${ts('recorded_at')} AS recorded_at`;

const toIncome = (r: Record<string, unknown>): CollectiveIncome => ({
  divisionCode: Number(r.division_code),
  villageCode: Number(r.village_code),
  year: Number(r.year),
  incomeFen: Number(r.income_fen),
  note: (r.note as string | null) ?? null,
  recordedBy: String(r.recorded_by),
  recordedAt: String(r.recorded_at),
});

/** The recorded income of a village and year, locked when asked (a correction reads the old figure). */
export async function getCollectiveIncome(
  tx: Tx,
  county: number,
  villageCode: number,
  year: number,
  options: { lock?: boolean } = {},
): Promise<CollectiveIncome | undefined> {
  const [row] = rowsOf<Record<string, unknown>>(
    await tx.execute(sql`SELECT ${incomeColumns} FROM village_collective_incomes
      WHERE division_code = ${county} AND village_code = ${villageCode} AND year = ${year}
      ${options.lock ? sql`FOR UPDATE` : sql``}`),
  );
  return row ? toIncome(row) : undefined;
}

/** Records (or corrects) a village's collective income of a year. */
export async function upsertCollectiveIncome(
  tx: Tx,
  i: {
    divisionCode: number;
    villageCode: number;
    year: number;
    incomeFen: number;
    note: string | null;
    by: string;
  },
): Promise<CollectiveIncome> {
  const [row] = rowsOf<Record<string, unknown>>(
    await tx.execute(sql`INSERT INTO village_collective_incomes (division_code, village_code, year, income_fen, note, recorded_by)
      VALUES (${i.divisionCode}, ${i.villageCode}, ${i.year}, ${i.incomeFen}, ${i.note}, ${i.by})
      ON CONFLICT (division_code, village_code, year) DO UPDATE SET income_fen = EXCLUDED.income_fen,
        note = EXCLUDED.note, recorded_by = EXCLUDED.recorded_by, recorded_at = now()
      RETURNING ${incomeColumns}`),
  );
  if (!row) throw new Error('collective income not recorded');
  return toIncome(row);
}

export interface CollectiveIncomeFilter {
  range: DivisionRange;
  village?: number | undefined;
  year?: number | undefined;
  after?: { divisionCode: number; villageCode: number; year: number } | undefined;
  limit: number;
}

/** Recorded incomes in a range, by county, village and year. */
export async function listCollectiveIncomes(tx: Tx, f: CollectiveIncomeFilter): Promise<CollectiveIncome[]> {
  const where: SQL[] = [sql`division_code BETWEEN ${f.range.lo} AND ${f.range.hi}`];
  if (f.village !== undefined) where.push(sql`village_code = ${f.village}`);
  if (f.year !== undefined) where.push(sql`year = ${f.year}`);
  if (f.after) {
    where.push(
      sql`(division_code, village_code, year) > (${f.after.divisionCode}, ${f.after.villageCode}, ${f.after.year})`,
    );
  }
  const rows = rowsOf<Record<string, unknown>>(
    await tx.execute(sql`SELECT ${incomeColumns} FROM village_collective_incomes WHERE ${sql.join(where, sql` AND `)}
      ORDER BY division_code, village_code, year LIMIT ${f.limit}`),
  );
  return rows.map(toIncome);
}

/** Every recorded income of one village, oldest year first. */
export async function villageIncomes(
  tx: Tx,
  county: number,
  villageCode: number,
): Promise<CollectiveIncome[]> {
  return listCollectiveIncomes(tx, {
    range: { lo: county, hi: county },
    village: villageCode,
    limit: 1000,
  });
}

// ── The village's projects ──────────────────────────────────────────────────────────────────────

export interface VillageProject {
  id: string;
  projectNo: string;
  name: string;
  year: number;
  status: string;
  totalFen: number;
  integratedFen: number;
}

/** The county's demonstration-village projects (category `demonstration_village`) in the village. */
export async function villageDemonstrationProjects(
  tx: Tx,
  county: number,
  villageCode: number,
): Promise<VillageProject[]> {
  const rows = rowsOf<Record<string, unknown>>(
    await tx.execute(sql`SELECT p.id, p.project_no, p.name, p.year, p.status, p.total_fen::text AS total_fen,
        coalesce((SELECT l.amount_fen FROM project_funding_lines l WHERE l.division_code = p.division_code
          AND l.project_id = p.id AND l.source = 'integrated'), 0)::text AS integrated_fen
      FROM projects p WHERE p.division_code = ${county} AND p.category = 'demonstration_village'
        AND ${villageCode}::bigint = ANY(p.village_codes)
      ORDER BY p.project_no`),
  );
  return rows.map((r) => ({
    id: String(r.id),
    projectNo: String(r.project_no),
    name: String(r.name),
    year: Number(r.year),
    status: String(r.status),
    totalFen: Number(r.total_fen),
    integratedFen: Number(r.integrated_fen),
  }));
}
