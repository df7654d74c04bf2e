import { describe, expect, it } from 'vitest';
import {
  type AcceptanceInput,
  type AcceptanceLevels,
  type ApprovalStep,
  type ApprovalThresholds,
  acceptanceCheckLabels,
  acceptanceChecks,
  acceptanceFlagKinds,
  acceptanceFlagLabels,
  acceptanceFlags,
  acceptanceLevelsParameter,
  acceptanceRoute,
  acceptanceStageLabels,
  acceptanceStages,
  allocatedSources,
  approvalActionLabels,
  approvalActions,
  approvalLevelLabels,
  approvalLevels,
  approvalRoute,
  approvalScopeLabels,
  approvalScopes,
  approvalStepLabel,
  approvalThresholdsParameter,
  type CategoryFundingRule,
  canTransition,
  categoryNeedsBatch,
  checkFunding,
  checkPayment,
  type FundingLine,
  type FundingSource,
  type FundingViolationCode,
  formatQuantity,
  fundingRuleFor,
  fundingRulesParameter,
  fundingSourceLabels,
  fundingSourceSchema,
  fundingSources,
  type IdleFundsInput,
  idleFen,
  idleMonthsParameter,
  isAllocatedSource,
  maxPayableFen,
  outputKindLabels,
  outputKindSchema,
  outputKinds,
  outputKindUnits,
  type PaymentRequest,
  type PaymentSchedule,
  type PaymentState,
  type ProjectCategory,
  type ProjectScope,
  type ProjectStatus,
  parameterValue,
  parseQuantity,
  paymentScheduleParameter,
  paymentStageLabels,
  paymentStages,
  postingCheck,
  postingDaysParameter,
  postingProblemLabels,
  postingProblems,
  projectCategories,
  projectCategoryLabels,
  projectCategorySchema,
  projectStatuses,
  projectStatusLabels,
  projectStatusSchema,
  projectTransitions,
  routeApprovedAfter,
  scopeChanged,
  scopeFingerprint,
  transitionCheck,
  wanToFen,
  withStoredOverrides,
} from '../src/index.js';

const WAN = 1_000_000; // fen in 1万 yuan

describe('vocabularies', () => {
  it.each<[string, readonly string[], Readonly<Record<string, string>>]>([
    ['projectCategories', projectCategories, projectCategoryLabels],
    ['fundingSources', fundingSources, fundingSourceLabels],
    ['outputKinds', outputKinds, outputKindLabels],
    ['outputKinds (units)', outputKinds, outputKindUnits],
    ['approvalLevels', approvalLevels, approvalLevelLabels],
    ['approvalActions', approvalActions, approvalActionLabels],
    ['approvalScopes', approvalScopes, approvalScopeLabels],
    ['projectStatuses', projectStatuses, projectStatusLabels],
    ['postingProblems', postingProblems, postingProblemLabels],
    ['paymentStages', paymentStages, paymentStageLabels],
    ['acceptanceStages', acceptanceStages, acceptanceStageLabels],
    ['acceptanceChecks', acceptanceChecks, acceptanceCheckLabels],
    ['acceptanceFlagKinds', acceptanceFlagKinds, acceptanceFlagLabels],
  ])('%s: every value has a label and nothing else', (_name, list, labels) => {
    expect(Object.keys(labels).sort()).toEqual([...list].sort());
    expect(Object.isFrozen(labels)).toBe(true);
  });

  it.each<[Readonly<Record<string, string>>, string, string]>([
    [projectCategoryLabels, 'infrastructure', '基础设施'],
    [projectCategoryLabels, 'new_population', '新增人口项目'],
    [projectCategoryLabels, 'small_reservoir', '小型水库移民扶助基金项目'],
    [projectCategoryLabels, 'three_gorges_hardship', '三峡外迁移民困难帮扶'],
    [projectCategoryLabels, 'demonstration_village', '小康示范村/美丽家园'],
    [projectCategoryLabels, 'hazard_relief_pilot', '避险解困试点'],
    [projectCategoryLabels, 'training', '培训及职业教育'],
    [fundingSourceLabels, 'post_support', '后期扶持资金'],
    [fundingSourceLabels, 'integrated', '整合其他部门资金'],
    [fundingSourceLabels, 'labour', '投劳折资'],
    [outputKindLabels, 'road_km', '道路硬化'],
    [outputKindUnits, 'road_km', 'km'],
    [outputKindUnits, 'pool_m3', 'm³'],
    [outputKindUnits, 'bridge', '座'],
    [outputKindUnits, 'drinking_water_people', '人'],
    [projectStatusLabels, 'library', '项目库'],
    [projectStatusLabels, 'returned', '退回修改'],
    [projectStatusLabels, 'accepted', '已验收'],
    [approvalActionLabels, 'record', '备案'],
    [acceptanceStageLabels, 'self_check', '自检'],
    [acceptanceCheckLabels, 'final_accounts', '竣工决算'],
    [acceptanceFlagLabels, 'plan_moved', '计划挪位'],
    [acceptanceFlagLabels, 'work_undone', '实施缺位'],
    [acceptanceFlagLabels, 'funds_diverted', '资金挪用'],
  ])('label of %s.%s is %s', (labels, key, label) => {
    expect(labels[key]).toBe(label);
  });

  it('schemas enumerate the constant lists', () => {
    expect(projectCategorySchema.options).toEqual([...projectCategories]);
    expect(fundingSourceSchema.options).toEqual([...fundingSources]);
    expect(outputKindSchema.options).toEqual([...outputKinds]);
    expect(projectStatusSchema.options).toEqual([...projectStatuses]);
  });

  it.each(projectCategories)('categoryNeedsBatch(%s)', (c) => {
    expect(categoryNeedsBatch(c)).toBe(c === 'hazard_relief_pilot');
  });

  it('allocated sources are the three the province allocates', () => {
    expect([...allocatedSources]).toEqual(['post_support', 'three_gorges', 'small_reservoir']);
    expect(Object.isFrozen(allocatedSources)).toBe(true);
    expect(fundingSources.filter(isAllocatedSource)).toEqual([...allocatedSources]);
  });

  it('unknown values throw', () => {
    expect(() => categoryNeedsBatch('roads' as ProjectCategory)).toThrow(RangeError);
    expect(() => isAllocatedSource('bank_loan' as FundingSource)).toThrow(RangeError);
  });
});

