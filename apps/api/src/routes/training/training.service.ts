import {
  appendAudit,
  countyPersonIds,
  getTrainingCall,
  getTrainingPlan,
  getTrainingProviders,
  getTrainingSession,
  insertTrainingBid,
  insertTrainingCall,
  insertTrainingPlan,
  insertTrainingProvider,
  insertTrainingSession,
  type NewTrainingPlanLine,
  recordTrainingSelection,
  replaceTrainingPlanLines,
  selectedTrainingProviders,
  spendOnTrainingLine,
  type TrainingCallRow,
  type TrainingPlanRow,
  type TrainingProviderRow,
  type TrainingRouteStep,
  type TrainingSessionRow,
  type Tx,
  trainingProgressRows,
  updateTrainingPlan,
} from '@houfu/db';
import {
  approvalStepLabel,
  checkTrainingPlan,
  checkTrainingSpend,
  type DivisionLevel,
  divisionLevel,
  type FundingLine,
  type FundingSource,
  formatYuan,
  fundingRuleFor,
  fundingRulesParameter,
  isWithin,
  providerSelectionRulesParameter,
  routeApprovedAfter,
  selectProviders,
  type TrainingKind,
  type TrainingPlanViolation,
  trainingApprovalRoute,
  trainingApprovalThresholdsParameter,
  trainingBudgetRulesParameter,
  trainingKindLabels,
  trainingProgress,
} from '@houfu/domain';
import { awaitingStep, type ReviewInput } from '../../lib/approval.js';
import { today } from '../../lib/dates.js';
import { requireIfMatch } from '../../lib/etag.js';
import { loadPolicyValue } from '../../lib/policy.js';
import { ApiError, type FieldError } from '../../lib/problem.js';
import type { ServiceContext } from '../../lib/service-context.js';

/** What the training services need from a request. */
export type Context = Pick<ServiceContext, 'tx' | 'actor' | 'requestId' | 'now'>;

/** Statuses in which the plan (lines, funding, budget) is locked. */
const LOCKED: readonly string[] = ['submitted', 'approved'];

const statusLabels: Record<string, string> = {
  draft: '草稿',
  submitted: '已上报',
  returned: '已退回',
  approved: '已批复',
};

function audit(
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
          : { old: null, new: v },
      ]),
    ),
    requestId: ctx.requestId,
  });
}

const changed = (old: unknown, now: unknown) => ({ old, new: now });

function requireCounty(ctx: Context, what: string): number {
  if (divisionLevel(ctx.actor.division) !== 'county') {
    throw new ApiError('forbidden', `${what} are entered by the county bureau.`);
  }
  return ctx.actor.division;
}

/** A plan the caller's scope sees, else 404 (the same answer as a plan that does not exist). */
export async function planInScope(tx: Tx, id: string, options: { lock?: boolean } = {}) {
  const plan = await getTrainingPlan(tx, id, options);
  if (!plan) throw new ApiError('not_found', `Training plan ${id} was not found.`);
  return plan;
}

/** A plan the caller's county may change: its own (the city and province see it, never edit it). */
async function ownPlan(ctx: Context, id: string): Promise<TrainingPlanRow> {
  const plan = await planInScope(ctx.tx, id, { lock: true });
  if (plan.divisionCode !== ctx.actor.division)
    throw new ApiError('not_found', `Training plan ${id} was not found.`);
  return plan;
}

const planLabel = (p: TrainingPlanRow) => `${p.countyName ?? p.divisionCode} ${p.year} 年度培训计划`;

function statusConflict(plan: TrainingPlanRow, wanted: string): ApiError {
  return new ApiError(
    'conflict',
    `${planLabel(plan)} is ${plan.status} (${statusLabels[plan.status] ?? plan.status}); ${wanted}.`,
  );
}

// ── Plans ───────────────────────────────────────────────────────────────────────────────────────

export interface PlanInput {
  year: number;
  name: string;
  lines: NewTrainingPlanLine[];
  fundingLines: FundingLine[];
}

