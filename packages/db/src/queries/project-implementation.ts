import { sql } from 'drizzle-orm';
import type { Tx } from '../client.js';
import { rowsOf } from '../tenant.js';
import { bigintArray, type Project } from './projects.js';

/*
 * Implementation 项目实施 and completion acceptance 竣工验收 of post-support projects
 * (0006_project_implementation.sql): progress reports, contracts, contractor payments charged to funding
 * lines (with the guarded updates that keep every line, contract and county balance within its limit),
 * and acceptance records. The rules live in packages/domain/src/projects.ts and are applied by the API;
 * these functions only read and write. Fen cross the driver boundary as text, dates as `YYYY-MM-DD`.
 */

type ProjectRef = Pick<Project, 'divisionCode' | 'id'>;

const ts = (column: string) =>
  sql.raw(`to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`);
const json = <T>(v: unknown): T => (typeof v === 'string' ? (JSON.parse(v) as T) : (v as T));
const nullable = (v: unknown): string | null => (v === null || v === undefined ? null : String(v));

// ── Progress reports 进度报告 ─────────────────────────────────────────────────────────────────────

export interface ProgressReport {
  id: string;
  seq: number;
  reportedOn: string;
  investmentCompletedFen: number;
  percentComplete: number;
  achievedOutputs: Record<string, number>;
  villageCodes: number[];
  comment: string | null;
  createdBy: string;
  createdAt: string;
}

export interface NewProgressReport {
  reportedOn: string;
  investmentCompletedFen: number;
  percentComplete: number;
  achievedOutputs: Record<string, number>;
  villageCodes: readonly number[];
  comment: string | null;
  createdBy: string;
}

const reportColumns = sql`id, seq, reported_on::text AS reported_on,
  investment_completed_fen::text AS investment_completed_fen, percent_complete,
  achieved_outputs::text AS achieved_outputs, to_jsonb(village_codes)::text AS village_codes, comment,
  created_by, ${ts('created_at')} AS created_at`;

const toReport = (r: Record<string, unknown>): ProgressReport => ({
  id: String(r.id),
  seq: Number(r.seq),
  reportedOn: String(r.reported_on),
  investmentCompletedFen: Number(r.investment_completed_fen),
  percentComplete: Number(r.percent_complete),
  achievedOutputs: json<Record<string, number>>(r.achieved_outputs),
  villageCodes: json<number[]>(r.village_codes).map(Number),
  comment: nullable(r.comment),
  createdBy: String(r.created_by),
  createdAt: String(r.created_at),
});

/** Appends a progress report (the project row is locked by the caller: `seq` cannot collide). */
export async function insertProgressReport(
  tx: Tx,
  project: ProjectRef,
  r: NewProgressReport,
): Promise<ProgressReport> {
  const [row] = rowsOf<Record<string, unknown>>(
    await tx.execute(sql`WITH n AS (
        INSERT INTO project_progress_reports (division_code, project_id, seq, reported_on, investment_completed_fen,
          percent_complete, achieved_outputs, village_codes, comment, created_by)
        SELECT ${project.divisionCode}, ${project.id}::uuid, coalesce(max(seq), 0) + 1, ${r.reportedOn}::date,
               ${r.investmentCompletedFen}, ${r.percentComplete}, ${JSON.stringify(r.achievedOutputs)}::jsonb,
               ${bigintArray(r.villageCodes)}::bigint[], ${r.comment}, ${r.createdBy}
        FROM project_progress_reports WHERE division_code = ${project.divisionCode} AND project_id = ${project.id}::uuid
        RETURNING *)
      SELECT ${reportColumns} FROM n`),
  );
  if (!row) throw new Error('progress report not inserted');
  return toReport(row);
}

/** A project's progress reports, oldest first. */
export async function listProgressReports(tx: Tx, project: ProjectRef): Promise<ProgressReport[]> {
  return rowsOf<Record<string, unknown>>(
    await tx.execute(sql`SELECT ${reportColumns} FROM project_progress_reports
      WHERE division_code = ${project.divisionCode} AND project_id = ${project.id}::uuid ORDER BY seq`),
  ).map(toReport);
}

