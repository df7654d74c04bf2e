/**
 * Post-support projects 后扶项目: categories 项目类别, funding lines 资金来源 and
 * their checks, the approval route 审批流程, the project status machine 项目状态
 * with the public posting 公示 rule, scope changes 项目变更, the payment schedule
 * 拨付进度, completion acceptance 竣工验收 and idle fund balances 资金结存.
 *
 * Pure rules: every date is passed in as ISO `YYYY-MM-DD`; money is integer fen 分;
 * output quantities are integer thousandths ("milli").
 */

import { z } from 'zod';
import { isLocalityCode } from './divisions.js';
import { addMonths, assertIsoDate, dayNumber } from './internal/calendar.js';
import { isOneOf } from './internal/checks.js';
import { type Fen, formatYuan, sumFen } from './money.js';
import { defineParameter, type Parameter } from './parameters.js';

function assertOneOf<T extends string>(list: readonly T[], v: unknown, what: string): asserts v is T {
  if (!isOneOf(list, v)) throw new RangeError(`${what} must be one of ${list.join(', ')}, got ${String(v)}`);
}

function assertAmount(n: unknown, what: string): Fen {
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0) {
    throw new RangeError(`${what} must be a non-negative integer number of fen, got ${String(n)}`);
  }
  return n;
}

function assertInteger(n: unknown, what: string): number {
  if (typeof n !== 'number' || !Number.isSafeInteger(n)) {
    throw new RangeError(`${what} must be a safe integer, got ${String(n)}`);
  }
  return n;
}

/** part·100 ≥ percent·whole, exactly (BigInt). */
function shareAtLeast(part: number, whole: number, percent: number): boolean {
  return BigInt(part) * 100n >= BigInt(percent) * BigInt(whole);
}

/** part·100 ≤ percent·whole, exactly (BigInt). */
function shareAtMost(part: number, whole: number, percent: number): boolean {
  return BigInt(part) * 100n <= BigInt(percent) * BigInt(whole);
}

/** floor(a·percent/100), exactly. */
function percentOf(a: number, percent: number): number {
  return Number((BigInt(a) * BigInt(percent)) / 100n);
}

const fenSchema = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
const percentSchema = z.number().int().min(0).max(100);

/* ------------------------------------------------------------------------ */
/* Categories 项目类别                                                       */
/* ------------------------------------------------------------------------ */

/** Project category 项目类别 of a post-support project. */
export const projectCategories = [
  'infrastructure',
  'production',
  'new_population',
  'small_reservoir',
  'three_gorges_hardship',
  'demonstration_village',
  'hazard_relief_pilot',
  'training',
  'other',
] as const;
/** One project category. */
export type ProjectCategory = (typeof projectCategories)[number];
/** Chinese labels of {@link projectCategories}. */
export const projectCategoryLabels: Readonly<Record<ProjectCategory, string>> = Object.freeze({
  infrastructure: '基础设施',
  production: '生产开发',
  new_population: '新增人口项目',
  small_reservoir: '小型水库移民扶助基金项目',
  three_gorges_hardship: '三峡外迁移民困难帮扶',
  demonstration_village: '小康示范村/美丽家园',
  hazard_relief_pilot: '避险解困试点',
  training: '培训及职业教育',
  other: '其他',
});
/** Zod schema for a project category. */
export const projectCategorySchema = z.enum(projectCategories);

/** True when projects of category `c` belong to a numbered batch 批次 (hazard relief pilots 避险解困试点). */
export function categoryNeedsBatch(c: ProjectCategory): boolean {
  assertOneOf(projectCategories, c, 'project category');
  return c === 'hazard_relief_pilot';
}

/* ------------------------------------------------------------------------ */
/* Funding sources 资金来源                                                  */
/* ------------------------------------------------------------------------ */

/** Funding source 资金来源 of a project's funding line. */
export const fundingSources = [
  'post_support',
  'three_gorges',
  'small_reservoir',
  'integrated',
  'self_raised',
  'labour',
] as const;
/** One funding source. */
export type FundingSource = (typeof fundingSources)[number];
/** Chinese labels of {@link fundingSources}. */
export const fundingSourceLabels: Readonly<Record<FundingSource, string>> = Object.freeze({
  post_support: '后期扶持资金',
  three_gorges: '三峡后扶资金',
  small_reservoir: '小型水库移民扶助基金',
  integrated: '整合其他部门资金',
  self_raised: '自筹',
  labour: '投劳折资',
});
/** Zod schema for a funding source. */
export const fundingSourceSchema = z.enum(fundingSources);

/**
 * The sources the province allocates 下达 (post-support, Three Gorges and
 * small-reservoir funds): only these lines are drawn from fund allocations.
 */
export const allocatedSources: readonly FundingSource[] = Object.freeze([
  'post_support',
  'three_gorges',
  'small_reservoir',
] as const);

/** True when `s` is one of the {@link allocatedSources}. */
export function isAllocatedSource(s: FundingSource): boolean {
  assertOneOf(fundingSources, s, 'funding source');
  return (allocatedSources as readonly string[]).includes(s);
}

/* ------------------------------------------------------------------------ */
/* Outputs 建设内容 and quantities                                            */
/* ------------------------------------------------------------------------ */

/** Kind of project output 建设内容 (what is built or who benefits). */
export const outputKinds = [
  'road_km',
  'canal_m',
  'pool_m3',
  'bridge',
  'drinking_water_people',
  'other_count',
] as const;
/** One output kind. */
export type OutputKind = (typeof outputKinds)[number];
/** Chinese labels of {@link outputKinds}. */
export const outputKindLabels: Readonly<Record<OutputKind, string>> = Object.freeze({
  road_km: '道路硬化',
  canal_m: '排灌沟渠',
  pool_m3: '蓄水池',
  bridge: '桥梁',
  drinking_water_people: '饮水安全受益人',
  other_count: '其他',
});
/** Unit 计量单位 of each output kind. */
export const outputKindUnits: Readonly<Record<OutputKind, string>> = Object.freeze({
  road_km: 'km',
  canal_m: 'm',
  pool_m3: 'm³',
  bridge: '座',
  drinking_water_people: '人',
  other_count: '个',
});
/** Zod schema for an output kind. */
export const outputKindSchema = z.enum(outputKinds);

/** A quantity in thousandths of its unit ("milli"): `13.62` km → `13620`; always a non-negative safe integer. */
export type Milli = number;

/** Zod schema for a quantity in thousandths (a non-negative safe integer). */
export const milliSchema = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);

