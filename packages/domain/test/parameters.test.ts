import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  defineParameter,
  type Parameter,
  type ParameterValue,
  parameterValue,
  removalEffectiveParameter,
  withOverrides,
  withStoredOverrides,
} from '../src/index.js';

const rate: Parameter<number> = defineParameter<number>({
  id: 'test.rate',
  description: 'A test rate 测试标准',
  schema: z.number().int().nonnegative(),
  national: [
    { from: '2006-07-01', value: 600, source: '国发〔2006〕17号' },
    { from: '2020-01-01', value: 720, source: 'test: national raise' },
  ],
  provinces: {
    650000: [{ from: '2010-01-01', value: 800, source: 'test: 新疆 override' }],
    420000: [
      { from: '2015-07-01', value: 700, source: 'test: 湖北 override' },
      { from: '2018-01-01', value: 750, source: 'test: 湖北 raise' },
    ],
  },
});

describe('parameterValue', () => {
  it.each<[string, number, string, number, string]>([
    ['nation on the first national date', 0, '2006-07-01', 600, '国发〔2006〕17号'],
    ['nation the day before a new national value', 0, '2019-12-31', 600, '国发〔2006〕17号'],
    ['nation on a new national value', 0, '2020-01-01', 720, 'test: national raise'],
    ['province before its override starts → national', 650000, '2009-12-31', 600, '国发〔2006〕17号'],
    ['province on its override date', 650000, '2010-01-01', 800, 'test: 新疆 override'],
    [
      'county of an overriding province, after a later national value',
      650102,
      '2021-01-01',
      800,
      'test: 新疆 override',
    ],
    ['city of an overriding province', 650100, '2012-05-05', 800, 'test: 新疆 override'],
    ['county before its province override → national', 420581, '2015-06-30', 600, '国发〔2006〕17号'],
    ['county on its province override', 420581, '2015-07-01', 700, 'test: 湖北 override'],
    ['latest province override wins', 420581, '2024-01-01', 750, 'test: 湖北 raise'],
    ['directly administered county 429004 uses 420000', 429004, '2016-01-01', 700, 'test: 湖北 override'],
    ['province without overrides → national', 110101, '2021-01-01', 720, 'test: national raise'],
  ])('%s: (%i, %s) → %i', (_name, division, on, value, source) => {
    const v = parameterValue(rate, division, on);
    expect(v.value).toBe(value);
    expect(v.source).toBe(source);
  });

  it.each<[string, number, string]>([
    ['nation before any value', 0, '2006-06-30'],
    ['overriding province before any value', 650000, '2006-06-30'],
    ['county before any value', 420581, '1990-01-01'],
    ['invalid date', 0, '2006-02-30'],
    ['non-ISO date', 0, '2006-7-1'],
    ['invalid division code', 420010, '2010-01-01'],
    ['negative division code', -1, '2010-01-01'],
  ])('%s: (%i, %s) throws RangeError', (_name, division, on) => {
    expect(() => parameterValue(rate, division, on)).toThrow(RangeError);
  });

  it('uses only the province values when there is no national value', () => {
    const p = defineParameter<string>({
      id: 'test.only_province',
      description: 'Province only 仅省级',
      schema: z.string(),
      national: [],
      provinces: { 650000: [{ from: '2000-01-01', value: 'x', source: 'test' }] },
    });
    expect(parameterValue(p, 650102, '2001-01-01').value).toBe('x');
    expect(() => parameterValue(p, 420581, '2001-01-01')).toThrow(RangeError);
  });
});

type Spec = Parameter<number>;
const base = (over: Partial<Spec>): Spec => ({
  id: 'test.x',
  description: 'Test 测试',
  schema: z.number().int().nonnegative(),
  national: [{ from: '2006-07-01', value: 1, source: 'test' }],
  provinces: {},
  ...over,
});
const val = (from: string, value: number, source = 'test'): ParameterValue<number> => ({
  from,
  value,
  source,
});