/** The latest progress report of a project, if any. */
export async function latestProgressReport(tx: Tx, project: ProjectRef): Promise<ProgressReport | undefined> {
  const [row] = rowsOf<Record<string, unknown>>(
    await tx.execute(sql`SELECT ${reportColumns} FROM project_progress_reports
      WHERE division_code = ${project.divisionCode} AND project_id = ${project.id}::uuid ORDER BY seq DESC LIMIT 1`),
  );
  return row ? toReport(row) : undefined;
}

// ── Contracts 施工合同 ─────────────────────────────────────────────────────────────────────────────

export interface ProjectContract {
  id: string;
  projectId: string;
  contractor: string;
  contractNo: string;
  amountFen: number;
  signedOn: string;
  paidFen: number;
  createdBy: string;
  createdAt: string;
}

export interface NewProjectContract {
  contractor: string;
  contractNo: string;
  amountFen: number;
  signedOn: string;
  createdBy: string;
}

const contractColumns = sql`id, project_id, contractor, contract_no, amount_fen::text AS amount_fen,
  signed_on::text AS signed_on, paid_fen::text AS paid_fen, created_by, ${ts('created_at')} AS created_at`;

const toContract = (r: Record<string, unknown>): ProjectContract => ({
  id: String(r.id),
  projectId: String(r.project_id),
  contractor: String(r.contractor),
  contractNo: String(r.contract_no),
  amountFen: Number(r.amount_fen),
  signedOn: String(r.signed_on),
  paidFen: Number(r.paid_fen),
  createdBy: String(r.created_by),
  createdAt: String(r.created_at),
});

/** Inserts a contract; undefined when the project already has a contract of that number. */
export async function insertContract(
  tx: Tx,
  project: ProjectRef,
  c: NewProjectContract,
): Promise<ProjectContract | undefined> {
  const [row] = rowsOf<Record<string, unknown>>(
    await tx.execute(sql`WITH n AS (
        INSERT INTO project_contracts (division_code, project_id, contractor, contract_no, amount_fen, signed_on, created_by)
        VALUES (${project.divisionCode}, ${project.id}::uuid, ${c.contractor}, ${c.contractNo}, ${c.amountFen},
                ${c.signedOn}::date, ${c.createdBy})
        ON CONFLICT (division_code, project_id, contract_no) DO NOTHING
        RETURNING *)
      SELECT ${contractColumns} FROM n`),
  );
  return row ? toContract(row) : undefined;
}

/** A project's contracts, by signing date and number. */
export async function listContracts(tx: Tx, project: ProjectRef): Promise<ProjectContract[]> {
  return rowsOf<Record<string, unknown>>(
    await tx.execute(sql`SELECT ${contractColumns} FROM project_contracts
      WHERE division_code = ${project.divisionCode} AND project_id = ${project.id}::uuid
      ORDER BY signed_on, contract_no`),
  ).map(toContract);
}

/** One contract of the project (undefined: not of this project). */
export async function getContract(
  tx: Tx,
  project: ProjectRef,
  id: string,
): Promise<ProjectContract | undefined> {
  const [row] = rowsOf<Record<string, unknown>>(
    await tx.execute(sql`SELECT ${contractColumns} FROM project_contracts
      WHERE division_code = ${project.divisionCode} AND project_id = ${project.id}::uuid AND id = ${id}::uuid`),
  );
  return row ? toContract(row) : undefined;
}

// ── Payments 工程款支付 ────────────────────────────────────────────────────────────────────────────

export interface ProjectPayment {
  id: string;
  projectId: string;
  contractId: string;
  fundingLineId: string;
  /** The source of the line charged (null when the line is not one of the county's lines any more). */
  source: string | null;
  stage: string;
  amountFen: number;
  paidOn: string;
  reference: string;
  createdBy: string;
  createdAt: string;
}

