import {
  appendAudit,
  commitFunds,
  countyLocalities,
  type FundAllocation,
  getDivision,
  getFundBalance,
  getProject,
  insertFundAllocation,
  insertProject,
  insertProjectReview,
  listFundBalances,
  nextProjectSeq,
  type Project,
  type ProjectRouteStep,
  type ProjectUpdate,
  releaseFunds,
  replaceFundingLines,
  setLineCommitted,
  type Tx,
  updateProject,
} from '@houfu/db';
import {
  allocatedSources,
  approvalRoute,
  approvalStepLabel,
  approvalThresholdsParameter,
  categoryNeedsBatch,
  checkFunding,
  type DivisionLevel,
  divisionLevel,
  type FundingLine,
  type FundingSource,
  type FundingViolation,
  formatYuan,
  fundingRuleFor,
  fundingRulesParameter,
  fundingSourceLabels,
  fundingSources,
  idleFen,
  idleMonthsParameter,
  isAllocatedSource,
  isWithin,
  type OutputQuantities,
  type ProjectCategory,
  type ProjectScope,
  type ProjectStatus,
  postingDaysParameter,
  postingProblemLabels,
  projectStatusLabels,
  routeApprovedAfter,
  scopeFingerprint,
  transitionCheck,
} from '@houfu/domain';
import { awaitingStep, type ReviewInput } from '../../lib/approval.js';
import { today } from '../../lib/dates.js';
import { requireIfMatch } from '../../lib/etag.js';
import { loadPolicyValue } from '../../lib/policy.js';
import { ApiError, type FieldError } from '../../lib/problem.js';
import type { ServiceContext } from '../../lib/service-context.js';

/** What the project services need from a request. */
export type Context = Pick<ServiceContext, 'tx' | 'actor' | 'requestId' | 'now'>;

/** Statuses whose scope (category, villages, outputs, funding, total, year) is locked. */
const LOCKED: readonly string[] = ['submitted', 'approved', 'in_progress', 'completed', 'accepted'];
/** Statuses in which nothing may be edited any more. */
const FINAL: readonly string[] = ['cancelled', 'accepted', 'completed'];

// ── Helpers ─────────────────────────────────────────────────────────────────────────────────────

export const changed = (old: unknown, now: unknown) => ({ old, new: now });

export function audit(
  ctx: Context,
  division: number,
  entityType: string,
  entityId: string,
  action: string,
  changes: Record<string, unknown>,
) {
  return appendAudit(ctx.tx, {
    division,
    occurredAt: ctx.now,
    actor: ctx.actor,
    action,
    entityType,
    entityId,
    changes: Object.fromEntries(
      Object.entries(changes).map(([k, v]) => [
        k,
        v !== null && typeof v === 'object' && 'old' in v && 'new' in v
          ? (v as { old: unknown; new: unknown })
          : changed(null, v),
      ]),
    ),
    requestId: ctx.requestId,
  });
}

/** The fields whose values differ, as `{field: {old, new}}` (JSON comparison). */
function diff(before: Record<string, unknown>, after: Record<string, unknown>) {
  const out: Record<string, { old: unknown; new: unknown }> = {};
  for (const [k, v] of Object.entries(after)) {
    if (JSON.stringify(before[k]) !== JSON.stringify(v)) out[k] = changed(before[k] ?? null, v);
  }
  return out;
}

/** A project the caller's scope sees, else 404 (the same answer as a project that does not exist). */
export async function projectInScope(tx: Tx, id: string, options: { lock?: boolean } = {}): Promise<Project> {
  const project = await getProject(tx, id, options);
  if (!project) throw new ApiError('not_found', `Project ${id} was not found.`);
  return project;
}

/** A project the caller's county may change: its own (others see projects, never edit them). */
export async function ownProject(ctx: Context, id: string): Promise<Project> {
  const project = await projectInScope(ctx.tx, id, { lock: true });
  if (project.divisionCode !== ctx.actor.division)
    throw new ApiError('not_found', `Project ${id} was not found.`);
  return project;
}

export function statusConflict(project: Project, wanted: string): ApiError {
  return new ApiError(
    'conflict',
    `Project ${project.projectNo} is ${project.status} (${projectStatusLabels[project.status as ProjectStatus]}); ${wanted}.`,
  );
}