/** Zod schema for output quantities by kind (missing kinds are 0). */
export const outputQuantitiesSchema = z.partialRecord(outputKindSchema, milliSchema);

/** Output quantities by kind, in thousandths; a missing kind counts as 0. */
export type OutputQuantities = Partial<Record<OutputKind, Milli>>;

const QUANTITY = /^(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d+))?$/;
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

/**
 * Parses a quantity (`"13.62"`, `"16,000"`, `"0.005"`, or a finite number such
 * as `13.62`) into thousandths: `"13.62"` → `13620`. At most 3 decimals;
 * thousands separators `,` in groups of three; surrounding whitespace is
 * ignored. Negative, non-finite, exponent or malformed input, more than 3
 * decimals, or a result beyond the safe-integer range throw RangeError.
 */
export function parseQuantity(input: string | number): Milli {
  let text: string;
  if (typeof input === 'number') {
    if (!Number.isFinite(input)) throw new RangeError(`quantity must be finite, got ${String(input)}`);
    text = String(input);
  } else if (typeof input === 'string') {
    text = input.trim();
  } else {
    throw new RangeError('quantity must be a string or a number');
  }
  if (text.startsWith('-')) throw new RangeError(`quantity must not be negative: ${JSON.stringify(input)}`);
  const m = QUANTITY.exec(text);
  if (!m) throw new RangeError(`not a quantity: ${JSON.stringify(input)}`);
  const [, whole = '', frac = ''] = m;
  if (frac.length > 3) {
    throw new RangeError(`quantity has more than 3 decimals: ${JSON.stringify(input)}`);
  }
  const milli = BigInt(whole.replaceAll(',', '')) * 1000n + BigInt(frac.padEnd(3, '0'));
  if (milli > MAX_SAFE) throw new RangeError(`quantity out of range: ${JSON.stringify(input)}`);
  return Number(milli);
}

/**
 * Formats thousandths as a plain decimal without trailing zeros or separators:
 * `13620` → `"13.62"`, `16000000` → `"16000"`, `5` → `"0.005"`. Throws
 * RangeError unless `milli` is a non-negative safe integer.
 */
export function formatQuantity(milli: Milli): string {
  if (typeof milli !== 'number' || !Number.isSafeInteger(milli) || milli < 0) {
    throw new RangeError(
      `quantity must be a non-negative integer number of thousandths, got ${String(milli)}`,
    );
  }
  const frac = milli % 1000;
  const whole = (milli - frac) / 1000;
  if (frac === 0) return String(whole);
  return `${whole}.${String(frac).padStart(3, '0').replace(/0+$/, '')}`;
}

function checkQuantities(q: OutputQuantities, what: string): Map<OutputKind, Milli> {
  if (q === null || typeof q !== 'object' || Array.isArray(q)) {
    throw new RangeError(`${what} must be an object of output kind → thousandths`);
  }
  const out = new Map<OutputKind, Milli>();
  for (const [kind, value] of Object.entries(q)) {
    assertOneOf(outputKinds, kind, `${what}: output kind`);
    if (value === undefined) continue;
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
      throw new RangeError(`${what}.${kind} must be a non-negative integer number of thousandths`);
    }
    out.set(kind, value);
  }
  return out;
}

/* ------------------------------------------------------------------------ */
/* Funding check 资金构成                                                     */
/* ------------------------------------------------------------------------ */

/** One funding line 资金来源 of a project. */
export interface FundingLine {
  source: FundingSource;
  amountFen: Fen;
}

/** Funding limits of one category (**param**); missing entries are unconstrained. */
export interface CategoryFundingRule {
  /** Largest amount of a source, in fen. */
  caps?: Partial<Record<FundingSource, Fen>>;
  /** Smallest share of the total, integer percent (`amount·100 ≥ min·total`). */
  minSharePercent?: Partial<Record<FundingSource, number>>;
  /** Largest share of the total, integer percent (`amount·100 ≤ max·total`). */
  maxSharePercent?: Partial<Record<FundingSource, number>>;
}

/** Funding limits by category (**param**); a missing category is unconstrained. */
export type FundingRules = Partial<Record<ProjectCategory, CategoryFundingRule>>;

/** Zod schema for a {@link CategoryFundingRule}: a source's min share must not exceed its max. */
export const categoryFundingRuleSchema: z.ZodType<CategoryFundingRule> = z
  .object({
    caps: z.partialRecord(fundingSourceSchema, fenSchema).optional(),
    minSharePercent: z.partialRecord(fundingSourceSchema, percentSchema).optional(),
    maxSharePercent: z.partialRecord(fundingSourceSchema, percentSchema).optional(),
  })
  .strict()
  .refine(
    (r) =>
      fundingSources.every((s) => {
        const min = r.minSharePercent?.[s];
        const max = r.maxSharePercent?.[s];
        return min === undefined || max === undefined || min <= max;
      }),
    { message: 'a minimum share must not exceed the maximum share of the same source' },
  );

/** Zod schema for {@link FundingRules}. */
export const fundingRulesSchema: z.ZodType<FundingRules> = z.partialRecord(
  projectCategorySchema,
  categoryFundingRuleSchema,
);

/**
 * Funding limits by project category 资金构成要求 (**param**): caps per source and
 * minimum/maximum shares. Nationally only demonstration villages must take at
 * least 15% from integrated funds 整合资金.
 */
export const fundingRulesParameter: Parameter<FundingRules> = defineParameter<FundingRules>({
  id: 'projects.funding_rules',
  description:
    'Funding limits of post-support projects by category (资金构成要求): caps per funding source in fen and minimum/maximum shares of the total in percent.',
  schema: fundingRulesSchema,
  national: [
    {
      from: '2006-07-01',
      value: { demonstration_village: { minSharePercent: { integrated: 15 } } },
      source:
        'DOMAIN.md 示范村: seed 003, 20亿 of which 3亿 (15%) integrated; other categories: Houfu default: no national cap; provinces set their own',
    },
  ],
  provinces: {},
});

/** The funding rule of `category` (`{}` when the rules leave it unconstrained). */
export function fundingRuleFor(rules: FundingRules, category: ProjectCategory): CategoryFundingRule {
  assertOneOf(projectCategories, category, 'project category');
  const parsed = fundingRulesSchema.safeParse(rules);
  if (!parsed.success) {
    throw new RangeError(`invalid funding rules: ${parsed.error.issues[0]?.message ?? 'rejected'}`);
  }
  return parsed.data[category] ?? {};
}

