import { describe, expect, it } from 'vitest';
import {
  ageOn,
  type BidCriterion,
  bidCriteria,
  bidCriterionLabels,
  bidCriterionSchema,
  bidDisqualificationLabels,
  bidDisqualifications,
  type CallForBids,
  canAidTransition,
  checkTrainingPlan,
  checkTrainingSpend,
  checkVocationalAid,
  costPerTraineeFen,
  formatYuan,
  type ProviderSelectionRules,
  parameterValue,
  providerSelectionRulesParameter,
  selectionViolationCodes,
  selectionViolationLabels,
  selectProviders,
  type TrainingBid,
  type TrainingBudgetLine,
  type TrainingBudgetRules,
  type TrainingPlan,
  type TrainingPlanLine,
  type TrainingPlanViolationCode,
  type TrainingSpend,
  type TrainingSpendViolationCode,
  trainingApprovalRoute,
  trainingApprovalThresholdsParameter,
  trainingBudgetRulesParameter,
  trainingKindLabels,
  trainingKindSchema,
  trainingKinds,
  trainingMeasureLabels,
  trainingMeasures,
  trainingPlanBudgetFen,
  trainingPlanViolationCodes,
  trainingPlanViolationLabels,
  trainingProgress,
  trainingSpendViolationCodes,
  trainingSpendViolationLabels,
  type VocationalAidApplication,
  type VocationalAidRules,
  type VocationalAidStatus,
  type VocationalAidViolationCode,
  vocationalAidRulesParameter,
  vocationalAidStatuses,
  vocationalAidStatusLabels,
  vocationalAidViolationCodes,
  vocationalAidViolationLabels,
  vocationalLevelLabels,
  vocationalLevels,
  wanToFen,
  withStoredOverrides,
} from '../src/index.js';

const YUAN = 100;
const WAN = 1_000_000; // fen in 1万 yuan
const budgetRules = parameterValue(trainingBudgetRulesParameter, 0, '2026-01-01').value;
const selectionRules = parameterValue(providerSelectionRulesParameter, 0, '2026-01-01').value;
const aidRules = parameterValue(vocationalAidRulesParameter, 0, '2026-01-01').value;
const thresholds = parameterValue(trainingApprovalThresholdsParameter, 0, '2026-01-01').value;
const caps = budgetRules.perTraineeCapFen;

/** Seed 000: 77.42万 yuan for 1,014 trainees. */
const SEED_FEN = wanToFen('77.42');
const SEED_TRAINEES = 1_014;

describe('vocabularies', () => {
  it.each<[string, readonly string[], Readonly<Record<string, string>>]>([
    ['trainingKinds', trainingKinds, trainingKindLabels],
    ['trainingPlanViolationCodes', trainingPlanViolationCodes, trainingPlanViolationLabels],
    ['bidCriteria', bidCriteria, bidCriterionLabels],
    ['bidDisqualifications', bidDisqualifications, bidDisqualificationLabels],
    ['selectionViolationCodes', selectionViolationCodes, selectionViolationLabels],
    ['trainingSpendViolationCodes', trainingSpendViolationCodes, trainingSpendViolationLabels],
    ['vocationalLevels', vocationalLevels, vocationalLevelLabels],
    ['vocationalAidViolationCodes', vocationalAidViolationCodes, vocationalAidViolationLabels],
    ['vocationalAidStatuses', vocationalAidStatuses, vocationalAidStatusLabels],
    ['trainingMeasures', trainingMeasures, trainingMeasureLabels],
  ])('%s: every value has a Chinese label and nothing else', (_name, list, labels) => {
    expect(Object.keys(labels).sort()).toEqual([...list].sort());
    for (const v of list) expect(labels[v]).toMatch(/\p{Script=Han}/u);
    expect(Object.isFrozen(labels)).toBe(true);
  });

  it('schemas list the same values', () => {
    expect(trainingKindSchema.options).toEqual([...trainingKinds]);
    expect(bidCriterionSchema.options).toEqual([...bidCriteria]);
    expect(trainingKindLabels).toEqual({ cadre: '移民干部培训', practical_skills: '移民实用技术培训' });
  });
});