function checkVersion(project: Project, ifMatch: string | undefined): void {
  const version = requireIfMatch(ifMatch);
  if (version !== project.version) {
    throw new ApiError(
      'precondition_failed',
      `Project ${project.projectNo} is at version ${project.version}, not ${version}: read it again.`,
    );
  }
}

const scopeOfProject = (
  p: Pick<Project, 'category' | 'villageCodes' | 'plannedOutputs' | 'fundingLines' | 'totalFen'>,
): ProjectScope => ({
  category: p.category as ProjectCategory,
  villageCodes: p.villageCodes,
  outputs: p.plannedOutputs as OutputQuantities,
  fundingLines: p.fundingLines.map((l) => ({ source: l.source as FundingSource, amountFen: l.amountFen })),
  totalFen: p.totalFen,
});

/** Funding violations as field errors: a line's amount where a line is at fault, else the lines. */
function fundingFieldErrors(
  violations: FundingViolation[],
  lines: readonly FundingLine[],
  field: string,
): FieldError[] {
  return violations.map((v) => {
    const index = v.line ?? (v.source ? lines.findIndex((l) => l.source === v.source) : -1);
    const at =
      v.code === 'non_positive_total'
        ? 'total_fen'
        : index >= 0 && v.code !== 'duplicate_source'
          ? `${field}.${index}.amount_fen`
          : field;
    return { field: at, message: v.message, code: v.code };
  });
}

/** Structural funding checks (every write): lines add up to the total, one line per source, all positive. */
function checkLines(totalFen: number, lines: readonly FundingLine[], field = 'funding_lines'): void {
  const violations = checkFunding(totalFen, lines);
  if (violations.length > 0) {
    throw new ApiError(
      'unprocessable',
      `The funding lines do not fit the total: ${violations.map((v) => v.message).join('; ')}.`,
      fundingFieldErrors(violations, lines, field),
    );
  }
}

/** Every funding rule of the category (province parameter in force on the day): a submission must pass them. */
async function checkCategoryRules(
  ctx: Context,
  county: number,
  scope: ProjectScope,
  field = 'funding_lines',
) {
  const rules = await loadPolicyValue(ctx.tx, fundingRulesParameter, county, today(ctx.now));
  const violations = checkFunding(
    scope.totalFen,
    scope.fundingLines,
    fundingRuleFor(rules.value, scope.category),
  );
  if (violations.length > 0) {
    throw new ApiError(
      'unprocessable',
      `The funding does not meet the rules for ${scope.category} (${rules.source}): ${violations.map((v) => v.message).join('; ')}.`,
      fundingFieldErrors(violations, scope.fundingLines, field),
    );
  }
}

interface PlaceInput {
  category: string;
  batchNo: string | null;
  townshipCode: number | null;
  villageCodes: readonly number[];
  postingFrom: string | null;
  postingTo: string | null;
}

/** Category ↔ batch, villages and township of the county, the posting's two dates: 422 naming the field. */
async function checkPlace(tx: Tx, county: number, p: PlaceInput): Promise<void> {
  const errors: FieldError[] = [];
  const needsBatch = categoryNeedsBatch(p.category as ProjectCategory);
  if (needsBatch && p.batchNo === null) {
    errors.push({ field: 'batch_no', message: '避险解困试点项目须填写批次号', code: 'required' });
  }
  if (!needsBatch && p.batchNo !== null) {
    errors.push({
      field: 'batch_no',
      message: 'Only hazard relief pilot projects have a batch number',
      code: 'unexpected',
    });
  }
  if (new Set(p.villageCodes).size !== p.villageCodes.length) {
    errors.push({ field: 'village_codes', message: 'A village is listed twice', code: 'duplicate' });
  }
  const codes = [...p.villageCodes, ...(p.townshipCode === null ? [] : [p.townshipCode])];
  const known = new Map((await countyLocalities(tx, county, codes)).map((l) => [l.code, l]));
  p.villageCodes.forEach((code, i) => {
    const l = known.get(code);
    if (l?.level !== 'village' || !l.active) {
      errors.push({
        field: `village_codes.${i}`,
        message: `${code} is not an active village of county ${county}`,
        code: 'unknown_village',
      });
    }
  });
  if (p.townshipCode !== null) {
    const l = known.get(p.townshipCode);
    if (l?.level !== 'township') {
      errors.push({
        field: 'township_code',
        message: `${p.townshipCode} is not a township of county ${county}`,
        code: 'unknown_township',
      });
    }
  }
  if ((p.postingFrom === null) !== (p.postingTo === null)) {
    errors.push({
      field: p.postingFrom === null ? 'posting_from' : 'posting_to',
      message: 'A posting has a first and a last day',
      code: 'required',
    });
  } else if (p.postingFrom !== null && p.postingTo !== null && p.postingTo < p.postingFrom) {
    errors.push({ field: 'posting_to', message: 'The posting ends before it starts', code: 'invalid_range' });
  }
  if (errors.length > 0) {
    throw new ApiError('unprocessable', errors.map((e) => e.message).join('; '), errors);
  }
}