describe('quantities (thousandths)', () => {
  it.each<[string | number, number, string]>([
    ['13.62', 13_620, '13.62'],
    ['16000', 16_000_000, '16000'],
    ['16,000', 16_000_000, '16000'],
    ['0.005', 5, '0.005'],
    ['0', 0, '0'],
    ['7319', 7_319_000, '7319'],
    ['1.100', 1_100, '1.1'],
    [' 2.5 ', 2_500, '2.5'],
    [13.62, 13_620, '13.62'],
    [0.1, 100, '0.1'],
    ['9007199254740.991', Number.MAX_SAFE_INTEGER, '9007199254740.991'],
  ])('parseQuantity(%j) → %d → %s', (input, milli, text) => {
    expect(parseQuantity(input)).toBe(milli);
    expect(formatQuantity(milli)).toBe(text);
  });

  it.each<[string | number]>([
    ['13.6201'],
    ['-1'],
    ['-0.5'],
    [-1],
    [Number.NaN],
    [Number.POSITIVE_INFINITY],
    [1e21],
    ['1e3'],
    [''],
    ['abc'],
    ['1,00'],
    ['.5'],
    ['9007199254740.992'],
    [0.30000000000000004],
  ])('parseQuantity(%j) throws RangeError', (input) => {
    expect(() => parseQuantity(input)).toThrow(RangeError);
  });

  it.each([-1, 0.5, Number.NaN, Number.MAX_SAFE_INTEGER + 1])('formatQuantity(%d) throws RangeError', (n) => {
    expect(() => formatQuantity(n)).toThrow(RangeError);
  });
});

describe('fundingRulesParameter', () => {
  it('nationally only demonstration villages need ≥ 15% integrated funds', () => {
    const v = parameterValue(fundingRulesParameter, 0, '2026-01-01');
    expect(v.value).toEqual({ demonstration_village: { minSharePercent: { integrated: 15 } } });
    expect(v.source).toContain('seed 003');
    expect(fundingRuleFor(v.value, 'demonstration_village')).toEqual({ minSharePercent: { integrated: 15 } });
    expect(fundingRuleFor(v.value, 'infrastructure')).toEqual({});
  });

  it.each<[string, unknown, boolean]>([
    ['a cap', { infrastructure: { caps: { post_support: 100 * WAN } } }, true],
    [
      'min and max',
      { training: { minSharePercent: { self_raised: 10 }, maxSharePercent: { self_raised: 30 } } },
      true,
    ],
    [
      'min above max',
      { training: { minSharePercent: { labour: 40 }, maxSharePercent: { labour: 30 } } },
      false,
    ],
    ['unknown category', { roads: {} }, false],
    ['unknown source', { training: { caps: { bank: 1 } } }, false],
    ['percent above 100', { training: { minSharePercent: { labour: 101 } } }, false],
    ['fractional percent', { training: { minSharePercent: { labour: 12.5 } } }, false],
    ['negative cap', { training: { caps: { labour: -1 } } }, false],
    ['unknown rule key', { training: { floor: {} } }, false],
  ])('a province override with %s is accepted: %s', (_name, value, ok) => {
    const call = () =>
      withStoredOverrides(fundingRulesParameter, 420000, [{ from: '2020-01-01', value, source: 'test' }]);
    if (ok) expect(parameterValue(call(), 420581, '2020-01-01').value).toEqual(value);
    else expect(call).toThrow(RangeError);
  });
});

