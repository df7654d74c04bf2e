import { type SQL, sql } from 'drizzle-orm';
import type { Tx } from '../client.js';
import { rowsOf } from '../tenant.js';
import type { DivisionRange } from './registry.js';

/*
 * Post-support projects 后扶项目, their funding lines 资金来源 and approval history 审批记录, fund
 * allocations 资金下达 and county balances 资金结存 (0005_projects.sql). The rules live in
 * packages/domain/src/projects.ts and are applied by the API; these functions only read and write.
 * Dates cross the driver boundary as `YYYY-MM-DD` text, timestamps as ISO text, fen as numbers
 * (bigints are cast to text first), jsonb and arrays as JSON text.
 */

export interface ProjectRouteStep {
  level: 'city' | 'province';
  action: 'review' | 'approve' | 'record';
  scope?: 'feasibility_and_design' | 'feasibility' | 'design';
}

export interface ProjectFundingLine {
  id: string;
  source: string;
  amountFen: number;
  committedFen: number;
  /** Paid to contractors from this line (0006). */
  paidFen: number;
}

export interface Project {
  divisionCode: number;
  id: string;
  projectNo: string;
  name: string;
  category: string;
  batchNo: string | null;
  year: number;
  townshipCode: number | null;
  villageCodes: number[];
  description: string | null;
  plannedOutputs: Record<string, number>;
  beneficiariesFarmers: number;
  beneficiariesMigrants: number;
  totalFen: number;
  postingFrom: string | null;
  postingTo: string | null;
  postingPlace: string | null;
  status: string;
  route: ProjectRouteStep[] | null;
  currentStep: number | null;
  submittedAt: string | null;
  approvedAt: string | null;
  approvedFingerprint: string | null;
  committedYear: number | null;
  cancelledAt: string | null;
  version: number;
  createdBy: string;
  createdAt: string;
  updatedBy: string;
  updatedAt: string;
  countyName: string | null;
  fundingLines: ProjectFundingLine[];
  /** Completion acceptance 竣工验收 (0006): the route computed at its first stage, the stage awaiting action. */
  acceptanceRoute: string[] | null;
  acceptanceStep: number | null;
  completedAt: string | null;
  acceptedAt: string | null;
  assetName: string | null;
  assetMaintainer: string | null;
}

const ts = (column: string) =>
  sql.raw(`to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`);

const json = <T>(v: unknown): T => (typeof v === 'string' ? (JSON.parse(v) as T) : (v as T));

/** `{1,2,3}`: a bigint[] literal sent as one text parameter (the same on both drivers). */
export const bigintArray = (codes: readonly number[]) =>
  `{${codes.map((c) => String(Math.trunc(c))).join(',')}}`;

/** Funding lines in the domain's order of sources (fundingSources). */
const SOURCE_ORDER = sql.raw(
  "array_position(ARRAY['post_support','three_gorges','small_reservoir','integrated','self_raised','labour'], l.source)",
);

const projectColumns = sql`p.division_code, p.id, p.project_no, p.name, p.category, p.batch_no, p.year,
  p.township_code::text AS township_code, to_jsonb(p.village_codes)::text AS village_codes, p.description,
  p.planned_outputs::text AS planned_outputs, p.beneficiaries_farmers, p.beneficiaries_migrants,
  p.total_fen::text AS total_fen, p.posting_from::text AS posting_from, p.posting_to::text AS posting_to,
  p.posting_place, p.status, p.route::text AS route, p.current_step, ${ts('p.submitted_at')} AS submitted_at,
  ${ts('p.approved_at')} AS approved_at, p.approved_fingerprint, p.committed_year,
  ${ts('p.cancelled_at')} AS cancelled_at, p.version, p.created_by, ${ts('p.created_at')} AS created_at,
  p.updated_by, ${ts('p.updated_at')} AS updated_at, p.acceptance_route::text AS acceptance_route,
  p.acceptance_step, ${ts('p.completed_at')} AS completed_at, ${ts('p.accepted_at')} AS accepted_at,
  p.asset_name, p.asset_maintainer,
  (SELECT d.name FROM divisions d WHERE d.code = p.division_code) AS county_name,
  (SELECT coalesce(json_agg(json_build_object('id', l.id, 'source', l.source, 'amount_fen', l.amount_fen::text,
            'committed_fen', l.committed_fen::text, 'paid_fen', l.paid_fen::text) ORDER BY ${SOURCE_ORDER}), '[]')::text
     FROM project_funding_lines l WHERE l.division_code = p.division_code AND l.project_id = p.id) AS funding_lines`;