function violationField(v: TrainingPlanViolation, fundingLines: readonly FundingLine[]): string {
  if (v.code === 'funding') {
    const f = v.funding;
    const index = f?.line ?? (f?.source ? fundingLines.findIndex((l) => l.source === f.source) : -1);
    return index >= 0 && f?.code !== 'duplicate_source'
      ? `funding_lines.${index}.amount_fen`
      : 'funding_lines';
  }
  if (v.line !== undefined) {
    const leaf: Record<string, string> = {
      duplicate_kind: 'kind',
      no_trainees: 'trainees',
      no_courses: 'courses',
      trainee_times_below_trainees: 'trainee_times',
      cost_per_trainee_above_cap: 'budget_fen',
    };
    return `lines.${v.line}.${leaf[v.code] ?? 'kind'}`;
  }
  return 'lines';
}

/** Every budget rule of the province in force today (caps per trainee, county cap, split, funding). */
async function checkPlan(ctx: Context, county: number, input: Omit<PlanInput, 'year' | 'name'>) {
  const on = today(ctx.now);
  const rules = await loadPolicyValue(ctx.tx, trainingBudgetRulesParameter, county, on);
  const funding = await loadPolicyValue(ctx.tx, fundingRulesParameter, county, on);
  const violations = checkTrainingPlan(
    { lines: input.lines as never, fundingLines: input.fundingLines },
    rules.value,
    fundingRuleFor(funding.value, 'training'),
  );
  if (violations.length > 0) {
    const errors: FieldError[] = violations.map((v) => ({
      field: violationField(v, input.fundingLines),
      message: v.message,
      code: v.code === 'funding' ? (v.funding?.code ?? 'funding') : v.code,
    }));
    throw new ApiError(
      'unprocessable',
      `The training plan breaks the budget rules (${rules.source}): ${violations.map((v) => v.message).join('；')}.`,
      errors,
    );
  }
}

const budgetOf = (lines: readonly NewTrainingPlanLine[]) => lines.reduce((a, l) => a + l.budgetFen, 0);

const wireLines = (lines: readonly NewTrainingPlanLine[]) =>
  lines.map((l) => ({
    kind: l.kind,
    sessions: l.sessions,
    trainees: l.trainees,
    trainee_times: l.traineeTimes,
    courses: [...l.courses],
    budget_fen: l.budgetFen,
  }));
const wireFunding = (lines: readonly FundingLine[]) =>
  lines.map((l) => ({ source: l.source, amount_fen: l.amountFen }));

/** A county's annual plan (draft), checked against the province's budget rules in force today. */
export async function createPlan(ctx: Context, input: PlanInput): Promise<TrainingPlanRow> {
  const county = requireCounty(ctx, 'Training plans');
  await checkPlan(ctx, county, input);
  const budgetFen = budgetOf(input.lines);
  const id = await insertTrainingPlan(ctx.tx, {
    divisionCode: county,
    year: input.year,
    name: input.name,
    budgetFen,
    fundingLines: input.fundingLines,
    createdBy: ctx.actor.sub,
  });
  if (id === '') {
    throw new ApiError('conflict', `County ${county} already has a training plan for ${input.year}.`, [
      { field: 'year', message: 'One annual plan per county and year', code: 'duplicate' },
    ]);
  }
  await replaceTrainingPlanLines(ctx.tx, { divisionCode: county, id }, input.lines);
  await audit(ctx, county, 'training_plan', id, 'training_plan.create', {
    year: input.year,
    name: input.name,
    budget_fen: budgetFen,
    lines: wireLines(input.lines),
    funding_lines: wireFunding(input.fundingLines),
  });
  return planInScope(ctx.tx, id);
}

function checkVersion(plan: TrainingPlanRow, ifMatch: string | undefined): void {
  const version = requireIfMatch(ifMatch);
  if (version !== plan.version) {
    throw new ApiError(
      'precondition_failed',
      `${planLabel(plan)} is at version ${plan.version}, not ${version}: read it again.`,
    );
  }
}