/** Releases what the project's lines hold in fund_balances (scope change, cancellation). */
async function releaseCommitments(ctx: Context, project: Project): Promise<Record<string, number>> {
  const released: Record<string, number> = {};
  if (project.committedYear === null) return released;
  for (const line of project.fundingLines) {
    if (line.committedFen <= 0) continue;
    await releaseFunds(ctx.tx, project.divisionCode, line.source, project.committedYear, line.committedFen);
    await setLineCommitted(ctx.tx, project, line.source, 0);
    released[line.source] = line.committedFen;
  }
  return released;
}

/**
 * Commits every line of an allocated source against the county's balance of the project's year, all or
 * nothing: a line the balance cannot cover answers 409 `insufficient_funds` naming the source, what is
 * available and what is needed, and the request's transaction rolls back the lines committed before it.
 */
async function commitLines(ctx: Context, project: Project): Promise<Record<string, number>> {
  const committed: Record<string, number> = {};
  const lines = fundingSources
    .map((s) => project.fundingLines.find((l) => l.source === s))
    .filter(
      (l): l is Project['fundingLines'][number] =>
        l !== undefined && isAllocatedSource(l.source as FundingSource),
    );
  for (const line of lines) {
    const after = await commitFunds(ctx.tx, project.divisionCode, line.source, project.year, line.amountFen);
    if (!after) {
      const balance = await getFundBalance(ctx.tx, project.divisionCode, line.source, project.year);
      const available = balance ? balance.allocatedFen - balance.committedFen : 0;
      const label = fundingSourceLabels[line.source as FundingSource];
      throw new ApiError(
        'insufficient_funds',
        `${label} (${line.source}) of ${project.year} for county ${project.divisionCode}: ${available} fen (${formatYuan(available)} yuan) available, ${line.amountFen} fen (${formatYuan(line.amountFen)} yuan) needed.`,
        [
          {
            field: `funding_lines.${line.source}`,
            message: `available ${available} fen, needed ${line.amountFen} fen`,
            code: 'insufficient_funds',
          },
        ],
      );
    }
    await setLineCommitted(ctx.tx, project, line.source, line.amountFen);
    committed[line.source] = line.amountFen;
  }
  return committed;
}

// ── Projects ────────────────────────────────────────────────────────────────────────────────────

export interface ProjectInput {
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
  fundingLines: FundingLine[];
  postingFrom: string | null;
  postingTo: string | null;
  postingPlace: string | null;
}

