import { describe, expect, it } from 'vitest';
import {
  type AssessmentOutcome,
  assess,
  assessmentOutcomeLabels,
  assessmentOutcomes,
  type DemonstrationEligibility,
  type DemonstrationScoring,
  type DemonstrationStandard,
  demonstrationEligibilityParameter,
  demonstrationFundingParameter,
  demonstrationQuotaParameter,
  demonstrationScoringParameter,
  demonstrationStandardLabels,
  demonstrationStandardSchema,
  demonstrationStandards,
  type EligibilityReason,
  eligibility,
  eligibilityReasonLabels,
  eligibilityReasons,
  fundingCheck,
  parameterValue,
  quotaCheck,
  type VillageCandidate,
  wanToFen,
  withStoredOverrides,
} from '../src/index.js';

const WAN = 1_000_000; // fen in 1万 yuan
const eligibilityParams = parameterValue(demonstrationEligibilityParameter, 0, '2026-01-01').value;
const fundingParams = parameterValue(demonstrationFundingParameter, 0, '2026-01-01').value;
const quota = parameterValue(demonstrationQuotaParameter, 0, '2026-01-01').value;
const scoring = parameterValue(demonstrationScoringParameter, 0, '2026-01-01').value;

describe('vocabularies', () => {
  it.each<[string, readonly string[], Readonly<Record<string, string>>]>([
    ['demonstrationStandards', demonstrationStandards, demonstrationStandardLabels],
    ['eligibilityReasons', eligibilityReasons, eligibilityReasonLabels],
    ['assessmentOutcomes', assessmentOutcomes, assessmentOutcomeLabels],
  ])('%s: every value has a Chinese label and nothing else', (_name, list, labels) => {
    expect(Object.keys(labels).sort()).toEqual([...list].sort());
    for (const v of list) expect(labels[v]).toMatch(/\p{Script=Han}/u);
    expect(Object.isFrozen(labels)).toBe(true);
  });

  it('the five standards 生产发展、生活宽裕、乡风文明、村容整洁、管理民主', () => {
    expect(demonstrationStandards.map((s) => demonstrationStandardLabels[s]).join('、')).toBe(
      '生产发展、生活宽裕、乡风文明、村容整洁、管理民主',
    );
    expect(demonstrationStandardSchema.options).toEqual([...demonstrationStandards]);
  });
});

describe('parameters', () => {
  it('national defaults', () => {
    expect(eligibilityParams).toEqual({
      minMigrantSharePercent: 50,
      requiresDevelopmentPlan: true,
      minCollectiveIncomeFen: 0,
    });
    expect(fundingParams).toEqual({ capPerVillageFen: 700 * WAN, minIntegratedSharePercent: 15 });
    expect(quota).toEqual({ perCountyPerYear: 3 });
    expect(scoring).toEqual({
      weights: { production: 20, livelihood: 20, civility: 20, cleanliness: 20, democracy: 20 },
      passScore: 80,
      provincialScore: 90,
      reassessYears: 3,
    });
    expect(parameterValue(demonstrationFundingParameter, 0, '2026-01-01').source).toContain('seed 003');
  });

  it('seed 003: 20亿 over 300 villages is within the cap, 3亿 of 20亿 is 15%', () => {
    const total = wanToFen('200000');
    const perVillage = Math.floor(total / 300);
    expect(perVillage).toBeLessThanOrEqual(fundingParams.capPerVillageFen);
    expect(
      fundingCheck(
        { totalFen: total, integratedFen: wanToFen('30000') },
        { ...fundingParams, capPerVillageFen: total },
      ),
    ).toEqual([]);
  });

  it.each<[string, unknown, unknown, boolean]>([
    [
      'eligibility',
      demonstrationEligibilityParameter,
      { minMigrantSharePercent: 30, requiresDevelopmentPlan: false, minCollectiveIncomeFen: 5 * WAN },
      true,
    ],
    [
      'eligibility share 101',
      demonstrationEligibilityParameter,
      { minMigrantSharePercent: 101, requiresDevelopmentPlan: true, minCollectiveIncomeFen: 0 },
      false,
    ],
    [
      'funding',
      demonstrationFundingParameter,
      { capPerVillageFen: 500 * WAN, minIntegratedSharePercent: 20 },
      true,
    ],
    [
      'funding cap 0',
      demonstrationFundingParameter,
      { capPerVillageFen: 0, minIntegratedSharePercent: 20 },
      false,
    ],
    ['quota 0', demonstrationQuotaParameter, { perCountyPerYear: 0 }, false],
    [
      'scoring weighted 30/30/20/10/10',
      demonstrationScoringParameter,
      {
        weights: { production: 30, livelihood: 30, civility: 20, cleanliness: 10, democracy: 10 },
        passScore: 75,
        provincialScore: 90,
        reassessYears: 2,
      },
      true,
    ],
    [
      'scoring weights adding up to 99',
      demonstrationScoringParameter,
      {
        weights: { production: 20, livelihood: 20, civility: 20, cleanliness: 20, democracy: 19 },
        passScore: 80,
        provincialScore: 90,
        reassessYears: 3,
      },
      false,
    ],
    [
      'scoring with a missing standard',
      demonstrationScoringParameter,
      {
        weights: { production: 25, livelihood: 25, civility: 25, cleanliness: 25 },
        passScore: 80,
        provincialScore: 90,
        reassessYears: 3,
      },
      false,
    ],
    [
      'scoring pass above provincial',
      demonstrationScoringParameter,
      {
        weights: { production: 20, livelihood: 20, civility: 20, cleanliness: 20, democracy: 20 },
        passScore: 95,
        provincialScore: 90,
        reassessYears: 3,
      },
      false,
    ],
  ])('a province override of %s is accepted: %s', (_name, parameter, value, ok) => {
    const p = parameter as typeof demonstrationQuotaParameter;
    const call = () =>
      withStoredOverrides(p, 420000, [{ from: '2020-01-01', value: value as never, source: 'test' }]);
    if (ok) expect(parameterValue(call(), 420581, '2020-01-01').value).toEqual(value);
    else expect(call).toThrow(RangeError);
  });
});