function toProject(r: Record<string, unknown>): Project {
  const lines = json<
    { id: string; source: string; amount_fen: string; committed_fen: string; paid_fen: string }[]
  >(r.funding_lines);
  return {
    divisionCode: Number(r.division_code),
    id: String(r.id),
    projectNo: String(r.project_no),
    name: String(r.name),
    category: String(r.category),
    batchNo: (r.batch_no as string | null) ?? null,
    year: Number(r.year),
    townshipCode: r.township_code === null || r.township_code === undefined ? null : Number(r.township_code),
    villageCodes: json<number[]>(r.village_codes).map(Number),
    description: (r.description as string | null) ?? null,
    plannedOutputs: json<Record<string, number>>(r.planned_outputs),
    beneficiariesFarmers: Number(r.beneficiaries_farmers),
    beneficiariesMigrants: Number(r.beneficiaries_migrants),
    totalFen: Number(r.total_fen),
    postingFrom: (r.posting_from as string | null) ?? null,
    postingTo: (r.posting_to as string | null) ?? null,
    postingPlace: (r.posting_place as string | null) ?? null,
    status: String(r.status),
    route: r.route === null || r.route === undefined ? null : json<ProjectRouteStep[]>(r.route),
    currentStep: r.current_step === null || r.current_step === undefined ? null : Number(r.current_step),
    submittedAt: (r.submitted_at as string | null) ?? null,
    approvedAt: (r.approved_at as string | null) ?? null,
    approvedFingerprint: (r.approved_fingerprint as string | null) ?? null,
    committedYear:
      r.committed_year === null || r.committed_year === undefined ? null : Number(r.committed_year),
    cancelledAt: (r.cancelled_at as string | null) ?? null,
    version: Number(r.version),
    createdBy: String(r.created_by),
    createdAt: String(r.created_at),
    updatedBy: String(r.updated_by),
    updatedAt: String(r.updated_at),
    countyName: (r.county_name as string | null) ?? null,
    fundingLines: lines.map((l) => ({
      id: l.id,
      source: l.source,
      amountFen: Number(l.amount_fen),
      committedFen: Number(l.committed_fen),
      paidFen: Number(l.paid_fen),
    })),
    acceptanceRoute:
      r.acceptance_route === null || r.acceptance_route === undefined
        ? null
        : json<string[]>(r.acceptance_route),
    acceptanceStep:
      r.acceptance_step === null || r.acceptance_step === undefined ? null : Number(r.acceptance_step),
    completedAt: (r.completed_at as string | null) ?? null,
    acceptedAt: (r.accepted_at as string | null) ?? null,
    assetName: (r.asset_name as string | null) ?? null,
    assetMaintainer: (r.asset_maintainer as string | null) ?? null,
  };
}

/** Serialises project numbering per county and year and returns the next sequence number. */
export async function nextProjectSeq(tx: Tx, county: number, year: number): Promise<number> {
  await tx.execute(sql`SELECT pg_advisory_xact_lock(7342, hashtext(${`${county}:${year}`}))`);
  const [row] = rowsOf<{ n: number }>(
    await tx.execute(
      sql`SELECT count(*)::int AS n FROM projects WHERE division_code = ${county} AND year = ${year}`,
    ),
  );
  return Number(row?.n ?? 0) + 1;
}

export interface NewProject {
  divisionCode: number;
  projectNo: string;
  name: string;
  category: string;
  batchNo: string | null;
  year: number;
  townshipCode: number | null;
  villageCodes: readonly number[];
  description: string | null;
  plannedOutputs: Record<string, number>;
  beneficiariesFarmers: number;
  beneficiariesMigrants: number;
  totalFen: number;
  postingFrom: string | null;
  postingTo: string | null;
  postingPlace: string | null;
  createdBy: string;
}

