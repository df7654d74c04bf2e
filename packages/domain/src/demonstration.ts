/**
 * Demonstration villages 小康示范村/美丽家园: which migrant villages may be
 * selected 遴选条件, how much each may receive and from where, how many a county
 * may have a year, and the assessment 考核验收 against the five new-countryside
 * standards 新农村建设五项标准 that names a village (provincial-level 省级示范村 at
 * the top) and schedules its re-assessment 复核.
 *
 * Pure rules: dates are passed in as ISO `YYYY-MM-DD`; money is integer fen 分;
 * every rule is a province-overridable parameter (**param**).
 */

import { z } from 'zod';
import { addMonths, assertIsoDate } from './internal/calendar.js';
import { assertCount } from './internal/checks.js';
import { type Fen, formatYuan } from './money.js';
import { defineParameter, type Parameter } from './parameters.js';

function firstIssue(error: z.ZodError): string {
  return error.issues[0]?.message ?? 'rejected';
}

function parseWith<T>(schema: z.ZodType<T>, value: unknown, what: string): T {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw new RangeError(`invalid ${what}: ${firstIssue(parsed.error)}`);
  return parsed.data;
}

const fenSchema = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
const percentSchema = z.number().int().min(0).max(100);

/* ------------------------------------------------------------------------ */
/* The five standards 五项标准                                               */
/* ------------------------------------------------------------------------ */

/** The five new-countryside standards 新农村建设五项标准 a demonstration village is assessed against. */
export const demonstrationStandards = [
  'production',
  'livelihood',
  'civility',
  'cleanliness',
  'democracy',
] as const;
/** One standard. */
export type DemonstrationStandard = (typeof demonstrationStandards)[number];
/** Chinese labels of {@link demonstrationStandards}. */
export const demonstrationStandardLabels: Readonly<Record<DemonstrationStandard, string>> = Object.freeze({
  production: '生产发展',
  livelihood: '生活宽裕',
  civility: '乡风文明',
  cleanliness: '村容整洁',
  democracy: '管理民主',
});
/** Zod schema for a standard. */
export const demonstrationStandardSchema = z.enum(demonstrationStandards);

/* ------------------------------------------------------------------------ */
/* Eligibility 遴选条件                                                       */
/* ------------------------------------------------------------------------ */

/** Who may be selected as a demonstration village (**param**). */
export interface DemonstrationEligibility {
  /** Smallest share of migrants 移民 in the village population, integer percent. */
  minMigrantSharePercent: number;
  /** A village development plan 村发展规划 is required. */
  requiresDevelopmentPlan: boolean;
  /** Smallest collective income 村集体收入 of the last year, in fen. */
  minCollectiveIncomeFen: Fen;
}

/** Zod schema for {@link DemonstrationEligibility}. */
export const demonstrationEligibilitySchema: z.ZodType<DemonstrationEligibility> = z
  .object({
    minMigrantSharePercent: percentSchema,
    requiresDevelopmentPlan: z.boolean(),
    minCollectiveIncomeFen: fenSchema,
  })
  .strict();

/** Selection conditions of demonstration villages 示范村遴选条件 (**param**). */
export const demonstrationEligibilityParameter: Parameter<DemonstrationEligibility> =
  defineParameter<DemonstrationEligibility>({
    id: 'demonstration.eligibility',
    description:
      'Selection conditions of demonstration villages (示范村遴选条件): the smallest share of migrants in the village (percent), whether a development plan is required, and the smallest collective income (fen).',
    schema: demonstrationEligibilitySchema,
    national: [
      {
        from: '2006-07-01',
        value: { minMigrantSharePercent: 50, requiresDevelopmentPlan: true, minCollectiveIncomeFen: 0 },
        source:
          'Houfu default; DOMAIN.md 示范村: migrant villages with a base to build on (share of migrants, a development plan, collective income are set per province)',
      },
    ],
    provinces: {},
  });

/** Why a village may not be selected, in result order. */
export const eligibilityReasons = [
  'migrant_share_below',
  'no_development_plan',
  'collective_income_below',
] as const;
/** One eligibility reason. */
export type EligibilityReason = (typeof eligibilityReasons)[number];
/** Chinese labels of {@link eligibilityReasons}. */
export const eligibilityReasonLabels: Readonly<Record<EligibilityReason, string>> = Object.freeze({
  migrant_share_below: '移民人口比例不足',
  no_development_plan: '无村发展规划',
  collective_income_below: '村集体收入不足',
});