/** Codes of {@link checkFunding} violations, in result order. */
export const fundingViolationCodes = [
  'non_positive_total',
  'empty',
  'non_positive_line',
  'duplicate_source',
  'sum_mismatch',
  'above_cap',
  'share_below_minimum',
  'share_above_maximum',
] as const;
/** One funding violation code. */
export type FundingViolationCode = (typeof fundingViolationCodes)[number];

/** A broken funding rule. */
export interface FundingViolation {
  code: FundingViolationCode;
  source?: FundingSource;
  /** Chinese message for the user. */
  message: string;
  /** `above_cap`: the cap in fen. */
  limitFen?: Fen;
  /** `share_below_minimum` / `share_above_maximum`: the required percent. */
  percent?: number;
  /** `sum_mismatch`: sum of the lines minus the total (positive: the lines exceed the total). */
  differenceFen?: Fen;
  /** `non_positive_line`: index of the line. */
  line?: number;
}

function checkRule(rule: CategoryFundingRule): CategoryFundingRule {
  const parsed = categoryFundingRuleSchema.safeParse(rule ?? {});
  if (!parsed.success) {
    throw new RangeError(`invalid funding rule: ${parsed.error.issues[0]?.message ?? 'rejected'}`);
  }
  return parsed.data;
}

/**
 * Checks a project's funding lines against its total 总投资 and the rule of its
 * category ({@link fundingRuleFor}). Returns the violations (empty = ok), in
 * this order: `non_positive_total` (total ≤ 0); `empty` (no lines);
 * `non_positive_line` (a line ≤ 0, per line); `duplicate_source` (more than one
 * line of a source: at most one line per source); `sum_mismatch` (the lines
 * must add up to the total exactly; `differenceFen` = sum − total); then per
 * source in {@link fundingSources} order (amounts of one source summed):
 * `above_cap`, `share_below_minimum`, `share_above_maximum` (shares compared
 * exactly: `amount·100 ≥ min·total`; a source without a line has amount 0).
 * Share checks are skipped when the total is not positive. Throws RangeError
 * on a non-integer amount, an unknown source or an invalid rule.
 */
export function checkFunding(
  totalFen: Fen,
  lines: readonly FundingLine[],
  rule: CategoryFundingRule = {},
): FundingViolation[] {
  assertInteger(totalFen, 'total');
  if (!Array.isArray(lines)) throw new RangeError('funding lines must be an array');
  const r = checkRule(rule);
  const out: FundingViolation[] = [];
  const bySource = new Map<FundingSource, Fen>();
  const counts = new Map<FundingSource, number>();
  for (const [i, line] of (lines as readonly FundingLine[]).entries()) {
    if (line === null || typeof line !== 'object')
      throw new RangeError(`funding line #${i} must be an object`);
    assertOneOf(fundingSources, line.source, `funding line #${i}: source`);
    assertInteger(line.amountFen, `funding line #${i}: amount`);
    bySource.set(line.source, sumFen([bySource.get(line.source) ?? 0, line.amountFen]));
    counts.set(line.source, (counts.get(line.source) ?? 0) + 1);
  }
  if (totalFen <= 0) {
    out.push({ code: 'non_positive_total', message: `总投资必须大于零（${formatYuan(totalFen)} 元）` });
  }
  if (lines.length === 0) {
    out.push({ code: 'empty', message: '未填写资金来源' });
    return out;
  }
  for (const [i, line] of (lines as readonly FundingLine[]).entries()) {
    if (line.amountFen <= 0) {
      out.push({
        code: 'non_positive_line',
        source: line.source,
        line: i,
        message: `第 ${i + 1} 条资金来源（${fundingSourceLabels[line.source]}）金额必须大于零`,
      });
    }
  }
  for (const s of fundingSources) {
    if ((counts.get(s) ?? 0) > 1) {
      out.push({
        code: 'duplicate_source',
        source: s,
        message: `资金来源“${fundingSourceLabels[s]}”重复，每种来源只能填写一条`,
      });
    }
  }
  const sum = sumFen((lines as readonly FundingLine[]).map((l) => l.amountFen));
  if (sum !== totalFen) {
    const difference = sum - totalFen;
    out.push({
      code: 'sum_mismatch',
      differenceFen: difference,
      message: `资金来源合计 ${formatYuan(sum)} 元与总投资 ${formatYuan(totalFen)} 元不符，${
        difference > 0 ? '多' : '少'
      } ${formatYuan(Math.abs(difference))} 元`,
    });
  }
  for (const s of fundingSources) {
    const amount = bySource.get(s) ?? 0;
    const label = fundingSourceLabels[s];
    const cap = r.caps?.[s];
    if (cap !== undefined && amount > cap) {
      out.push({
        code: 'above_cap',
        source: s,
        limitFen: cap,
        message: `${label} ${formatYuan(amount)} 元超过上限 ${formatYuan(cap)} 元`,
      });
    }
    if (totalFen <= 0) continue;
    const min = r.minSharePercent?.[s];
    if (min !== undefined && !shareAtLeast(amount, totalFen, min)) {
      out.push({
        code: 'share_below_minimum',
        source: s,
        percent: min,
        message: `${label}占总投资比例低于 ${min}%`,
      });
    }
    const max = r.maxSharePercent?.[s];
    if (max !== undefined && !shareAtMost(amount, totalFen, max)) {
      out.push({
        code: 'share_above_maximum',
        source: s,
        percent: max,
        message: `${label}占总投资比例高于 ${max}%`,
      });
    }
  }
  return out;
}

/* ------------------------------------------------------------------------ */
/* Approval route 审批流程                                                    */
/* ------------------------------------------------------------------------ */

/** Level of an approval step (after the county 县级 submits). */
export const approvalLevels = ['city', 'province'] as const;
/** One approval level. */
export type ApprovalLevel = (typeof approvalLevels)[number];
/** Chinese labels of {@link approvalLevels}. */
export const approvalLevelLabels: Readonly<Record<ApprovalLevel, string>> = Object.freeze({
  city: '市级',
  province: '省级',
});

/** What a step does: review 审核, approve 审批, or record 备案 (does not gate money). */
export const approvalActions = ['review', 'approve', 'record'] as const;
/** One approval action. */
export type ApprovalAction = (typeof approvalActions)[number];
/** Chinese labels of {@link approvalActions}. */
export const approvalActionLabels: Readonly<Record<ApprovalAction, string>> = Object.freeze({
  review: '审核',
  approve: '审批',
  record: '备案',
});