/** Records a project in the county's library 项目库 with its funding lines; numbered `county-year-seq`. */
export async function createProject(ctx: Context, input: ProjectInput): Promise<Project> {
  const county = ctx.actor.division;
  if (divisionLevel(county) !== 'county') {
    throw new ApiError('forbidden', 'Projects are entered by the county bureau that builds them.');
  }
  checkLines(input.totalFen, input.fundingLines);
  await checkPlace(ctx.tx, county, input);
  const seq = await nextProjectSeq(ctx.tx, county, input.year);
  const projectNo = `${county}-${input.year}-${String(seq).padStart(3, '0')}`;
  const id = await insertProject(ctx.tx, {
    divisionCode: county,
    projectNo,
    name: input.name,
    category: input.category,
    batchNo: input.batchNo,
    year: input.year,
    townshipCode: input.townshipCode,
    villageCodes: input.villageCodes,
    description: input.description,
    plannedOutputs: input.plannedOutputs,
    beneficiariesFarmers: input.beneficiariesFarmers,
    beneficiariesMigrants: input.beneficiariesMigrants,
    totalFen: input.totalFen,
    postingFrom: input.postingFrom,
    postingTo: input.postingTo,
    postingPlace: input.postingPlace,
    createdBy: ctx.actor.sub,
  });
  const ref = { divisionCode: county, id };
  await replaceFundingLines(ctx.tx, ref, input.fundingLines);
  await audit(ctx, county, 'project', id, 'project.create', {
    project_no: projectNo,
    name: input.name,
    category: input.category,
    year: input.year,
    village_codes: input.villageCodes,
    total_fen: input.totalFen,
    funding_lines: input.fundingLines,
  });
  return projectInScope(ctx.tx, id);
}

export type ProjectPatch = Partial<Omit<ProjectInput, 'totalFen' | 'fundingLines'>>;

const wire = (p: Pick<Project, keyof ProjectInput>) => ({
  name: p.name,
  category: p.category,
  batch_no: p.batchNo,
  year: p.year,
  township_code: p.townshipCode,
  village_codes: p.villageCodes,
  description: p.description,
  planned_outputs: p.plannedOutputs,
  beneficiaries_farmers: p.beneficiariesFarmers,
  beneficiaries_migrants: p.beneficiariesMigrants,
  total_fen: p.totalFen,
  funding_lines: p.fundingLines.map((l) => ({ source: l.source, amount_fen: l.amountFen })),
  posting_from: p.postingFrom,
  posting_to: p.postingTo,
  posting_place: p.postingPlace,
});

/**
 * Changes a project's own fields. While the project is submitted or approved its scope (category,
 * villages, planned outputs, year) is locked: a change of it answers 409 `project_locked` (approved
 * projects change scope through /changes); other fields (name, description, posting, beneficiaries)
 * may still be corrected. Sending the current values changes nothing.
 */
export async function patchProject(
  ctx: Context,
  id: string,
  ifMatch: string | undefined,
  patch: ProjectPatch,
): Promise<Project> {
  const project = await ownProject(ctx, id);
  checkVersion(project, ifMatch);
  if (FINAL.includes(project.status)) throw statusConflict(project, 'it can no longer be edited');
  const next = {
    ...project,
    ...Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== undefined)),
  } as Project;
  if (LOCKED.includes(project.status)) {
    const moved =
      scopeFingerprint(scopeOfProject(next)) !== scopeFingerprint(scopeOfProject(project)) ||
      next.year !== project.year;
    if (moved) {
      throw new ApiError(
        'project_locked',
        `Project ${project.projectNo} is ${project.status}: its scope (category, villages, outputs, funding, year) is locked${
          project.status === 'submitted'
            ? ' while it is reviewed'
            : '; change it through POST /v1/projects/{id}/changes'
        }.`,
      );
    }
  }
  await checkPlace(ctx.tx, project.divisionCode, next);
  const changes = diff(wire(project), wire(next));
  if (Object.keys(changes).length === 0) return project;
  const set: ProjectUpdate = {
    name: next.name,
    category: next.category,
    batchNo: next.batchNo,
    year: next.year,
    townshipCode: next.townshipCode,
    villageCodes: next.villageCodes,
    description: next.description,
    plannedOutputs: next.plannedOutputs,
    beneficiariesFarmers: next.beneficiariesFarmers,
    beneficiariesMigrants: next.beneficiariesMigrants,
    postingFrom: next.postingFrom,
    postingTo: next.postingTo,
    postingPlace: next.postingPlace,
  };
  await updateProject(ctx.tx, project, set, ctx.actor.sub);
  await audit(ctx, project.divisionCode, 'project', project.id, 'project.update', changes);
  return projectInScope(ctx.tx, id);
}