/** Replaces the name, lines and funding of a draft or returned plan; locked once submitted or approved. */
export async function replacePlan(
  ctx: Context,
  id: string,
  ifMatch: string | undefined,
  input: Omit<PlanInput, 'year'>,
): Promise<TrainingPlanRow> {
  const plan = await ownPlan(ctx, id);
  checkVersion(plan, ifMatch);
  if (LOCKED.includes(plan.status)) {
    throw new ApiError(
      'training_plan_locked',
      `${planLabel(plan)} is ${plan.status} (${statusLabels[plan.status]}): it is locked${
        plan.status === 'submitted' ? ' while it is reviewed' : ' by its approval'
      }.`,
    );
  }
  await checkPlan(ctx, plan.divisionCode, input);
  const budgetFen = budgetOf(input.lines);
  await updateTrainingPlan(
    ctx.tx,
    plan,
    { name: input.name, budgetFen, fundingLines: input.fundingLines },
    ctx.actor.sub,
  );
  await replaceTrainingPlanLines(ctx.tx, plan, input.lines);
  await audit(ctx, plan.divisionCode, 'training_plan', plan.id, 'training_plan.update', {
    name: changed(plan.name, input.name),
    budget_fen: changed(plan.budgetFen, budgetFen),
    lines: changed(wireLines(plan.lines.map((l) => ({ ...l, kind: l.kind }))), wireLines(input.lines)),
    funding_lines: changed(wireFunding(plan.fundingLines as FundingLine[]), wireFunding(input.fundingLines)),
  });
  return planInScope(ctx.tx, id);
}

/** draft or returned → submitted: the rules again, and the route from the province's thresholds today. */
export async function submitPlan(ctx: Context, id: string, comment: string | null): Promise<TrainingPlanRow> {
  const plan = await ownPlan(ctx, id);
  if (plan.status !== 'draft' && plan.status !== 'returned') {
    throw statusConflict(plan, 'only a draft or returned plan is submitted');
  }
  await checkPlan(ctx, plan.divisionCode, {
    lines: plan.lines,
    fundingLines: plan.fundingLines as FundingLine[],
  });
  const thresholds = await loadPolicyValue(
    ctx.tx,
    trainingApprovalThresholdsParameter,
    plan.divisionCode,
    today(ctx.now),
  );
  const route = trainingApprovalRoute(plan.budgetFen, thresholds.value) as TrainingRouteStep[];
  const action = plan.status === 'returned' ? 'resubmit' : 'submit';
  await updateTrainingPlan(
    ctx.tx,
    plan,
    {
      status: 'submitted',
      route,
      currentStep: 0,
      submitted: true,
      history: {
        level: 'county',
        action,
        decision: 'submitted',
        comment,
        actor: ctx.actor.sub,
        actorDivision: ctx.actor.division,
      },
    },
    ctx.actor.sub,
  );
  await audit(ctx, plan.divisionCode, 'training_plan', plan.id, `training_plan.${action}`, {
    status: changed(plan.status, 'submitted'),
    route: route.map(approvalStepLabel),
    thresholds_source: thresholds.source,
    comment,
  });
  return planInScope(ctx.tx, id);
}

/**
 * Acts on the step awaiting action, as for projects: only the level of the step (the county's city or
 * province; others are outside the scope: 404) may act, anyone else 403. After the route's last approve
 * step the plan is approved and locked; a trailing record 备案 step does not gate it.
 */