describe('parameters', () => {
  it('national defaults', () => {
    expect(budgetRules).toEqual({
      perTraineeCapFen: { cadre: 1_000 * YUAN, practical_skills: 800 * YUAN },
      countyAnnualCapFen: null,
      maxCadreSharePercent: null,
      minPracticalSharePercent: null,
    });
    expect(selectionRules).toEqual({
      minBids: 3,
      weights: { price: 30, scheme: 40, capacity: 20, record: 10 },
    });
    expect(thresholds).toEqual({ provinceFen: 100 * WAN, cityDesignFen: 50 * WAN });
    const range = { minFen: 1_000 * YUAN, maxFen: 4_000 * YUAN };
    expect(aidRules).toEqual({
      amountByLevel: { secondary: range, higher: range, technician: range },
      maxCostSharePercent: 45,
      minAge: 14,
      maxAge: 22,
      maxYears: 3,
      requiresRegisteredMigrantParent: true,
    });
  });

  it.each([
    [
      trainingBudgetRulesParameter.id,
      trainingBudgetRulesParameter.national[0]?.source,
      'default, not from a source',
    ],
    [
      providerSelectionRulesParameter.id,
      providerSelectionRulesParameter.national[0]?.source,
      'default, not from a source',
    ],
    [
      trainingApprovalThresholdsParameter.id,
      trainingApprovalThresholdsParameter.national[0]?.source,
      'default, not from a source',
    ],
    [vocationalAidRulesParameter.id, vocationalAidRulesParameter.national[0]?.source, 'DOMAIN.md Training'],
  ])('%s cites its source', (_id, source, expected) => {
    expect(source).toContain(expected);
  });

  it.each<[string, unknown, unknown, boolean]>([
    [
      'budget rules with a county cap and a split',
      trainingBudgetRulesParameter,
      {
        perTraineeCapFen: { cadre: 1_200 * YUAN, practical_skills: 700 * YUAN },
        countyAnnualCapFen: 200 * WAN,
        maxCadreSharePercent: 20,
        minPracticalSharePercent: 70,
      },
      true,
    ],
    [
      'budget rules with a cap of 0',
      trainingBudgetRulesParameter,
      {
        perTraineeCapFen: { cadre: 0, practical_skills: 700 * YUAN },
        countyAnnualCapFen: null,
        maxCadreSharePercent: null,
        minPracticalSharePercent: null,
      },
      false,
    ],
    [
      'budget rules with a share of 101',
      trainingBudgetRulesParameter,
      {
        perTraineeCapFen: { cadre: 1, practical_skills: 1 },
        countyAnnualCapFen: null,
        maxCadreSharePercent: 101,
        minPracticalSharePercent: null,
      },
      false,
    ],
    [
      'selection weights 50/30/10/10, 2 bids',
      providerSelectionRulesParameter,
      { minBids: 2, weights: { price: 50, scheme: 30, capacity: 10, record: 10 } },
      true,
    ],
    [
      'selection weights adding up to 99',
      providerSelectionRulesParameter,
      { minBids: 3, weights: { price: 30, scheme: 40, capacity: 20, record: 9 } },
      false,
    ],
    [
      'selection with 0 bids',
      providerSelectionRulesParameter,
      { minBids: 0, weights: { price: 30, scheme: 40, capacity: 20, record: 10 } },
      false,
    ],
    [
      'approval thresholds reversed',
      trainingApprovalThresholdsParameter,
      { provinceFen: 1, cityDesignFen: 2 },
      false,
    ],
    [
      'aid ages 16–20, 2 years, no cost share',
      vocationalAidRulesParameter,
      { ...aidRules, minAge: 16, maxAge: 20, maxYears: 2, maxCostSharePercent: null },
      true,
    ],
    ['aid ages reversed', vocationalAidRulesParameter, { ...aidRules, minAge: 23, maxAge: 22 }, false],
    [
      'aid range reversed',
      vocationalAidRulesParameter,
      { ...aidRules, amountByLevel: { ...aidRules.amountByLevel, higher: { minFen: 5_000, maxFen: 4_000 } } },
      false,
    ],
  ])('a province override of %s is accepted: %s', (_name, parameter, value, ok) => {
    const p = parameter as typeof trainingApprovalThresholdsParameter;
    const call = () =>
      withStoredOverrides(p, 420000, [{ from: '2020-01-01', value: value as never, source: 'test' }]);
    if (ok) expect(parameterValue(call(), 420581, '2020-01-01').value).toEqual(value);
    else expect(call).toThrow(RangeError);
  });
});

describe('costPerTraineeFen (half up to the fen)', () => {
  it('seed 000: 77.42万 for 1,014 trainees = 76,351 fen = 763.51 yuan ("about 763.5")', () => {
    expect(SEED_FEN).toBe(77_420_000);
    expect(costPerTraineeFen(SEED_FEN, SEED_TRAINEES)).toBe(76_351);
    expect(formatYuan(costPerTraineeFen(SEED_FEN, SEED_TRAINEES))).toBe('763.51');
  });

  it.each<[string, number, number, number]>([
    ['exact', 100_000, 4, 25_000],
    ['below half rounds down', 10, 3, 3],
    ['exactly half rounds up', 5, 2, 3],
    ['above half rounds up', 2, 3, 1],
    ['zero', 0, 7, 0],
  ])('%s: %i / %i → %i', (_name, total, trainees, expected) => {
    expect(costPerTraineeFen(total, trainees)).toBe(expected);
  });

  it.each<[string, number, number]>([
    ['no trainees', 100, 0],
    ['negative total', -1, 1],
    ['fractional total', 1.5, 1],
    ['fractional trainees', 100, 1.5],
  ])('%s → RangeError', (_name, total, trainees) => {
    expect(() => costPerTraineeFen(total, trainees)).toThrow(RangeError);
  });
});