/** What is known about a candidate village. */
export interface VillageCandidate {
  /** Migrants registered in the village. */
  migrants: number;
  /** Village population (at least the migrants, positive). */
  population: number;
  hasDevelopmentPlan: boolean;
  /** Last year's collective income in fen (may be negative). */
  collectiveIncomeFen: Fen;
}

/**
 * Why a village may not be selected (`[]` = eligible), in
 * {@link eligibilityReasons} order: `migrant_share_below` unless
 * migrants·100 ≥ min·population (exact); `no_development_plan` when required
 * and missing; `collective_income_below` when income < the minimum. Throws
 * RangeError on invalid input (population 0, more migrants than population).
 */
export function eligibility(
  village: VillageCandidate,
  params: DemonstrationEligibility,
): EligibilityReason[] {
  const p = parseWith(demonstrationEligibilitySchema, params, 'eligibility parameters');
  if (village === null || typeof village !== 'object') throw new RangeError('village must be an object');
  const migrants = assertCount(village.migrants, 'migrants');
  const population = assertCount(village.population, 'population');
  if (population === 0) throw new RangeError('population must be positive');
  if (migrants > population) throw new RangeError('migrants must not exceed the population');
  if (typeof village.hasDevelopmentPlan !== 'boolean') {
    throw new RangeError('hasDevelopmentPlan must be a boolean');
  }
  if (!Number.isSafeInteger(village.collectiveIncomeFen)) {
    throw new RangeError(
      `collectiveIncomeFen must be a safe integer, got ${String(village.collectiveIncomeFen)}`,
    );
  }
  const reasons: EligibilityReason[] = [];
  if (BigInt(migrants) * 100n < BigInt(p.minMigrantSharePercent) * BigInt(population)) {
    reasons.push('migrant_share_below');
  }
  if (p.requiresDevelopmentPlan && !village.hasDevelopmentPlan) reasons.push('no_development_plan');
  if (village.collectiveIncomeFen < p.minCollectiveIncomeFen) reasons.push('collective_income_below');
  return reasons;
}

/* ------------------------------------------------------------------------ */
/* Funding 资金                                                               */
/* ------------------------------------------------------------------------ */

/** Funding limits of one demonstration village (**param**). */
export interface DemonstrationFunding {
  /** Largest total investment per village, in fen. */
  capPerVillageFen: Fen;
  /** Smallest share from integrated funds of other departments 整合资金, integer percent. */
  minIntegratedSharePercent: number;
}

/** Zod schema for {@link DemonstrationFunding}. */
export const demonstrationFundingSchema: z.ZodType<DemonstrationFunding> = z
  .object({ capPerVillageFen: fenSchema.min(1), minIntegratedSharePercent: percentSchema })
  .strict();

/** Funding limits of demonstration villages 示范村资金 (**param**): 700万 yuan each, ≥ 15% integrated. */
export const demonstrationFundingParameter: Parameter<DemonstrationFunding> =
  defineParameter<DemonstrationFunding>({
    id: 'demonstration.funding',
    description:
      'Funding of a demonstration village (示范村资金): the largest total investment per village (fen) and the smallest share from integrated funds of other departments (整合资金, percent).',
    schema: demonstrationFundingSchema,
    national: [
      {
        from: '2006-07-01',
        value: { capPerVillageFen: 700_000_000, minIntegratedSharePercent: 15 },
        source:
          'seed 003 (DOMAIN.md 示范村): 300 villages, 20亿 ≈ 667万 each → cap 700万; 3亿 of 20亿 (15%) integrated from other departments',
      },
    ],
    provinces: {},
  });

/** A broken funding rule of a demonstration village. */
export interface DemonstrationFundingViolation {
  code: 'above_cap' | 'integrated_share_below';
  /** `above_cap`: the cap in fen. */
  limitFen?: Fen;
  /** `integrated_share_below`: the required percent. */
  percent?: number;
  message: string;
}

/**
 * Funding violations of a village (`[]` = ok): `above_cap` when the total
 * exceeds the cap; `integrated_share_below` unless integrated·100 ≥ min·total
 * (exact; not checked on a total of 0). Throws RangeError on negative or
 * non-integer amounts or integrated funds above the total.
 */