/** Replaces the total and every funding line (If-Match); locked like the scope once submitted. */
export async function putFunding(
  ctx: Context,
  id: string,
  ifMatch: string | undefined,
  input: { totalFen: number; fundingLines: FundingLine[] },
): Promise<Project> {
  const project = await ownProject(ctx, id);
  checkVersion(project, ifMatch);
  if (FINAL.includes(project.status)) throw statusConflict(project, 'its funding can no longer be edited');
  checkLines(input.totalFen, input.fundingLines);
  const next = {
    ...project,
    totalFen: input.totalFen,
    fundingLines: input.fundingLines.map((l) => ({
      id: '',
      committedFen: 0,
      paidFen: 0,
      source: l.source,
      amountFen: l.amountFen,
    })),
  };
  const before = scopeFingerprint(scopeOfProject(project));
  if (scopeFingerprint(scopeOfProject(next)) === before) return project;
  if (LOCKED.includes(project.status)) {
    throw new ApiError(
      'project_locked',
      `Project ${project.projectNo} is ${project.status}: its funding is locked${
        project.status === 'submitted'
          ? ' while it is reviewed'
          : '; change it through POST /v1/projects/{id}/changes'
      }.`,
    );
  }
  await updateProject(ctx.tx, project, { totalFen: input.totalFen }, ctx.actor.sub);
  await replaceFundingLines(ctx.tx, project, input.fundingLines);
  await audit(
    ctx,
    project.divisionCode,
    'project',
    project.id,
    'project.funding',
    diff(wire(project), wire(next)),
  );
  return projectInScope(ctx.tx, id);
}

/** library → planned 年度计划: the village posting 公示 must have lasted the province's minimum days and ended. */
export async function planProject(ctx: Context, id: string): Promise<Project> {
  const project = await ownProject(ctx, id);
  const on = today(ctx.now);
  const days = await loadPolicyValue(ctx.tx, postingDaysParameter, project.divisionCode, on);
  const posting =
    project.postingFrom && project.postingTo ? { from: project.postingFrom, to: project.postingTo } : null;
  const check = transitionCheck(project.status as ProjectStatus, 'planned', {
    posting,
    today: on,
    postingDays: days.value,
  });
  if (check === 'not_allowed')
    throw statusConflict(project, 'only a project in the library enters the annual plan');
  if (check !== null) {
    const field = check === 'no_posting' ? 'posting_from' : 'posting_to';
    throw new ApiError(
      'unprocessable',
      `${postingProblemLabels[check]}: a project enters the annual plan after a public posting in the village of at least ${days.value} days that has ended (${days.source}).`,
      [{ field, message: postingProblemLabels[check], code: check }],
    );
  }
  await updateProject(ctx.tx, project, { status: 'planned' }, ctx.actor.sub);
  await insertProjectReview(ctx.tx, project, {
    stepIndex: null,
    level: 'county',
    action: 'plan',
    decision: 'planned',
    comment: null,
    actor: ctx.actor.sub,
    actorDivision: ctx.actor.division,
    changes: null,
  });
  await audit(ctx, project.divisionCode, 'project', project.id, 'project.plan', {
    status: changed(project.status, 'planned'),
    posting_days: days.value,
  });
  return projectInScope(ctx.tx, id);
}

/** The route from the province's thresholds in force today, with the funding rules checked first. */
async function enterRoute(ctx: Context, project: Project, scope: ProjectScope): Promise<ProjectRouteStep[]> {
  await checkCategoryRules(ctx, project.divisionCode, scope);
  const thresholds = await loadPolicyValue(
    ctx.tx,
    approvalThresholdsParameter,
    project.divisionCode,
    today(ctx.now),
  );
  return approvalRoute(scope.totalFen, thresholds.value) as ProjectRouteStep[];
}

/** planned → submitted, or returned → submitted (resubmitted; the route starts again). */
export async function submitProject(ctx: Context, id: string, comment: string | null): Promise<Project> {
  const project = await ownProject(ctx, id);
  const check = transitionCheck(project.status as ProjectStatus, 'submitted', {
    posting: null,
    today: today(ctx.now),
    postingDays: 1,
  });
  if (check !== null || (project.status !== 'planned' && project.status !== 'returned')) {
    throw statusConflict(project, 'only a planned or returned project is submitted');
  }
  const route = await enterRoute(ctx, project, scopeOfProject(project));
  const action = project.status === 'returned' ? 'resubmit' : 'submit';
  await updateProject(
    ctx.tx,
    project,
    { status: 'submitted', route, currentStep: 0, submitted: true },
    ctx.actor.sub,
  );
  await insertProjectReview(ctx.tx, project, {
    stepIndex: null,
    level: 'county',
    action,
    decision: 'submitted',
    comment,
    actor: ctx.actor.sub,
    actorDivision: ctx.actor.division,
    changes: null,
  });
  await audit(ctx, project.divisionCode, 'project', project.id, `project.${action}`, {
    status: changed(project.status, 'submitted'),
    route: route.map(approvalStepLabel),
    comment,
  });
  return projectInScope(ctx.tx, id);
}

