import {
  appendAudit,
  type CollectiveIncome,
  countDemonstrationVillages,
  countyLocalities,
  type DemonstrationVillage,
  getCollectiveIncome,
  getDemonstrationVillage,
  insertDemonstrationAssessment,
  insertDemonstrationVillage,
  listDemonstrationAssessments,
  liveDemonstrationVillage,
  lockDemonstrationQuota,
  type Tx,
  updateDemonstrationVillage,
  upsertCollectiveIncome,
} from '@houfu/db';
import {
  type AssessmentOutcome,
  assess,
  assessmentOutcomeLabels,
  type DemonstrationStandard,
  demonstrationEligibilityParameter,
  demonstrationFundingParameter,
  demonstrationQuotaParameter,
  demonstrationScoringParameter,
  divisionLevel,
  eligibility,
  eligibilityReasonLabels,
  fundingCheck,
  isWithin,
  quotaCheck,
} from '@houfu/domain';
import { today } from '../../lib/dates.js';
import { loadPolicyValue } from '../../lib/policy.js';
import { ApiError, type FieldError } from '../../lib/problem.js';
import type { ServiceContext } from '../../lib/service-context.js';

/** What the demonstration-village services need from a request. */
export type Context = Pick<ServiceContext, 'tx' | 'actor' | 'requestId' | 'now'>;

/** Statuses that hold a place of the county's quota and block another application of the village. */
const LIVE = ['applied', 'named'] as const;

function audit(
  ctx: Context,
  division: number,
  entityType: string,
  entityId: string,
  action: string,
  changes: Record<string, { old: unknown; new: unknown }>,
) {
  return appendAudit(ctx.tx, {
    division,
    occurredAt: ctx.now,
    actor: ctx.actor,
    action,
    entityType,
    entityId,
    changes,
    requestId: ctx.requestId,
  });
}
const added = (v: unknown) => ({ old: null, new: v });

/** An application the caller's scope sees, else 404 (the same answer as one that does not exist). */
export async function villageInScope(
  tx: Tx,
  id: string,
  options: { lock?: boolean } = {},
): Promise<DemonstrationVillage> {
  const village = await getDemonstrationVillage(tx, id, options);
  if (!village) throw new ApiError('not_found', `Demonstration village ${id} was not found.`);
  return village;
}

/** 422 unless `code` is a village of the county (active when `active`). */
async function checkVillage(tx: Tx, county: number, code: number, active: boolean): Promise<void> {
  const [found] = await countyLocalities(tx, county, [code]);
  if (found?.level !== 'village' || (active && !found.active)) {
    throw new ApiError(
      'unprocessable',
      `${code} is not ${active ? 'an active' : 'a'} village of county ${county}.`,
      [{ field: 'village_code', message: `Not a village of county ${county}`, code: 'unknown_village' }],
    );
  }
}

interface Figures {
  migrants: number;
  population: number;
  developmentPlan: string | null;
  collectiveIncomeFen: number;
  plannedTotalFen: number;
  plannedIntegratedFen: number;
}

/** Eligibility 遴选条件 and funding 资金 rules of the county's province in force on `on`: 422 naming each. */
async function checkRules(ctx: Context, county: number, f: Figures, on: string): Promise<void> {
  const errors: FieldError[] = [];
  if (f.migrants > f.population) {
    errors.push({ field: 'migrants', message: 'More migrants than the population', code: 'invalid' });
  }
  if (f.plannedIntegratedFen > f.plannedTotalFen) {
    errors.push({
      field: 'planned_integrated_fen',
      message: 'Integrated funds exceed the planned total',
      code: 'invalid',
    });
  }
  if (errors.length > 0) throw new ApiError('unprocessable', errors.map((e) => e.message).join('; '), errors);
  const rules = await loadPolicyValue(ctx.tx, demonstrationEligibilityParameter, county, on);
  const reasons = eligibility(
    {
      migrants: f.migrants,
      population: f.population,
      hasDevelopmentPlan: f.developmentPlan !== null,
      collectiveIncomeFen: f.collectiveIncomeFen,
    },
    rules.value,
  );
  const fieldOf = {
    migrant_share_below: 'migrants',
    no_development_plan: 'development_plan',
    collective_income_below: 'collective_income_fen',
  } as const;
  for (const r of reasons) {
    errors.push({ field: fieldOf[r], message: eligibilityReasonLabels[r], code: r });
  }
  const funding = await loadPolicyValue(ctx.tx, demonstrationFundingParameter, county, on);
  for (const v of fundingCheck(
    { totalFen: f.plannedTotalFen, integratedFen: f.plannedIntegratedFen },
    funding.value,
  )) {
    errors.push({
      field: v.code === 'above_cap' ? 'planned_total_fen' : 'planned_integrated_fen',
      message: v.message,
      code: v.code,
    });
  }
  if (errors.length > 0) {
    throw new ApiError(
      'unprocessable',
      `The village does not meet the province's rules (${rules.source}; ${funding.source}): ${errors.map((e) => e.message).join('; ')}.`,
      errors,
    );
  }
}

