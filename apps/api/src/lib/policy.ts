import { type Parameter, type ParameterValue, parameterValue } from '@houfu/domain';

/**
 * The value of a policy parameter in force on `on` for `division`. Dates before the parameter's first
 * value (the 2006 policy began on 2006-07-01) read that first value: a registry status on such a date
 * still needs a rule, and no earlier rule exists.
 */
export function policyValue<T>(parameter: Parameter<T>, division: number, on: string): ParameterValue<T> {
  const first = parameter.national[0]?.from;
  return parameterValue(parameter, division, first !== undefined && on < first ? first : on);
}