describe('eligibility', () => {
  const village: VillageCandidate = {
    migrants: 600,
    population: 1_000,
    hasDevelopmentPlan: true,
    collectiveIncomeFen: 10 * WAN,
  };

  it.each<[string, Partial<VillageCandidate>, Partial<DemonstrationEligibility>, EligibilityReason[]]>([
    ['eligible', {}, {}, []],
    ['exactly 50% migrants', { migrants: 500 }, {}, []],
    ['one migrant short of 50%', { migrants: 499 }, {}, ['migrant_share_below']],
    [
      '50% of an odd population needs rounding up',
      { migrants: 500, population: 1_001 },
      {},
      ['migrant_share_below'],
    ],
    ['no plan', { hasDevelopmentPlan: false }, {}, ['no_development_plan']],
    ['no plan, none required', { hasDevelopmentPlan: false }, { requiresDevelopmentPlan: false }, []],
    ['collective income 0 meets a minimum of 0', { collectiveIncomeFen: 0 }, {}, []],
    ['collective debt', { collectiveIncomeFen: -1 }, {}, ['collective_income_below']],
    [
      'income one fen short',
      { collectiveIncomeFen: 5 * WAN - 1 },
      { minCollectiveIncomeFen: 5 * WAN },
      ['collective_income_below'],
    ],
    [
      'everything wrong, in order',
      { migrants: 0, hasDevelopmentPlan: false, collectiveIncomeFen: -100 },
      {},
      ['migrant_share_below', 'no_development_plan', 'collective_income_below'],
    ],
  ])('%s', (_name, change, params, reasons) => {
    expect(eligibility({ ...village, ...change }, { ...eligibilityParams, ...params })).toEqual(reasons);
  });

  it.each<[string, Partial<VillageCandidate>]>([
    ['population 0', { population: 0, migrants: 0 }],
    ['more migrants than people', { migrants: 1_001 }],
    ['negative migrants', { migrants: -1 }],
    ['fractional population', { population: 1_000.5 }],
    ['plan not a boolean', { hasDevelopmentPlan: 'yes' as unknown as boolean }],
    ['fractional income', { collectiveIncomeFen: 0.5 }],
  ])('%s → RangeError', (_name, change) => {
    expect(() => eligibility({ ...village, ...change }, eligibilityParams)).toThrow(RangeError);
  });

  it('invalid parameters throw', () => {
    expect(() => eligibility(village, { ...eligibilityParams, minMigrantSharePercent: 150 })).toThrow(
      RangeError,
    );
  });
});

describe('quotaCheck', () => {
  it.each<[number, boolean]>([
    [0, true],
    [2, true],
    [3, false],
    [4, false],
  ])('%i already this year → may add one: %s', (already, ok) => {
    const v = quotaCheck(already, quota);
    if (ok) expect(v).toBeNull();
    else expect(v).toMatchObject({ code: 'quota_exceeded', perCountyPerYear: 3 });
  });

  it('invalid input throws', () => {
    expect(() => quotaCheck(-1, quota)).toThrow(RangeError);
    expect(() => quotaCheck(1.5, quota)).toThrow(RangeError);
    expect(() => quotaCheck(0, { perCountyPerYear: 0 })).toThrow(RangeError);
  });
});