describe('checkFunding', () => {
  const seed002: FundingLine[] = [
    { source: 'post_support', amountFen: wanToFen('800') },
    { source: 'integrated', amountFen: wanToFen('1358.96') },
    { source: 'self_raised', amountFen: wanToFen('1126.48') },
  ];

  it('seed 002: 3,285.44万 = 800 + 1,358.96 + 1,126.48 passes', () => {
    expect(wanToFen('3285.44')).toBe(3_285_440_000);
    expect(checkFunding(wanToFen('3285.44'), seed002)).toEqual([]);
  });

  it.each<[string, number, number]>([
    ['one fen short', 3_285_440_001, -1],
    ['one fen over', 3_285_439_999, 1],
  ])('seed 002 %s fails with sum_mismatch', (_name, total, difference) => {
    const v = checkFunding(total, seed002);
    expect(v.map((x) => x.code)).toEqual(['sum_mismatch']);
    expect(v[0]?.differenceFen).toBe(difference);
    expect(v[0]?.message).toContain('0.01 元');
  });

  const dv: CategoryFundingRule = { minSharePercent: { integrated: 15 } };
  it.each<[string, number, FundingLine[], CategoryFundingRule, FundingViolationCode[]]>([
    ['empty', 100, [], {}, ['empty']],
    ['non-positive total and empty', 0, [], {}, ['non_positive_total', 'empty']],
    [
      'a zero line',
      100,
      [
        { source: 'post_support', amountFen: 100 },
        { source: 'labour', amountFen: 0 },
      ],
      {},
      ['non_positive_line'],
    ],
    [
      'a negative line (and the sum still matches)',
      100,
      [
        { source: 'post_support', amountFen: 110 },
        { source: 'labour', amountFen: -10 },
      ],
      {},
      ['non_positive_line'],
    ],
    [
      'two lines of one source',
      100,
      [
        { source: 'post_support', amountFen: 50 },
        { source: 'post_support', amountFen: 50 },
      ],
      {},
      ['duplicate_source'],
    ],
    [
      'demonstration village: exactly 15% integrated',
      100,
      lines({ integrated: 15, post_support: 85 }),
      dv,
      [],
    ],
    [
      'demonstration village: 14.99% integrated',
      10_000,
      lines({ integrated: 1_499, post_support: 8_501 }),
      dv,
      ['share_below_minimum'],
    ],
    [
      'demonstration village: no integrated line at all',
      100,
      lines({ post_support: 100 }),
      dv,
      ['share_below_minimum'],
    ],
    [
      'a cap reached exactly',
      100 * WAN,
      lines({ post_support: 50 * WAN, self_raised: 50 * WAN }),
      { caps: { post_support: 50 * WAN } },
      [],
    ],
    [
      'a cap exceeded by one fen',
      100 * WAN,
      lines({ post_support: 50 * WAN + 1, self_raised: 50 * WAN - 1 }),
      { caps: { post_support: 50 * WAN } },
      ['above_cap'],
    ],
    [
      'one third is above a maximum share of 33%',
      300,
      lines({ labour: 100, post_support: 200 }),
      { maxSharePercent: { labour: 33 } },
      ['share_above_maximum'],
    ],
    [
      'a maximum share of 34% allows one third',
      300,
      lines({ labour: 100, post_support: 200 }),
      { maxSharePercent: { labour: 34 } },
      [],
    ],
    [
      'everything at once, in order',
      1_000,
      [
        { source: 'post_support', amountFen: 600 },
        { source: 'post_support', amountFen: 300 },
        { source: 'labour', amountFen: 0 },
      ],
      {
        caps: { post_support: 800 },
        minSharePercent: { integrated: 15 },
        maxSharePercent: { post_support: 80 },
      },
      [
        'non_positive_line',
        'duplicate_source',
        'sum_mismatch',
        'above_cap',
        'share_above_maximum',
        'share_below_minimum',
      ],
    ],
  ])('%s', (_name, total, ls, rule, codes) => {
    expect(checkFunding(total, ls, rule).map((v) => v.code)).toEqual(codes);
  });

  it('violations carry the source, limit and percent', () => {
    const [cap] = checkFunding(200, lines({ post_support: 200 }), { caps: { post_support: 100 } });
    expect(cap).toMatchObject({ code: 'above_cap', source: 'post_support', limitFen: 100 });
    expect(cap?.message).toMatch(/\p{Script=Han}/u);
    const [share] = checkFunding(100, lines({ post_support: 100 }), dv);
    expect(share).toMatchObject({ code: 'share_below_minimum', source: 'integrated', percent: 15 });
  });

  it('shares are compared exactly on large totals (no floating point)', () => {
    const total = 9_007_199_254_740_000;
    const integrated = 1_351_079_888_211_000; // exactly 15%
    expect(checkFunding(total, lines({ integrated, post_support: total - integrated }), dv)).toEqual([]);
    expect(
      checkFunding(
        total,
        lines({ integrated: integrated - 1, post_support: total - integrated + 1 }),
        dv,
      ).map((v) => v.code),
    ).toEqual(['share_below_minimum']);
  });

  it.each<[string, () => unknown]>([
    ['fractional total', () => checkFunding(100.5, lines({ post_support: 100 }))],
    ['fractional amount', () => checkFunding(100, [{ source: 'post_support', amountFen: 99.5 }])],
    ['unknown source', () => checkFunding(100, [{ source: 'bank' as FundingSource, amountFen: 100 }])],
    ['lines not an array', () => checkFunding(100, null as unknown as FundingLine[])],
    [
      'the whole rules map instead of a rule',
      () =>
        checkFunding(100, lines({ post_support: 100 }), { demonstration_village: {} } as CategoryFundingRule),
    ],
    ['fundingRuleFor with an unknown category', () => fundingRuleFor({}, 'roads' as ProjectCategory)],
  ])('%s → RangeError', (_name, call) => {
    expect(call).toThrow(RangeError);
  });
});

