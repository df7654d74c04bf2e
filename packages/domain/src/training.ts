/**
 * Training 移民培训 and vocational education aid 移民子女职业教育资助 (issue 6):
 * the annual training plan 年度培训计划 of a county with its budget and approval
 * route, the competitive selection of training providers 承训单位竞争性选择, the
 * budget rules checked on every write, the vocational education aid for
 * migrants' children, and the plan-versus-done oversight with 双过半.
 *
 * Pure rules: every date is passed in as ISO `YYYY-MM-DD` (no clock); money is
 * integer fen 分; every provincial rule is a parameter (**param**) citing its source.
 */

import { z } from 'zod';
import { assertIsoDate } from './internal/calendar.js';
import { assertCount, isOneOf } from './internal/checks.js';
import { type Fen, formatYuan, sumFen } from './money.js';
import { defineParameter, type Parameter } from './parameters.js';
import { type DoubleHalfResult, doubleHalf } from './progress.js';
import {
  type ApprovalStep,
  type ApprovalThresholds,
  approvalRoute,
  approvalThresholdsSchema,
  type CategoryFundingRule,
  checkFunding,
  type FundingLine,
  type FundingViolation,
} from './projects.js';

function firstIssue(error: z.ZodError): string {
  return error.issues[0]?.message ?? 'rejected';
}

function parseWith<T>(schema: z.ZodType<T>, value: unknown, what: string): T {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw new RangeError(`invalid ${what}: ${firstIssue(parsed.error)}`);
  return parsed.data;
}

function assertOneOf<T extends string>(list: readonly T[], v: unknown, what: string): asserts v is T {
  if (!isOneOf(list, v)) throw new RangeError(`${what} must be one of ${list.join(', ')}, got ${String(v)}`);
}

function assertObject(v: unknown, what: string): void {
  if (v === null || typeof v !== 'object' || Array.isArray(v))
    throw new RangeError(`${what} must be an object`);
}

/** a > b·n, exactly (BigInt). */
function exceedsTimes(a: number, b: number, n: number): boolean {
  return BigInt(a) > BigInt(b) * BigInt(n);
}

/** round_half_up(a / b) for a ≥ 0, b > 0, exactly. */
function divHalfUp(a: bigint, b: bigint): bigint {
  return (2n * a + b) / (2n * b);
}

function hundredthsText(h: number): string {
  const frac = h % 100;
  return `${(h - frac) / 100}.${String(frac).padStart(2, '0')}`;
}

const fenSchema = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
const percentSchema = z.number().int().min(0).max(100);
const YUAN = 100; // fen in 1 yuan

/* ------------------------------------------------------------------------ */
/* Kinds of training 培训类别                                                 */
/* ------------------------------------------------------------------------ */

/**
 * Kind of training: cadre training 移民干部培训 (county, township and village
 * staff who do resettlement work) or practical-skills training of migrants
 * 移民实用技术培训 (farming, aquaculture, vocational skills).
 */
export const trainingKinds = ['cadre', 'practical_skills'] as const;
/** One kind of training. */
export type TrainingKind = (typeof trainingKinds)[number];
/** Chinese labels of {@link trainingKinds}. */
export const trainingKindLabels: Readonly<Record<TrainingKind, string>> = Object.freeze({
  cadre: '移民干部培训',
  practical_skills: '移民实用技术培训',
});
/** Zod schema for a kind of training. */
export const trainingKindSchema = z.enum(trainingKinds);

/* ------------------------------------------------------------------------ */
/* Budget rules 培训经费标准 (**param**)                                        */
/* ------------------------------------------------------------------------ */

/** A province's budget rules for training 培训经费标准 (**param**). */
export interface TrainingBudgetRules {
  /** Largest cost per trainee 人均培训费用上限 by kind, in fen (budget ≤ cap × trainees, exact). */
  perTraineeCapFen: Record<TrainingKind, Fen>;
  /** Largest annual training budget of one county 县级年度培训经费上限, in fen; `null`: no cap. */
  countyAnnualCapFen: Fen | null;
  /** Largest share of cadre training in the plan's budget, integer percent; `null`: no rule. */
  maxCadreSharePercent: number | null;
  /** Smallest share of migrants' practical-skills training in the plan's budget, integer percent; `null`: no rule. */
  minPracticalSharePercent: number | null;
}

/** Zod schema for {@link TrainingBudgetRules}: positive caps, shares 0..100. */
export const trainingBudgetRulesSchema: z.ZodType<TrainingBudgetRules> = z
  .object({
    perTraineeCapFen: z.object({ cadre: fenSchema.min(1), practical_skills: fenSchema.min(1) }).strict(),
    countyAnnualCapFen: fenSchema.min(1).nullable(),
    maxCadreSharePercent: percentSchema.nullable(),
    minPracticalSharePercent: percentSchema.nullable(),
  })
  .strict();

/**
 * Budget rules of training 培训经费标准 (**param**): 1,000 yuan per cadre trainee,
 * 800 yuan per migrant trainee, no county cap and no split rule nationally.
 */
export const trainingBudgetRulesParameter: Parameter<TrainingBudgetRules> =
  defineParameter<TrainingBudgetRules>({
    id: 'training.budget_rules',
    description:
      'Budget rules of resettlement training (培训经费标准): the largest cost per trainee by kind (人均培训费用上限, fen), the largest annual training budget of a county (fen, null = none), and the split between cadre and migrant training (largest cadre share, smallest practical-skills share, percent, null = none).',
    schema: trainingBudgetRulesSchema,
    national: [
      {
        from: '2006-07-01',
        value: {
          perTraineeCapFen: { cadre: 1_000 * YUAN, practical_skills: 800 * YUAN },
          countyAnnualCapFen: null,
          maxCadreSharePercent: null,
          minPracticalSharePercent: null,
        },
        source:
          'default, not from a source (DOMAIN.md Training: per-trainee cost caps and cost shares are **param**; the 800-yuan migrant cap sits just above seed 000: 77.42万 for 1,014 trainees ≈ 763.51 yuan each)',
      },
    ],
    provinces: {},
  });

/**
 * Cost per trainee 人均培训费用 in fen, rounded half up to the fen: seed 000's
 * 77.42万 yuan for 1,014 trainees = 77,420,000 / 1,014 = 76,351.08 → 76,351 fen
 * (763.51 yuan; DOMAIN.md's "about 763.5"). For display only: caps are checked
 * exactly on the totals (total ≤ cap × trainees), never on this rounded figure.
 * Throws RangeError on a negative or non-integer amount, or no trainees.
 */