/** What an `approve` step approves: feasibility study 可行性研究, preliminary design 初步设计, or both. */
export const approvalScopes = ['feasibility_and_design', 'feasibility', 'design'] as const;
/** One approval scope. */
export type ApprovalScope = (typeof approvalScopes)[number];
/** Chinese labels of {@link approvalScopes}. */
export const approvalScopeLabels: Readonly<Record<ApprovalScope, string>> = Object.freeze({
  feasibility_and_design: '可行性研究及初步设计',
  feasibility: '可行性研究',
  design: '初步设计',
});

/** One step of an approval route; `scope` is set on `approve` steps only. */
export interface ApprovalStep {
  level: ApprovalLevel;
  action: ApprovalAction;
  scope?: ApprovalScope;
}

/** Chinese label of a step: `省级审批（可行性研究）`, `市级审核`, `省级备案`. */
export function approvalStepLabel(step: ApprovalStep): string {
  assertOneOf(approvalLevels, step?.level, 'approval level');
  assertOneOf(approvalActions, step.action, 'approval action');
  const base = `${approvalLevelLabels[step.level]}${approvalActionLabels[step.action]}`;
  if (step.scope === undefined) return base;
  assertOneOf(approvalScopes, step.scope, 'approval scope');
  return `${base}（${approvalScopeLabels[step.scope]}）`;
}

/** Approval thresholds 审批权限 in fen (**param**). */
export interface ApprovalThresholds {
  /** From this total the province approves feasibility and design. */
  provinceFen: Fen;
  /** From this total (below `provinceFen`) the province approves feasibility, the city the design. */
  cityDesignFen: Fen;
}

/** Zod schema for {@link ApprovalThresholds}: positive, `cityDesignFen ≤ provinceFen`. */
export const approvalThresholdsSchema: z.ZodType<ApprovalThresholds> = z
  .object({ provinceFen: fenSchema.min(1), cityDesignFen: fenSchema.min(1) })
  .strict()
  .refine((t) => t.cityDesignFen <= t.provinceFen, {
    message: 'cityDesignFen must not exceed provinceFen',
    path: ['cityDesignFen'],
  });

/** Approval thresholds 审批权限 of post-support projects (**param**): 100万 and 50万 yuan. */
export const approvalThresholdsParameter: Parameter<ApprovalThresholds> = defineParameter<ApprovalThresholds>(
  {
    id: 'projects.approval_thresholds',
    description:
      'Approval thresholds of post-support projects (审批权限), in fen: from provinceFen the province approves feasibility and design; from cityDesignFen the province approves feasibility and the city the design; below, the city approves and the province records (备案).',
    schema: approvalThresholdsSchema,
    national: [
      {
        from: '2006-07-01',
        value: { provinceFen: 100_000_000, cityDesignFen: 50_000_000 },
        source:
          'DOMAIN.md 后扶项目 workflow (one province: ≥100万 province approves feasibility and design, 50–100万 province feasibility and city design, <50万 city approves and province records)',
      },
    ],
    provinces: {},
  },
);

function checkThresholds(t: ApprovalThresholds): ApprovalThresholds {
  const parsed = approvalThresholdsSchema.safeParse(t);
  if (!parsed.success) {
    throw new RangeError(`invalid approval thresholds: ${parsed.error.issues[0]?.message ?? 'rejected'}`);
  }
  return parsed.data;
}

/**
 * The approval route 审批流程 of a project of `totalFen`, the steps after the
 * county submits, in order:
 * - total ≥ provinceFen: city review → province approves feasibility and design;
 * - cityDesignFen ≤ total < provinceFen: city review → province approves
 *   feasibility → city approves design;
 * - total < cityDesignFen: city approves feasibility and design → province records 备案.
 * Throws RangeError on a negative or non-integer total or invalid thresholds.
 */
export function approvalRoute(totalFen: Fen, thresholds: ApprovalThresholds): ApprovalStep[] {
  assertAmount(totalFen, 'total');
  const t = checkThresholds(thresholds);
  if (totalFen >= t.provinceFen) {
    return [
      { level: 'city', action: 'review' },
      { level: 'province', action: 'approve', scope: 'feasibility_and_design' },
    ];
  }
  if (totalFen >= t.cityDesignFen) {
    return [
      { level: 'city', action: 'review' },
      { level: 'province', action: 'approve', scope: 'feasibility' },
      { level: 'city', action: 'approve', scope: 'design' },
    ];
  }
  return [
    { level: 'city', action: 'approve', scope: 'feasibility_and_design' },
    { level: 'province', action: 'record' },
  ];
}

/**
 * Index of the step after which the project counts as approved 已批复: the last
 * `approve` step (a trailing `record` 备案 does not gate money). Throws
 * RangeError when the route has no `approve` step.
 */
export function routeApprovedAfter(route: readonly ApprovalStep[]): number {
  if (!Array.isArray(route)) throw new RangeError('route must be an array');
  for (let i = route.length - 1; i >= 0; i--) {
    const step: ApprovalStep | undefined = (route as readonly ApprovalStep[])[i];
    assertOneOf(approvalActions, step?.action, `route step #${i}: action`);
    if (step?.action === 'approve') return i;
  }
  throw new RangeError('route has no approve step');
}

/* ------------------------------------------------------------------------ */
/* Project status 项目状态                                                    */
/* ------------------------------------------------------------------------ */

/** Status of a project 项目状态. */
export const projectStatuses = [
  'library',
  'planned',
  'submitted',
  'returned',
  'approved',
  'in_progress',
  'completed',
  'accepted',
  'cancelled',
] as const;
/** One project status. */
export type ProjectStatus = (typeof projectStatuses)[number];
/** Chinese labels of {@link projectStatuses}. */
export const projectStatusLabels: Readonly<Record<ProjectStatus, string>> = Object.freeze({
  library: '项目库',
  planned: '年度计划',
  submitted: '已申报',
  returned: '退回修改',
  approved: '已批复',
  in_progress: '实施中',
  completed: '已完工',
  accepted: '已验收',
  cancelled: '已取消',
});
/** Zod schema for a project status. */
export const projectStatusSchema = z.enum(projectStatuses);

/**
 * Allowed transitions: status → the statuses it may move to.
 * - library → planned (after the public posting 公示), cancelled;
 * - planned → submitted (enters the approval route), library (taken out of the plan), cancelled;
 * - submitted → approved (the route's last approve step), returned, cancelled (withdrawn);
 * - returned → submitted (resubmitted), cancelled;
 * - approved → in_progress, submitted (scope change 变更: back through the route), cancelled;
 * - in_progress → completed, submitted (scope change);
 * - completed → accepted (竣工验收 passed), in_progress (rectification 整改);
 * - accepted and cancelled are final.
 */