export function fundingCheck(
  funding: { totalFen: Fen; integratedFen: Fen },
  params: DemonstrationFunding,
): DemonstrationFundingViolation[] {
  const p = parseWith(demonstrationFundingSchema, params, 'funding parameters');
  if (funding === null || typeof funding !== 'object') throw new RangeError('funding must be an object');
  const total = assertCount(funding.totalFen, 'totalFen');
  const integrated = assertCount(funding.integratedFen, 'integratedFen');
  if (integrated > total) throw new RangeError('integratedFen must not exceed totalFen');
  const out: DemonstrationFundingViolation[] = [];
  if (total > p.capPerVillageFen) {
    out.push({
      code: 'above_cap',
      limitFen: p.capPerVillageFen,
      message: `示范村总投资 ${formatYuan(total)} 元超过每村上限 ${formatYuan(p.capPerVillageFen)} 元`,
    });
  }
  if (total > 0 && BigInt(integrated) * 100n < BigInt(p.minIntegratedSharePercent) * BigInt(total)) {
    out.push({
      code: 'integrated_share_below',
      percent: p.minIntegratedSharePercent,
      message: `整合其他部门资金占比低于 ${p.minIntegratedSharePercent}%`,
    });
  }
  return out;
}

/* ------------------------------------------------------------------------ */
/* Quota 名额                                                                 */
/* ------------------------------------------------------------------------ */

/** How many villages a county may have selected a year (**param**). */
export interface DemonstrationQuota {
  perCountyPerYear: number;
}

/** Zod schema for {@link DemonstrationQuota}. */
export const demonstrationQuotaSchema: z.ZodType<DemonstrationQuota> = z
  .object({ perCountyPerYear: z.number().int().min(1).max(1000) })
  .strict();

/** Demonstration villages per county per year 每县每年名额 (**param**). */
export const demonstrationQuotaParameter: Parameter<DemonstrationQuota> = defineParameter<DemonstrationQuota>(
  {
    id: 'demonstration.quota',
    description: 'How many demonstration villages a county may have selected per year (每县每年名额).',
    schema: demonstrationQuotaSchema,
    national: [{ from: '2006-07-01', value: { perCountyPerYear: 3 }, source: 'Houfu default' }],
    provinces: {},
  },
);

/** A county's quota is used up. */
export interface QuotaViolation {
  code: 'quota_exceeded';
  perCountyPerYear: number;
  message: string;
}

/**
 * Whether a county that already has `alreadyThisYear` villages selected this
 * year may select one more: `null` when alreadyThisYear < the quota, else
 * `quota_exceeded`. Throws RangeError on a negative or non-integer count.
 */
export function quotaCheck(alreadyThisYear: number, quota: DemonstrationQuota): QuotaViolation | null {
  const q = parseWith(demonstrationQuotaSchema, quota, 'quota');
  assertCount(alreadyThisYear, 'alreadyThisYear');
  if (alreadyThisYear < q.perCountyPerYear) return null;
  return {
    code: 'quota_exceeded',
    perCountyPerYear: q.perCountyPerYear,
    message: `本县本年度示范村名额（${q.perCountyPerYear} 个）已用完`,
  };
}

/* ------------------------------------------------------------------------ */
/* Assessment 考核验收                                                        */
/* ------------------------------------------------------------------------ */

/** How villages are scored and named (**param**). */
export interface DemonstrationScoring {
  /** Weight of each standard, integers adding up to 100. */
  weights: Record<DemonstrationStandard, number>;
  /** Named a demonstration village 命名 from this total score. */
  passScore: number;
  /** Named provincial-level 省级示范村 from this total score (≥ passScore). */
  provincialScore: number;
  /** A named village is re-assessed 复核 after this many years. */
  reassessYears: number;
}

/** Zod schema for {@link DemonstrationScoring}: weights add up to 100, passScore ≤ provincialScore. */
export const demonstrationScoringSchema: z.ZodType<DemonstrationScoring> = z
  .object({
    weights: z
      .object({
        production: percentSchema,
        livelihood: percentSchema,
        civility: percentSchema,
        cleanliness: percentSchema,
        democracy: percentSchema,
      })
      .strict(),
    passScore: percentSchema,
    provincialScore: percentSchema,
    reassessYears: z.number().int().min(1).max(20),
  })
  .strict()
  .refine((s) => demonstrationStandards.reduce((a, k) => a + s.weights[k], 0) === 100, {
    message: 'the weights of the five standards must add up to 100',
    path: ['weights'],
  })
  .refine((s) => s.passScore <= s.provincialScore, {
    message: 'passScore must not exceed provincialScore',
    path: ['provincialScore'],
  });