export function costPerTraineeFen(totalFen: Fen, trainees: number): Fen {
  assertCount(totalFen, 'total');
  assertCount(trainees, 'trainees');
  if (trainees === 0) throw new RangeError('trainees must be positive');
  return Number(divHalfUp(BigInt(totalFen), BigInt(trainees)));
}

/* ------------------------------------------------------------------------ */
/* Annual plan 年度培训计划                                                    */
/* ------------------------------------------------------------------------ */

/** One line of a county's annual training plan: one kind of training. */
export interface TrainingPlanLine {
  kind: TrainingKind;
  /** Planned sessions 培训期（场）次. */
  sessions: number;
  /** Planned trainees 培训人数 (people); the per-trainee cap applies to them. */
  trainees: number;
  /** Planned trainee-times 培训人次 (one trainee at three sessions counts three), at least the trainees. */
  traineeTimes: number;
  /** Courses 培训内容, e.g. `柑桔`, `蔬菜生产`, `水产养殖`. */
  courses: readonly string[];
  /** Budget of the line, in fen. */
  budgetFen: Fen;
}

/** A county's annual training plan 年度培训计划. */
export interface TrainingPlan {
  lines: readonly TrainingPlanLine[];
  /** Where the money comes from 资金来源; the lines must add up to the plan's budget. */
  fundingLines: readonly FundingLine[];
}

/** Codes of {@link checkTrainingPlan} violations, in result order. */
export const trainingPlanViolationCodes = [
  'empty',
  'duplicate_kind',
  'no_trainees',
  'no_courses',
  'trainee_times_below_trainees',
  'cost_per_trainee_above_cap',
  'funding',
  'above_county_cap',
  'cadre_share_above_maximum',
  'practical_share_below_minimum',
] as const;
/** One plan violation code. */
export type TrainingPlanViolationCode = (typeof trainingPlanViolationCodes)[number];
/** Chinese labels of {@link trainingPlanViolationCodes}. */
export const trainingPlanViolationLabels: Readonly<Record<TrainingPlanViolationCode, string>> = Object.freeze(
  {
    empty: '培训计划为空',
    duplicate_kind: '培训类别重复',
    no_trainees: '未填写培训人数',
    no_courses: '未填写培训内容',
    trainee_times_below_trainees: '培训人次少于培训人数',
    cost_per_trainee_above_cap: '人均培训费用超过上限',
    funding: '资金来源不符合要求',
    above_county_cap: '超过县级年度培训经费上限',
    cadre_share_above_maximum: '干部培训经费占比过高',
    practical_share_below_minimum: '移民实用技术培训经费占比不足',
  },
);

/** A broken plan rule. */
export interface TrainingPlanViolation {
  code: TrainingPlanViolationCode;
  kind?: TrainingKind;
  /** Index of the plan line (line rules). */
  line?: number;
  /** `cost_per_trainee_above_cap`: the cap per trainee; `above_county_cap`: the county cap. */
  limitFen?: Fen;
  /** `cost_per_trainee_above_cap`: the plan's cost per trainee, rounded half up ({@link costPerTraineeFen}). */
  actualFen?: Fen;
  /** Share rules: the required percent. */
  percent?: number;
  /** `funding`: the funding violation of {@link checkFunding}. */
  funding?: FundingViolation;
  /** Chinese message for the user. */
  message: string;
}

function checkLine(line: TrainingPlanLine, i: number): void {
  assertObject(line, `plan line #${i}`);
  assertOneOf(trainingKinds, line.kind, `plan line #${i}: kind`);
  assertCount(line.sessions, `plan line #${i}: sessions`);
  assertCount(line.trainees, `plan line #${i}: trainees`);
  assertCount(line.traineeTimes, `plan line #${i}: traineeTimes`);
  assertCount(line.budgetFen, `plan line #${i}: budgetFen`);
  if (!Array.isArray(line.courses)) throw new RangeError(`plan line #${i}: courses must be an array`);
  for (const c of line.courses) {
    if (typeof c !== 'string') throw new RangeError(`plan line #${i}: courses must be strings`);
  }
}

/** The plan's budget 计划总经费: the sum of its lines, in fen. Throws RangeError on invalid lines. */
export function trainingPlanBudgetFen(plan: TrainingPlan): Fen {
  assertObject(plan, 'plan');
  if (!Array.isArray(plan.lines)) throw new RangeError('plan lines must be an array');
  (plan.lines as readonly TrainingPlanLine[]).forEach(checkLine);
  return sumFen(plan.lines.map((l) => l.budgetFen));
}

/**
 * Checks a county's annual training plan on every write. Returns the
 * violations (`[]` = ok), in this order: `empty` (no line; nothing else is
 * checked); per line: `duplicate_kind` (a kind after its first line),
 * `no_trainees` (0 trainees, or a budget with 0 sessions), `no_courses` (no
 * non-blank course), `trainee_times_below_trainees`,
 * `cost_per_trainee_above_cap` (budget > cap × trainees, exact); then one
 * `funding` per violation of {@link checkFunding} on the funding lines against
 * the plan's budget (sum of the lines) with the `training` category rule
 * `fundingRule`; then `above_county_cap` (budget > the county cap);
 * `cadre_share_above_maximum` (cadre·100 > max·budget);
 * `practical_share_below_minimum` (practical·100 < min·budget). Shares are
 * compared exactly and skipped on a budget of 0. Throws RangeError on
 * malformed input.
 */