export async function insertProject(tx: Tx, p: NewProject): Promise<string> {
  const [row] = rowsOf<{ id: string }>(
    await tx.execute(sql`INSERT INTO projects
        (division_code, project_no, name, category, batch_no, year, township_code, village_codes, description,
         planned_outputs, beneficiaries_farmers, beneficiaries_migrants, total_fen, posting_from, posting_to,
         posting_place, created_by, updated_by)
      VALUES (${p.divisionCode}, ${p.projectNo}, ${p.name}, ${p.category}, ${p.batchNo}, ${p.year},
              ${p.townshipCode}, ${bigintArray(p.villageCodes)}::bigint[], ${p.description},
              ${JSON.stringify(p.plannedOutputs)}::jsonb, ${p.beneficiariesFarmers}, ${p.beneficiariesMigrants},
              ${p.totalFen}, ${p.postingFrom}::date, ${p.postingTo}::date, ${p.postingPlace}, ${p.createdBy},
              ${p.createdBy})
      RETURNING id`),
  );
  if (!row) throw new Error('project not inserted');
  return String(row.id);
}

/** One project by id as far as the scope sees; `lock` takes the row lock (every change does). */
export async function getProject(
  tx: Tx,
  id: string,
  options: { lock?: boolean } = {},
): Promise<Project | undefined> {
  const [row] = rowsOf<Record<string, unknown>>(
    await tx.execute(sql`SELECT ${projectColumns} FROM projects p WHERE p.id = ${id}::uuid
      ${options.lock ? sql`FOR UPDATE OF p` : sql``}`),
  );
  return row ? toProject(row) : undefined;
}

export interface ProjectFilter {
  range: DivisionRange;
  county?: number | undefined;
  status?: string | undefined;
  category?: string | undefined;
  year?: number | undefined;
  after?: { divisionCode: number; projectNo: string } | undefined;
  limit: number;
}

/** Projects in a range, by county then project number. */
export async function listProjects(tx: Tx, f: ProjectFilter): Promise<Project[]> {
  const where: SQL[] = [sql`p.division_code BETWEEN ${f.range.lo} AND ${f.range.hi}`];
  if (f.county !== undefined) where.push(sql`p.division_code = ${f.county}`);
  if (f.status !== undefined) where.push(sql`p.status = ${f.status}`);
  if (f.category !== undefined) where.push(sql`p.category = ${f.category}`);
  if (f.year !== undefined) where.push(sql`p.year = ${f.year}`);
  if (f.after)
    where.push(sql`(p.division_code, p.project_no) > (${f.after.divisionCode}, ${f.after.projectNo})`);
  const rows = rowsOf<Record<string, unknown>>(
    await tx.execute(sql`SELECT ${projectColumns} FROM projects p WHERE ${sql.join(where, sql` AND `)}
      ORDER BY p.division_code, p.project_no LIMIT ${f.limit}`),
  );
  return rows.map(toProject);
}

/** The columns a change may set (undefined: unchanged; null clears a nullable column). */
export interface ProjectUpdate {
  name?: string;
  category?: string;
  batchNo?: string | null;
  year?: number;
  townshipCode?: number | null;
  villageCodes?: readonly number[];
  description?: string | null;
  plannedOutputs?: Record<string, number>;
  beneficiariesFarmers?: number;
  beneficiariesMigrants?: number;
  totalFen?: number;
  postingFrom?: string | null;
  postingTo?: string | null;
  postingPlace?: string | null;
  status?: string;
  route?: ProjectRouteStep[] | null;
  currentStep?: number | null;
  submitted?: boolean;
  approved?: boolean;
  approvedFingerprint?: string | null;
  committedYear?: number | null;
  cancelled?: boolean;
  acceptanceRoute?: string[] | null;
  acceptanceStep?: number | null;
  completed?: boolean;
  accepted?: boolean;
  assetName?: string | null;
  assetMaintainer?: string | null;
}