export async function reviewPlan(ctx: Context, id: string, input: ReviewInput): Promise<TrainingPlanRow> {
  const plan = await planInScope(ctx.tx, id, { lock: true });
  const level: DivisionLevel = divisionLevel(ctx.actor.division);
  if ((level !== 'city' && level !== 'province') || !isWithin(plan.divisionCode, ctx.actor.division)) {
    throw new ApiError(
      'forbidden',
      'Training plans are reviewed by the city and the province of their county.',
    );
  }
  const { index, step, label, next } = awaitingStep(plan, input, level, planLabel(plan), () =>
    statusConflict(plan, 'no approval step awaits action'),
  );
  const history = (action: string, decision: string) => ({
    level: level as 'city' | 'province',
    action,
    decision,
    comment: input.comment,
    actor: ctx.actor.sub,
    actorDivision: ctx.actor.division,
  });
  if (input.action === 'return') {
    await updateTrainingPlan(
      ctx.tx,
      plan,
      { status: 'returned', currentStep: null, history: history('return', 'returned') },
      ctx.actor.sub,
    );
    await audit(ctx, plan.divisionCode, 'training_plan', plan.id, 'training_plan.return', {
      status: changed(plan.status, 'returned'),
      step: index,
      step_label: label,
      comment: input.comment,
    });
    return planInScope(ctx.tx, id);
  }
  if (step.action === 'record') {
    await updateTrainingPlan(
      ctx.tx,
      plan,
      { currentStep: next, history: history('record', 'recorded') },
      ctx.actor.sub,
    );
    await audit(ctx, plan.divisionCode, 'training_plan', plan.id, 'training_plan.record', {
      step: index,
      step_label: label,
      comment: input.comment,
    });
    return planInScope(ctx.tx, id);
  }
  if (index === routeApprovedAfter(plan.route ?? [])) {
    await updateTrainingPlan(
      ctx.tx,
      plan,
      { status: 'approved', currentStep: next, approved: true, history: history(step.action, 'approved') },
      ctx.actor.sub,
    );
    await audit(ctx, plan.divisionCode, 'training_plan', plan.id, 'training_plan.approve', {
      status: changed(plan.status, 'approved'),
      step: index,
      step_label: label,
      comment: input.comment,
      budget_fen: plan.budgetFen,
    });
  } else {
    await updateTrainingPlan(
      ctx.tx,
      plan,
      { currentStep: next, history: history(step.action, 'passed') },
      ctx.actor.sub,
    );
    await audit(ctx, plan.divisionCode, 'training_plan', plan.id, `training_plan.${step.action}`, {
      step: changed(index, next),
      step_label: label,
      comment: input.comment,
    });
  }
  return planInScope(ctx.tx, id);
}

// ── Providers ───────────────────────────────────────────────────────────────────────────────────

export async function createProvider(
  ctx: Context,
  input: { name: string; creditCode: string | null; contact: string | null },
): Promise<TrainingProviderRow> {
  const county = requireCounty(ctx, 'Training providers');
  const provider = await insertTrainingProvider(ctx.tx, {
    divisionCode: county,
    ...input,
    createdBy: ctx.actor.sub,
  });
  if (!provider) {
    throw new ApiError('conflict', `County ${county} already has a provider named ${input.name}.`, [
      { field: 'name', message: 'A provider of this name exists', code: 'duplicate' },
    ]);
  }
  await audit(ctx, county, 'training_provider', provider.id, 'training_provider.create', {
    name: input.name,
    credit_code: input.creditCode,
    contact: input.contact,
  });
  return provider;
}

// ── Calls for bids, bids, selection ─────────────────────────────────────────────────────────────

export async function callInScope(tx: Tx, id: string, options: { lock?: boolean } = {}) {
  const call = await getTrainingCall(tx, id, options);
  if (!call) throw new ApiError('not_found', `Call for bids ${id} was not found.`);
  return call;
}

async function ownCall(ctx: Context, id: string): Promise<TrainingCallRow> {
  const call = await callInScope(ctx.tx, id, { lock: true });
  if (call.divisionCode !== ctx.actor.division)
    throw new ApiError('not_found', `Call for bids ${id} was not found.`);
  return call;
}

/** An approved plan of the caller's county, with a line of the kind (422 naming the field otherwise). */
async function approvedLine(ctx: Context, planId: string, kind: TrainingKind) {
  const plan = await getTrainingPlan(ctx.tx, planId, { lock: true });
  if (!plan || plan.divisionCode !== ctx.actor.division) {
    throw new ApiError('unprocessable', `Training plan ${planId} is not a plan of your county.`, [
      { field: 'plan_id', message: 'Not a plan of your county', code: 'not_found' },
    ]);
  }
  if (plan.status !== 'approved') {
    throw new ApiError('conflict', `${planLabel(plan)} is not approved: 培训计划未经批复，不得支出或招标.`, [
      { field: 'plan_id', message: '培训计划未批复', code: 'plan_not_approved' },
    ]);
  }
  const line = plan.lines.find((l) => l.kind === kind);
  if (!line) {
    throw new ApiError('unprocessable', `批复计划中没有${trainingKindLabels[kind]}.`, [
      { field: 'kind', message: `批复计划中没有${trainingKindLabels[kind]}`, code: 'no_budget_line' },
    ]);
  }
  return { plan, line };
}