describe('defineParameter', () => {
  it.each<[string, Spec]>([
    ['empty id', base({ id: '' })],
    ['id with spaces', base({ id: 'a b' })],
    ['empty description', base({ description: ' ' })],
    ['national not sorted', base({ national: [val('2010-01-01', 1), val('2006-07-01', 2)] })],
    ['national with a repeated date', base({ national: [val('2010-01-01', 1), val('2010-01-01', 2)] })],
    ['national date not a calendar date', base({ national: [val('2006-02-30', 1)] })],
    ['national date not ISO', base({ national: [val('2006/07/01', 1)] })],
    ['national value rejected by schema', base({ national: [val('2006-07-01', -1)] })],
    ['missing source', base({ national: [val('2006-07-01', 1, '')] })],
    ['province key at city level', base({ provinces: { 420500: [val('2010-01-01', 1)] } })],
    ['province key at county level', base({ provinces: { 420581: [val('2010-01-01', 1)] } })],
    ['province key the nation', base({ provinces: { 0: [val('2010-01-01', 1)] } })],
    ['province key invalid code', base({ provinces: { 100000: [val('2010-01-01', 1)] } })],
    [
      'province key not a number',
      base({ provinces: { abc: [val('2010-01-01', 1)] } as unknown as Spec['provinces'] }),
    ],
    [
      'province values not sorted',
      base({ provinces: { 650000: [val('2011-01-01', 1), val('2010-01-01', 2)] } }),
    ],
    ['province value rejected by schema', base({ provinces: { 650000: [val('2011-01-01', 1.5)] } })],
  ])('%s → RangeError', (_name, spec) => {
    expect(() => defineParameter(spec)).toThrow(RangeError);
  });

  it('freezes the parameter, its lists and object values, storing parsed copies', () => {
    const value = { a: 1 };
    const p = defineParameter<{ a: number }>({
      id: 'test.obj',
      description: 'Object 对象',
      schema: z.object({ a: z.number() }),
      national: [{ from: '2006-07-01', value, source: 'test' }],
      provinces: { 650000: [{ from: '2010-01-01', value: { a: 2 }, source: 'test' }] },
    });
    expect(Object.isFrozen(p)).toBe(true);
    expect(Object.isFrozen(p.national)).toBe(true);
    expect(Object.isFrozen(p.national[0])).toBe(true);
    expect(Object.isFrozen(p.national[0]?.value)).toBe(true);
    expect(Object.isFrozen(p.provinces)).toBe(true);
    expect(Object.isFrozen(p.provinces[650000])).toBe(true);
    expect(Object.isFrozen(value)).toBe(false);
    expect(p.national[0]?.value).toEqual({ a: 1 });
  });
});

describe('withOverrides', () => {
  it.each<[string, number, ParameterValue<number>[], [number, string, number][]]>([
    [
      'replaces a province list',
      650000,
      [val('2008-01-01', 900)],
      [
        [650102, '2008-01-01', 900],
        [650102, '2007-12-31', 600],
        [420581, '2016-01-01', 700],
      ],
    ],
    [
      'adds a new province',
      440000,
      [val('2012-01-01', 650)],
      [
        [440106, '2012-01-01', 650],
        [440106, '2011-12-31', 600],
        [650102, '2012-01-01', 800],
      ],
    ],
    [
      'an empty list removes the overrides',
      650000,
      [],
      [
        [650102, '2012-01-01', 600],
        [650102, '2021-01-01', 720],
      ],
    ],
  ])('%s', (_name, province, values, lookups) => {
    const p = withOverrides(rate, province, values);
    expect(Object.isFrozen(p)).toBe(true);
    for (const [division, on, expected] of lookups)
      expect(parameterValue(p, division, on).value).toBe(expected);
    // the original is unchanged
    expect(parameterValue(rate, 650102, '2012-01-01').value).toBe(800);
    expect(parameterValue(rate, 440106, '2012-01-01').value).toBe(600);
  });

  it.each<[string, number, ParameterValue<number>[]]>([
    ['city code', 420500, [val('2012-01-01', 1)]],
    ['nation', 0, [val('2012-01-01', 1)]],
    ['unsorted values', 650000, [val('2012-01-01', 1), val('2011-01-01', 2)]],
    ['value rejected by schema', 650000, [val('2012-01-01', -5)]],
    ['bad date', 650000, [val('2012-13-01', 1)]],
  ])('%s → RangeError', (_name, province, values) => {
    expect(() => withOverrides(rate, province, values)).toThrow(RangeError);
  });
});