/**
 * Acts on the step awaiting action. Only a user at the step's level may (the county's city for a city
 * step, its province for a province step; the scope already hides other cities and provinces: 404):
 * anyone else 403. `approve` passes a review or approve step — after the route's last approve step the
 * project is approved and its allocated funding committed (409 `insufficient_funds` otherwise) —
 * `return` sends it back to the county with a comment, `record` 备案 completes a trailing record step.
 */
export async function reviewProject(ctx: Context, id: string, input: ReviewInput): Promise<Project> {
  const project = await projectInScope(ctx.tx, id, { lock: true });
  const level: DivisionLevel = divisionLevel(ctx.actor.division);
  if ((level !== 'city' && level !== 'province') || !isWithin(project.divisionCode, ctx.actor.division)) {
    throw new ApiError('forbidden', 'Projects are reviewed by the city and the province of their county.');
  }
  const { index, step, label, next } = awaitingStep(
    project,
    input,
    level,
    `project ${project.projectNo}`,
    () => statusConflict(project, 'no approval step awaits action'),
  );
  const history = (action: string, decision: string, changes: Record<string, unknown> | null = null) =>
    insertProjectReview(ctx.tx, project, {
      stepIndex: index,
      level,
      action,
      decision,
      comment: input.comment,
      actor: ctx.actor.sub,
      actorDivision: ctx.actor.division,
      changes,
    });

  if (input.action === 'return') {
    await updateProject(ctx.tx, project, { status: 'returned', currentStep: null }, ctx.actor.sub);
    await history('return', 'returned');
    await audit(ctx, project.divisionCode, 'project', project.id, 'project.return', {
      status: changed(project.status, 'returned'),
      step: index,
      step_label: label,
      comment: input.comment,
    });
    return projectInScope(ctx.tx, id);
  }

  if (step.action === 'record') {
    await updateProject(ctx.tx, project, { currentStep: null }, ctx.actor.sub);
    await history('record', 'recorded');
    await audit(ctx, project.divisionCode, 'project', project.id, 'project.record', {
      step: index,
      step_label: label,
      comment: input.comment,
    });
    return projectInScope(ctx.tx, id);
  }

  if (index === routeApprovedAfter(project.route ?? [])) {
    const committed = await commitLines(ctx, project);
    const fingerprint = scopeFingerprint(scopeOfProject(project));
    await updateProject(
      ctx.tx,
      project,
      {
        status: 'approved',
        currentStep: next,
        approved: true,
        approvedFingerprint: fingerprint,
        committedYear: project.year,
      },
      ctx.actor.sub,
    );
    await history(step.action, 'approved', { committed_fen: committed });
    await audit(ctx, project.divisionCode, 'project', project.id, 'project.approve', {
      status: changed(project.status, 'approved'),
      step: index,
      step_label: label,
      comment: input.comment,
      committed_fen: committed,
      year: project.year,
    });
  } else {
    await updateProject(ctx.tx, project, { currentStep: next }, ctx.actor.sub);
    await history(step.action, 'passed');
    await audit(ctx, project.divisionCode, 'project', project.id, `project.${step.action}`, {
      step: changed(index, next),
      step_label: label,
      comment: input.comment,
    });
  }
  return projectInScope(ctx.tx, id);
}

export interface ScopeChangeInput {
  category: string;
  batchNo: string | null;
  townshipCode: number | null;
  villageCodes: number[];
  plannedOutputs: Record<string, number>;
  totalFen: number;
  fundingLines: FundingLine[];
  comment: string;
}

/**
 * 项目变更: a new scope for an approved project. Its commitments are released, the difference is kept
 * in the history, and it is submitted again (the route is computed afresh from the new total).
 */