export const projectTransitions: Readonly<Record<ProjectStatus, readonly ProjectStatus[]>> = Object.freeze({
  library: Object.freeze(['planned', 'cancelled'] as const),
  planned: Object.freeze(['submitted', 'library', 'cancelled'] as const),
  submitted: Object.freeze(['approved', 'returned', 'cancelled'] as const),
  returned: Object.freeze(['submitted', 'cancelled'] as const),
  approved: Object.freeze(['in_progress', 'submitted', 'cancelled'] as const),
  in_progress: Object.freeze(['completed', 'submitted'] as const),
  completed: Object.freeze(['accepted', 'in_progress'] as const),
  accepted: Object.freeze([] as const),
  cancelled: Object.freeze([] as const),
});

/** True when {@link projectTransitions} allows `from` → `to`. Throws RangeError on an unknown status. */
export function canTransition(from: ProjectStatus, to: ProjectStatus): boolean {
  assertOneOf(projectStatuses, from, 'from status');
  assertOneOf(projectStatuses, to, 'to status');
  return projectTransitions[from].includes(to);
}

/** Minimum length of the public posting 公示 before a project enters the annual plan (**param**), in days. */
export const postingDaysParameter: Parameter<number> = defineParameter<number>({
  id: 'projects.posting_days',
  description:
    'Minimum length in days (inclusive of both ends) of the public posting in the village (公示) before a project enters the annual plan (年度计划).',
  schema: z.number().int().min(1).max(365),
  national: [
    {
      from: '2006-07-01',
      value: 7,
      source: 'Houfu default; DOMAIN.md: publicly posted in the village before the annual plan',
    },
  ],
  provinces: {},
});

/** Why a public posting 公示 does not allow a project into the annual plan. */
export const postingProblems = ['no_posting', 'posting_not_ended', 'posting_too_short'] as const;
/** One posting problem. */
export type PostingProblem = (typeof postingProblems)[number];
/** Chinese labels of {@link postingProblems}. */
export const postingProblemLabels: Readonly<Record<PostingProblem, string>> = Object.freeze({
  no_posting: '未公示',
  posting_not_ended: '公示期未满',
  posting_too_short: '公示天数不足',
});

/** A public posting 公示 in the village: first and last day, inclusive. */
export interface Posting {
  from: string;
  to: string;
}

/**
 * Whether a public posting 公示 lets a project enter the annual plan on `today`:
 * `null` when it does; else `no_posting` (none), `posting_not_ended` (its last
 * day is after `today`), or `posting_too_short` (fewer than `minDays` days,
 * both ends counted: 03-01..03-07 is 7 days). Throws RangeError on bad dates,
 * a posting ending before it starts, or `minDays` not a positive integer.
 */
export function postingCheck(posting: Posting | null, today: string, minDays: number): PostingProblem | null {
  assertIsoDate(today, 'today');
  if (!Number.isSafeInteger(minDays) || minDays < 1) {
    throw new RangeError(`minDays must be a positive integer, got ${String(minDays)}`);
  }
  if (posting === null || posting === undefined) return 'no_posting';
  assertIsoDate(posting.from, 'posting.from');
  assertIsoDate(posting.to, 'posting.to');
  if (posting.to < posting.from) throw new RangeError('posting ends before it starts');
  if (posting.to > today) return 'posting_not_ended';
  if (dayNumber(posting.to) - dayNumber(posting.from) + 1 < minDays) return 'posting_too_short';
  return null;
}

/** Context of {@link transitionCheck}. */
export interface TransitionContext {
  /** The project's public posting 公示, if any (needed to enter `planned`). */
  posting: Posting | null;
  today: string;
  /** From {@link postingDaysParameter}. */
  postingDays: number;
}

/**
 * Whether `from` → `to` may happen now: `'not_allowed'` when the table
 * forbids it, a {@link PostingProblem} when entering `planned` without a valid
 * posting, else `null`.
 */
export function transitionCheck(
  from: ProjectStatus,
  to: ProjectStatus,
  ctx: TransitionContext,
): 'not_allowed' | PostingProblem | null {
  if (!canTransition(from, to)) return 'not_allowed';
  if (to !== 'planned') return null;
  if (ctx === null || typeof ctx !== 'object') throw new RangeError('transition context must be an object');
  return postingCheck(ctx.posting, ctx.today, ctx.postingDays);
}

/* ------------------------------------------------------------------------ */
/* Scope 建设规模 and changes 项目变更                                         */
/* ------------------------------------------------------------------------ */

/** What a project commits to; an approved project whose scope changes re-enters the approval route. */
export interface ProjectScope {
  category: ProjectCategory;
  /** Twelve-digit locality codes of the villages 实施地点 (order and repeats do not matter). */
  villageCodes: readonly number[];
  /** Planned outputs in thousandths (a kind of 0 counts as not planned). */
  outputs: OutputQuantities;
  /** Funding lines (order does not matter; lines of one source are summed). */
  fundingLines: readonly FundingLine[];
  totalFen: Fen;
}

/**
 * Canonical string of a project's scope: category, sorted distinct villages,
 * planned outputs by kind (zeros dropped), funding summed by source in
 * {@link fundingSources} order, and the total. Two scopes are the same iff
 * their fingerprints are equal. Throws RangeError on invalid input.
 */
export function scopeFingerprint(scope: ProjectScope): string {
  if (scope === null || typeof scope !== 'object') throw new RangeError('scope must be an object');
  assertOneOf(projectCategories, scope.category, 'category');
  if (!Array.isArray(scope.villageCodes)) throw new RangeError('villageCodes must be an array');
  for (const c of scope.villageCodes) {
    if (!isLocalityCode(c)) throw new RangeError(`invalid village code ${String(c)}`);
  }
  const villages = [...new Set(scope.villageCodes)].sort((a, b) => a - b);
  const outputs = checkQuantities(scope.outputs, 'outputs');
  if (!Array.isArray(scope.fundingLines)) throw new RangeError('fundingLines must be an array');
  const funding = new Map<FundingSource, Fen>();
  for (const [i, line] of (scope.fundingLines as readonly FundingLine[]).entries()) {
    if (line === null || typeof line !== 'object')
      throw new RangeError(`funding line #${i} must be an object`);
    assertOneOf(fundingSources, line.source, `funding line #${i}: source`);
    assertInteger(line.amountFen, `funding line #${i}: amount`);
    funding.set(line.source, sumFen([funding.get(line.source) ?? 0, line.amountFen]));
  }
  assertInteger(scope.totalFen, 'total');
  const out = outputKinds.filter((k) => (outputs.get(k) ?? 0) > 0).map((k) => `${k}:${outputs.get(k)}`);
  const fund = fundingSources.filter((s) => funding.has(s)).map((s) => `${s}:${funding.get(s)}`);
  return [
    `category=${scope.category}`,
    `villages=${villages.join(',')}`,
    `outputs=${out.join(',')}`,
    `funding=${fund.join(',')}`,
    `total=${scope.totalFen}`,
  ].join(';');
}