describe('withStoredOverrides (database overrides merged into the code-defined ones)', () => {
  it.each<[string, number, ParameterValue<number>[], [number, string, number, string][]]>([
    [
      'nothing stored → the code values',
      650000,
      [],
      [
        [650102, '2009-12-31', 600, '国发〔2006〕17号'],
        [650102, '2010-01-01', 800, 'test: 新疆 override'],
      ],
    ],
    [
      'a stored value with the same from replaces the code value',
      650000,
      [val('2010-01-01', 850, 'stored: 新疆 correction')],
      [
        [650102, '2010-01-01', 850, 'stored: 新疆 correction'],
        [650102, '2030-01-01', 850, 'stored: 新疆 correction'],
      ],
    ],
    [
      'a later stored value is added after the code value',
      650000,
      [val('2016-01-01', 900, 'stored: 新疆 raise')],
      [
        [650102, '2015-12-31', 800, 'test: 新疆 override'],
        [650102, '2016-01-01', 900, 'stored: 新疆 raise'],
      ],
    ],
    [
      'an earlier stored value is added before the code value',
      650000,
      [val('2008-01-01', 650, 'stored: 新疆 early')],
      [
        [650102, '2007-12-31', 600, '国发〔2006〕17号'],
        [650102, '2008-01-01', 650, 'stored: 新疆 early'],
        [650102, '2010-01-01', 800, 'test: 新疆 override'],
      ],
    ],
    [
      'unsorted stored values are merged in date order',
      420000,
      [val('2019-01-01', 780, 'stored: b'), val('2016-01-01', 720, 'stored: a')],
      [
        [420581, '2015-07-01', 700, 'test: 湖北 override'],
        [420581, '2016-01-01', 720, 'stored: a'],
        [420581, '2018-01-01', 750, 'test: 湖北 raise'],
        [420581, '2019-01-01', 780, 'stored: b'],
      ],
    ],
    [
      'a province without code overrides',
      440000,
      [val('2012-01-01', 650, 'stored: 广东')],
      [
        [440106, '2011-12-31', 600, '国发〔2006〕17号'],
        [440106, '2012-01-01', 650, 'stored: 广东'],
        [650102, '2012-01-01', 800, 'test: 新疆 override'],
      ],
    ],
  ])('%s', (_name, province, stored, lookups) => {
    const p = withStoredOverrides(rate, province, stored);
    expect(Object.isFrozen(p)).toBe(true);
    for (const [division, on, value, source] of lookups) {
      const v = parameterValue(p, division, on);
      expect([v.value, v.source]).toEqual([value, source]);
    }
    // the original is unchanged
    expect(parameterValue(rate, 650102, '2030-01-01').value).toBe(800);
    expect(parameterValue(rate, 440106, '2012-01-01').value).toBe(600);
  });

  it('merges a stored rule into removal_effective (DOMAIN.md: 新疆 next January)', () => {
    const p = withStoredOverrides(removalEffectiveParameter, 650000, [
      { from: '2020-01-01', value: 'event_date', source: 'stored: 新疆 2020 rule' },
    ]);
    expect(parameterValue(p, 650102, '2019-12-31').value).toBe('next_january');
    expect(parameterValue(p, 650102, '2020-01-01').value).toBe('event_date');
    expect(parameterValue(p, 420581, '2020-01-01').value).toBe('annual_review');
  });

  it.each<[string, number, ParameterValue<number>[]]>([
    ['a city code', 650100, [val('2012-01-01', 1)]],
    ['the nation', 0, [val('2012-01-01', 1)]],
    ['a value rejected by the schema', 650000, [val('2012-01-01', -5)]],
    ['a value replacing a code value, rejected by the schema', 650000, [val('2010-01-01', 1.5)]],
    ['a bad date', 650000, [val('2012-02-30', 1)]],
    ['no source', 650000, [val('2012-01-01', 1, ' ')]],
    ['two stored values from the same date', 650000, [val('2012-01-01', 1), val('2012-01-01', 2)]],
    ['not an array', 650000, null as unknown as ParameterValue<number>[]],
  ])('%s → RangeError', (_name, province, stored) => {
    expect(() => withStoredOverrides(rate, province, stored)).toThrow(RangeError);
  });
});
