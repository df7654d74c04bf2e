/**
 * The policy parameters 政策参数 a province may read and override 省级设定
 * through the API, by id. Each is a {@link Parameter}; a province's stored
 * overrides are merged in with `withStoredOverrides`.
 */

import {
  demonstrationEligibilityParameter,
  demonstrationFundingParameter,
  demonstrationQuotaParameter,
  demonstrationScoringParameter,
} from './demonstration.js';
import type { Parameter } from './parameters.js';
import {
  acceptanceLevelsParameter,
  approvalThresholdsParameter,
  fundingRulesParameter,
  idleMonthsParameter,
  paymentScheduleParameter,
  postingDaysParameter,
} from './projects.js';
import { removalEffectiveParameter, supportWindowParameter } from './registry.js';
import { annualStandardParameter, paymentFrequencyParameter, paymentModeParameter } from './subsidy.js';
import {
  providerSelectionRulesParameter,
  trainingApprovalThresholdsParameter,
  trainingBudgetRulesParameter,
  vocationalAidRulesParameter,
} from './training.js';

const ids = [
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
] as const;

/** Id of a parameter a province may read and override. */
export type PolicyParameterId = (typeof ids)[number];

/** Every overridable parameter id, in a stable order. */
export const policyParameterIds: readonly PolicyParameterId[] = Object.freeze([...ids]);

/**
 * The parameters a direct-subsidy payment batch 直补发放批次 is computed with: a batch keeps a
 * snapshot of them, and once it is approved their values for its period are frozen.
 */
export const subsidyParameterIds: readonly PolicyParameterId[] = Object.freeze([
  'subsidy.annual_standard',
  'subsidy.payment_frequency',
  'subsidy.payment_mode',
  'subsidy.support_window',
  'registry.removal_effective',
]);

/** Every parameter a province may read and override through the API, by id. */
export const policyParameters: Readonly<Record<PolicyParameterId, Parameter<unknown>>> = Object.freeze({
  'subsidy.annual_standard': annualStandardParameter as Parameter<unknown>,
  'subsidy.payment_frequency': paymentFrequencyParameter as Parameter<unknown>,
  'subsidy.payment_mode': paymentModeParameter as Parameter<unknown>,
  'subsidy.support_window': supportWindowParameter as Parameter<unknown>,
  'registry.removal_effective': removalEffectiveParameter as Parameter<unknown>,
  'projects.funding_rules': fundingRulesParameter as Parameter<unknown>,
  'projects.approval_thresholds': approvalThresholdsParameter as Parameter<unknown>,
  'projects.posting_days': postingDaysParameter as Parameter<unknown>,
  'projects.payment_schedule': paymentScheduleParameter as Parameter<unknown>,
  'projects.acceptance_levels': acceptanceLevelsParameter as Parameter<unknown>,
  'projects.idle_months': idleMonthsParameter as Parameter<unknown>,
  'demonstration.eligibility': demonstrationEligibilityParameter as Parameter<unknown>,
  'demonstration.funding': demonstrationFundingParameter as Parameter<unknown>,
  'demonstration.quota': demonstrationQuotaParameter as Parameter<unknown>,
  'demonstration.scoring': demonstrationScoringParameter as Parameter<unknown>,
  'training.budget_rules': trainingBudgetRulesParameter as Parameter<unknown>,
  'training.approval_thresholds': trainingApprovalThresholdsParameter as Parameter<unknown>,
  'training.provider_selection': providerSelectionRulesParameter as Parameter<unknown>,
  'training.vocational_aid': vocationalAidRulesParameter as Parameter<unknown>,
});

/** True when `s` names a parameter a province may read and override. */
export function isPolicyParameterId(s: string): s is PolicyParameterId {
  return typeof s === 'string' && (ids as readonly string[]).includes(s);
}