export interface CallInput {
  planId: string;
  kind: TrainingKind;
  title: string;
  trainees: number;
  budgetFen: number;
  providers: number;
}

/** A call for bids for one kind of an approved plan; its budget stays within the line's budget. */
export async function createCall(ctx: Context, input: CallInput): Promise<TrainingCallRow> {
  requireCounty(ctx, 'Calls for bids');
  const { plan, line } = await approvedLine(ctx, input.planId, input.kind);
  if (input.budgetFen > line.budgetFen) {
    throw new ApiError(
      'unprocessable',
      `The call's budget ${formatYuan(input.budgetFen)} yuan is above the approved ${trainingKindLabels[input.kind]} budget of ${formatYuan(line.budgetFen)} yuan.`,
      [{ field: 'budget_fen', message: '超过批复经费', code: 'above_approved_budget' }],
    );
  }
  const id = await insertTrainingCall(ctx.tx, {
    divisionCode: plan.divisionCode,
    planId: plan.id,
    kind: input.kind,
    title: input.title,
    trainees: input.trainees,
    budgetFen: input.budgetFen,
    providers: input.providers,
    createdBy: ctx.actor.sub,
  });
  await audit(ctx, plan.divisionCode, 'training_call', id, 'training_call.create', {
    plan_id: plan.id,
    kind: input.kind,
    title: input.title,
    trainees: input.trainees,
    budget_fen: input.budgetFen,
    providers: input.providers,
  });
  return callInScope(ctx.tx, id);
}

export interface BidInput {
  providerId: string;
  pricePerTraineeFen: number;
  scores: { scheme: number; capacity: number; record: number };
}

/** Records a provider's bid with the panel's scores on an open call (one bid per provider). */
export async function createBid(ctx: Context, callId: string, input: BidInput): Promise<TrainingCallRow> {
  const call = await ownCall(ctx, callId);
  if (call.status !== 'open') {
    throw new ApiError('conflict', `Call ${call.title} is closed: the providers were selected.`);
  }
  const [provider] = await getTrainingProviders(ctx.tx, [input.providerId]);
  if (provider?.divisionCode !== call.divisionCode) {
    throw new ApiError('unprocessable', `Provider ${input.providerId} is not a provider of the county.`, [
      { field: 'provider_id', message: 'Not a provider of the county', code: 'not_found' },
    ]);
  }
  const id = await insertTrainingBid(ctx.tx, {
    divisionCode: call.divisionCode,
    callId: call.id,
    providerId: provider.id,
    pricePerTraineeFen: input.pricePerTraineeFen,
    scores: input.scores,
    createdBy: ctx.actor.sub,
  });
  if (!id) {
    throw new ApiError('conflict', `${provider.name} has already bid on this call.`, [
      { field: 'provider_id', message: '同一承训单位重复投标', code: 'duplicate_provider' },
    ]);
  }
  await audit(ctx, call.divisionCode, 'training_call', call.id, 'training_call.bid', {
    bid_id: id,
    provider_id: provider.id,
    provider_name: provider.name,
    price_per_trainee_fen: input.pricePerTraineeFen,
    scores: input.scores,
  });
  return callInScope(ctx.tx, call.id);
}

/**
 * Ranks the bids with the province's selection rules and per-trainee caps in force today and records
 * the selection with its reasons; too few qualifying bids answer 422 `too_few_bids` and record nothing.
 */