export function checkTrainingPlan(
  plan: TrainingPlan,
  rules: TrainingBudgetRules,
  fundingRule: CategoryFundingRule = {},
): TrainingPlanViolation[] {
  const r = parseWith(trainingBudgetRulesSchema, rules, 'training budget rules');
  const budget = trainingPlanBudgetFen(plan);
  if (!Array.isArray(plan.fundingLines)) throw new RangeError('plan fundingLines must be an array');
  const out: TrainingPlanViolation[] = [];
  if (plan.lines.length === 0) {
    out.push({ code: 'empty', message: '培训计划未填写任何培训类别' });
    return out;
  }
  const seen = new Set<TrainingKind>();
  const byKind: Record<TrainingKind, Fen> = { cadre: 0, practical_skills: 0 };
  for (const [i, line] of plan.lines.entries()) {
    const label = trainingKindLabels[line.kind];
    byKind[line.kind] = sumFen([byKind[line.kind], line.budgetFen]);
    if (seen.has(line.kind)) {
      out.push({
        code: 'duplicate_kind',
        kind: line.kind,
        line: i,
        message: `${label}重复，每类培训只能填写一行`,
      });
    }
    seen.add(line.kind);
    if (line.trainees === 0 || (line.sessions === 0 && line.budgetFen > 0)) {
      out.push({
        code: 'no_trainees',
        kind: line.kind,
        line: i,
        message: `${label}未填写培训人数或期次`,
      });
    }
    if (!line.courses.some((c) => c.trim() !== '')) {
      out.push({ code: 'no_courses', kind: line.kind, line: i, message: `${label}未填写培训内容` });
    }
    if (line.traineeTimes < line.trainees) {
      out.push({
        code: 'trainee_times_below_trainees',
        kind: line.kind,
        line: i,
        message: `${label}培训人次（${line.traineeTimes}）少于培训人数（${line.trainees}）`,
      });
    }
    const cap = r.perTraineeCapFen[line.kind];
    if (line.trainees > 0 && exceedsTimes(line.budgetFen, cap, line.trainees)) {
      const actual = costPerTraineeFen(line.budgetFen, line.trainees);
      out.push({
        code: 'cost_per_trainee_above_cap',
        kind: line.kind,
        line: i,
        limitFen: cap,
        actualFen: actual,
        message: `${label}人均 ${formatYuan(actual)} 元，超过上限 ${formatYuan(cap)} 元`,
      });
    }
  }
  for (const f of checkFunding(budget, plan.fundingLines, fundingRule)) {
    out.push({ code: 'funding', funding: f, message: f.message });
  }
  if (r.countyAnnualCapFen !== null && budget > r.countyAnnualCapFen) {
    out.push({
      code: 'above_county_cap',
      limitFen: r.countyAnnualCapFen,
      message: `培训计划总经费 ${formatYuan(budget)} 元超过县级年度上限 ${formatYuan(r.countyAnnualCapFen)} 元`,
    });
  }
  if (budget > 0) {
    const max = r.maxCadreSharePercent;
    if (max !== null && BigInt(byKind.cadre) * 100n > BigInt(max) * BigInt(budget)) {
      out.push({
        code: 'cadre_share_above_maximum',
        kind: 'cadre',
        percent: max,
        message: `干部培训经费占比超过 ${max}%`,
      });
    }
    const min = r.minPracticalSharePercent;
    if (min !== null && BigInt(byKind.practical_skills) * 100n < BigInt(min) * BigInt(budget)) {
      out.push({
        code: 'practical_share_below_minimum',
        kind: 'practical_skills',
        percent: min,
        message: `移民实用技术培训经费占比低于 ${min}%`,
      });
    }
  }
  return out;
}

/* ------------------------------------------------------------------------ */
/* Approval route 审批流程                                                    */
/* ------------------------------------------------------------------------ */

/**
 * Approval thresholds of annual training plans 培训计划审批权限 (**param**), in
 * fen, read like projects' {@link approvalRoute}: 100万 and 50万 yuan.
 */
export const trainingApprovalThresholdsParameter: Parameter<ApprovalThresholds> =
  defineParameter<ApprovalThresholds>({
    id: 'training.approval_thresholds',
    description:
      'Approval thresholds of annual training plans (培训计划审批权限), in fen, applied like the post-support project route: from provinceFen the province approves; from cityDesignFen the province approves the plan and the city the implementation scheme (实施方案); below, the city approves and the province records (备案).',
    schema: approvalThresholdsSchema,
    national: [
      {
        from: '2006-07-01',
        value: { provinceFen: 100_000_000, cityDesignFen: 50_000_000 },
        source:
          'default, not from a source: mirrors the post-support project thresholds (DOMAIN.md 后扶项目 workflow, one province: 100万 / 50万); DOMAIN.md Training names no thresholds',
      },
    ],
    provinces: {},
  });

/**
 * The approval route of an annual training plan of `budgetFen`: the same
 * steps as {@link approvalRoute} with {@link trainingApprovalThresholdsParameter};
 * for a plan the `feasibility` scope is the plan and `design` its
 * implementation scheme 实施方案. Seed 000's 77.42万 plan: city review →
 * province approves the plan → city approves the scheme.
 */
export function trainingApprovalRoute(budgetFen: Fen, thresholds: ApprovalThresholds): ApprovalStep[] {
  return approvalRoute(budgetFen, thresholds);
}

/* ------------------------------------------------------------------------ */
/* Provider selection 承训单位竞争性选择                                        */
/* ------------------------------------------------------------------------ */

/** Criteria bids are scored on 评分因素; `price` is computed, the others given by the panel. */
export const bidCriteria = ['price', 'scheme', 'capacity', 'record'] as const;
/** One criterion. */
export type BidCriterion = (typeof bidCriteria)[number];
/** Chinese labels of {@link bidCriteria}. */
export const bidCriterionLabels: Readonly<Record<BidCriterion, string>> = Object.freeze({
  price: '报价',
  scheme: '培训方案',
  capacity: '师资与场地',
  record: '以往培训业绩',
});
/** Zod schema for a criterion. */
export const bidCriterionSchema = z.enum(bidCriteria);

/** Criteria scored by the panel 评审打分 (all but `price`). */
export type PanelCriterion = Exclude<BidCriterion, 'price'>;
const panelCriteria: readonly PanelCriterion[] = ['scheme', 'capacity', 'record'];

/** How providers are selected (**param**). */
export interface ProviderSelectionRules {
  /** Fewest qualifying bids 有效投标 for a selection; fewer and the call fails. */
  minBids: number;
  /** Weight of each criterion, integers adding up to 100. */
  weights: Record<BidCriterion, number>;
}

const weightsSchema = z
  .object({ price: percentSchema, scheme: percentSchema, capacity: percentSchema, record: percentSchema })
  .strict();

/** Zod schema for {@link ProviderSelectionRules}: minBids ≥ 1, weights adding up to 100. */
export const providerSelectionRulesSchema: z.ZodType<ProviderSelectionRules> = z
  .object({ minBids: z.number().int().min(1).max(100), weights: weightsSchema })
  .strict()
  .refine((r) => bidCriteria.reduce((a, k) => a + r.weights[k], 0) === 100, {
    message: 'the weights must add up to 100',
    path: ['weights'],
  });

