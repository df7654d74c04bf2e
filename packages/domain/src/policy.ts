/**
 * The policy parameters 政策参数 a province may read and override 省级设定
 * through the API, by id. Each is a {@link Parameter}; a province's stored
 * overrides are merged in with `withStoredOverrides`.
 */

import type { Parameter } from './parameters.js';
import { removalEffectiveParameter, supportWindowParameter } from './registry.js';
import { annualStandardParameter, paymentFrequencyParameter, paymentModeParameter } from './subsidy.js';

const ids = [
  'subsidy.annual_standard',
  'subsidy.payment_frequency',
  'subsidy.payment_mode',
  'subsidy.support_window',
  'registry.removal_effective',
] as const;

/** Id of a parameter a province may read and override. */
export type PolicyParameterId = (typeof ids)[number];

/** Every overridable parameter id, in a stable order. */
export const policyParameterIds: readonly PolicyParameterId[] = Object.freeze([...ids]);

/** Every parameter a province may read and override through the API, by id. */
export const policyParameters: Readonly<Record<PolicyParameterId, Parameter<unknown>>> = Object.freeze({
  'subsidy.annual_standard': annualStandardParameter as Parameter<unknown>,
  'subsidy.payment_frequency': paymentFrequencyParameter as Parameter<unknown>,
  'subsidy.payment_mode': paymentModeParameter as Parameter<unknown>,
  'subsidy.support_window': supportWindowParameter as Parameter<unknown>,
  'registry.removal_effective': removalEffectiveParameter as Parameter<unknown>,
});

/** True when `s` names a parameter a province may read and override. */
export function isPolicyParameterId(s: string): s is PolicyParameterId {
  return typeof s === 'string' && (ids as readonly string[]).includes(s);
}