export async function changeScope(ctx: Context, id: string, input: ScopeChangeInput): Promise<Project> {
  const project = await ownProject(ctx, id);
  if (
    transitionCheck(project.status as ProjectStatus, 'submitted', {
      posting: null,
      today: today(ctx.now),
      postingDays: 1,
    }) !== null ||
    (project.status !== 'approved' && project.status !== 'in_progress')
  ) {
    throw statusConflict(project, 'only an approved project changes scope (edit others directly)');
  }
  // Read again now that the row is locked: a payment committed while this request waited is counted.
  const paid = (await projectInScope(ctx.tx, id)).fundingLines.reduce((a, l) => a + l.paidFen, 0);
  if (paid > 0) {
    throw statusConflict(
      project,
      `${paid} fen were paid to contractors from its funding lines: its scope no longer changes`,
    );
  }
  checkLines(input.totalFen, input.fundingLines);
  await checkPlace(ctx.tx, project.divisionCode, { ...input, postingFrom: null, postingTo: null });
  const next = {
    ...project,
    ...input,
    fundingLines: input.fundingLines.map((l) => ({ id: '', committedFen: 0, paidFen: 0, ...l })),
  };
  const newScope = scopeOfProject(next);
  if (scopeFingerprint(newScope) === scopeFingerprint(scopeOfProject(project))) {
    throw new ApiError('unprocessable', 'The scope is the same as the approved one: nothing to change.', [
      { field: '(body)', message: 'Same scope as approved', code: 'unchanged' },
    ]);
  }
  const route = await enterRoute(ctx, project, newScope);
  const released = await releaseCommitments(ctx, project);
  const changes = diff(wire(project), wire(next));
  await updateProject(
    ctx.tx,
    project,
    {
      category: input.category,
      batchNo: input.batchNo,
      townshipCode: input.townshipCode,
      villageCodes: input.villageCodes,
      plannedOutputs: input.plannedOutputs,
      totalFen: input.totalFen,
      status: 'submitted',
      route,
      currentStep: 0,
      submitted: true,
      committedYear: null,
    },
    ctx.actor.sub,
  );
  await replaceFundingLines(ctx.tx, project, input.fundingLines);
  await insertProjectReview(ctx.tx, project, {
    stepIndex: null,
    level: 'county',
    action: 'change',
    decision: 'submitted',
    comment: input.comment,
    actor: ctx.actor.sub,
    actorDivision: ctx.actor.division,
    changes: { ...changes, released_fen: released },
  });
  await audit(ctx, project.divisionCode, 'project', project.id, 'project.change', {
    ...changes,
    status: changed(project.status, 'submitted'),
    released_fen: released,
    route: route.map(approvalStepLabel),
    comment: input.comment,
  });
  return projectInScope(ctx.tx, id);
}

/** Cancels a project not yet in progress, releasing what it holds. */
export async function cancelProject(ctx: Context, id: string, reason: string): Promise<Project> {
  const project = await ownProject(ctx, id);
  if (
    transitionCheck(project.status as ProjectStatus, 'cancelled', {
      posting: null,
      today: today(ctx.now),
      postingDays: 1,
    }) !== null
  ) {
    throw statusConflict(project, 'it cannot be cancelled');
  }
  const released = await releaseCommitments(ctx, project);
  await updateProject(
    ctx.tx,
    project,
    { status: 'cancelled', currentStep: null, committedYear: null, cancelled: true },
    ctx.actor.sub,
  );
  await insertProjectReview(ctx.tx, project, {
    stepIndex: null,
    level: 'county',
    action: 'cancel',
    decision: 'cancelled',
    comment: reason,
    actor: ctx.actor.sub,
    actorDivision: ctx.actor.division,
    changes: { released_fen: released },
  });
  await audit(ctx, project.divisionCode, 'project', project.id, 'project.cancel', {
    status: changed(project.status, 'cancelled'),
    reason,
    released_fen: released,
  });
  return projectInScope(ctx.tx, id);
}

// ── Allocations and balances ────────────────────────────────────────────────────────────────────

export interface AllocationInput {
  county: number;
  source: string;
  year: number;
  amountFen: number;
  documentNo: string;
  allocatedOn: string;
  note: string | null;
}