/**
 * Competitive selection of training providers 承训单位竞争性选择 (**param**):
 * at least 3 qualifying bids; weights price 30, scheme 40, capacity 20, record 10.
 */
export const providerSelectionRulesParameter: Parameter<ProviderSelectionRules> =
  defineParameter<ProviderSelectionRules>({
    id: 'training.provider_selection',
    description:
      'Competitive selection of training providers (承训单位竞争性选择): the fewest qualifying bids for a selection, and the weights of price, training scheme, teachers and premises, and past record (integers adding up to 100).',
    schema: providerSelectionRulesSchema,
    national: [
      {
        from: '2006-07-01',
        value: { minBids: 3, weights: { price: 30, scheme: 40, capacity: 20, record: 10 } },
        source:
          'default, not from a source (seed 000: 培训项目承训单位竞争工程, providers chosen competitively, 2 selected; DOMAIN.md Training: the number of bids required is **param**)',
      },
    ],
    provinces: {},
  });

/** A call for bids 招标（竞争性选择） for one plan line. */
export interface CallForBids {
  kind: TrainingKind;
  /** Trainees to be trained under the call. */
  trainees: number;
  /** The call's budget, in fen. */
  budgetFen: Fen;
  /** How many providers to select (seed 000: 2). */
  providers: number;
}

/** A provider's bid 投标. */
export interface TrainingBid {
  /** Identifier of the provider 承训单位 (one bid per provider). */
  providerId: string;
  /** Price per trainee 人均报价, in fen (positive). */
  pricePerTraineeFen: Fen;
  /** The panel's scores 评审得分, integers 0..100. */
  scores: Record<PanelCriterion, number>;
}

/** Why a bid is not ranked 无效投标. */
export const bidDisqualifications = ['above_per_trainee_cap', 'above_call_budget'] as const;
/** One disqualification. */
export type BidDisqualification = (typeof bidDisqualifications)[number];
/** Chinese labels of {@link bidDisqualifications}. */
export const bidDisqualificationLabels: Readonly<Record<BidDisqualification, string>> = Object.freeze({
  above_per_trainee_cap: '人均报价超过省定上限',
  above_call_budget: '报价总额超过项目预算',
});

/** A bid not ranked, and why. */
export interface DisqualifiedBid {
  providerId: string;
  reason: BidDisqualification;
  message: string;
}

/** A ranked bid: its scores in hundredths of a point (`9235` = 92.35). */
export interface RankedBid {
  rank: number;
  providerId: string;
  pricePerTraineeFen: Fen;
  /** Weighted points per criterion, hundredths (price half up, others exact). */
  pointsHundredths: Record<BidCriterion, number>;
  /** Total weighted score, hundredths. */
  totalHundredths: number;
  /** Total as text with 2 decimals, `"92.35"`. */
  totalScore: string;
  selected: boolean;
  /** Chinese reason, `第1名，综合得分 92.35（报价 30.00，…），入选`. */
  reason: string;
}

/** Codes of selection violations, in result order. */
export const selectionViolationCodes = [
  'weights_not_100',
  'duplicate_provider',
  'too_few_bids',
  'fewer_bids_than_providers',
] as const;
/** One selection violation code. */
export type SelectionViolationCode = (typeof selectionViolationCodes)[number];
/** Chinese labels of {@link selectionViolationCodes}. */
export const selectionViolationLabels: Readonly<Record<SelectionViolationCode, string>> = Object.freeze({
  weights_not_100: '评分权重合计不等于100',
  duplicate_provider: '同一承训单位重复投标',
  too_few_bids: '有效投标不足',
  fewer_bids_than_providers: '有效投标少于拟选承训单位数',
});

/** Why a selection cannot be made. */
export interface SelectionViolation {
  code: SelectionViolationCode;
  /** `duplicate_provider`: the provider. */
  providerId?: string;
  /** `too_few_bids` / `fewer_bids_than_providers`: qualifying bids and the required number. */
  qualifying?: number;
  required?: number;
  message: string;
}

/** Result of {@link selectProviders}. */
export type SelectionResult =
  | { ok: true; ranking: RankedBid[]; selected: string[]; disqualified: DisqualifiedBid[] }
  | { ok: false; violations: SelectionViolation[]; disqualified: DisqualifiedBid[] };

function checkBid(bid: TrainingBid, i: number): void {
  assertObject(bid, `bid #${i}`);
  if (typeof bid.providerId !== 'string' || bid.providerId.trim() === '') {
    throw new RangeError(`bid #${i}: providerId must be a non-empty string`);
  }
  assertCount(bid.pricePerTraineeFen, `bid #${i}: pricePerTraineeFen`);
  if (bid.pricePerTraineeFen === 0) throw new RangeError(`bid #${i}: pricePerTraineeFen must be positive`);
  assertObject(bid.scores, `bid #${i}: scores`);
  for (const key of Object.keys(bid.scores)) {
    assertOneOf(panelCriteria, key, `bid #${i}: score criterion`);
  }
  for (const k of panelCriteria) {
    const v = bid.scores[k];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 100) {
      throw new RangeError(`bid #${i}: score of ${k} must be an integer 0..100, got ${String(v)}`);
    }
  }
}

/**
 * Ranks the bids of a call and selects its providers 承训单位.
 *
 * 1. The weights must add up to 100 (`weights_not_100`), one bid per provider
 *    (`duplicate_provider`, per provider after its first bid).
 * 2. A bid is disqualified when its price per trainee is above the province
 *    cap of the call's kind (`above_per_trainee_cap`), or price × trainees is
 *    above the call's budget (`above_call_budget`).
 * 3. Fewer qualifying bids than `minBids` fail the call (`too_few_bids`), as
 *    do fewer than the providers wanted (`fewer_bids_than_providers`).
 * 4. Price points = weight × lowest qualifying price / price (the lowest price
 *    takes the full weight), in hundredths rounded half up; other points =
 *    weight × score (exact in hundredths); the total is their sum.
 * 5. Ranking: total descending, then lower price, then provider id
 *    (so the result is deterministic); the first `providers` are selected.
 *
 * Returns `{ ok: true, ranking, selected, disqualified }` or `{ ok: false,
 * violations, disqualified }` (violations in {@link selectionViolationCodes}
 * order). Throws RangeError on malformed input (scores not integers 0..100, a
 * price of 0, a call without trainees or providers, a negative minBids).
 */