function lines(amounts: Partial<Record<FundingSource, number>>): FundingLine[] {
  return Object.entries(amounts).map(([source, amountFen]) => ({
    source: source as FundingSource,
    amountFen,
  }));
}

describe('approval route', () => {
  const t = parameterValue(approvalThresholdsParameter, 0, '2026-01-01').value;

  it('national thresholds: province from 100万, city design from 50万 yuan', () => {
    expect(t).toEqual({ provinceFen: 100 * WAN, cityDesignFen: 50 * WAN });
  });

  const large: ApprovalStep[] = [
    { level: 'city', action: 'review' },
    { level: 'province', action: 'approve', scope: 'feasibility_and_design' },
  ];
  const middle: ApprovalStep[] = [
    { level: 'city', action: 'review' },
    { level: 'province', action: 'approve', scope: 'feasibility' },
    { level: 'city', action: 'approve', scope: 'design' },
  ];
  const small: ApprovalStep[] = [
    { level: 'city', action: 'approve', scope: 'feasibility_and_design' },
    { level: 'province', action: 'record' },
  ];

  it.each<[string, number, ApprovalStep[], number]>([
    ['0', 0, small, 0],
    ['49.99万', wanToFen('49.99'), small, 0],
    ['50万 minus one fen', 50 * WAN - 1, small, 0],
    ['50万', wanToFen('50'), middle, 2],
    ['99.99万', wanToFen('99.99'), middle, 2],
    ['100万 minus one fen', 100 * WAN - 1, middle, 2],
    ['100万', wanToFen('100'), large, 1],
    ['3,285.44万', wanToFen('3285.44'), large, 1],
  ])('%s → route, approved after step %i', (_name, total, route, approvedAfter) => {
    const r = approvalRoute(total, t);
    expect(r).toEqual(route);
    expect(routeApprovedAfter(r)).toBe(approvedAfter);
  });

  it('equal thresholds leave no middle band', () => {
    const same: ApprovalThresholds = { provinceFen: 100, cityDesignFen: 100 };
    expect(approvalRoute(99, same)).toEqual(small);
    expect(approvalRoute(100, same)).toEqual(large);
  });

  it.each<[ApprovalStep, string]>([
    [{ level: 'city', action: 'review' }, '市级审核'],
    [{ level: 'province', action: 'approve', scope: 'feasibility' }, '省级审批（可行性研究）'],
    [{ level: 'province', action: 'record' }, '省级备案'],
  ])('label of %j is %s', (step, label) => {
    expect(approvalStepLabel(step)).toBe(label);
  });

  it.each<[string, () => unknown]>([
    ['negative total', () => approvalRoute(-1, t)],
    ['fractional total', () => approvalRoute(0.5, t)],
    ['thresholds reversed', () => approvalRoute(1, { provinceFen: 1, cityDesignFen: 2 })],
    ['zero threshold', () => approvalRoute(1, { provinceFen: 0, cityDesignFen: 0 })],
    ['route without approve', () => routeApprovedAfter([{ level: 'province', action: 'record' }])],
    ['empty route', () => routeApprovedAfter([])],
    ['bad action', () => routeApprovedAfter([{ level: 'city', action: 'sign' as 'review' }])],
  ])('%s → RangeError', (_name, call) => {
    expect(call).toThrow(RangeError);
  });
});