describe('checkTrainingPlan', () => {
  const cadre: TrainingPlanLine = {
    kind: 'cadre',
    sessions: 1,
    trainees: 100,
    traineeTimes: 100,
    courses: ['移民政策', '信访工作'],
    budgetFen: 5 * WAN,
  };
  const practical: TrainingPlanLine = {
    kind: 'practical_skills',
    sessions: 112,
    trainees: SEED_TRAINEES,
    traineeTimes: 10_048,
    courses: ['柑桔', '蔬菜生产', '水产养殖'],
    budgetFen: SEED_FEN,
  };
  const plan: TrainingPlan = {
    lines: [cadre, practical],
    fundingLines: [{ source: 'post_support', amountFen: 5 * WAN + SEED_FEN }],
  };
  const codes = (p: TrainingPlan, r: Partial<TrainingBudgetRules> = {}) =>
    checkTrainingPlan(p, { ...budgetRules, ...r }).map((v) => v.code);

  it('seed 000 plan (100 cadres, 1,014 migrants for 77.42万) passes; budget = 82.42万', () => {
    expect(checkTrainingPlan(plan, budgetRules)).toEqual([]);
    expect(trainingPlanBudgetFen(plan)).toBe(wanToFen('82.42'));
  });

  it.each<[string, TrainingPlan, Partial<TrainingBudgetRules>, TrainingPlanViolationCode[]]>([
    ['empty', { lines: [], fundingLines: [] }, {}, ['empty']],
    [
      'duplicate kind',
      { lines: [cadre, cadre], fundingLines: [{ source: 'post_support', amountFen: 10 * WAN }] },
      {},
      ['duplicate_kind'],
    ],
    [
      'no trainees',
      { ...plan, lines: [{ ...cadre, trainees: 0, traineeTimes: 0 }, practical] },
      {},
      ['no_trainees'],
    ],
    [
      'a budget without sessions',
      { ...plan, lines: [{ ...cadre, sessions: 0 }, practical] },
      {},
      ['no_trainees'],
    ],
    ['blank courses', { ...plan, lines: [{ ...cadre, courses: [' '] }, practical] }, {}, ['no_courses']],
    [
      'trainee-times below trainees',
      { ...plan, lines: [cadre, { ...practical, traineeTimes: SEED_TRAINEES - 1 }] },
      {},
      ['trainee_times_below_trainees'],
    ],
    [
      'trainee-times equal to trainees',
      { ...plan, lines: [cadre, { ...practical, traineeTimes: SEED_TRAINEES }] },
      {},
      [],
    ],
    [
      'cap 763.52 yuan: 76,352 × 1,014 ≥ 77.42万, ok',
      plan,
      { perTraineeCapFen: { cadre: 1_000 * YUAN, practical_skills: 76_352 } },
      [],
    ],
    [
      'cap 763.51 yuan: the rounded cost equals it but the exact cost is above',
      plan,
      { perTraineeCapFen: { cadre: 1_000 * YUAN, practical_skills: 76_351 } },
      ['cost_per_trainee_above_cap'],
    ],
    [
      'cadre exactly at the cap (500 yuan)',
      plan,
      { perTraineeCapFen: { cadre: 500 * YUAN, practical_skills: 800 * YUAN } },
      [],
    ],
    [
      'cadre one fen over',
      {
        ...plan,
        lines: [{ ...cadre, budgetFen: 5 * WAN + 1 }, practical],
        fundingLines: [{ source: 'post_support', amountFen: 5 * WAN + 1 + SEED_FEN }],
      },
      { perTraineeCapFen: { cadre: 500 * YUAN, practical_skills: 800 * YUAN } },
      ['cost_per_trainee_above_cap'],
    ],
    [
      'funding one fen short',
      { ...plan, fundingLines: [{ source: 'post_support', amountFen: 5 * WAN + SEED_FEN - 1 }] },
      {},
      ['funding'],
    ],
    [
      'funding from two sources adding up',
      {
        ...plan,
        fundingLines: [
          { source: 'post_support', amountFen: SEED_FEN },
          { source: 'integrated', amountFen: 5 * WAN },
        ],
      },
      {},
      [],
    ],
    ['county cap exactly the budget', plan, { countyAnnualCapFen: wanToFen('82.42') }, []],
    ['county cap one fen below', plan, { countyAnnualCapFen: wanToFen('82.42') - 1 }, ['above_county_cap']],
    // cadre share = 5 / 82.42 = 6.07%
    ['cadre share at most 7%', plan, { maxCadreSharePercent: 7 }, []],
    ['cadre share at most 6%', plan, { maxCadreSharePercent: 6 }, ['cadre_share_above_maximum']],
    ['practical share at least 93%', plan, { minPracticalSharePercent: 93 }, []],
    [
      'practical share at least 94%',
      plan,
      { minPracticalSharePercent: 94 },
      ['practical_share_below_minimum'],
    ],
    [
      'exactly 50/50 with max cadre 50 and min practical 50',
      {
        lines: [
          { ...cadre, budgetFen: 50 * WAN, trainees: 1_000, traineeTimes: 1_000 },
          { ...practical, budgetFen: 50 * WAN },
        ],
        fundingLines: [{ source: 'post_support', amountFen: 100 * WAN }],
      },
      { maxCadreSharePercent: 50, minPracticalSharePercent: 50 },
      [],
    ],
    [
      'cadre only with a practical minimum',
      { lines: [cadre], fundingLines: [{ source: 'post_support', amountFen: 5 * WAN }] },
      { minPracticalSharePercent: 1 },
      ['practical_share_below_minimum'],
    ],
  ])('%s', (_name, p, r, expected) => {
    expect(codes(p, r)).toEqual(expected);
  });

  it('reports the cap and the rounded cost per trainee', () => {
    const [v] = checkTrainingPlan(plan, {
      ...budgetRules,
      perTraineeCapFen: { cadre: 1_000 * YUAN, practical_skills: 700 * YUAN },
    });
    expect(v).toMatchObject({
      code: 'cost_per_trainee_above_cap',
      kind: 'practical_skills',
      line: 1,
      limitFen: 70_000,
      actualFen: 76_351,
    });
    expect(v?.message).toContain('763.51');
  });

  it('the training category funding rule applies', () => {
    const v = checkTrainingPlan(plan, budgetRules, { maxSharePercent: { post_support: 90 } });
    expect(v.map((x) => [x.code, x.funding?.code])).toEqual([['funding', 'share_above_maximum']]);
  });

  it.each<[string, unknown]>([
    ['lines not an array', { lines: null, fundingLines: [] }],
    ['unknown kind', { lines: [{ ...cadre, kind: 'other' }], fundingLines: [] }],
    ['negative budget', { lines: [{ ...cadre, budgetFen: -1 }], fundingLines: [] }],
    ['courses not strings', { lines: [{ ...cadre, courses: [1] }], fundingLines: [] }],
    ['funding not an array', { lines: [cadre], fundingLines: null }],
  ])('%s → RangeError', (_name, p) => {
    expect(() => checkTrainingPlan(p as TrainingPlan, budgetRules)).toThrow(RangeError);
  });
});