export function selectProviders(
  call: CallForBids,
  bids: readonly TrainingBid[],
  rules: ProviderSelectionRules,
  perTraineeCapFen: Record<TrainingKind, Fen>,
): SelectionResult {
  assertObject(call, 'call');
  assertOneOf(trainingKinds, call.kind, 'call kind');
  assertCount(call.trainees, 'call trainees');
  assertCount(call.budgetFen, 'call budgetFen');
  assertCount(call.providers, 'call providers');
  if (call.trainees === 0) throw new RangeError('call trainees must be positive');
  if (call.providers === 0) throw new RangeError('call providers must be positive');
  assertObject(rules, 'selection rules');
  assertCount(rules.minBids, 'minBids');
  const weights = parseWith(weightsSchema, rules.weights, 'weights');
  assertObject(perTraineeCapFen, 'perTraineeCapFen');
  const cap = assertCount(perTraineeCapFen[call.kind], `perTraineeCapFen.${call.kind}`);
  if (!Array.isArray(bids)) throw new RangeError('bids must be an array');
  (bids as readonly TrainingBid[]).forEach(checkBid);

  const violations: SelectionViolation[] = [];
  const weightSum = bidCriteria.reduce((a, k) => a + weights[k], 0);
  if (weightSum !== 100) {
    violations.push({ code: 'weights_not_100', message: `评分权重合计为 ${weightSum}，应为 100` });
  }
  const seen = new Set<string>();
  const duplicates = new Set<string>();
  for (const b of bids) {
    if (seen.has(b.providerId)) duplicates.add(b.providerId);
    seen.add(b.providerId);
  }
  for (const id of [...duplicates].sort()) {
    violations.push({ code: 'duplicate_provider', providerId: id, message: `承训单位 ${id} 重复投标` });
  }

  const disqualified: DisqualifiedBid[] = [];
  const qualifying: TrainingBid[] = [];
  for (const b of bids) {
    if (b.pricePerTraineeFen > cap) {
      disqualified.push({
        providerId: b.providerId,
        reason: 'above_per_trainee_cap',
        message: `人均报价 ${formatYuan(b.pricePerTraineeFen)} 元超过上限 ${formatYuan(cap)} 元`,
      });
    } else if (BigInt(b.pricePerTraineeFen) * BigInt(call.trainees) > BigInt(call.budgetFen)) {
      disqualified.push({
        providerId: b.providerId,
        reason: 'above_call_budget',
        message: `报价总额超过项目预算 ${formatYuan(call.budgetFen)} 元`,
      });
    } else {
      qualifying.push(b);
    }
  }
  if (qualifying.length < rules.minBids) {
    violations.push({
      code: 'too_few_bids',
      qualifying: qualifying.length,
      required: rules.minBids,
      message: `有效投标 ${qualifying.length} 家，少于规定的 ${rules.minBids} 家`,
    });
  }
  if (qualifying.length < call.providers) {
    violations.push({
      code: 'fewer_bids_than_providers',
      qualifying: qualifying.length,
      required: call.providers,
      message: `有效投标 ${qualifying.length} 家，少于拟选承训单位 ${call.providers} 家`,
    });
  }
  if (violations.length > 0) return { ok: false, violations, disqualified };

  const lowest = Math.min(...qualifying.map((b) => b.pricePerTraineeFen));
  const scored = qualifying.map((b) => {
    const points: Record<BidCriterion, number> = {
      price: Number(divHalfUp(BigInt(weights.price) * 100n * BigInt(lowest), BigInt(b.pricePerTraineeFen))),
      scheme: weights.scheme * b.scores.scheme,
      capacity: weights.capacity * b.scores.capacity,
      record: weights.record * b.scores.record,
    };
    const total = bidCriteria.reduce((a, k) => a + points[k], 0);
    return { bid: b, points, total };
  });
  scored.sort(
    (a, b) =>
      b.total - a.total ||
      a.bid.pricePerTraineeFen - b.bid.pricePerTraineeFen ||
      (a.bid.providerId < b.bid.providerId ? -1 : a.bid.providerId > b.bid.providerId ? 1 : 0),
  );
  const ranking: RankedBid[] = scored.map((s, i) => {
    const selected = i < call.providers;
    const detail = bidCriteria
      .map((k) => `${bidCriterionLabels[k]} ${hundredthsText(s.points[k])}`)
      .join('，');
    return {
      rank: i + 1,
      providerId: s.bid.providerId,
      pricePerTraineeFen: s.bid.pricePerTraineeFen,
      pointsHundredths: s.points,
      totalHundredths: s.total,
      totalScore: hundredthsText(s.total),
      selected,
      reason: `第${i + 1}名，综合得分 ${hundredthsText(s.total)}（${detail}），${selected ? '入选' : '未入选'}`,
    };
  });
  return {
    ok: true,
    ranking,
    selected: ranking.filter((r) => r.selected).map((r) => r.providerId),
    disqualified,
  };
}

/* ------------------------------------------------------------------------ */
/* Spending 经费支出                                                          */
/* ------------------------------------------------------------------------ */

/** One kind's approved budget and spending so far. */
export interface TrainingBudgetLine {
  kind: TrainingKind;
  /** Approved budget 批复经费, in fen. */
  approvedFen: Fen;
  /** Spent so far 已支出, in fen. */
  spentFen: Fen;
}

/** A proposed spending write 经费支出 (payment to a provider, materials, …). */
export interface TrainingSpend {
  kind: TrainingKind;
  /** This write, positive, in fen. */
  amountFen: Fen;
  /**
   * Set when the write settles the kind 结算: the trainees actually trained,
   * against which the per-trainee cap is checked on the total spent.
   */
  settlementTrainees?: number;
}

/** Codes of {@link checkTrainingSpend} violations, in result order. */
export const trainingSpendViolationCodes = [
  'plan_not_approved',
  'no_budget_line',
  'above_approved_budget',
  'cost_per_trainee_above_cap',
] as const;
/** One spend violation code. */
export type TrainingSpendViolationCode = (typeof trainingSpendViolationCodes)[number];
/** Chinese labels of {@link trainingSpendViolationCodes}. */
export const trainingSpendViolationLabels: Readonly<Record<TrainingSpendViolationCode, string>> =
  Object.freeze({
    plan_not_approved: '培训计划未批复',
    no_budget_line: '计划中无此类培训',
    above_approved_budget: '超过批复经费',
    cost_per_trainee_above_cap: '人均培训费用超过上限',
  });