/** True when the two scopes differ ({@link scopeFingerprint}): an approved project must go back through the route. */
export function scopeChanged(a: ProjectScope, b: ProjectScope): boolean {
  return scopeFingerprint(a) !== scopeFingerprint(b);
}

/* ------------------------------------------------------------------------ */
/* Payment schedule 拨付进度                                                  */
/* ------------------------------------------------------------------------ */

/** Stage of a contract payment 工程款拨付节点. */
export const paymentStages = ['contract', 'half_done', 'completion', 'final_accounts'] as const;
/** One payment stage. */
export type PaymentStage = (typeof paymentStages)[number];
/** Chinese labels of {@link paymentStages}. */
export const paymentStageLabels: Readonly<Record<PaymentStage, string>> = Object.freeze({
  contract: '合同签订',
  half_done: '完成过半',
  completion: '完工',
  final_accounts: '竣工决算及验收',
});

/** One stage of the schedule: its share of the contract, released once its conditions hold. */
export interface PaymentStageRule {
  stage: PaymentStage;
  /** Share of the contract amount, integer percent. */
  percent: number;
  /** Released once progress of the works (%, the latest progress report's percent complete) reaches this. */
  minProgressPercent?: number;
  /** Released once the project is accepted 验收. */
  requiresAcceptance?: boolean;
}

/** The payment schedule 拨付进度 (**param**). */
export interface PaymentSchedule {
  stages: PaymentStageRule[];
  /** Quality deposit 质量保证金, released separately; stages + deposit = 100%. */
  qualityDepositPercent: number;
}

/** Zod schema for a {@link PaymentSchedule}: distinct stages, percents (deposit included) adding up to 100. */
export const paymentScheduleSchema: z.ZodType<PaymentSchedule> = z
  .object({
    stages: z
      .array(
        z
          .object({
            stage: z.enum(paymentStages),
            percent: percentSchema,
            minProgressPercent: percentSchema.optional(),
            requiresAcceptance: z.boolean().optional(),
          })
          .strict(),
      )
      .min(1),
    qualityDepositPercent: percentSchema,
  })
  .strict()
  .refine((s) => new Set(s.stages.map((x) => x.stage)).size === s.stages.length, {
    message: 'each stage may appear only once',
    path: ['stages'],
  })
  .refine((s) => s.stages.reduce((a, x) => a + x.percent, 0) + s.qualityDepositPercent === 100, {
    message: 'the stage percents and the quality deposit must add up to 100',
    path: ['stages'],
  });

/** The payment schedule of project contracts 工程款拨付进度 (**param**): 10/40/30/10 + 10% quality deposit. */
export const paymentScheduleParameter: Parameter<PaymentSchedule> = defineParameter<PaymentSchedule>({
  id: 'projects.payment_schedule',
  description:
    'Payment schedule of project contracts (拨付进度): the share of the contract released at each stage (on contract, at half done, at completion, after final accounts and acceptance) and the quality deposit (质量保证金); all add up to 100%.',
  schema: paymentScheduleSchema,
  national: [
    {
      from: '2006-07-01',
      value: {
        stages: [
          { stage: 'contract', percent: 10 },
          { stage: 'half_done', percent: 40, minProgressPercent: 50 },
          { stage: 'completion', percent: 30, minProgressPercent: 100 },
          { stage: 'final_accounts', percent: 10, requiresAcceptance: true },
        ],
        qualityDepositPercent: 10,
      },
      source:
        'DOMAIN.md 后扶项目 Implementation: one province: 10% at contract, 40% at half done, 30% at completion, 10% after final accounts and acceptance, 10% quality deposit',
    },
  ],
  provinces: {},
});

/** Where a contract stands, for the schedule. */
export interface PaymentState {
  /** Progress of the works 工程进度, 0..100 (may be fractional): the API passes the latest progress report's percent complete. */
  progressPercent: number;
  /** Completion acceptance 竣工验收 passed. */
  accepted: boolean;
  /** Quality deposit 质量保证金 released (only after acceptance). */
  depositReleased: boolean;
}

function checkSchedule(s: PaymentSchedule): PaymentSchedule {
  const parsed = paymentScheduleSchema.safeParse(s);
  if (!parsed.success) {
    throw new RangeError(`invalid payment schedule: ${parsed.error.issues[0]?.message ?? 'rejected'}`);
  }
  return parsed.data;
}

function checkState(state: PaymentState): void {
  if (state === null || typeof state !== 'object') throw new RangeError('payment state must be an object');
  const p = state.progressPercent;
  if (typeof p !== 'number' || !Number.isFinite(p) || p < 0 || p > 100) {
    throw new RangeError(`progressPercent must be a number 0..100, got ${String(p)}`);
  }
  if (typeof state.accepted !== 'boolean') throw new RangeError('accepted must be a boolean');
  if (typeof state.depositReleased !== 'boolean') throw new RangeError('depositReleased must be a boolean');
  if (state.depositReleased && !state.accepted) {
    throw new RangeError('the quality deposit cannot be released before acceptance');
  }
}

/**
 * The most that may have been paid on a contract so far (cumulative, fen):
 * floor(contract × released percent / 100), where a stage is released once
 * progress ≥ its `minProgressPercent` and, if it `requiresAcceptance`, the
 * project is accepted; the quality deposit once released. With the default
 * schedule on 1,000,000 fen: 100,000 before any progress; 500,000 at 50%;
 * 800,000 at 100%; 900,000 accepted; 1,000,000 with the deposit released.
 * Throws RangeError on invalid input (deposit released before acceptance too).
 */
export function maxPayableFen(contractFen: Fen, schedule: PaymentSchedule, state: PaymentState): Fen {
  assertAmount(contractFen, 'contract amount');
  const s = checkSchedule(schedule);
  checkState(state);
  let percent = 0;
  for (const stage of s.stages) {
    const progressOk =
      stage.minProgressPercent === undefined || state.progressPercent >= stage.minProgressPercent;
    const acceptanceOk = stage.requiresAcceptance !== true || state.accepted;
    if (progressOk && acceptanceOk) percent += stage.percent;
  }
  if (state.depositReleased) percent += s.qualityDepositPercent;
  return percentOf(contractFen, percent);
}