/** Scoring and naming of demonstration villages 示范村考核 (**param**). */
export const demonstrationScoringParameter: Parameter<DemonstrationScoring> =
  defineParameter<DemonstrationScoring>({
    id: 'demonstration.scoring',
    description:
      'Assessment of demonstration villages (示范村考核): weights of the five standards (adding up to 100), the score to be named, the score to be named provincial-level (省级示范村), and the years until re-assessment (复核).',
    schema: demonstrationScoringSchema,
    national: [
      {
        from: '2006-07-01',
        value: {
          weights: { production: 20, livelihood: 20, civility: 20, cleanliness: 20, democracy: 20 },
          passScore: 80,
          provincialScore: 90,
          reassessYears: 3,
        },
        source:
          'Houfu default; DOMAIN.md 示范村: the five new-countryside standards (生产发展、生活宽裕、乡风文明、村容整洁、管理民主), provincial-level naming (seed 003: 500 of 1,500 named provincial-level)',
      },
    ],
    provinces: {},
  });

/** Outcome of an assessment. */
export const assessmentOutcomes = ['failed', 'named', 'named_provincial'] as const;
/** One assessment outcome. */
export type AssessmentOutcome = (typeof assessmentOutcomes)[number];
/** Chinese labels of {@link assessmentOutcomes}. */
export const assessmentOutcomeLabels: Readonly<Record<AssessmentOutcome, string>> = Object.freeze({
  failed: '未达标',
  named: '命名示范村',
  named_provincial: '省级示范村',
});

/** Result of {@link assess}. */
export interface Assessment {
  /** Weighted total with 2 decimals, `"85.40"`. */
  totalScore: string;
  /** The same in hundredths, `8540`. */
  totalHundredths: number;
  outcome: AssessmentOutcome;
  /** Date of the re-assessment 复核 of a village named on `namedOn`; `null` when failed. */
  reassessDue: ((namedOn: string) => string) | null;
}

/**
 * Assesses a village: the weighted total Σ score·weight / Σ weight (weights
 * add up to 100), rounded half up to 2 decimals (exact in hundredths, since
 * scores and weights are integers); `named_provincial` from provincialScore,
 * `named` from passScore, else `failed` (bounds included). `reassessDue(namedOn)`
 * = namedOn + reassessYears years. Throws RangeError unless every standard has
 * an integer score 0..100 (and no other key) or on invalid scoring.
 */
export function assess(
  scores: Readonly<Record<DemonstrationStandard, number>>,
  scoring: DemonstrationScoring,
): Assessment {
  const s = parseWith(demonstrationScoringSchema, scoring, 'scoring');
  if (scores === null || typeof scores !== 'object') throw new RangeError('scores must be an object');
  for (const key of Object.keys(scores)) {
    if (!(demonstrationStandards as readonly string[]).includes(key)) {
      throw new RangeError(`unknown standard ${JSON.stringify(key)}`);
    }
  }
  let weighted = 0;
  let weights = 0;
  for (const k of demonstrationStandards) {
    const v = scores[k];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 100) {
      throw new RangeError(`score of ${k} must be an integer 0..100, got ${String(v)}`);
    }
    weighted += v * s.weights[k];
    weights += s.weights[k];
  }
  // hundredths = round_half_up(weighted · 100 / weights); weights is 100, so exact.
  const totalHundredths = Math.floor((weighted * 100 * 2 + weights) / (2 * weights));
  const frac = totalHundredths % 100;
  const totalScore = `${(totalHundredths - frac) / 100}.${String(frac).padStart(2, '0')}`;
  const outcome: AssessmentOutcome =
    totalHundredths >= s.provincialScore * 100
      ? 'named_provincial'
      : totalHundredths >= s.passScore * 100
        ? 'named'
        : 'failed';
  const reassessDue =
    outcome === 'failed'
      ? null
      : (namedOn: string) => addMonths(assertIsoDate(namedOn, 'namedOn'), 12 * s.reassessYears);
  return { totalScore, totalHundredths, outcome, reassessDue };
}