describe('project status', () => {
  const allowed: [ProjectStatus, ProjectStatus][] = [
    ['library', 'planned'],
    ['library', 'cancelled'],
    ['planned', 'submitted'],
    ['planned', 'library'],
    ['planned', 'cancelled'],
    ['submitted', 'approved'],
    ['submitted', 'returned'],
    ['submitted', 'cancelled'],
    ['returned', 'submitted'],
    ['returned', 'cancelled'],
    ['approved', 'in_progress'],
    ['approved', 'submitted'],
    ['approved', 'cancelled'],
    ['in_progress', 'completed'],
    ['in_progress', 'submitted'],
    ['completed', 'accepted'],
    ['completed', 'in_progress'],
  ];

  it('the transition table is exactly the allowed pairs', () => {
    const table = projectStatuses.flatMap((from) =>
      projectTransitions[from].map((to) => [from, to] as [ProjectStatus, ProjectStatus]),
    );
    expect(table.sort()).toEqual([...allowed].sort());
    expect(Object.isFrozen(projectTransitions)).toBe(true);
    expect(Object.isFrozen(projectTransitions.library)).toBe(true);
  });

  it.each(projectStatuses.flatMap((from) => projectStatuses.map((to) => [from, to] as const)))(
    'canTransition(%s, %s)',
    (from, to) => {
      expect(canTransition(from, to)).toBe(allowed.some(([f, t]) => f === from && t === to));
    },
  );

  it('unknown statuses throw', () => {
    expect(() => canTransition('draft' as ProjectStatus, 'planned')).toThrow(RangeError);
    expect(() => canTransition('library', 'done' as ProjectStatus)).toThrow(RangeError);
  });

  it('posting days: 7 nationally', () => {
    expect(parameterValue(postingDaysParameter, 0, '2026-01-01').value).toBe(7);
  });

  it.each<[string, { from: string; to: string } | null, string, number, string | null]>([
    ['no posting', null, '2026-03-10', 7, 'no_posting'],
    ['7 days ended yesterday', { from: '2026-03-01', to: '2026-03-07' }, '2026-03-08', 7, null],
    ['7 days ending today', { from: '2026-03-01', to: '2026-03-07' }, '2026-03-07', 7, null],
    ['ends tomorrow', { from: '2026-03-01', to: '2026-03-08' }, '2026-03-07', 7, 'posting_not_ended'],
    ['6 days', { from: '2026-03-01', to: '2026-03-06' }, '2026-03-10', 7, 'posting_too_short'],
    ['one day of one', { from: '2026-03-01', to: '2026-03-01' }, '2026-03-01', 1, null],
    ['across February of a leap year', { from: '2024-02-25', to: '2024-03-02' }, '2024-03-02', 7, null],
    [
      'across February of a common year',
      { from: '2026-02-25', to: '2026-03-02' },
      '2026-03-02',
      7,
      'posting_too_short',
    ],
    ['across a year end', { from: '2025-12-28', to: '2026-01-03' }, '2026-01-05', 7, null],
  ])('%s → %s', (_name, posting, today, minDays, expected) => {
    expect(postingCheck(posting, today, minDays)).toBe(expected);
  });

  it.each<[string, () => unknown]>([
    ['bad today', () => postingCheck(null, '2026-02-30', 7)],
    ['bad from', () => postingCheck({ from: '2026/03/01', to: '2026-03-07' }, '2026-03-08', 7)],
    ['reversed posting', () => postingCheck({ from: '2026-03-07', to: '2026-03-01' }, '2026-03-08', 7)],
    ['minDays 0', () => postingCheck(null, '2026-03-08', 0)],
    ['minDays fractional', () => postingCheck(null, '2026-03-08', 1.5)],
  ])('%s → RangeError', (_name, call) => {
    expect(call).toThrow(RangeError);
  });

  it.each<[ProjectStatus, ProjectStatus, { from: string; to: string } | null, string | null]>([
    ['library', 'planned', { from: '2026-03-01', to: '2026-03-07' }, null],
    ['library', 'planned', null, 'no_posting'],
    ['library', 'planned', { from: '2026-03-05', to: '2026-03-07' }, 'posting_too_short'],
    ['library', 'submitted', { from: '2026-03-01', to: '2026-03-07' }, 'not_allowed'],
    ['planned', 'submitted', null, null],
    ['accepted', 'in_progress', null, 'not_allowed'],
  ])('transitionCheck %s → %s with posting %j → %s', (from, to, posting, expected) => {
    expect(transitionCheck(from, to, { posting, today: '2026-03-08', postingDays: 7 })).toBe(expected);
  });
});