/** 资金下达: the province (or the nation) allocates to a county in its scope; the balance grows at once. */
export async function createAllocation(ctx: Context, input: AllocationInput): Promise<FundAllocation> {
  const level = divisionLevel(ctx.actor.division);
  if (level !== 'province' && level !== 'nation') {
    throw new ApiError('forbidden', 'Funds are allocated by the province (or the nation).');
  }
  const county = await getDivision(ctx.tx, input.county);
  if (county?.level !== 'county' || !isWithin(input.county, ctx.actor.division)) {
    throw new ApiError('not_found', `County ${input.county} was not found in your scope.`, [
      { field: 'county_code', message: 'Not a county in your scope', code: 'not_found' },
    ]);
  }
  if (!(allocatedSources as readonly string[]).includes(input.source)) {
    throw new ApiError('unprocessable', `${input.source} is not allocated by the province.`, [
      { field: 'source', message: `One of ${allocatedSources.join(', ')}`, code: 'not_allocated' },
    ]);
  }
  if (input.allocatedOn > today(ctx.now)) {
    throw new ApiError('unprocessable', 'An allocation is recorded once it is made.', [
      { field: 'allocated_on', message: 'In the future', code: 'future_date' },
    ]);
  }
  const allocation = await insertFundAllocation(ctx.tx, {
    divisionCode: input.county,
    provinceCode: input.county - (input.county % 10_000),
    source: input.source,
    year: input.year,
    amountFen: input.amountFen,
    documentNo: input.documentNo,
    allocatedOn: input.allocatedOn,
    note: input.note,
    createdBy: ctx.actor.sub,
    createdByDivision: ctx.actor.division,
  });
  await audit(ctx, input.county, 'fund_allocation', allocation.id, 'fund_allocation.create', {
    source: input.source,
    year: input.year,
    amount_fen: input.amountFen,
    document_no: input.documentNo,
    allocated_on: input.allocatedOn,
  });
  return allocation;
}

export interface BalanceFigures {
  allocatedFen: number;
  committedFen: number;
  paidFen: number;
  availableFen: number;
  idleFen: number;
}

export interface CountyBalance extends BalanceFigures {
  county: number;
  countyName: string | null;
  year: number;
  idleMonths: number;
  sources: (BalanceFigures & { source: string })[];
}

/** Balances per county and year (a page of them), each source with its idle funds on `on`. */
export async function countyBalances(
  tx: Tx,
  filter: Parameters<typeof listFundBalances>[1],
  on: string,
): Promise<CountyBalance[]> {
  const { keys, balances, allocations } = await listFundBalances(tx, filter);
  const idleMonths = new Map<number, number>();
  const out: CountyBalance[] = [];
  for (const key of keys) {
    const province = key.divisionCode - (key.divisionCode % 10_000);
    if (!idleMonths.has(province)) {
      idleMonths.set(province, (await loadPolicyValue(tx, idleMonthsParameter, key.divisionCode, on)).value);
    }
    const months = idleMonths.get(province) as number;
    const sources = balances
      .filter((b) => b.divisionCode === key.divisionCode && b.year === key.year)
      .map((b) => ({
        source: b.source,
        allocatedFen: b.allocatedFen,
        committedFen: b.committedFen,
        paidFen: b.paidFen,
        availableFen: b.allocatedFen - b.committedFen,
        idleFen: idleFen({
          allocations: allocations
            .filter((a) => a.divisionCode === b.divisionCode && a.year === b.year && a.source === b.source)
            .map((a) => ({ allocatedOn: a.allocatedOn, amountFen: a.amountFen })),
          paidFen: b.paidFen,
          today: on,
          idleMonths: months,
        }),
      }));
    const sum = (k: keyof BalanceFigures) => sources.reduce((a, s) => a + s[k], 0);
    out.push({
      county: key.divisionCode,
      countyName: key.countyName,
      year: key.year,
      idleMonths: months,
      allocatedFen: sum('allocatedFen'),
      committedFen: sum('committedFen'),
      paidFen: sum('paidFen'),
      availableFen: sum('availableFen'),
      idleFen: sum('idleFen'),
      sources,
    });
  }
  return out;
}