export interface NewProjectPayment {
  contractId: string;
  fundingLineId: string;
  stage: string;
  amountFen: number;
  paidOn: string;
  reference: string;
  createdBy: string;
}

const paymentColumns = sql`x.id, x.project_id, x.contract_id, x.funding_line_id,
  (SELECT l.source FROM project_funding_lines l WHERE l.division_code = x.division_code AND l.id = x.funding_line_id) AS source,
  x.stage, x.amount_fen::text AS amount_fen, x.paid_on::text AS paid_on, x.reference, x.created_by,
  ${ts('x.created_at')} AS created_at`;

const toPayment = (r: Record<string, unknown>): ProjectPayment => ({
  id: String(r.id),
  projectId: String(r.project_id),
  contractId: String(r.contract_id),
  fundingLineId: String(r.funding_line_id),
  source: nullable(r.source),
  stage: String(r.stage),
  amountFen: Number(r.amount_fen),
  paidOn: String(r.paid_on),
  reference: String(r.reference),
  createdBy: String(r.created_by),
  createdAt: String(r.created_at),
});

/**
 * Adds `amountFen` to what a contract has paid, only while the total stays within `capFen` (the payment
 * schedule's cumulative cap): one conditional UPDATE, so the row lock serialises concurrent payments on
 * the contract and READ COMMITTED re-checks the condition on the locked row. Returns the paid total
 * after the payment, or undefined when it does not fit (nothing is changed then).
 */
export async function payOnContract(
  tx: Tx,
  project: ProjectRef,
  contractId: string,
  amountFen: number,
  capFen: number,
): Promise<number | undefined> {
  const [row] = rowsOf<{ paid_fen: string }>(
    await tx.execute(sql`UPDATE project_contracts SET paid_fen = paid_fen + ${amountFen}
      WHERE division_code = ${project.divisionCode} AND project_id = ${project.id}::uuid AND id = ${contractId}::uuid
        AND paid_fen + ${amountFen} <= ${capFen}
      RETURNING paid_fen::text AS paid_fen`),
  );
  return row ? Number(row.paid_fen) : undefined;
}

/**
 * Adds `amountFen` to what a funding line of the project has paid, only while it stays within the line's
 * amount (same single guarded UPDATE). Returns the line's paid total after it, or undefined.
 */
export async function payOnLine(
  tx: Tx,
  project: ProjectRef,
  lineId: string,
  amountFen: number,
): Promise<number | undefined> {
  const [row] = rowsOf<{ paid_fen: string }>(
    await tx.execute(sql`UPDATE project_funding_lines SET paid_fen = paid_fen + ${amountFen}
      WHERE division_code = ${project.divisionCode} AND project_id = ${project.id}::uuid AND id = ${lineId}::uuid
        AND paid_fen + ${amountFen} <= amount_fen
      RETURNING paid_fen::text AS paid_fen`),
  );
  return row ? Number(row.paid_fen) : undefined;
}

/**
 * Adds `amountFen` to the county balance's `paid_fen` of an allocated source and year, only while paid
 * stays within what is committed. Returns true when it fitted.
 */
export async function payFromBalance(
  tx: Tx,
  county: number,
  source: string,
  year: number,
  amountFen: number,
): Promise<boolean> {
  const rows = rowsOf<{ paid_fen: string }>(
    await tx.execute(sql`UPDATE fund_balances SET paid_fen = paid_fen + ${amountFen}, updated_at = now()
      WHERE division_code = ${county} AND source = ${source} AND year = ${year}
        AND paid_fen + ${amountFen} <= committed_fen
      RETURNING paid_fen::text AS paid_fen`),
  );
  return rows.length === 1;
}