describe('trainingApprovalRoute', () => {
  it.each<[string, number, string[]]>([
    ['seed 000: 77.42万', SEED_FEN, ['city:review', 'province:approve:feasibility', 'city:approve:design']],
    ['100万', 100 * WAN, ['city:review', 'province:approve:feasibility_and_design']],
    ['one fen below 50万', 50 * WAN - 1, ['city:approve:feasibility_and_design', 'province:record']],
    ['50万', 50 * WAN, ['city:review', 'province:approve:feasibility', 'city:approve:design']],
  ])('%s', (_name, budget, expected) => {
    expect(
      trainingApprovalRoute(budget, thresholds).map((s) =>
        [s.level, s.action, s.scope].filter((x) => x !== undefined).join(':'),
      ),
    ).toEqual(expected);
  });
});

describe('selectProviders 承训单位竞争性选择', () => {
  const call: CallForBids = {
    kind: 'practical_skills',
    trainees: SEED_TRAINEES,
    budgetFen: SEED_FEN,
    providers: 2,
  };
  const bid = (
    providerId: string,
    price: number,
    scheme: number,
    capacity: number,
    record: number,
  ): TrainingBid => ({
    providerId,
    pricePerTraineeFen: price,
    scores: { scheme, capacity, record },
  });
  const a = bid('A', 70_000, 90, 80, 70); // price 30.00 + 36 + 16 + 7 = 89.00
  const b = bid('B', 75_000, 95, 90, 80); // price 28.00 + 38 + 18 + 8 = 92.00
  const c = bid('C', 76_000, 80, 70, 60); // price 27.63 + 32 + 14 + 6 = 79.63
  const overBudget = bid('D', 76_352, 100, 100, 100); // × 1,014 > 77.42万
  const overCap = bid('E', 80_001, 100, 100, 100); // > 800 yuan

  it('ranks by total score and selects the first two, with reasons', () => {
    const r = selectProviders(call, [a, b, c, overBudget, overCap], selectionRules, caps);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.selected).toEqual(['B', 'A']);
    expect(r.ranking.map((x) => [x.rank, x.providerId, x.totalScore, x.selected])).toEqual([
      [1, 'B', '92.00', true],
      [2, 'A', '89.00', true],
      [3, 'C', '79.63', false],
    ]);
    expect(r.ranking[2]?.pointsHundredths).toEqual({
      price: 2763,
      scheme: 3200,
      capacity: 1400,
      record: 600,
    });
    expect(r.ranking[0]?.reason).toBe(
      '第1名，综合得分 92.00（报价 28.00，培训方案 38.00，师资与场地 18.00，以往培训业绩 8.00），入选',
    );
    expect(r.ranking[2]?.reason).toContain('未入选');
    expect(r.disqualified.map((d) => [d.providerId, d.reason])).toEqual([
      ['D', 'above_call_budget'],
      ['E', 'above_per_trainee_cap'],
    ]);
  });

  it.each<[string, TrainingBid, boolean]>([
    ['price exactly at the cap (call budget large)', bid('X', 80_000, 0, 0, 0), true],
    ['one fen over the cap', bid('X', 80_001, 0, 0, 0), false],
  ])('%s qualifies: %s', (_name, x, ok) => {
    const r = selectProviders({ ...call, budgetFen: 1_000 * WAN }, [a, b, x], selectionRules, caps);
    expect(r.disqualified.length === 0).toBe(ok);
  });

  it.each<[string, number, boolean]>([
    ['price × trainees exactly the budget', 76_351 * SEED_TRAINEES, true],
    ['one fen less budget', 76_351 * SEED_TRAINEES - 1, false],
  ])('%s qualifies: %s', (_name, budgetFen, ok) => {
    const r = selectProviders(
      { ...call, budgetFen },
      [a, b, bid('X', 76_351, 0, 0, 0)],
      selectionRules,
      caps,
    );
    expect(r.disqualified.length === 0).toBe(ok);
  });

  it('ties: lower price first, then provider id', () => {
    const rules: ProviderSelectionRules = {
      minBids: 1,
      weights: { price: 0, scheme: 100, capacity: 0, record: 0 },
    };
    const r = selectProviders(
      { ...call, providers: 1 },
      [bid('Z', 70_000, 80, 0, 0), bid('Y', 70_000, 80, 0, 0), bid('X', 71_000, 80, 0, 0)],
      rules,
      caps,
    );
    expect(r.ok && r.ranking.map((x) => x.providerId)).toEqual(['Y', 'Z', 'X']);
    expect(r.ok && r.selected).toEqual(['Y']);
  });

  it('price points are rounded half up to the hundredth', () => {
    const rules: ProviderSelectionRules = {
      minBids: 2,
      weights: { price: 1, scheme: 99, capacity: 0, record: 0 },
    };
    const r = selectProviders(
      { ...call, providers: 1 },
      [bid('L', 1, 0, 0, 0), bid('H', 8, 0, 0, 0)],
      rules,
      caps,
    );
    // 1 × 100 × 1 / 8 = 12.5 hundredths → 13
    expect(r.ok && r.ranking.map((x) => [x.providerId, x.pointsHundredths.price])).toEqual([
      ['L', 100],
      ['H', 13],
    ]);
  });

  it.each<[string, CallForBids, TrainingBid[], Partial<ProviderSelectionRules>, string[]]>([
    [
      'weights adding up to 99',
      call,
      [a, b, c],
      { weights: { price: 30, scheme: 40, capacity: 20, record: 9 } },
      ['weights_not_100'],
    ],
    [
      'weights adding up to 101',
      call,
      [a, b, c],
      { weights: { price: 31, scheme: 40, capacity: 20, record: 10 } },
      ['weights_not_100'],
    ],
    [
      'a provider bidding twice',
      call,
      [a, b, c, { ...a, pricePerTraineeFen: 71_000 }],
      {},
      ['duplicate_provider'],
    ],
    ['two qualifying bids of three required', call, [a, b], {}, ['too_few_bids']],
    ['over-cap bids do not count', call, [a, b, overCap, overBudget], {}, ['too_few_bids']],
    ['exactly three qualifying bids', call, [a, b, c], {}, []],
    ['no bids', call, [], {}, ['too_few_bids', 'fewer_bids_than_providers']],
    [
      'four providers wanted, three bids',
      { ...call, providers: 4 },
      [a, b, c],
      {},
      ['fewer_bids_than_providers'],
    ],
    [
      'all at once',
      call,
      [a, a],
      { weights: { price: 0, scheme: 0, capacity: 0, record: 0 } },
      ['weights_not_100', 'duplicate_provider', 'too_few_bids'],
    ],
  ])('%s', (_name, cl, bids, rules, expected) => {
    const r = selectProviders(cl, bids, { ...selectionRules, ...rules }, caps);
    expect(r.ok ? [] : r.violations.map((v) => v.code)).toEqual(expected);
  });

  it('too_few_bids reports the counts', () => {
    const r = selectProviders(call, [a, b, overCap], selectionRules, caps);
    expect(!r.ok && r.violations[0]).toMatchObject({ code: 'too_few_bids', qualifying: 2, required: 3 });
    expect(r.disqualified.map((d) => d.providerId)).toEqual(['E']);
  });

  it.each<[string, CallForBids, unknown[]]>([
    ['a price of 0', call, [{ ...a, pricePerTraineeFen: 0 }]],
    ['a score of 101', call, [{ ...a, scores: { ...a.scores, scheme: 101 } }]],
    ['a fractional score', call, [{ ...a, scores: { ...a.scores, record: 7.5 } }]],
    ['a missing score', call, [{ ...a, scores: { scheme: 1, capacity: 1 } }]],
    ['a price score given', call, [{ ...a, scores: { ...a.scores, price: 100 } }]],
    ['an empty provider id', call, [{ ...a, providerId: ' ' }]],
    ['a call without trainees', { ...call, trainees: 0 }, [a]],
    ['a call without providers', { ...call, providers: 0 }, [a]],
    ['an unknown kind', { ...call, kind: 'other' as never }, [a]],
  ])('%s → RangeError', (_name, cl, bids) => {
    expect(() => selectProviders(cl, bids as TrainingBid[], selectionRules, caps)).toThrow(RangeError);
  });

  it('criteria keys match the weights', () => {
    expect(Object.keys(selectionRules.weights).sort()).toEqual([...bidCriteria].sort() as BidCriterion[]);
  });
});