/** A payment beyond the schedule. */
export interface PaymentViolation {
  code: 'exceeds_schedule';
  /** The cumulative cap now ({@link maxPayableFen}). */
  maxPayableFen: Fen;
  /** What may still be paid now: max(0, cap − paid). */
  remainingFen: Fen;
  message: string;
}

/** A proposed payment to a contractor 工程款支付. */
export interface PaymentRequest extends PaymentState {
  contractFen: Fen;
  /** Paid on the contract so far. */
  paidFen: Fen;
  /** This payment (positive). */
  amountFen: Fen;
}

/**
 * `null` when paying `amountFen` keeps the contract within
 * {@link maxPayableFen}, else `exceeds_schedule` with the remaining allowed
 * amount. Throws RangeError on invalid input (a payment ≤ 0 too).
 */
export function checkPayment(req: PaymentRequest, schedule: PaymentSchedule): PaymentViolation | null {
  if (req === null || typeof req !== 'object') throw new RangeError('payment must be an object');
  assertAmount(req.paidFen, 'paid');
  assertAmount(req.amountFen, 'payment');
  if (req.amountFen === 0) throw new RangeError('payment must be positive');
  const cap = maxPayableFen(req.contractFen, schedule, req);
  if (req.paidFen + req.amountFen <= cap) return null;
  const remaining = Math.max(0, cap - req.paidFen);
  return {
    code: 'exceeds_schedule',
    maxPayableFen: cap,
    remainingFen: remaining,
    message: `超过拨付进度：目前累计最多可付 ${formatYuan(cap)} 元，尚可支付 ${formatYuan(remaining)} 元`,
  };
}

/* ------------------------------------------------------------------------ */
/* Completion acceptance 竣工验收                                             */
/* ------------------------------------------------------------------------ */

/** Stage of completion acceptance 竣工验收. */
export const acceptanceStages = ['self_check', 'county', 'city', 'province'] as const;
/** One acceptance stage. */
export type AcceptanceStage = (typeof acceptanceStages)[number];
/** Chinese labels of {@link acceptanceStages}. */
export const acceptanceStageLabels: Readonly<Record<AcceptanceStage, string>> = Object.freeze({
  self_check: '自检',
  county: '县级验收',
  city: '市级验收',
  province: '省级验收',
});
/** Zod schema for an acceptance stage. */
export const acceptanceStageSchema = z.enum(acceptanceStages);

/** What acceptance checks 验收内容. */
export const acceptanceChecks = [
  'quality',
  'fund_use',
  'benefits',
  'audit',
  'final_accounts',
  'archives',
] as const;
/** One acceptance check. */
export type AcceptanceCheck = (typeof acceptanceChecks)[number];
/** Chinese labels of {@link acceptanceChecks}. */
export const acceptanceCheckLabels: Readonly<Record<AcceptanceCheck, string>> = Object.freeze({
  quality: '工程质量',
  fund_use: '资金使用',
  benefits: '效益',
  audit: '审计',
  final_accounts: '竣工决算',
  archives: '档案',
});
/** Zod schema for an acceptance check. */
export const acceptanceCheckSchema = z.enum(acceptanceChecks);

/** From which totals the city and the province take part in acceptance (**param**), in fen. */
export interface AcceptanceLevels {
  provinceFen: Fen;
  cityFen: Fen;
}

/** Zod schema for {@link AcceptanceLevels}: positive, `cityFen ≤ provinceFen`. */
export const acceptanceLevelsSchema: z.ZodType<AcceptanceLevels> = z
  .object({ provinceFen: fenSchema.min(1), cityFen: fenSchema.min(1) })
  .strict()
  .refine((l) => l.cityFen <= l.provinceFen, {
    message: 'cityFen must not exceed provinceFen',
    path: ['cityFen'],
  });

/** Who accepts a project by size 验收层级 (**param**): city from 50万, province from 100万 yuan. */
export const acceptanceLevelsParameter: Parameter<AcceptanceLevels> = defineParameter<AcceptanceLevels>({
  id: 'projects.acceptance_levels',
  description:
    'Completion acceptance levels (验收层级), in fen: after the self-check and the county, the city accepts projects from cityFen and the province from provinceFen.',
  schema: acceptanceLevelsSchema,
  national: [
    {
      from: '2006-07-01',
      value: { provinceFen: 100_000_000, cityFen: 50_000_000 },
      source: 'Houfu default mirroring the approval thresholds; DOMAIN.md: city/province by size',
    },
  ],
  provinces: {},
});

/**
 * The acceptance stages of a project of `totalFen`: self-check and county,
 * then city when total ≥ cityFen, then province when total ≥ provinceFen.
 */
export function acceptanceRoute(totalFen: Fen, levels: AcceptanceLevels): AcceptanceStage[] {
  assertAmount(totalFen, 'total');
  const parsed = acceptanceLevelsSchema.safeParse(levels);
  if (!parsed.success) {
    throw new RangeError(`invalid acceptance levels: ${parsed.error.issues[0]?.message ?? 'rejected'}`);
  }
  const route: AcceptanceStage[] = ['self_check', 'county'];
  if (totalFen >= parsed.data.cityFen) route.push('city');
  if (totalFen >= parsed.data.provinceFen) route.push('province');
  return route;
}

/**
 * Seed 000's principle 项目计划不挪位、项目实施不缺位、项目资金不挪用: the plan moved
 * elsewhere 计划挪位, planned work left undone 实施缺位, funds diverted 资金挪用.
 */
export const acceptanceFlagKinds = ['plan_moved', 'work_undone', 'funds_diverted'] as const;
/** One acceptance flag. */
export type AcceptanceFlagKind = (typeof acceptanceFlagKinds)[number];
/** Chinese labels of {@link acceptanceFlagKinds}. */
export const acceptanceFlagLabels: Readonly<Record<AcceptanceFlagKind, string>> = Object.freeze({
  plan_moved: '计划挪位',
  work_undone: '实施缺位',
  funds_diverted: '资金挪用',
});

/** A problem found at acceptance, with its detail. */
export type AcceptanceFlag =
  | {
      flag: 'plan_moved';
      /** Approved villages where nothing was done; villages done but not approved. */
      detail: { missing: number[]; added: number[] };
      message: string;
    }
  | {
      flag: 'work_undone';
      /** Planned kinds achieved below plan, in {@link outputKinds} order. */
      detail: { kinds: OutputKind[] };
      message: string;
    }
  | {
      flag: 'funds_diverted';
      /** Indexes of the payments without a line of this project, and their total. */
      detail: { payments: number[]; amountFen: Fen };
      message: string;
    };