export async function selectCall(ctx: Context, callId: string): Promise<TrainingCallRow> {
  const call = await ownCall(ctx, callId);
  if (call.status !== 'open') throw new ApiError('conflict', `Call ${call.title} was already decided.`);
  const on = today(ctx.now);
  const rules = await loadPolicyValue(ctx.tx, providerSelectionRulesParameter, call.divisionCode, on);
  const budget = await loadPolicyValue(ctx.tx, trainingBudgetRulesParameter, call.divisionCode, on);
  const result = selectProviders(
    {
      kind: call.kind as TrainingKind,
      trainees: call.trainees,
      budgetFen: call.budgetFen,
      providers: call.providers,
    },
    call.bids.map((b) => ({
      providerId: b.providerId,
      pricePerTraineeFen: b.pricePerTraineeFen,
      scores: b.scores,
    })),
    rules.value,
    budget.value.perTraineeCapFen,
  );
  if (!result.ok) {
    throw new ApiError(
      'unprocessable',
      `No selection (${rules.source}): ${result.violations.map((v) => v.message).join('；')}.`,
      result.violations.map((v) => ({ field: 'bids', message: v.message, code: v.code })),
    );
  }
  const names = new Map(call.bids.map((b) => [b.providerId, b.providerName]));
  const selection = {
    selected: result.selected,
    ranking: result.ranking.map((r) => ({ ...r, providerName: names.get(r.providerId) ?? null })),
    disqualified: result.disqualified.map((d) => ({ ...d, providerName: names.get(d.providerId) ?? null })),
    minBids: rules.value.minBids,
    weights: rules.value.weights,
    rulesSource: rules.source,
    perTraineeCapFen: budget.value.perTraineeCapFen[call.kind as TrainingKind],
    on,
  };
  await recordTrainingSelection(ctx.tx, call, selection);
  await audit(ctx, call.divisionCode, 'training_call', call.id, 'training_call.select', {
    status: changed('open', 'selected'),
    selected: result.selected.map((p) => names.get(p) ?? p),
    reasons: result.ranking.map((r) => r.reason),
    disqualified: result.disqualified.map((d) => `${names.get(d.providerId) ?? d.providerId}: ${d.message}`),
    rules_source: rules.source,
  });
  return callInScope(ctx.tx, call.id);
}

// ── Sessions ────────────────────────────────────────────────────────────────────────────────────

export interface SessionInput {
  planId: string;
  kind: TrainingKind;
  heldOn: string;
  place: string;
  providerId: string | null;
  course: string;
  trainees: number;
  personIds: string[];
  materials: number;
  costFen: number;
}

/**
 * Records a session of an approved plan and counts its cost against the plan line: checkTrainingSpend
 * for the message, the province's cap per trainee on the session, then one guarded UPDATE of the line
 * (spent + cost ≤ budget) so that concurrent sessions never exceed the approved budget together.
 */