describe('scope fingerprint', () => {
  const base: ProjectScope = {
    category: 'infrastructure',
    villageCodes: [420581101201, 420581101202],
    outputs: { road_km: 13_620, canal_m: 16_000_000 },
    fundingLines: [
      { source: 'post_support', amountFen: 128 * WAN },
      { source: 'self_raised', amountFen: 10 * WAN },
    ],
    totalFen: 138 * WAN,
  };

  it('is canonical: order, repeats, zero outputs and split lines do not matter', () => {
    const same: ProjectScope = {
      category: 'infrastructure',
      villageCodes: [420581101202, 420581101201, 420581101202],
      outputs: { canal_m: 16_000_000, road_km: 13_620, bridge: 0 },
      fundingLines: [
        { source: 'self_raised', amountFen: 10 * WAN },
        { source: 'post_support', amountFen: 100 * WAN },
        { source: 'post_support', amountFen: 28 * WAN },
      ],
      totalFen: 138 * WAN,
    };
    expect(scopeFingerprint(same)).toBe(scopeFingerprint(base));
    expect(scopeChanged(base, same)).toBe(false);
    expect(scopeFingerprint(base)).toBe(
      'category=infrastructure;villages=420581101201,420581101202;outputs=road_km:13620,canal_m:16000000;' +
        'funding=post_support:128000000,self_raised:10000000;total=138000000',
    );
  });

  it.each<[string, Partial<ProjectScope>]>([
    ['category', { category: 'production' }],
    ['a village moved', { villageCodes: [420581101201, 420581101203] }],
    ['a village dropped', { villageCodes: [420581101201] }],
    ['an output reduced', { outputs: { road_km: 13_000, canal_m: 16_000_000 } }],
    ['an output added', { outputs: { road_km: 13_620, canal_m: 16_000_000, bridge: 1_000 } }],
    [
      'funding shifted between sources',
      {
        fundingLines: [
          { source: 'post_support', amountFen: 118 * WAN },
          { source: 'self_raised', amountFen: 20 * WAN },
        ],
      },
    ],
    ['total', { totalFen: 138 * WAN + 1 }],
  ])('a change of %s is a scope change', (_name, change) => {
    expect(scopeChanged(base, { ...base, ...change })).toBe(true);
  });

  it.each<[string, Partial<ProjectScope>]>([
    ['unknown category', { category: 'roads' as ProjectCategory }],
    ['bad village code', { villageCodes: [420581] }],
    ['unknown output kind', { outputs: { road_m: 1 } as ProjectScope['outputs'] }],
    ['fractional output', { outputs: { road_km: 1.5 } }],
    ['unknown source', { fundingLines: [{ source: 'bank' as FundingSource, amountFen: 1 }] }],
    ['fractional total', { totalFen: 0.5 }],
  ])('%s → RangeError', (_name, change) => {
    expect(() => scopeFingerprint({ ...base, ...change })).toThrow(RangeError);
  });
});

describe('payment schedule', () => {
  const schedule = parameterValue(paymentScheduleParameter, 0, '2026-01-01').value;
  const state = (progressPercent: number, accepted = false, depositReleased = false): PaymentState => ({
    progressPercent,
    accepted,
    depositReleased,
  });

  it('national schedule: 10/40/30/10 and a 10% quality deposit', () => {
    expect(schedule.qualityDepositPercent).toBe(10);
    expect(schedule.stages.map((s) => [s.stage, s.percent])).toEqual([
      ['contract', 10],
      ['half_done', 40],
      ['completion', 30],
      ['final_accounts', 10],
    ]);
  });

  it.each<[string, number, PaymentState, number]>([
    ['before any progress', 1_000_000, state(0), 100_000],
    ['at 49.99%', 1_000_000, state(49.99), 100_000],
    ['at 50%', 1_000_000, state(50), 500_000],
    ['at 99%', 1_000_000, state(99), 500_000],
    ['at 100%', 1_000_000, state(100), 800_000],
    ['accepted', 1_000_000, state(100, true), 900_000],
    ['deposit released', 1_000_000, state(100, true, true), 1_000_000],
    ['accepted but not complete (no completion stage)', 1_000_000, state(60, true), 600_000],
    ['floor: 10% of 1,234,567', 1_234_567, state(0), 123_456],
    ['all released is the contract exactly', 1_234_567, state(100, true, true), 1_234_567],
    ['a contract of 0', 0, state(100, true, true), 0],
  ])('%s → %i', (_name, contract, st, cap) => {
    expect(maxPayableFen(contract, schedule, st)).toBe(cap);
  });

  it.each<[string, Partial<PaymentRequest>, number | null]>([
    ['within the contract stage', { paidFen: 0, amountFen: 100_000 }, null],
    ['one fen beyond the contract stage', { paidFen: 0, amountFen: 100_001 }, 100_000],
    [
      'second payment at 50% up to the cap',
      { paidFen: 100_000, amountFen: 400_000, progressPercent: 50 },
      null,
    ],
    ['second payment at 50% beyond', { paidFen: 100_000, amountFen: 400_001, progressPercent: 50 }, 400_000],
    ['already paid above the cap', { paidFen: 150_000, amountFen: 1 }, 0],
  ])('%s', (_name, change, remaining) => {
    const req: PaymentRequest = {
      contractFen: 1_000_000,
      paidFen: 0,
      amountFen: 1,
      ...state(0),
      ...change,
    };
    const v = checkPayment(req, schedule);
    if (remaining === null) expect(v).toBeNull();
    else expect(v).toMatchObject({ code: 'exceeds_schedule', remainingFen: remaining });
  });

  it.each<[string, unknown]>([
    ['percents adding up to 90', { stages: [{ stage: 'contract', percent: 90 }], qualityDepositPercent: 0 }],
    [
      'a stage twice',
      {
        stages: [
          { stage: 'contract', percent: 50 },
          { stage: 'contract', percent: 50 },
        ],
        qualityDepositPercent: 0,
      },
    ],
    ['no stages', { stages: [], qualityDepositPercent: 100 }],
    [
      'progress above 100',
      { stages: [{ stage: 'contract', percent: 100, minProgressPercent: 101 }], qualityDepositPercent: 0 },
    ],
    ['unknown stage', { stages: [{ stage: 'start', percent: 100 }], qualityDepositPercent: 0 }],
  ])('a schedule with %s is rejected', (_name, value) => {
    expect(paymentScheduleParameter.schema.safeParse(value).success).toBe(false);
    expect(() => maxPayableFen(100, value as PaymentSchedule, state(0))).toThrow(RangeError);
  });

  it('a province may pay everything at contract', () => {
    const p = withStoredOverrides(paymentScheduleParameter, 420000, [
      {
        from: '2020-01-01',
        value: { stages: [{ stage: 'contract', percent: 100 }], qualityDepositPercent: 0 },
        source: 'test',
      },
    ]);
    expect(maxPayableFen(1_000, parameterValue(p, 420581, '2021-01-01').value, state(0))).toBe(1_000);
  });

  it.each<[string, () => unknown]>([
    ['negative contract', () => maxPayableFen(-1, schedule, state(0))],
    ['progress above 100', () => maxPayableFen(1, schedule, state(100.1))],
    ['progress NaN', () => maxPayableFen(1, schedule, state(Number.NaN))],
    ['deposit released before acceptance', () => maxPayableFen(1, schedule, state(100, false, true))],
    [
      'accepted not a boolean',
      () => maxPayableFen(1, schedule, { ...state(0), accepted: 'yes' as unknown as boolean }),
    ],
    [
      'a payment of 0',
      () => checkPayment({ contractFen: 100, paidFen: 0, amountFen: 0, ...state(0) }, schedule),
    ],
    [
      'a negative paid amount',
      () => checkPayment({ contractFen: 100, paidFen: -1, amountFen: 1, ...state(0) }, schedule),
    ],
  ])('%s → RangeError', (_name, call) => {
    expect(call).toThrow(RangeError);
  });
});