/** 409 `quota_exceeded` when the county already has `used` places of the year (province parameter on `on`). */
async function checkQuota(
  ctx: Context,
  county: number,
  year: number,
  used: number,
  on: string,
): Promise<void> {
  const quota = await loadPolicyValue(ctx.tx, demonstrationQuotaParameter, county, on);
  const violation = quotaCheck(used, quota.value);
  if (violation) {
    throw new ApiError(
      'quota_exceeded',
      `${violation.message} (county ${county}, ${year}; ${quota.source}).`,
      [{ field: 'year', message: violation.message, code: violation.code }],
    );
  }
}

export interface ApplicationInput {
  villageCode: number;
  year: number;
  migrants: number;
  population: number;
  developmentPlan: string | null;
  plannedTotalFen: number;
  plannedIntegratedFen: number;
}

/**
 * A county applies 申报 for one of its villages: the village's collective income of the year before
 * must be recorded; the province's eligibility and funding rules in force today must hold (422 naming
 * each); the county's quota of the year (applications applied or named) must have a place (409
 * `quota_exceeded`), decided under a per-county-and-year lock so that concurrent applications cannot
 * both take the last place; a village has at most one live application (409).
 */
export async function apply(ctx: Context, input: ApplicationInput): Promise<DemonstrationVillage> {
  const county = ctx.actor.division;
  if (divisionLevel(county) !== 'county') {
    throw new ApiError('forbidden', 'Demonstration villages are applied for by the county bureau.');
  }
  await checkVillage(ctx.tx, county, input.villageCode, true);
  const income = await getCollectiveIncome(ctx.tx, county, input.villageCode, input.year - 1);
  if (!income) {
    throw new ApiError(
      'unprocessable',
      `The collective income of village ${input.villageCode} in ${input.year - 1} is not recorded: record it first (POST /v1/collective-incomes).`,
      [
        {
          field: 'village_code',
          message: `No collective income of ${input.year - 1}`,
          code: 'collective_income_missing',
        },
      ],
    );
  }
  const on = today(ctx.now);
  const figures: Figures = { ...input, collectiveIncomeFen: income.incomeFen };
  await checkRules(ctx, county, figures, on);
  await lockDemonstrationQuota(ctx.tx, county, input.year);
  const live = await liveDemonstrationVillage(ctx.tx, county, input.villageCode);
  if (live) {
    throw new ApiError(
      'conflict',
      `Village ${input.villageCode} already has a live application (${live.year}, ${live.status}).`,
      [{ field: 'village_code', message: 'Already applied or named', code: 'duplicate' }],
    );
  }
  await checkQuota(
    ctx,
    county,
    input.year,
    await countDemonstrationVillages(ctx.tx, county, input.year, LIVE),
    on,
  );
  const id = await insertDemonstrationVillage(ctx.tx, {
    divisionCode: county,
    villageCode: input.villageCode,
    year: input.year,
    migrants: input.migrants,
    population: input.population,
    developmentPlan: input.developmentPlan,
    collectiveIncomeFen: income.incomeFen,
    plannedTotalFen: input.plannedTotalFen,
    plannedIntegratedFen: input.plannedIntegratedFen,
    createdBy: ctx.actor.sub,
  });
  await audit(ctx, county, 'demonstration_village', id, 'demonstration_village.apply', {
    village_code: added(input.villageCode),
    year: added(input.year),
    migrants: added(input.migrants),
    population: added(input.population),
    development_plan: added(input.developmentPlan),
    collective_income_fen: added(income.incomeFen),
    planned_total_fen: added(input.plannedTotalFen),
    planned_integrated_fen: added(input.plannedIntegratedFen),
    status: added('applied'),
  });
  return villageInScope(ctx.tx, id);
}

export interface AssessmentInput {
  scores: Record<DemonstrationStandard, number>;
  assessedOn: string;
  comment: string | null;
}

/**
 * The province assesses 考核验收 an applied village or re-assesses 复核 a named one, with the scoring
 * of the province in force on the day of the assessment. A first assessment that names the village
 * re-checks the eligibility and funding rules and the quota of named villages (under the county-year
 * lock); a re-assessment that fails revokes the name (摘牌), one that passes sets the next due date.
 */