export async function createSession(ctx: Context, input: SessionInput): Promise<TrainingSessionRow> {
  requireCounty(ctx, 'Training sessions');
  const { plan, line } = await approvedLine(ctx, input.planId, input.kind);
  const label = trainingKindLabels[input.kind];
  if (Number(input.heldOn.slice(0, 4)) !== plan.year) {
    throw new ApiError('unprocessable', `A session of the ${plan.year} plan is held in ${plan.year}.`, [
      { field: 'held_on', message: `Not in ${plan.year}`, code: 'outside_plan_year' },
    ]);
  }
  const rules = await loadPolicyValue(
    ctx.tx,
    trainingBudgetRulesParameter,
    plan.divisionCode,
    today(ctx.now),
  );
  const cap = rules.value.perTraineeCapFen[input.kind];
  if (BigInt(input.costFen) > BigInt(cap) * BigInt(input.trainees)) {
    throw new ApiError(
      'unprocessable',
      `${label}人均 ${formatYuan(Math.round(input.costFen / input.trainees))} 元，超过上限 ${formatYuan(cap)} 元 (${rules.source}).`,
      [{ field: 'cost_fen', message: '人均培训费用超过上限', code: 'cost_per_trainee_above_cap' }],
    );
  }
  if (new Set(input.personIds).size !== input.personIds.length || input.personIds.length > input.trainees) {
    throw new ApiError('unprocessable', 'The registered persons repeat, or outnumber the trainees.', [
      { field: 'person_ids', message: 'Repeated, or more than the trainees', code: 'invalid' },
    ]);
  }
  const known = await countyPersonIds(ctx.tx, plan.divisionCode, input.personIds);
  const unknown = input.personIds.findIndex((p) => !known.has(p));
  if (unknown >= 0) {
    throw new ApiError(
      'unprocessable',
      `Person ${input.personIds[unknown]} is not registered in the county.`,
      [
        {
          field: `person_ids.${unknown}`,
          message: 'Not a registered person of the county',
          code: 'not_found',
        },
      ],
    );
  }
  if (input.providerId !== null) {
    const [provider] = await getTrainingProviders(ctx.tx, [input.providerId]);
    if (provider?.divisionCode !== plan.divisionCode) {
      throw new ApiError('unprocessable', `Provider ${input.providerId} is not a provider of the county.`, [
        { field: 'provider_id', message: 'Not a provider of the county', code: 'not_found' },
      ]);
    }
    const selected = await selectedTrainingProviders(ctx.tx, plan, input.kind);
    if (selected.calls > 0 && !selected.providers.includes(provider.id)) {
      throw new ApiError('unprocessable', `${provider.name} was not selected for ${label} of this plan.`, [
        { field: 'provider_id', message: '未经竞争性选择入选', code: 'provider_not_selected' },
      ]);
    }
  }
  const spend = checkTrainingSpend(
    true,
    [{ kind: input.kind, approvedFen: line.budgetFen, spentFen: line.spentFen }],
    { kind: input.kind, amountFen: input.costFen },
    rules.value.perTraineeCapFen,
  );
  const after =
    spend.length === 0 ? await spendOnTrainingLine(ctx.tx, plan, input.kind, input.costFen) : undefined;
  if (after === undefined) {
    // Read again: a concurrent session may have spent meanwhile (the guarded UPDATE saw its row).
    const now = (await planInScope(ctx.tx, plan.id)).lines.find((l) => l.kind === input.kind);
    const left = Math.max(0, line.budgetFen - (now?.spentFen ?? line.spentFen));
    throw new ApiError(
      'training_budget_exceeded',
      `${label}支出将超过批复经费 ${formatYuan(line.budgetFen)} 元：尚可支出 ${left} fen (${formatYuan(left)} 元)，本次 ${input.costFen} fen.`,
      [{ field: 'cost_fen', message: `尚可支出 ${left} fen`, code: 'above_approved_budget' }],
    );
  }
  const id = await insertTrainingSession(ctx.tx, {
    divisionCode: plan.divisionCode,
    planId: plan.id,
    kind: input.kind,
    heldOn: input.heldOn,
    place: input.place,
    providerId: input.providerId,
    course: input.course,
    trainees: input.trainees,
    materials: input.materials,
    costFen: input.costFen,
    personIds: input.personIds,
    createdBy: ctx.actor.sub,
  });
  await audit(ctx, plan.divisionCode, 'training_session', id, 'training_session.create', {
    plan_id: plan.id,
    kind: input.kind,
    held_on: input.heldOn,
    place: input.place,
    provider_id: input.providerId,
    course: input.course,
    trainees: input.trainees,
    person_ids: input.personIds.length,
    materials: input.materials,
    cost_fen: input.costFen,
    spent_fen: changed(after - input.costFen, after),
  });
  return sessionInScope(ctx.tx, id);
}

export async function sessionInScope(tx: Tx, id: string): Promise<TrainingSessionRow> {
  const session = await getTrainingSession(tx, id);
  if (!session) throw new ApiError('not_found', `Training session ${id} was not found.`);
  return session;
}

// ── Oversight ───────────────────────────────────────────────────────────────────────────────────

/** Plan vs done per county of the scope for a year, with 双过半 on `on` (within the year). */
export async function progressReport(tx: Tx, range: { lo: number; hi: number }, year: number, on: string) {
  const rows = await trainingProgressRows(tx, { range, year, on });
  const start = `${year}-01-01`;
  const end = `${year}-12-31`;
  const at = on < start ? start : on > end ? end : on;
  return rows.map((r) => {
    const planned = {
      sessions: r.plannedSessions,
      traineeTimes: r.plannedTraineeTimes,
      spendFen: r.budgetFen,
    };
    const done = { sessions: r.doneSessions, traineeTimes: r.doneTraineeTimes, spendFen: r.spentFen };
    return { row: r, planned, done, progress: trainingProgress({ start, end, on: at, planned, done }) };
  });
}

export type { FundingSource };