describe('fundingCheck', () => {
  it.each<[string, number, number, string[]]>([
    ['at the cap with exactly 15% integrated', 700 * WAN, 105 * WAN, []],
    ['one fen above the cap', 700 * WAN + 1, 105 * WAN + 1, ['above_cap']],
    ['one fen below 15%', 100 * WAN, 15 * WAN - 1, ['integrated_share_below']],
    ['both', 800 * WAN, 0, ['above_cap', 'integrated_share_below']],
    ['nothing yet', 0, 0, []],
  ])('%s → %j', (_name, totalFen, integratedFen, codes) => {
    const v = fundingCheck({ totalFen, integratedFen }, fundingParams);
    expect(v.map((x) => x.code)).toEqual(codes);
    for (const x of v) expect(x.message).toMatch(/\p{Script=Han}/u);
  });

  it('violations carry the limit and percent', () => {
    expect(fundingCheck({ totalFen: 800 * WAN, integratedFen: 0 }, fundingParams)).toMatchObject([
      { code: 'above_cap', limitFen: 700 * WAN },
      { code: 'integrated_share_below', percent: 15 },
    ]);
  });

  it.each<[string, { totalFen: number; integratedFen: number }]>([
    ['integrated above total', { totalFen: 10, integratedFen: 11 }],
    ['negative total', { totalFen: -1, integratedFen: 0 }],
    ['fractional integrated', { totalFen: 10, integratedFen: 0.5 }],
  ])('%s → RangeError', (_name, f) => {
    expect(() => fundingCheck(f, fundingParams)).toThrow(RangeError);
  });
});

describe('assess', () => {
  const all = (n: number): Record<DemonstrationStandard, number> => ({
    production: n,
    livelihood: n,
    civility: n,
    cleanliness: n,
    democracy: n,
  });
  const weighted: DemonstrationScoring = {
    weights: { production: 30, livelihood: 30, civility: 20, cleanliness: 10, democracy: 10 },
    passScore: 80,
    provincialScore: 90,
    reassessYears: 3,
  };

  it.each<
    [string, Record<DemonstrationStandard, number>, DemonstrationScoring, string, number, AssessmentOutcome]
  >([
    ['all 100', all(100), scoring, '100.00', 10_000, 'named_provincial'],
    ['exactly 90', all(90), scoring, '90.00', 9_000, 'named_provincial'],
    ['89.80', { ...all(90), democracy: 89 }, scoring, '89.80', 8_980, 'named'],
    ['exactly 80', all(80), scoring, '80.00', 8_000, 'named'],
    ['79.80', { ...all(80), civility: 79 }, scoring, '79.80', 7_980, 'failed'],
    ['all 0', all(0), scoring, '0.00', 0, 'failed'],
    [
      'weighted 30/30/20/10/10',
      { production: 95, livelihood: 88, civility: 77, cleanliness: 66, democracy: 55 },
      weighted,
      '82.40',
      8_240,
      'named',
    ],
  ])('%s', (_name, scores, s, total, hundredths, outcome) => {
    const a = assess(scores, s);
    expect(a.totalScore).toBe(total);
    expect(a.totalHundredths).toBe(hundredths);
    expect(a.outcome).toBe(outcome);
    expect(a.reassessDue === null).toBe(outcome === 'failed');
  });

  it.each<[string, string]>([
    ['2026-05-20', '2029-05-20'],
    ['2024-02-29', '2027-02-28'],
    ['2025-12-31', '2028-12-31'],
  ])('named on %s → re-assessed on %s', (namedOn, due) => {
    expect(assess(all(85), scoring).reassessDue?.(namedOn)).toBe(due);
  });

  it('a province re-assessing every 4 years keeps 29 February', () => {
    expect(assess(all(85), { ...scoring, reassessYears: 4 }).reassessDue?.('2024-02-29')).toBe('2028-02-29');
  });

  it.each<[string, () => unknown]>([
    ['score above 100', () => assess({ ...all(80), civility: 101 }, scoring)],
    ['negative score', () => assess({ ...all(80), civility: -1 }, scoring)],
    ['fractional score', () => assess({ ...all(80), civility: 80.5 }, scoring)],
    [
      'missing standard',
      () =>
        assess(
          { ...all(80), democracy: undefined } as unknown as Record<DemonstrationStandard, number>,
          scoring,
        ),
    ],
    [
      'unknown standard',
      () => assess({ ...all(80), tourism: 90 } as Record<DemonstrationStandard, number>, scoring),
    ],
    ['invalid scoring', () => assess(all(80), { ...scoring, passScore: 95 })],
    ['bad named date', () => assess(all(85), scoring).reassessDue?.('2026-02-30')],
  ])('%s → RangeError', (_name, call) => {
    expect(call).toThrow(RangeError);
  });
});