/** A spending write that breaks a budget rule. */
export interface TrainingSpendViolation {
  code: TrainingSpendViolationCode;
  kind?: TrainingKind;
  /** `above_approved_budget`: what may still be spent; `cost_per_trainee_above_cap`: the cap per trainee. */
  limitFen?: Fen;
  message: string;
}

/**
 * Checks a spending write against the approved plan (run on every write):
 * `plan_not_approved` (no approved plan, no money: 条例 Art. 38, as for
 * projects; nothing else is checked); `no_budget_line` (the plan has no line of
 * the kind); `above_approved_budget` (spent + amount > approved, per kind;
 * `limitFen` = what is left); on a settlement, `cost_per_trainee_above_cap`
 * (spent + amount > cap × trainees trained, exact; 0 trainees always breaks
 * it). Returns `[]` when the write may go ahead. Throws RangeError on
 * malformed input, a non-positive amount, or two lines of one kind.
 */
export function checkTrainingSpend(
  approved: boolean,
  lines: readonly TrainingBudgetLine[],
  spend: TrainingSpend,
  perTraineeCapFen: Record<TrainingKind, Fen>,
): TrainingSpendViolation[] {
  if (typeof approved !== 'boolean') throw new RangeError('approved must be a boolean');
  if (!Array.isArray(lines)) throw new RangeError('budget lines must be an array');
  const byKind = new Map<TrainingKind, TrainingBudgetLine>();
  for (const [i, l] of (lines as readonly TrainingBudgetLine[]).entries()) {
    assertObject(l, `budget line #${i}`);
    assertOneOf(trainingKinds, l.kind, `budget line #${i}: kind`);
    assertCount(l.approvedFen, `budget line #${i}: approvedFen`);
    assertCount(l.spentFen, `budget line #${i}: spentFen`);
    if (byKind.has(l.kind)) throw new RangeError(`budget line #${i}: a second line of ${l.kind}`);
    byKind.set(l.kind, l);
  }
  assertObject(spend, 'spend');
  assertOneOf(trainingKinds, spend.kind, 'spend kind');
  assertCount(spend.amountFen, 'spend amountFen');
  if (spend.amountFen === 0) throw new RangeError('spend amountFen must be positive');
  if (spend.settlementTrainees !== undefined) assertCount(spend.settlementTrainees, 'settlementTrainees');
  assertObject(perTraineeCapFen, 'perTraineeCapFen');
  const cap = assertCount(perTraineeCapFen[spend.kind], `perTraineeCapFen.${spend.kind}`);

  const label = trainingKindLabels[spend.kind];
  if (!approved) return [{ code: 'plan_not_approved', message: '培训计划未经批复，不得支出' }];
  const line = byKind.get(spend.kind);
  if (line === undefined) {
    return [{ code: 'no_budget_line', kind: spend.kind, message: `批复计划中没有${label}` }];
  }
  const out: TrainingSpendViolation[] = [];
  const after = sumFen([line.spentFen, spend.amountFen]);
  if (after > line.approvedFen) {
    const left = Math.max(0, line.approvedFen - line.spentFen);
    out.push({
      code: 'above_approved_budget',
      kind: spend.kind,
      limitFen: left,
      message: `${label}支出将超过批复经费 ${formatYuan(line.approvedFen)} 元，尚可支出 ${formatYuan(left)} 元`,
    });
  }
  const trained = spend.settlementTrainees;
  if (trained !== undefined && (trained === 0 || exceedsTimes(after, cap, trained))) {
    out.push({
      code: 'cost_per_trainee_above_cap',
      kind: spend.kind,
      limitFen: cap,
      message:
        trained === 0
          ? `${label}结算时无实际培训人数`
          : `${label}结算人均 ${formatYuan(costPerTraineeFen(after, trained))} 元，超过上限 ${formatYuan(cap)} 元`,
    });
  }
  return out;
}

/* ------------------------------------------------------------------------ */
/* Vocational education aid 移民子女职业教育资助                                */
/* ------------------------------------------------------------------------ */

/** Level of vocational education 职业教育层次 aided. */
export const vocationalLevels = ['secondary', 'higher', 'technician'] as const;
/** One level. */
export type VocationalLevel = (typeof vocationalLevels)[number];
/** Chinese labels of {@link vocationalLevels}. */
export const vocationalLevelLabels: Readonly<Record<VocationalLevel, string>> = Object.freeze({
  secondary: '中等职业教育',
  higher: '高等职业教育',
  technician: '技工院校',
});
/** Zod schema for a level. */
export const vocationalLevelSchema = z.enum(vocationalLevels);

/** Yearly amount range of one level, in fen, both ends included. */
export interface AidRange {
  minFen: Fen;
  maxFen: Fen;
}

/** A province's vocational education aid rules 职业教育资助标准 (**param**). */
export interface VocationalAidRules {
  /** Yearly amount range 每生每年资助标准 by level, in fen. */
  amountByLevel: Record<VocationalLevel, AidRange>;
  /** Largest share of the recognised yearly costs 认定的学费等费用, integer percent; `null`: no rule. */
  maxCostSharePercent: number | null;
  /** Youngest and oldest age on the application date, in whole years, both included. */
  minAge: number;
  maxAge: number;
  /** Most years a child may be aided 资助年限. */
  maxYears: number;
  /** Only children of registered migrants 登记在册移民子女 may be aided. */
  requiresRegisteredMigrantParent: boolean;
}

const aidRangeSchema = z
  .object({ minFen: fenSchema, maxFen: fenSchema.min(1) })
  .strict()
  .refine((r) => r.minFen <= r.maxFen, { message: 'minFen must not exceed maxFen', path: ['minFen'] });

/** Zod schema for {@link VocationalAidRules}. */
export const vocationalAidRulesSchema: z.ZodType<VocationalAidRules> = z
  .object({
    amountByLevel: z
      .object({ secondary: aidRangeSchema, higher: aidRangeSchema, technician: aidRangeSchema })
      .strict(),
    maxCostSharePercent: percentSchema.min(1).nullable(),
    minAge: z.number().int().min(0).max(100),
    maxAge: z.number().int().min(0).max(100),
    maxYears: z.number().int().min(1).max(10),
    requiresRegisteredMigrantParent: z.boolean(),
  })
  .strict()
  .refine((r) => r.minAge <= r.maxAge, { message: 'minAge must not exceed maxAge', path: ['minAge'] });

const aidDefault: AidRange = { minFen: 1_000 * YUAN, maxFen: 4_000 * YUAN };