/** Applies `set`, bumps the version and records who changed it. */
export async function updateProject(
  tx: Tx,
  project: Pick<Project, 'divisionCode' | 'id'>,
  set: ProjectUpdate,
  by: string,
): Promise<void> {
  const parts: SQL[] = [sql`version = version + 1`, sql`updated_at = now()`, sql`updated_by = ${by}`];
  const col = (name: string, value: unknown, cast = '') => {
    if (value !== undefined) parts.push(sql`${sql.raw(name)} = ${value}${sql.raw(cast)}`);
  };
  col('name', set.name);
  col('category', set.category);
  col('batch_no', set.batchNo);
  col('year', set.year);
  col('township_code', set.townshipCode);
  if (set.villageCodes !== undefined)
    parts.push(sql`village_codes = ${bigintArray(set.villageCodes)}::bigint[]`);
  col('description', set.description);
  if (set.plannedOutputs !== undefined)
    parts.push(sql`planned_outputs = ${JSON.stringify(set.plannedOutputs)}::jsonb`);
  col('beneficiaries_farmers', set.beneficiariesFarmers);
  col('beneficiaries_migrants', set.beneficiariesMigrants);
  col('total_fen', set.totalFen);
  col('posting_from', set.postingFrom, '::date');
  col('posting_to', set.postingTo, '::date');
  col('posting_place', set.postingPlace);
  col('status', set.status);
  if (set.route !== undefined)
    parts.push(sql`route = ${set.route === null ? null : JSON.stringify(set.route)}::jsonb`);
  col('current_step', set.currentStep);
  if (set.submitted) parts.push(sql`submitted_at = now()`);
  if (set.approved) parts.push(sql`approved_at = now()`);
  col('approved_fingerprint', set.approvedFingerprint);
  col('committed_year', set.committedYear);
  if (set.cancelled) parts.push(sql`cancelled_at = now()`);
  if (set.acceptanceRoute !== undefined)
    parts.push(
      sql`acceptance_route = ${set.acceptanceRoute === null ? null : JSON.stringify(set.acceptanceRoute)}::jsonb`,
    );
  col('acceptance_step', set.acceptanceStep);
  if (set.completed) parts.push(sql`completed_at = now()`);
  if (set.accepted) parts.push(sql`accepted_at = now()`);
  col('asset_name', set.assetName);
  col('asset_maintainer', set.assetMaintainer);
  await tx.execute(sql`UPDATE projects SET ${sql.join(parts, sql`, `)}
    WHERE division_code = ${project.divisionCode} AND id = ${project.id}::uuid`);
}

/** Replaces every funding line of a project (none may hold a commitment). */
export async function replaceFundingLines(
  tx: Tx,
  project: Pick<Project, 'divisionCode' | 'id'>,
  lines: readonly { source: string; amountFen: number }[],
): Promise<void> {
  await tx.execute(sql`DELETE FROM project_funding_lines
    WHERE division_code = ${project.divisionCode} AND project_id = ${project.id}::uuid`);
  for (const l of lines) {
    await tx.execute(sql`INSERT INTO project_funding_lines (division_code, project_id, source, amount_fen)
      VALUES (${project.divisionCode}, ${project.id}::uuid, ${l.source}, ${l.amountFen})`);
  }
}

/** Records what a funding line holds in fund_balances (0: released). */
export async function setLineCommitted(
  tx: Tx,
  project: Pick<Project, 'divisionCode' | 'id'>,
  source: string,
  committedFen: number,
): Promise<void> {
  await tx.execute(sql`UPDATE project_funding_lines SET committed_fen = ${committedFen}
    WHERE division_code = ${project.divisionCode} AND project_id = ${project.id}::uuid AND source = ${source}`);
}

/** Villages and townships of `county` among `codes`, with their level. */
export async function countyLocalities(
  tx: Tx,
  county: number,
  codes: readonly number[],
): Promise<{ code: number; level: string; townshipCode: number; active: boolean }[]> {
  if (codes.length === 0) return [];
  const rows = rowsOf<{ code: string; level: string; township_code: string; active: boolean }>(
    await tx.execute(sql`SELECT code::text AS code, level, township_code::text AS township_code, active
      FROM localities WHERE division_code = ${county} AND code = ANY(${bigintArray(codes)}::bigint[])`),
  );
  return rows.map((r) => ({
    code: Number(r.code),
    level: r.level,
    townshipCode: Number(r.township_code),
    active: Boolean(r.active),
  }));
}