describe('completion acceptance', () => {
  const levels = parameterValue(acceptanceLevelsParameter, 0, '2026-01-01').value;

  it('national levels mirror the approval thresholds', () => {
    expect(levels).toEqual({ provinceFen: 100 * WAN, cityFen: 50 * WAN });
  });

  it.each<[string, number, string[]]>([
    ['0', 0, ['self_check', 'county']],
    ['49.99万', wanToFen('49.99'), ['self_check', 'county']],
    ['50万', wanToFen('50'), ['self_check', 'county', 'city']],
    ['99.99万', wanToFen('99.99'), ['self_check', 'county', 'city']],
    ['100万', wanToFen('100'), ['self_check', 'county', 'city', 'province']],
  ])('%s → %j', (_name, total, route) => {
    expect(acceptanceRoute(total, levels)).toEqual(route);
  });

  it('invalid levels or totals throw', () => {
    expect(() => acceptanceRoute(1, { provinceFen: 1, cityFen: 2 } as AcceptanceLevels)).toThrow(RangeError);
    expect(() => acceptanceRoute(-1, levels)).toThrow(RangeError);
  });

  const V1 = 420581101201;
  const V2 = 420581101202;
  const V3 = 420581101203;
  const ok: AcceptanceInput = {
    approvedVillageCodes: [V1, V2],
    actualVillageCodes: [V2, V1],
    plannedOutputs: { road_km: 13_620, canal_m: 16_000_000 },
    achievedOutputs: { road_km: 13_620, canal_m: 16_500_000 },
    payments: [
      { amountFen: 100, fundingLineId: 'L1' },
      { amountFen: 200, fundingLineId: 'L2' },
    ],
    fundingLineIds: ['L1', 'L2'],
  };

  it.each<[string, Partial<AcceptanceInput>, unknown[]]>([
    ['all well (more than planned is fine)', {}, []],
    [
      'plan moved: a village swapped',
      { actualVillageCodes: [V1, V3] },
      [{ flag: 'plan_moved', detail: { missing: [V2], added: [V3] } }],
    ],
    [
      'plan moved: a village dropped',
      { actualVillageCodes: [V1] },
      [{ flag: 'plan_moved', detail: { missing: [V2], added: [] } }],
    ],
    ['repeated villages are the same set', { actualVillageCodes: [V1, V2, V1] }, []],
    [
      'work undone: road short by one metre',
      { achievedOutputs: { road_km: 13_619, canal_m: 16_000_000 } },
      [{ flag: 'work_undone', detail: { kinds: ['road_km'] } }],
    ],
    [
      'work undone: nothing reported',
      { achievedOutputs: {} },
      [{ flag: 'work_undone', detail: { kinds: ['road_km', 'canal_m'] } }],
    ],
    [
      'a planned zero is not work',
      { plannedOutputs: { road_km: 13_620, bridge: 0 }, achievedOutputs: { road_km: 13_620 } },
      [],
    ],
    [
      'funds diverted: a payment without a line',
      { payments: [...ok.payments, { amountFen: 50, fundingLineId: null }] },
      [{ flag: 'funds_diverted', detail: { payments: [2], amountFen: 50 } }],
    ],
    [
      'funds diverted: a line of another project',
      { payments: [{ amountFen: 70, fundingLineId: 'X9' }, ...ok.payments] },
      [{ flag: 'funds_diverted', detail: { payments: [0], amountFen: 70 } }],
    ],
    [
      'all three, in order',
      {
        actualVillageCodes: [V3],
        achievedOutputs: { canal_m: 16_000_000 },
        payments: [{ amountFen: 1, fundingLineId: null }],
      },
      [
        { flag: 'plan_moved', detail: { missing: [V1, V2], added: [V3] } },
        { flag: 'work_undone', detail: { kinds: ['road_km'] } },
        { flag: 'funds_diverted', detail: { payments: [0], amountFen: 1 } },
      ],
    ],
  ])('%s', (_name, change, expected) => {
    const flags = acceptanceFlags({ ...ok, ...change });
    expect(flags).toMatchObject(expected);
    expect(flags).toHaveLength(expected.length);
    for (const f of flags) expect(f.message).toMatch(/\p{Script=Han}/u);
  });

  it.each<[string, Partial<AcceptanceInput>]>([
    ['bad village code', { actualVillageCodes: [123] }],
    ['unknown output kind', { plannedOutputs: { road: 1 } as AcceptanceInput['plannedOutputs'] }],
    ['negative achievement', { achievedOutputs: { road_km: -1 } }],
    ['fractional payment', { payments: [{ amountFen: 0.5, fundingLineId: 'L1' }] }],
    ['empty line id', { fundingLineIds: [''] }],
  ])('%s → RangeError', (_name, change) => {
    expect(() => acceptanceFlags({ ...ok, ...change })).toThrow(RangeError);
  });
});