/**
 * Vocational education aid for migrants' children 移民子女职业教育资助 (**param**):
 * 1,000–4,000 yuan a year, at most 45% of recognised costs, ages 14–22, 3 years.
 */
export const vocationalAidRulesParameter: Parameter<VocationalAidRules> = defineParameter<VocationalAidRules>(
  {
    id: 'training.vocational_aid',
    description:
      "Vocational education aid for migrants' children (移民子女职业教育资助): the yearly amount range by level (fen), the largest share of recognised costs (percent, null = none), the age range on the application date (whole years, both included), the most years aided, and whether a registered migrant parent is required.",
    schema: vocationalAidRulesSchema,
    national: [
      {
        from: '2006-07-01',
        value: {
          amountByLevel: { secondary: aidDefault, higher: aidDefault, technician: aidDefault },
          maxCostSharePercent: 45,
          minAge: 14,
          maxAge: 22,
          maxYears: 3,
          requiresRegisteredMigrantParent: true,
        },
        source:
          'DOMAIN.md Training: one province 1,000–4,000 yuan a year by level and 45% of recognised vocational training costs; another ages 14–22, 3 years (combined here as the default; the split of 1,000–4,000 by level is not in the source, so every level gets the whole range); registered migrant parent: default, not from a source (seed 000: 移民子女享受职业教育资助政策办理流程)',
      },
    ],
    provinces: {},
  },
);

/** An application for vocational education aid 职业教育资助申请. */
export interface VocationalAidApplication {
  /** The child's birth date (from the resident ID number). */
  birthDate: string;
  /** The application date 申请日期, on which the age is taken. */
  today: string;
  /** The school year aided, by its starting calendar year (`2026` = 2026–27). */
  year: number;
  level: VocationalLevel;
  /** The yearly amount applied for, in fen. */
  amountFen: Fen;
  /** Recognised costs of the year 认定费用 (tuition etc.), in fen; needed by the cost-share rule. */
  recognisedCostFen?: Fen;
  /** School years already aided (any level; repeats count once). */
  aidedYears: readonly number[];
  /** A parent is a registered migrant 登记在册移民 on `today`. */
  parentIsRegisteredMigrant: boolean;
}

/** Codes of {@link checkVocationalAid} violations, in result order. */
export const vocationalAidViolationCodes = [
  'not_migrant_child',
  'age_below_minimum',
  'age_above_maximum',
  'already_aided_this_year',
  'duration_exceeded',
  'amount_below_level_minimum',
  'amount_above_level_maximum',
  'cost_unknown',
  'amount_above_cost_share',
] as const;
/** One aid violation code. */
export type VocationalAidViolationCode = (typeof vocationalAidViolationCodes)[number];
/** Chinese labels of {@link vocationalAidViolationCodes}. */
export const vocationalAidViolationLabels: Readonly<Record<VocationalAidViolationCode, string>> =
  Object.freeze({
    not_migrant_child: '非登记在册移民子女',
    age_below_minimum: '年龄低于资助下限',
    age_above_maximum: '年龄超过资助上限',
    already_aided_this_year: '本学年已资助',
    duration_exceeded: '超过资助年限',
    amount_below_level_minimum: '资助金额低于该层次标准',
    amount_above_level_maximum: '资助金额高于该层次标准',
    cost_unknown: '未认定培训费用',
    amount_above_cost_share: '资助金额超过认定费用比例',
  });

/** An application that breaks a rule. */
export interface VocationalAidViolation {
  code: VocationalAidViolationCode;
  /** Age rules: the age on `today`; duration: the years aided with this one; amounts: the limit in fen. */
  actual?: number;
  limit?: number;
  message: string;
}

/**
 * Age in whole years on `today` of someone born on `birthDate` (a birthday on
 * 29 February is reached on 1 March in common years). Throws RangeError on bad
 * dates or `today` before `birthDate`.
 */
export function ageOn(birthDate: string, today: string): number {
  assertIsoDate(birthDate, 'birthDate');
  assertIsoDate(today, 'today');
  if (today < birthDate) throw new RangeError(`today ${today} is before the birth date ${birthDate}`);
  const years = Number(today.slice(0, 4)) - Number(birthDate.slice(0, 4));
  return today.slice(5) >= birthDate.slice(5) ? years : years - 1;
}

/**
 * Checks an application for vocational education aid. Returns the violations
 * (`[]` = eligible for the amount), in {@link vocationalAidViolationCodes}
 * order: `not_migrant_child` (when the rule requires a registered migrant
 * parent); `age_below_minimum` / `age_above_maximum` (whole years on
 * `today`, both bounds included: 14 on the 14th birthday, still 22 the day
 * before the 23rd); `already_aided_this_year`; `duration_exceeded` (distinct
 * years already aided, other than this one, + 1 > maxYears); amount outside
 * the level's range (both ends included); with a cost-share rule,
 * `cost_unknown` when no recognised cost is given, else
 * `amount_above_cost_share` when amount·100 > percent·cost (exact). Throws
 * RangeError on malformed input.
 */