// ── Approval history ────────────────────────────────────────────────────────────────────────────

export interface ProjectReview {
  id: string;
  projectId: string;
  seq: number;
  stepIndex: number | null;
  level: string | null;
  action: string;
  decision: string;
  comment: string | null;
  actor: string;
  actorDivision: number;
  at: string;
  changes: Record<string, unknown> | null;
}

export interface NewProjectReview {
  stepIndex: number | null;
  level: 'county' | 'city' | 'province' | null;
  action: string;
  decision: string;
  comment: string | null;
  actor: string;
  actorDivision: number;
  changes: Record<string, unknown> | null;
}

/** Appends one history record (the project row is locked by the caller: `seq` cannot collide). */
export async function insertProjectReview(
  tx: Tx,
  project: Pick<Project, 'divisionCode' | 'id'>,
  r: NewProjectReview,
): Promise<void> {
  await tx.execute(sql`INSERT INTO project_reviews
      (division_code, project_id, seq, step_index, level, action, decision, comment, actor, actor_division, changes)
    SELECT ${project.divisionCode}, ${project.id}::uuid, coalesce(max(seq), 0) + 1, ${r.stepIndex}, ${r.level},
           ${r.action}, ${r.decision}, ${r.comment}, ${r.actor}, ${r.actorDivision},
           ${r.changes === null ? null : JSON.stringify(r.changes)}::jsonb
    FROM project_reviews WHERE division_code = ${project.divisionCode} AND project_id = ${project.id}::uuid`);
}

export async function listProjectReviews(
  tx: Tx,
  project: Pick<Project, 'divisionCode' | 'id'>,
): Promise<ProjectReview[]> {
  const rows = rowsOf<Record<string, unknown>>(
    await tx.execute(sql`SELECT id, project_id, seq, step_index, level, action, decision, comment, actor,
        actor_division, ${ts('at')} AS at, changes::text AS changes
      FROM project_reviews WHERE division_code = ${project.divisionCode} AND project_id = ${project.id}::uuid
      ORDER BY seq`),
  );
  return rows.map((r) => ({
    id: String(r.id),
    projectId: String(r.project_id),
    seq: Number(r.seq),
    stepIndex: r.step_index === null ? null : Number(r.step_index),
    level: (r.level as string | null) ?? null,
    action: String(r.action),
    decision: String(r.decision),
    comment: (r.comment as string | null) ?? null,
    actor: String(r.actor),
    actorDivision: Number(r.actor_division),
    at: String(r.at),
    changes: r.changes === null ? null : json<Record<string, unknown>>(r.changes),
  }));
}

// ── Allocations and balances ────────────────────────────────────────────────────────────────────

export interface FundAllocation {
  divisionCode: number;
  id: string;
  provinceCode: number;
  source: string;
  year: number;
  amountFen: number;
  documentNo: string;
  allocatedOn: string;
  note: string | null;
  createdBy: string;
  createdByDivision: number;
  createdAt: string;
  countyName: string | null;
}

const allocationColumns = sql`a.division_code, a.id, a.province_code, a.source, a.year,
  a.amount_fen::text AS amount_fen, a.document_no, a.allocated_on::text AS allocated_on, a.note, a.created_by,
  a.created_by_division, ${ts('a.created_at')} AS created_at,
  (SELECT d.name FROM divisions d WHERE d.code = a.division_code) AS county_name`;

function toAllocation(r: Record<string, unknown>): FundAllocation {
  return {
    divisionCode: Number(r.division_code),
    id: String(r.id),
    provinceCode: Number(r.province_code),
    source: String(r.source),
    year: Number(r.year),
    amountFen: Number(r.amount_fen),
    documentNo: String(r.document_no),
    allocatedOn: String(r.allocated_on),
    note: (r.note as string | null) ?? null,
    createdBy: String(r.created_by),
    createdByDivision: Number(r.created_by_division),
    createdAt: String(r.created_at),
    countyName: (r.county_name as string | null) ?? null,
  };
}