export async function assessVillage(
  ctx: Context,
  id: string,
  input: AssessmentInput,
): Promise<DemonstrationVillage> {
  const village = await villageInScope(ctx.tx, id, { lock: true });
  if (
    divisionLevel(ctx.actor.division) !== 'province' ||
    !isWithin(village.divisionCode, ctx.actor.division)
  ) {
    throw new ApiError('forbidden', 'Demonstration villages are assessed and named by their province.');
  }
  if (village.status !== 'applied' && village.status !== 'named') {
    throw new ApiError(
      'conflict',
      `Demonstration village ${id} is ${village.status}: only an applied or named village is assessed.`,
    );
  }
  const on = today(ctx.now);
  if (input.assessedOn > on) {
    throw new ApiError('unprocessable', 'An assessment is recorded once it has taken place.', [
      { field: 'assessed_on', message: 'In the future', code: 'future_date' },
    ]);
  }
  const history = await listDemonstrationAssessments(ctx.tx, village);
  const last = history.at(-1);
  if (last && input.assessedOn < last.assessedOn) {
    throw new ApiError('unprocessable', `The last assessment was on ${last.assessedOn}.`, [
      {
        field: 'assessed_on',
        message: `Before the last assessment (${last.assessedOn})`,
        code: 'out_of_order',
      },
    ]);
  }
  const scoring = await loadPolicyValue(
    ctx.tx,
    demonstrationScoringParameter,
    village.divisionCode,
    input.assessedOn,
  );
  const result = assess(input.scores, scoring.value);
  const kind = village.status === 'applied' ? 'initial' : 'reassessment';
  const passed = result.outcome !== 'failed';
  if (kind === 'initial' && passed) {
    await checkRules(ctx, village.divisionCode, village, input.assessedOn);
    await lockDemonstrationQuota(ctx.tx, village.divisionCode, village.year);
    const named = await countDemonstrationVillages(
      ctx.tx,
      village.divisionCode,
      village.year,
      ['named'],
      village.id,
    );
    await checkQuota(ctx, village.divisionCode, village.year, named, input.assessedOn);
  }
  const status = passed ? 'named' : kind === 'initial' ? 'failed' : 'revoked';
  const reassessDue = result.reassessDue ? result.reassessDue(input.assessedOn) : null;
  const namedOn = passed ? (village.namedOn ?? input.assessedOn) : null;
  await updateDemonstrationVillage(
    ctx.tx,
    village,
    {
      status,
      provincial: result.outcome === 'named_provincial',
      totalHundredths: result.totalHundredths,
      namedOn,
      reassessDue,
    },
    ctx.actor.sub,
  );
  await insertDemonstrationAssessment(ctx.tx, village, {
    kind,
    assessedOn: input.assessedOn,
    scores: input.scores,
    totalHundredths: result.totalHundredths,
    outcome: result.outcome,
    statusAfter: status,
    reassessDue,
    comment: input.comment,
    actor: ctx.actor.sub,
    actorDivision: ctx.actor.division,
  });
  await audit(
    ctx,
    village.divisionCode,
    'demonstration_village',
    village.id,
    kind === 'initial' ? 'demonstration_village.assess' : 'demonstration_village.reassess',
    {
      status: { old: village.status, new: status },
      provincial: { old: village.provincial, new: result.outcome === 'named_provincial' },
      scores: added(input.scores),
      total_score: added(result.totalScore),
      outcome: added(`${result.outcome} ${assessmentOutcomeLabels[result.outcome as AssessmentOutcome]}`),
      assessed_on: added(input.assessedOn),
      reassess_due: { old: village.reassessDue, new: reassessDue },
      comment: added(input.comment),
    },
  );
  return villageInScope(ctx.tx, id);
}

export interface IncomeInput {
  villageCode: number;
  year: number;
  incomeFen: number;
  note: string | null;
}

/** Records (or corrects) a village's collective income 村集体收入 of a year; audited with the old figure. */
export async function recordIncome(ctx: Context, input: IncomeInput): Promise<CollectiveIncome> {
  const county = ctx.actor.division;
  if (divisionLevel(county) !== 'county') {
    throw new ApiError('forbidden', 'Collective incomes are recorded by the county bureau.');
  }
  if (input.year > Number(today(ctx.now).slice(0, 4))) {
    throw new ApiError('unprocessable', 'A year’s income is recorded once the year has begun.', [
      { field: 'year', message: 'In the future', code: 'future_year' },
    ]);
  }
  await checkVillage(ctx.tx, county, input.villageCode, false);
  const before = await getCollectiveIncome(ctx.tx, county, input.villageCode, input.year, { lock: true });
  const after = await upsertCollectiveIncome(ctx.tx, {
    divisionCode: county,
    villageCode: input.villageCode,
    year: input.year,
    incomeFen: input.incomeFen,
    note: input.note,
    by: ctx.actor.sub,
  });
  await audit(
    ctx,
    county,
    'collective_income',
    `${input.villageCode}:${input.year}`,
    before ? 'collective_income.correct' : 'collective_income.record',
    {
      village_code: { old: before ? input.villageCode : null, new: input.villageCode },
      year: { old: before ? input.year : null, new: input.year },
      income_fen: { old: before?.incomeFen ?? null, new: input.incomeFen },
      note: { old: before?.note ?? null, new: input.note },
    },
  );
  return after;
}