describe('idle funds', () => {
  it('idle months: 12 nationally', () => {
    expect(parameterValue(idleMonthsParameter, 0, '2026-01-01').value).toBe(12);
  });

  const allocations = [
    { allocatedOn: '2025-03-31', amountFen: 1_000 },
    { allocatedOn: '2025-06-15', amountFen: 2_000 },
    { allocatedOn: '2026-01-10', amountFen: 4_000 },
  ];

  it.each<[string, Partial<IdleFundsInput>, number]>([
    ['nothing paid, one allocation a year old', { paidFen: 0, today: '2026-03-31' }, 1_000],
    ['the day before it turns a year', { paidFen: 0, today: '2026-03-30' }, 0],
    ['two allocations old', { paidFen: 0, today: '2026-06-15' }, 3_000],
    ['payments consume the oldest first', { paidFen: 1_500, today: '2026-06-15' }, 1_500],
    ['paid more than the old allocations', { paidFen: 5_000, today: '2026-06-15' }, 0],
    ['all old, some paid', { paidFen: 1_000, today: '2027-12-31' }, 6_000],
    [
      'month end: 2026-03-31 minus 1 month is 2026-02-28',
      {
        allocations: [
          { allocatedOn: '2026-02-28', amountFen: 10 },
          { allocatedOn: '2026-03-01', amountFen: 20 },
        ],
        paidFen: 0,
        today: '2026-03-31',
        idleMonths: 1,
      },
      10,
    ],
    [
      'leap year: 2024-03-31 minus 1 month is 2024-02-29',
      {
        allocations: [
          { allocatedOn: '2024-02-29', amountFen: 10 },
          { allocatedOn: '2024-03-01', amountFen: 20 },
        ],
        paidFen: 0,
        today: '2024-03-31',
        idleMonths: 1,
      },
      10,
    ],
    [
      'across a year: 2026-01-15 minus 3 months is 2025-10-15',
      {
        allocations: [
          { allocatedOn: '2025-10-15', amountFen: 10 },
          { allocatedOn: '2025-10-16', amountFen: 20 },
        ],
        paidFen: 0,
        today: '2026-01-15',
        idleMonths: 3,
      },
      10,
    ],
    ['no allocations', { allocations: [], paidFen: 0, today: '2026-01-01' }, 0],
  ])('%s → %i', (_name, change, idle) => {
    expect(idleFen({ allocations, paidFen: 0, today: '2026-01-01', idleMonths: 12, ...change })).toBe(idle);
  });

  it.each<[string, Partial<IdleFundsInput>]>([
    ['bad today', { today: '2026-02-29' }],
    ['bad allocation date', { allocations: [{ allocatedOn: '2026-13-01', amountFen: 1 }] }],
    ['negative allocation', { allocations: [{ allocatedOn: '2026-01-01', amountFen: -1 }] }],
    ['negative paid', { paidFen: -1 }],
    ['fractional months', { idleMonths: 1.5 }],
  ])('%s → RangeError', (_name, change) => {
    expect(() =>
      idleFen({ allocations: [], paidFen: 0, today: '2026-01-01', idleMonths: 12, ...change }),
    ).toThrow(RangeError);
  });
});