describe('checkTrainingSpend', () => {
  const lines: TrainingBudgetLine[] = [
    { kind: 'cadre', approvedFen: 5 * WAN, spentFen: 0 },
    { kind: 'practical_skills', approvedFen: SEED_FEN, spentFen: 70 * WAN },
  ];
  const left = SEED_FEN - 70 * WAN; // 7.42万

  it.each<[string, boolean, TrainingBudgetLine[], TrainingSpend, TrainingSpendViolationCode[]]>([
    ['within the budget', true, lines, { kind: 'practical_skills', amountFen: left - 1 }, []],
    ['exactly the rest of the budget', true, lines, { kind: 'practical_skills', amountFen: left }, []],
    [
      'one fen over',
      true,
      lines,
      { kind: 'practical_skills', amountFen: left + 1 },
      ['above_approved_budget'],
    ],
    ['plan not approved', false, lines, { kind: 'cadre', amountFen: 1 }, ['plan_not_approved']],
    [
      'no line of the kind',
      true,
      [lines[0]!],
      { kind: 'practical_skills', amountFen: 1 },
      ['no_budget_line'],
    ],
    [
      'seed 000 settlement: 77.42万 for 1,014 trained at 800 yuan',
      true,
      lines,
      { kind: 'practical_skills', amountFen: left, settlementTrainees: SEED_TRAINEES },
      [],
    ],
    [
      'settlement with fewer trained: 77.42万 for 967 (> 800 yuan each)',
      true,
      lines,
      { kind: 'practical_skills', amountFen: left, settlementTrainees: 967 },
      ['cost_per_trainee_above_cap'],
    ],
    [
      'settlement exactly at the cap: 5万 for 50 cadres',
      true,
      lines,
      { kind: 'cadre', amountFen: 5 * WAN, settlementTrainees: 50 },
      [],
    ],
    [
      'settlement with nobody trained',
      true,
      lines,
      { kind: 'cadre', amountFen: 1, settlementTrainees: 0 },
      ['cost_per_trainee_above_cap'],
    ],
    [
      'over the budget and the cap',
      true,
      lines,
      { kind: 'cadre', amountFen: 5 * WAN + 1, settlementTrainees: 50 },
      ['above_approved_budget', 'cost_per_trainee_above_cap'],
    ],
  ])('%s', (_name, approved, ls, spend, expected) => {
    expect(checkTrainingSpend(approved, ls, spend, caps).map((v) => v.code)).toEqual(expected);
  });

  it('reports what may still be spent', () => {
    const [v] = checkTrainingSpend(true, lines, { kind: 'practical_skills', amountFen: 10 * WAN }, caps);
    expect(v).toMatchObject({ code: 'above_approved_budget', limitFen: left });
    expect(v?.message).toContain('74,200.00');
  });

  it.each<[string, TrainingBudgetLine[], TrainingSpend]>([
    ['a payment of 0', lines, { kind: 'cadre', amountFen: 0 }],
    ['a negative payment', lines, { kind: 'cadre', amountFen: -1 }],
    ['two lines of a kind', [lines[0]!, lines[0]!], { kind: 'cadre', amountFen: 1 }],
    ['fractional trainees', lines, { kind: 'cadre', amountFen: 1, settlementTrainees: 1.5 }],
  ])('%s → RangeError', (_name, ls, spend) => {
    expect(() => checkTrainingSpend(true, ls, spend, caps)).toThrow(RangeError);
  });
});