export interface NewFundAllocation {
  divisionCode: number;
  provinceCode: number;
  source: string;
  year: number;
  amountFen: number;
  documentNo: string;
  allocatedOn: string;
  note: string | null;
  createdBy: string;
  createdByDivision: number;
}

/** Records an allocation and adds it to the county's balance of the source and year (one transaction). */
export async function insertFundAllocation(tx: Tx, a: NewFundAllocation): Promise<FundAllocation> {
  const [row] = rowsOf<Record<string, unknown>>(
    await tx.execute(sql`WITH a AS (
        INSERT INTO fund_allocations (division_code, province_code, source, year, amount_fen, document_no,
                                      allocated_on, note, created_by, created_by_division)
        VALUES (${a.divisionCode}, ${a.provinceCode}, ${a.source}, ${a.year}, ${a.amountFen}, ${a.documentNo},
                ${a.allocatedOn}::date, ${a.note}, ${a.createdBy}, ${a.createdByDivision})
        RETURNING *)
      SELECT ${allocationColumns} FROM a`),
  );
  if (!row) throw new Error('allocation not inserted');
  await tx.execute(sql`INSERT INTO fund_balances (division_code, source, year, allocated_fen)
    VALUES (${a.divisionCode}, ${a.source}, ${a.year}, ${a.amountFen})
    ON CONFLICT (division_code, source, year)
    DO UPDATE SET allocated_fen = fund_balances.allocated_fen + EXCLUDED.allocated_fen, updated_at = now()`);
  return toAllocation(row);
}

export interface FundAllocationFilter {
  range: DivisionRange;
  county?: number | undefined;
  source?: string | undefined;
  year?: number | undefined;
  after?: { divisionCode: number; allocatedOn: string; id: string } | undefined;
  limit: number;
}

/** Allocations in a range, by county, date and id. */
export async function listFundAllocations(tx: Tx, f: FundAllocationFilter): Promise<FundAllocation[]> {
  const where: SQL[] = [sql`a.division_code BETWEEN ${f.range.lo} AND ${f.range.hi}`];
  if (f.county !== undefined) where.push(sql`a.division_code = ${f.county}`);
  if (f.source !== undefined) where.push(sql`a.source = ${f.source}`);
  if (f.year !== undefined) where.push(sql`a.year = ${f.year}`);
  if (f.after) {
    where.push(
      sql`(a.division_code, a.allocated_on, a.id) > (${f.after.divisionCode}, ${f.after.allocatedOn}::date, ${f.after.id}::uuid)`,
    );
  }
  const rows = rowsOf<Record<string, unknown>>(
    await tx.execute(sql`SELECT ${allocationColumns} FROM fund_allocations a WHERE ${sql.join(where, sql` AND `)}
      ORDER BY a.division_code, a.allocated_on, a.id LIMIT ${f.limit}`),
  );
  return rows.map(toAllocation);
}

export interface FundBalance {
  divisionCode: number;
  source: string;
  year: number;
  allocatedFen: number;
  committedFen: number;
  paidFen: number;
}

const toBalance = (r: Record<string, unknown>): FundBalance => ({
  divisionCode: Number(r.division_code),
  source: String(r.source),
  year: Number(r.year),
  allocatedFen: Number(r.allocated_fen),
  committedFen: Number(r.committed_fen),
  paidFen: Number(r.paid_fen),
});

const balanceColumns = sql`division_code, source, year, allocated_fen::text AS allocated_fen,
  committed_fen::text AS committed_fen, paid_fen::text AS paid_fen`;

/**
 * Commits `amountFen` of the county's balance of `source` and `year`: one conditional UPDATE, so the
 * row lock serialises concurrent commitments and each sees the others' (READ COMMITTED re-checks the
 * condition on the locked row). Returns the balance after the commitment, or undefined when the
 * balance does not exist or cannot cover it (nothing is changed then).
 */