/** What acceptance compares. */
export interface AcceptanceInput {
  approvedVillageCodes: readonly number[];
  actualVillageCodes: readonly number[];
  plannedOutputs: OutputQuantities;
  achievedOutputs: OutputQuantities;
  /** Payments on the project, each charged to a funding line (or to none). */
  payments: readonly { amountFen: Fen; fundingLineId: string | null }[];
  /** Ids of this project's funding lines. */
  fundingLineIds: readonly string[];
}

function villageSet(codes: readonly number[], what: string): Set<number> {
  if (!Array.isArray(codes)) throw new RangeError(`${what} must be an array`);
  for (const c of codes) if (!isLocalityCode(c)) throw new RangeError(`${what}: invalid code ${String(c)}`);
  return new Set(codes);
}

/**
 * Flags of a project at acceptance, in {@link acceptanceFlagKinds} order:
 * `plan_moved` when the set of actual villages differs from the approved one;
 * `work_undone` when any planned kind (planned > 0) is achieved below plan (a
 * missing achievement is 0); `funds_diverted` when a payment has no funding
 * line or a line not of this project. `[]` when all is well. Throws RangeError
 * on invalid input.
 */
export function acceptanceFlags(input: AcceptanceInput): AcceptanceFlag[] {
  if (input === null || typeof input !== 'object') throw new RangeError('acceptance input must be an object');
  const approved = villageSet(input.approvedVillageCodes, 'approvedVillageCodes');
  const actual = villageSet(input.actualVillageCodes, 'actualVillageCodes');
  const planned = checkQuantities(input.plannedOutputs, 'plannedOutputs');
  const achieved = checkQuantities(input.achievedOutputs, 'achievedOutputs');
  if (!Array.isArray(input.payments)) throw new RangeError('payments must be an array');
  if (!Array.isArray(input.fundingLineIds)) throw new RangeError('fundingLineIds must be an array');
  const lineIds = new Set<string>();
  for (const id of input.fundingLineIds) {
    if (typeof id !== 'string' || id === '')
      throw new RangeError('funding line ids must be non-empty strings');
    lineIds.add(id);
  }

  const flags: AcceptanceFlag[] = [];
  const missing = [...approved].filter((c) => !actual.has(c)).sort((a, b) => a - b);
  const added = [...actual].filter((c) => !approved.has(c)).sort((a, b) => a - b);
  if (missing.length > 0 || added.length > 0) {
    flags.push({
      flag: 'plan_moved',
      detail: { missing, added },
      message: `实施地点与批复不符（未实施 ${missing.length} 个，批复外 ${added.length} 个）`,
    });
  }
  const kinds = outputKinds.filter((k) => {
    const p = planned.get(k) ?? 0;
    return p > 0 && (achieved.get(k) ?? 0) < p;
  });
  if (kinds.length > 0) {
    flags.push({
      flag: 'work_undone',
      detail: { kinds },
      message: `未完成批复建设内容：${kinds.map((k) => outputKindLabels[k]).join('、')}`,
    });
  }
  const diverted: number[] = [];
  const amounts: Fen[] = [];
  for (const [i, p] of (input.payments as AcceptanceInput['payments']).entries()) {
    if (p === null || typeof p !== 'object') throw new RangeError(`payment #${i} must be an object`);
    assertAmount(p.amountFen, `payment #${i}: amount`);
    if (p.fundingLineId !== null && typeof p.fundingLineId !== 'string') {
      throw new RangeError(`payment #${i}: fundingLineId must be a string or null`);
    }
    if (p.fundingLineId === null || !lineIds.has(p.fundingLineId)) {
      diverted.push(i);
      amounts.push(p.amountFen);
    }
  }
  if (diverted.length > 0) {
    const amountFen = sumFen(amounts);
    flags.push({
      flag: 'funds_diverted',
      detail: { payments: diverted, amountFen },
      message: `${diverted.length} 笔支付（${formatYuan(amountFen)} 元）未列支于本项目资金来源`,
    });
  }
  return flags;
}

/* ------------------------------------------------------------------------ */
/* Fund balances 资金结存                                                     */
/* ------------------------------------------------------------------------ */

/** After how many months an unspent allocation counts as idle 长期结存 (**param**). */
export const idleMonthsParameter: Parameter<number> = defineParameter<number>({
  id: 'projects.idle_months',
  description:
    'After how many months an allocation not yet paid out counts as idle (资金长期结存), for fund-balance checks.',
  schema: z.number().int().min(1).max(120),
  national: [{ from: '2006-07-01', value: 12, source: 'Houfu default; seed: 资金长期结存' }],
  provinces: {},
});

/** What {@link idleFen} needs. */
export interface IdleFundsInput {
  /** Allocations 资金下达 received, each on a date. */
  allocations: readonly { allocatedOn: string; amountFen: Fen }[];
  /** Paid out so far (all allocations together). */
  paidFen: Fen;
  today: string;
  /** From {@link idleMonthsParameter}. */
  idleMonths: number;
}

/**
 * Idle funds 长期结存 on `today`: allocations made on or before `today` minus
 * `idleMonths` months (the day clamped to the month's end: 2026-03-31 minus 1
 * month is 2026-02-28), less what has been paid, never below 0 (payments
 * consume the oldest allocations first). Throws RangeError on invalid input.
 */
export function idleFen(input: IdleFundsInput): Fen {
  if (input === null || typeof input !== 'object') throw new RangeError('input must be an object');
  assertIsoDate(input.today, 'today');
  if (!Number.isSafeInteger(input.idleMonths) || input.idleMonths < 0) {
    throw new RangeError(`idleMonths must be a non-negative integer, got ${String(input.idleMonths)}`);
  }
  assertAmount(input.paidFen, 'paid');
  if (!Array.isArray(input.allocations)) throw new RangeError('allocations must be an array');
  const cutoff = addMonths(input.today, -input.idleMonths);
  const old: Fen[] = [];
  for (const [i, a] of (input.allocations as IdleFundsInput['allocations']).entries()) {
    if (a === null || typeof a !== 'object') throw new RangeError(`allocation #${i} must be an object`);
    assertIsoDate(a.allocatedOn, `allocation #${i}: allocatedOn`);
    assertAmount(a.amountFen, `allocation #${i}: amount`);
    if (a.allocatedOn <= cutoff) old.push(a.amountFen);
  }
  return Math.max(0, sumFen(old) - input.paidFen);
}