describe('ageOn', () => {
  it.each<[string, string, number]>([
    ['2012-09-01', '2026-09-01', 14],
    ['2012-09-01', '2026-08-31', 13],
    ['2008-02-29', '2026-02-28', 17],
    ['2008-02-29', '2026-03-01', 18],
    ['2008-02-29', '2024-02-29', 16],
    ['2026-01-01', '2026-01-01', 0],
  ])('born %s, on %s → %i', (birth, today, age) => {
    expect(ageOn(birth, today)).toBe(age);
  });

  it('today before birth → RangeError', () => {
    expect(() => ageOn('2026-01-02', '2026-01-01')).toThrow(RangeError);
  });
});

describe('checkVocationalAid 移民子女职业教育资助', () => {
  const app: VocationalAidApplication = {
    birthDate: '2008-09-01',
    today: '2026-09-01',
    year: 2026,
    level: 'secondary',
    amountFen: 2_000 * YUAN,
    recognisedCostFen: 5_000 * YUAN,
    aidedYears: [2024, 2025],
    parentIsRegisteredMigrant: true,
  };

  it.each<
    [string, Partial<VocationalAidApplication>, Partial<VocationalAidRules>, VocationalAidViolationCode[]]
  >([
    ['eligible, third year', {}, {}, []],
    ['not a migrant child', { parentIsRegisteredMigrant: false }, {}, ['not_migrant_child']],
    [
      'not a migrant child where the rule is off',
      { parentIsRegisteredMigrant: false },
      { requiresRegisteredMigrantParent: false },
      [],
    ],
    ['14 on the day', { birthDate: '2012-09-01' }, {}, []],
    ['one day short of 14', { birthDate: '2012-09-02' }, {}, ['age_below_minimum']],
    ['22, the day before the 23rd birthday', { birthDate: '2003-09-02' }, {}, []],
    ['23 on the day', { birthDate: '2003-09-01' }, {}, ['age_above_maximum']],
    ['fourth year', { aidedYears: [2023, 2024, 2025] }, {}, ['duration_exceeded']],
    ['repeated years count once', { aidedYears: [2024, 2025, 2025, 2024] }, {}, []],
    ['this year already aided', { aidedYears: [2025, 2026] }, {}, ['already_aided_this_year']],
    ['first year', { aidedYears: [] }, {}, []],
    ['2 years allowed, third asked', {}, { maxYears: 2 }, ['duration_exceeded']],
    ['1,000 yuan, the level minimum', { amountFen: 1_000 * YUAN }, {}, []],
    ['one fen below 1,000 yuan', { amountFen: 1_000 * YUAN - 1 }, {}, ['amount_below_level_minimum']],
    ['4,000 yuan, the level maximum', { amountFen: 4_000 * YUAN, recognisedCostFen: 10_000 * YUAN }, {}, []],
    [
      'one fen over 4,000 yuan',
      { amountFen: 4_000 * YUAN + 1, recognisedCostFen: 10_000 * YUAN },
      {},
      ['amount_above_level_maximum'],
    ],
    [
      'narrower range for higher vocational',
      { level: 'higher', amountFen: 2_000 * YUAN },
      {
        amountByLevel: { ...aidRules.amountByLevel, higher: { minFen: 3_000 * YUAN, maxFen: 4_000 * YUAN } },
      },
      ['amount_below_level_minimum'],
    ],
    ['exactly 45% of 5,000 yuan', { amountFen: 2_250 * YUAN }, {}, []],
    ['one fen over 45%', { amountFen: 2_250 * YUAN + 1 }, {}, ['amount_above_cost_share']],
    ['no recognised cost', { recognisedCostFen: undefined }, {}, ['cost_unknown']],
    ['no cost-share rule, no cost', { recognisedCostFen: undefined }, { maxCostSharePercent: null }, []],
    [
      'everything wrong',
      {
        parentIsRegisteredMigrant: false,
        birthDate: '2000-01-01',
        aidedYears: [2022, 2023, 2024, 2026],
        amountFen: 5_000 * YUAN,
        recognisedCostFen: 1_000 * YUAN,
      },
      {},
      [
        'not_migrant_child',
        'age_above_maximum',
        'already_aided_this_year',
        'duration_exceeded',
        'amount_above_level_maximum',
        'amount_above_cost_share',
      ],
    ],
  ])('%s', (_name, patch, rules, expected) => {
    expect(checkVocationalAid({ ...app, ...patch }, { ...aidRules, ...rules }).map((v) => v.code)).toEqual(
      expected,
    );
  });

  it('reports the age, the years and the cost-share limit', () => {
    const v = checkVocationalAid(
      { ...app, birthDate: '2003-09-01', aidedYears: [2023, 2024, 2025], amountFen: 2_300 * YUAN },
      aidRules,
    );
    expect(v).toMatchObject([
      { code: 'age_above_maximum', actual: 23, limit: 22 },
      { code: 'duration_exceeded', actual: 4, limit: 3 },
      { code: 'amount_above_cost_share', actual: 230_000, limit: 225_000 },
    ]);
  });

  it.each<[string, Partial<VocationalAidApplication>]>([
    ['bad birth date', { birthDate: '2008-02-30' }],
    ['applied before birth', { birthDate: '2027-01-01' }],
    ['unknown level', { level: 'university' as never }],
    ['negative amount', { amountFen: -1 }],
    ['fractional year', { year: 2026.5 }],
    ['aided years not integers', { aidedYears: [2025.5] }],
  ])('%s → RangeError', (_name, patch) => {
    expect(() => checkVocationalAid({ ...app, ...patch }, aidRules)).toThrow(RangeError);
  });
});