export function checkVocationalAid(
  app: VocationalAidApplication,
  rules: VocationalAidRules,
): VocationalAidViolation[] {
  const r = parseWith(vocationalAidRulesSchema, rules, 'vocational aid rules');
  assertObject(app, 'application');
  const age = ageOn(app.birthDate, app.today);
  if (!Number.isSafeInteger(app.year) || app.year < 1900 || app.year > 9999) {
    throw new RangeError(`year must be a calendar year, got ${String(app.year)}`);
  }
  assertOneOf(vocationalLevels, app.level, 'level');
  assertCount(app.amountFen, 'amountFen');
  if (app.recognisedCostFen !== undefined) assertCount(app.recognisedCostFen, 'recognisedCostFen');
  if (!Array.isArray(app.aidedYears)) throw new RangeError('aidedYears must be an array');
  for (const y of app.aidedYears) {
    if (!Number.isSafeInteger(y)) throw new RangeError(`aidedYears must be integers, got ${String(y)}`);
  }
  if (typeof app.parentIsRegisteredMigrant !== 'boolean') {
    throw new RangeError('parentIsRegisteredMigrant must be a boolean');
  }

  const out: VocationalAidViolation[] = [];
  if (r.requiresRegisteredMigrantParent && !app.parentIsRegisteredMigrant) {
    out.push({ code: 'not_migrant_child', message: '申请人父母不是登记在册的移民' });
  }
  if (age < r.minAge) {
    out.push({
      code: 'age_below_minimum',
      actual: age,
      limit: r.minAge,
      message: `申请日年龄 ${age} 周岁，低于 ${r.minAge} 周岁`,
    });
  }
  if (age > r.maxAge) {
    out.push({
      code: 'age_above_maximum',
      actual: age,
      limit: r.maxAge,
      message: `申请日年龄 ${age} 周岁，超过 ${r.maxAge} 周岁`,
    });
  }
  const previous = new Set(app.aidedYears);
  if (previous.has(app.year)) {
    out.push({ code: 'already_aided_this_year', message: `${app.year} 学年已享受资助` });
  }
  previous.delete(app.year);
  if (previous.size + 1 > r.maxYears) {
    out.push({
      code: 'duration_exceeded',
      actual: previous.size + 1,
      limit: r.maxYears,
      message: `已资助 ${previous.size} 年，资助年限最多 ${r.maxYears} 年`,
    });
  }
  const range = r.amountByLevel[app.level];
  const levelLabel = vocationalLevelLabels[app.level];
  if (app.amountFen < range.minFen) {
    out.push({
      code: 'amount_below_level_minimum',
      actual: app.amountFen,
      limit: range.minFen,
      message: `${levelLabel}每年资助不低于 ${formatYuan(range.minFen)} 元`,
    });
  }
  if (app.amountFen > range.maxFen) {
    out.push({
      code: 'amount_above_level_maximum',
      actual: app.amountFen,
      limit: range.maxFen,
      message: `${levelLabel}每年资助不高于 ${formatYuan(range.maxFen)} 元`,
    });
  }
  const share = r.maxCostSharePercent;
  if (share !== null) {
    if (app.recognisedCostFen === undefined) {
      out.push({ code: 'cost_unknown', message: '未填写认定的培训（学习）费用' });
    } else if (BigInt(app.amountFen) * 100n > BigInt(share) * BigInt(app.recognisedCostFen)) {
      const limit = Number((BigInt(share) * BigInt(app.recognisedCostFen)) / 100n);
      out.push({
        code: 'amount_above_cost_share',
        actual: app.amountFen,
        limit,
        message: `资助金额超过认定费用的 ${share}%（${formatYuan(limit)} 元）`,
      });
    }
  }
  return out;
}

/** Steps of an aid application 资助办理流程: apply → village posting → township review → county pays. */
export const vocationalAidStatuses = ['applied', 'posted', 'township_reviewed', 'paid', 'rejected'] as const;
/** One aid status. */
export type VocationalAidStatus = (typeof vocationalAidStatuses)[number];
/** Chinese labels of {@link vocationalAidStatuses}. */
export const vocationalAidStatusLabels: Readonly<Record<VocationalAidStatus, string>> = Object.freeze({
  applied: '已申请',
  posted: '村级公示',
  township_reviewed: '乡镇审核',
  paid: '县级发放',
  rejected: '不予资助',
});

/**
 * Allowed transitions of an aid application (DOMAIN.md Training: apply →
 * village posts publicly → township reviews → county pays); any step before
 * payment may end in `rejected`; `paid` and `rejected` are final.
 */
export const vocationalAidTransitions: Readonly<Record<VocationalAidStatus, readonly VocationalAidStatus[]>> =
  Object.freeze({
    applied: Object.freeze(['posted', 'rejected'] as const),
    posted: Object.freeze(['township_reviewed', 'rejected'] as const),
    township_reviewed: Object.freeze(['paid', 'rejected'] as const),
    paid: Object.freeze([] as const),
    rejected: Object.freeze([] as const),
  });

/** True when {@link vocationalAidTransitions} allows `from` → `to`. Throws RangeError on an unknown status. */
export function canAidTransition(from: VocationalAidStatus, to: VocationalAidStatus): boolean {
  assertOneOf(vocationalAidStatuses, from, 'from status');
  assertOneOf(vocationalAidStatuses, to, 'to status');
  return vocationalAidTransitions[from].includes(to);
}

/* ------------------------------------------------------------------------ */
/* Oversight 监督检查: plan vs done, 双过半                                     */
/* ------------------------------------------------------------------------ */

/** Measures of training compared plan against done. */
export const trainingMeasures = ['sessions', 'traineeTimes', 'spendFen'] as const;
/** One measure. */
export type TrainingMeasure = (typeof trainingMeasures)[number];
/** Chinese labels of {@link trainingMeasures}. */
export const trainingMeasureLabels: Readonly<Record<TrainingMeasure, string>> = Object.freeze({
  sessions: '培训期次',
  traineeTimes: '培训人次',
  spendFen: '经费支出',
});

/** Planned or done amounts of each measure (counts; spend in fen). */
export type TrainingTotals = Record<TrainingMeasure, number>;

/** What {@link trainingProgress} compares. */
export interface TrainingProgressInput {
  /** The plan year or other period, both ends inclusive. */
  start: string;
  end: string;
  /** Day of the report. */
  on: string;
  planned: TrainingTotals;
  done: TrainingTotals;
}

/** Plan vs done of each measure, and whether all reach 双过半. */
export interface TrainingProgress {
  measures: Record<TrainingMeasure, DoubleHalfResult>;
  /** Every measure reaches 双过半 (time and each target at least half). */
  doubleHalf: boolean;
  /** Measures behind the time elapsed, in {@link trainingMeasures} order. */
  behind: TrainingMeasure[];
}

/**
 * Oversight of a training plan on `on`: each measure (sessions, trainee-times,
 * spend) through {@link doubleHalf}; `doubleHalf` when all three reach it;
 * `behind` lists the measures not on track. Seed 000 (a half-year report):
 * 112 sessions and 10,048 trainee-times done. Throws RangeError on invalid
 * dates or negative or non-integer amounts.
 */
export function trainingProgress(input: TrainingProgressInput): TrainingProgress {
  assertObject(input, 'input');
  assertObject(input.planned, 'planned');
  assertObject(input.done, 'done');
  const period = { start: input.start, end: input.end, on: input.on };
  const measures = {} as Record<TrainingMeasure, DoubleHalfResult>;
  for (const m of trainingMeasures) {
    measures[m] = doubleHalf({ ...period, target: input.planned[m], done: input.done[m] });
  }
  return {
    measures,
    doubleHalf: trainingMeasures.every((m) => measures[m].doubleHalf),
    behind: trainingMeasures.filter((m) => !measures[m].onTrack),
  };
}