export async function commitFunds(
  tx: Tx,
  county: number,
  source: string,
  year: number,
  amountFen: number,
): Promise<FundBalance | undefined> {
  const [row] = rowsOf<Record<string, unknown>>(
    await tx.execute(sql`UPDATE fund_balances SET committed_fen = committed_fen + ${amountFen}, updated_at = now()
      WHERE division_code = ${county} AND source = ${source} AND year = ${year}
        AND committed_fen + ${amountFen} <= allocated_fen
      RETURNING ${balanceColumns}`),
  );
  return row ? toBalance(row) : undefined;
}

/** Releases a commitment made by {@link commitFunds}. */
export async function releaseFunds(
  tx: Tx,
  county: number,
  source: string,
  year: number,
  amountFen: number,
): Promise<void> {
  await tx.execute(sql`UPDATE fund_balances SET committed_fen = committed_fen - ${amountFen}, updated_at = now()
    WHERE division_code = ${county} AND source = ${source} AND year = ${year}`);
}

/** The balance of one county, source and year (undefined: nothing allocated yet). */
export async function getFundBalance(
  tx: Tx,
  county: number,
  source: string,
  year: number,
): Promise<FundBalance | undefined> {
  const [row] = rowsOf<Record<string, unknown>>(
    await tx.execute(sql`SELECT ${balanceColumns} FROM fund_balances
      WHERE division_code = ${county} AND source = ${source} AND year = ${year}`),
  );
  return row ? toBalance(row) : undefined;
}

export interface FundBalanceFilter {
  range: DivisionRange;
  county?: number | undefined;
  year?: number | undefined;
  after?: { divisionCode: number; year: number } | undefined;
  limit: number;
}

/**
 * Balances grouped by county and year, a page of (county, year) keys at a time: every source's row of
 * those keys, with the allocations behind them (date and amount, for the idle rule).
 */
export async function listFundBalances(
  tx: Tx,
  f: FundBalanceFilter,
): Promise<{
  keys: { divisionCode: number; year: number; countyName: string | null }[];
  balances: FundBalance[];
  allocations: {
    divisionCode: number;
    source: string;
    year: number;
    allocatedOn: string;
    amountFen: number;
  }[];
}> {
  const where: SQL[] = [sql`b.division_code BETWEEN ${f.range.lo} AND ${f.range.hi}`];
  if (f.county !== undefined) where.push(sql`b.division_code = ${f.county}`);
  if (f.year !== undefined) where.push(sql`b.year = ${f.year}`);
  if (f.after) where.push(sql`(b.division_code, b.year) > (${f.after.divisionCode}, ${f.after.year})`);
  const keys = rowsOf<{ division_code: number; year: number; county_name: string | null }>(
    await tx.execute(sql`SELECT k.division_code, k.year, (SELECT d.name FROM divisions d WHERE d.code = k.division_code) AS county_name
      FROM (SELECT DISTINCT b.division_code, b.year FROM fund_balances b WHERE ${sql.join(where, sql` AND `)}) k
      ORDER BY k.division_code, k.year LIMIT ${f.limit}`),
  ).map((r) => ({
    divisionCode: Number(r.division_code),
    year: Number(r.year),
    countyName: r.county_name ?? null,
  }));
  if (keys.length === 0) return { keys, balances: [], allocations: [] };
  const counties = bigintArray(keys.map((k) => k.divisionCode));
  const years = bigintArray(keys.map((k) => k.year));
  const pairs = sql`(division_code, year) IN (SELECT * FROM unnest(${counties}::int[], ${years}::int[]))`;
  const balances = rowsOf<Record<string, unknown>>(
    await tx.execute(
      sql`SELECT ${balanceColumns} FROM fund_balances WHERE ${pairs} ORDER BY division_code, year, source`,
    ),
  ).map(toBalance);
  const allocations = rowsOf<Record<string, unknown>>(
    await tx.execute(sql`SELECT division_code, source, year, allocated_on::text AS allocated_on, amount_fen::text AS amount_fen
      FROM fund_allocations WHERE ${pairs}`),
  ).map((r) => ({
    divisionCode: Number(r.division_code),
    source: String(r.source),
    year: Number(r.year),
    allocatedOn: String(r.allocated_on),
    amountFen: Number(r.amount_fen),
  }));
  return { keys, balances, allocations };
}