describe('aid application steps', () => {
  it.each<[VocationalAidStatus, VocationalAidStatus, boolean]>([
    ['applied', 'posted', true],
    ['applied', 'township_reviewed', false],
    ['applied', 'paid', false],
    ['posted', 'township_reviewed', true],
    ['posted', 'paid', false],
    ['township_reviewed', 'paid', true],
    ['township_reviewed', 'rejected', true],
    ['paid', 'rejected', false],
    ['rejected', 'applied', false],
  ])('%s → %s: %s', (from, to, ok) => {
    expect(canAidTransition(from, to)).toBe(ok);
  });
});

describe('trainingProgress 双过半', () => {
  const period = { start: '2013-01-01', end: '2013-12-31', on: '2013-07-03' };
  const planned = { sessions: 200, traineeTimes: 18_000, spendFen: SEED_FEN };

  it('seed 000 half-year: 112 sessions and 10,048 trainee-times done, half the money spent', () => {
    const r = trainingProgress({
      ...period,
      planned,
      done: { sessions: 112, traineeTimes: 10_048, spendFen: SEED_FEN / 2 },
    });
    expect(r.measures.sessions).toEqual({
      timePercent: '50.41',
      donePercent: '56.00',
      onTrack: true,
      doubleHalf: true,
    });
    expect(r.measures.traineeTimes.donePercent).toBe('55.82');
    expect(r.measures.spendFen).toEqual({
      timePercent: '50.41',
      donePercent: '50.00',
      onTrack: false,
      doubleHalf: true,
    });
    expect(r.doubleHalf).toBe(true);
    expect(r.behind).toEqual(['spendFen']);
  });

  it.each<[string, { sessions: number; traineeTimes: number; spendFen: number }, string, boolean, string[]]>([
    ['everything done', planned as never, '2013-07-03', true, []],
    ['one session short of half', { ...planned, sessions: 99 }, '2013-07-03', false, ['sessions']],
    [
      'exactly half of everything on 1 July 2013 (182 of 365 days)',
      { sessions: 100, traineeTimes: 9_000, spendFen: SEED_FEN / 2 },
      '2013-07-01',
      false,
      [],
    ],
    [
      'exactly half of everything on 2 July 2013',
      { sessions: 100, traineeTimes: 9_000, spendFen: SEED_FEN / 2 },
      '2013-07-02',
      true,
      ['sessions', 'traineeTimes', 'spendFen'],
    ],
    [
      'nothing done in January',
      { sessions: 0, traineeTimes: 0, spendFen: 0 },
      '2013-01-31',
      false,
      ['sessions', 'traineeTimes', 'spendFen'],
    ],
  ])('%s', (_name, done, on, dh, behind) => {
    const r = trainingProgress({ ...period, on, planned, done });
    expect(r.doubleHalf).toBe(dh);
    expect(r.behind).toEqual(behind);
  });

  it('a measure planned at 0 is on track', () => {
    const r = trainingProgress({ ...period, planned: { ...planned, sessions: 0 }, done: planned });
    expect(r.measures.sessions.donePercent).toBeNull();
    expect(r.behind).toEqual([]);
  });

  it.each<[string, unknown]>([
    ['negative done', { ...period, planned, done: { ...planned, sessions: -1 } }],
    ['bad date', { ...period, on: '2013-02-30', planned, done: planned }],
    ['missing done', { ...period, planned }],
  ])('%s → RangeError', (_name, input) => {
    expect(() => trainingProgress(input as never)).toThrow(RangeError);
  });
});