/** Records a payment; undefined when the county already has a payment with that reference. */
export async function insertPayment(
  tx: Tx,
  project: ProjectRef,
  p: NewProjectPayment,
): Promise<ProjectPayment | undefined> {
  const [row] = rowsOf<Record<string, unknown>>(
    await tx.execute(sql`WITH x AS (
        INSERT INTO project_payments (division_code, project_id, contract_id, funding_line_id, stage, amount_fen,
          paid_on, reference, created_by)
        VALUES (${project.divisionCode}, ${project.id}::uuid, ${p.contractId}::uuid, ${p.fundingLineId}::uuid,
                ${p.stage}, ${p.amountFen}, ${p.paidOn}::date, ${p.reference}, ${p.createdBy})
        ON CONFLICT (division_code, reference) DO NOTHING
        RETURNING *)
      SELECT ${paymentColumns} FROM x`),
  );
  return row ? toPayment(row) : undefined;
}

/** A project's payments, by date then creation. */
export async function listPayments(tx: Tx, project: ProjectRef): Promise<ProjectPayment[]> {
  return rowsOf<Record<string, unknown>>(
    await tx.execute(sql`SELECT ${paymentColumns} FROM project_payments x
      WHERE x.division_code = ${project.divisionCode} AND x.project_id = ${project.id}::uuid
      ORDER BY x.paid_on, x.created_at, x.id`),
  ).map(toPayment);
}

// ── Acceptance 竣工验收 ────────────────────────────────────────────────────────────────────────────

export interface ProjectAcceptance {
  id: string;
  seq: number;
  stage: string;
  result: string;
  checks: Record<string, { passed: boolean; note?: string }>;
  flags: unknown[];
  comment: string | null;
  participants: string | null;
  assetName: string | null;
  assetMaintainer: string | null;
  actor: string;
  actorDivision: number;
  at: string;
}

export type NewProjectAcceptance = Omit<ProjectAcceptance, 'id' | 'seq' | 'at'>;

const acceptanceColumns = sql`id, seq, stage, result, checks::text AS checks, flags::text AS flags, comment,
  participants, asset_name, asset_maintainer, actor, actor_division, ${ts('at')} AS at`;

const toAcceptance = (r: Record<string, unknown>): ProjectAcceptance => ({
  id: String(r.id),
  seq: Number(r.seq),
  stage: String(r.stage),
  result: String(r.result),
  checks: json<Record<string, { passed: boolean; note?: string }>>(r.checks),
  flags: json<unknown[]>(r.flags),
  comment: nullable(r.comment),
  participants: nullable(r.participants),
  assetName: nullable(r.asset_name),
  assetMaintainer: nullable(r.asset_maintainer),
  actor: String(r.actor),
  actorDivision: Number(r.actor_division),
  at: String(r.at),
});

/** Appends an acceptance record (the project row is locked by the caller: `seq` cannot collide). */
export async function insertAcceptance(
  tx: Tx,
  project: ProjectRef,
  a: NewProjectAcceptance,
): Promise<ProjectAcceptance> {
  const [row] = rowsOf<Record<string, unknown>>(
    await tx.execute(sql`WITH n AS (
        INSERT INTO project_acceptances (division_code, project_id, seq, stage, result, checks, flags, comment,
          participants, asset_name, asset_maintainer, actor, actor_division)
        SELECT ${project.divisionCode}, ${project.id}::uuid, coalesce(max(seq), 0) + 1, ${a.stage}, ${a.result},
               ${JSON.stringify(a.checks)}::jsonb, ${JSON.stringify(a.flags)}::jsonb, ${a.comment}, ${a.participants},
               ${a.assetName}, ${a.assetMaintainer}, ${a.actor}, ${a.actorDivision}
        FROM project_acceptances WHERE division_code = ${project.divisionCode} AND project_id = ${project.id}::uuid
        RETURNING *)
      SELECT ${acceptanceColumns} FROM n`),
  );
  if (!row) throw new Error('acceptance not inserted');
  return toAcceptance(row);
}

/** A project's acceptance records, oldest first. */
export async function listAcceptances(tx: Tx, project: ProjectRef): Promise<ProjectAcceptance[]> {
  return rowsOf<Record<string, unknown>>(
    await tx.execute(sql`SELECT ${acceptanceColumns} FROM project_acceptances
      WHERE division_code = ${project.divisionCode} AND project_id = ${project.id}::uuid ORDER BY seq`),
  ).map(toAcceptance);
}
