import { describe, expect, it } from 'vitest';
import {
  acceptanceLevelsParameter,
  annualStandardParameter,
  approvalThresholdsParameter,
  demonstrationEligibilityParameter,
  demonstrationFundingParameter,
  demonstrationQuotaParameter,
  demonstrationScoringParameter,
  fundingRulesParameter,
  idleMonthsParameter,
  isPolicyParameterId,
  type PolicyParameterId,
  parameterValue,
  paymentFrequencyParameter,
  paymentModeParameter,
  paymentScheduleParameter,
  policyParameterIds,
  policyParameters,
  postingDaysParameter,
  providerSelectionRulesParameter,
  removalEffectiveParameter,
  supportWindowParameter,
  trainingApprovalThresholdsParameter,
  trainingBudgetRulesParameter,
  vocationalAidRulesParameter,
  withStoredOverrides,
} from '../src/index.js';

describe('policyParameters', () => {
  it('lists the parameters a province may override, in a stable order', () => {
    expect([...policyParameterIds]).toEqual([
      'subsidy.annual_standard',
      'subsidy.payment_frequency',
      'subsidy.payment_mode',
      'subsidy.support_window',
      'registry.removal_effective',
      'projects.funding_rules',
      'projects.approval_thresholds',
      'projects.posting_days',
      'projects.payment_schedule',
      'projects.acceptance_levels',
      'projects.idle_months',
      'demonstration.eligibility',
      'demonstration.funding',
      'demonstration.quota',
      'demonstration.scoring',
      'training.budget_rules',
      'training.approval_thresholds',
      'training.provider_selection',
      'training.vocational_aid',
    ]);
    expect(Object.keys(policyParameters).sort()).toEqual([...policyParameterIds].sort());
    expect(Object.isFrozen(policyParameters)).toBe(true);
    expect(Object.isFrozen(policyParameterIds)).toBe(true);
  });

  it.each<[PolicyParameterId, unknown]>([
    ['subsidy.annual_standard', annualStandardParameter],
    ['subsidy.payment_frequency', paymentFrequencyParameter],
    ['subsidy.payment_mode', paymentModeParameter],
    ['subsidy.support_window', supportWindowParameter],
    ['registry.removal_effective', removalEffectiveParameter],
    ['projects.funding_rules', fundingRulesParameter],
    ['projects.approval_thresholds', approvalThresholdsParameter],
    ['projects.posting_days', postingDaysParameter],
    ['projects.payment_schedule', paymentScheduleParameter],
    ['projects.acceptance_levels', acceptanceLevelsParameter],
    ['projects.idle_months', idleMonthsParameter],
    ['demonstration.eligibility', demonstrationEligibilityParameter],
    ['demonstration.funding', demonstrationFundingParameter],
    ['demonstration.quota', demonstrationQuotaParameter],
    ['demonstration.scoring', demonstrationScoringParameter],
    ['training.budget_rules', trainingBudgetRulesParameter],
    ['training.approval_thresholds', trainingApprovalThresholdsParameter],
    ['training.provider_selection', providerSelectionRulesParameter],
    ['training.vocational_aid', vocationalAidRulesParameter],
  ])('%s is the parameter of that id', (id, parameter) => {
    expect(policyParameters[id]).toBe(parameter);
    expect(policyParameters[id].id).toBe(id);
  });

  it.each(policyParameterIds)('%s has a national value from 2006-07-01 with a source', (id) => {
    const v = parameterValue(policyParameters[id], 0, '2006-07-01');
    expect(v.source.length).toBeGreaterThan(0);
    expect(policyParameters[id].schema.safeParse(v.value).success).toBe(true);
  });

  it.each<[PolicyParameterId, unknown, boolean]>([
    ['subsidy.annual_standard', 72_000, true],
    ['subsidy.annual_standard', -1, false],
    ['subsidy.payment_frequency', 'quarterly', true],
    ['subsidy.payment_frequency', 'weekly', false],
    ['subsidy.payment_mode', { mode: 'both', cashPercent: 60 }, true],
    ['subsidy.payment_mode', { mode: 'both', cashPercent: 100 }, false],
    ['subsidy.support_window', { cutoff: '2006-06-30', start: '2006-07-01', years: 25 }, true],
    ['subsidy.support_window', { cutoff: '2006-07-01', start: '2006-07-01', years: 20 }, false],
    ['registry.removal_effective', 'event_date', true],
    ['registry.removal_effective', 'never', false],
    ['projects.posting_days', 10, true],
    ['projects.posting_days', 0, false],
    ['projects.approval_thresholds', { provinceFen: 200_000_000, cityDesignFen: 50_000_000 }, true],
    ['projects.approval_thresholds', { provinceFen: 50_000_000, cityDesignFen: 200_000_000 }, false],
    ['demonstration.quota', { perCountyPerYear: 5 }, true],
    ['demonstration.quota', { perCountyPerYear: 0 }, false],
  ])('a stored %s override of %j is accepted: %s', (id, value, ok) => {
    const call = () =>
      withStoredOverrides(policyParameters[id], 420000, [
        { from: '2020-01-01', value, source: 'stored: test' },
      ]);
    if (ok) expect(parameterValue(call(), 420581, '2020-01-01').value).toEqual(value);
    else expect(call).toThrow(RangeError);
  });
});

describe('isPolicyParameterId', () => {
  it.each<[string, boolean]>([
    ['subsidy.annual_standard', true],
    ['registry.removal_effective', true],
    ['subsidy.support_window', true],
    ['subsidy.unknown', false],
    ['test.rate', false],
    ['', false],
    ['toString', false],
    ['SUBSIDY.ANNUAL_STANDARD', false],
  ])('%j → %s', (s, expected) => {
    expect(isPolicyParameterId(s)).toBe(expected);
  });
});
