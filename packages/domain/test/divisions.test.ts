import { describe, expect, it } from 'vitest';
import {
  ancestorsOf,
  assertScope,
  countyOfLocality,
  type DivisionLevel,
  divisionLevel,
  divisionLevels,
  isDivisionCode,
  isLocalityCode,
  isWithin,
  type LocalityLevel,
  localityLevel,
  NATION,
  parentDivision,
  type Scope,
  scopeOf,
  townshipCodeFrom9,
  townshipOfLocality,
} from '../src/index.js';

describe('isDivisionCode', () => {
  it.each<[unknown, boolean]>([
    [0, true],
    [420000, true],
    [420500, true],
    [420581, true],
    [429000, true],
    [429004, true],
    [110000, true],
    [110105, true],
    [999999, true],
    [420010, false], // county part without a city part
    [100000, false], // province 10
    [109999, false],
    [1, false],
    [-420000, false],
    [1_000_000, false],
    [420581.5, false],
    [Number.NaN, false],
    ['420581', false],
    [null, false],
    [undefined, false],
  ])('isDivisionCode(%j) → %s', (input, expected) => {
    expect(isDivisionCode(input)).toBe(expected);
  });
});

describe('divisionLevel', () => {
  it('lists levels from nation down', () => {
    expect(divisionLevels).toEqual(['nation', 'province', 'city', 'county']);
    expect(NATION).toBe(0);
  });

  it.each<[number, DivisionLevel]>([
    [0, 'nation'],
    [420000, 'province'],
    [420500, 'city'],
    [429000, 'city'],
    [420581, 'county'],
    [429004, 'county'],
  ])('divisionLevel(%i) → %s', (code, level) => {
    expect(divisionLevel(code)).toBe(level);
  });

  it.each([420010, 100000, -1, 1_000_000, 12.5])('divisionLevel(%d) throws RangeError', (code) => {
    expect(() => divisionLevel(code)).toThrow(RangeError);
  });
});

describe('parentDivision / ancestorsOf', () => {
  it.each<[number, number | null, number[]]>([
    [0, null, []],
    [420000, 0, [0]],
    [420500, 420000, [0, 420000]],
    [420581, 420500, [0, 420000, 420500]],
    [429000, 420000, [0, 420000]],
    [429004, 429000, [0, 420000, 429000]],
    [110105, 110100, [0, 110000, 110100]],
  ])('%i → parent %j, ancestors %j', (code, parent, ancestors) => {
    expect(parentDivision(code)).toBe(parent);
    expect(ancestorsOf(code)).toEqual(ancestors);
  });

  it('rejects invalid codes', () => {
    expect(() => parentDivision(420010)).toThrow(RangeError);
    expect(() => ancestorsOf(7)).toThrow(RangeError);
  });
});

describe('scopeOf', () => {
  it.each<[number, Scope]>([
    [0, { lo: 0, hi: 999999 }],
    [420000, { lo: 420000, hi: 429999 }],
    [420500, { lo: 420500, hi: 420599 }],
    [429000, { lo: 429000, hi: 429099 }],
    [420581, { lo: 420581, hi: 420581 }],
    [429004, { lo: 429004, hi: 429004 }],
  ])('scopeOf(%i) → %j', (code, scope) => {
    expect(scopeOf(code)).toEqual(scope);
  });

  it('throws on an invalid code', () => {
    expect(() => scopeOf(420010)).toThrow(RangeError);
  });
});

describe('isWithin', () => {
  it.each<[number, number, boolean]>([
    [420581, 420581, true],
    [420581, 420500, true],
    [420581, 420000, true],
    [420581, 0, true],
    [0, 0, true],
    [429004, 429000, true],
    [429004, 420000, true],
    [429004, 420500, false],
    [420500, 420581, false],
    [420000, 420500, false],
    [0, 420000, false],
    [430102, 420000, false],
    [420602, 420500, false],
  ])('isWithin(%i, %i) → %s', (code, ancestor, expected) => {
    expect(isWithin(code, ancestor)).toBe(expected);
  });

  it('throws on invalid codes', () => {
    expect(() => isWithin(420010, 420000)).toThrow(RangeError);
    expect(() => isWithin(420581, 420010)).toThrow(RangeError);
  });
});

describe('assertScope', () => {
  it.each<[Scope]>([
    [{ lo: 0, hi: 999999 }],
    [{ lo: 420000, hi: 429999 }],
    [{ lo: 420500, hi: 420599 }],
    [{ lo: 429000, hi: 429099 }],
    [{ lo: 420581, hi: 420581 }],
  ])('accepts %j', (scope) => {
    expect(assertScope(scope)).toEqual(scope);
  });

  it('returns a copy without extra properties', () => {
    const input = { lo: 420581, hi: 420581, extra: 'x' };
    const out = assertScope(input);
    expect(out).toEqual({ lo: 420581, hi: 420581 });
    expect(out).not.toBe(input);
  });

  it.each<[string, unknown]>([
    ['city lo with county hi', { lo: 420500, hi: 420581 }],
    ['county lo with city hi', { lo: 420581, hi: 420599 }],
    ['province lo with narrow hi', { lo: 420000, hi: 420599 }],
    ['nation lo with narrow hi', { lo: 0, hi: 429999 }],
    ['single city code', { lo: 420500, hi: 420500 }],
    ['lo above hi', { lo: 420599, hi: 420500 }],
    ['negative lo', { lo: -1, hi: 999999 }],
    ['hi above 999999', { lo: 0, hi: 1_000_000 }],
    ['invalid division', { lo: 420010, hi: 420010 }],
    ['non-division lo', { lo: 5, hi: 5 }],
    ['fractional', { lo: 420581.5, hi: 420581.5 }],
    ['NaN', { lo: Number.NaN, hi: Number.NaN }],
    ['string bounds', { lo: '420581', hi: '420581' }],
    ['SQL injection', { lo: '0; DROP TABLE x', hi: 999999 }],
    ['empty object', {}],
  ])('rejects %s', (_label, scope) => {
    expect(() => assertScope(scope as Scope)).toThrow(RangeError);
  });
});

describe('locality codes', () => {
  it.each<[unknown, boolean]>([
    [420581001000, true],
    [420581001001, true],
    [420581100203, true],
    [429004100000, true],
    [420581000000, false], // township part 000
    [420581000001, false],
    [420500001000, false], // first six digits are a city
    [420000001000, false], // a province
    [420010001000, false], // invalid division
    [42058100100, false], // 11 digits
    [4205810010010, false], // 13 digits
    [420581001001.5, false],
    ['420581001001', false],
  ])('isLocalityCode(%j) → %s', (input, expected) => {
    expect(isLocalityCode(input)).toBe(expected);
  });

  it.each<[number, LocalityLevel, number, number]>([
    [420581001000, 'township', 420581, 420581001000],
    [420581001001, 'village', 420581, 420581001000],
    [420581100203, 'village', 420581, 420581100000],
    [429004100000, 'township', 429004, 429004100000],
  ])('%i is a %s of county %i in township %i', (code, level, county, township) => {
    expect(localityLevel(code)).toBe(level);
    expect(countyOfLocality(code)).toBe(county);
    expect(townshipOfLocality(code)).toBe(township);
  });

  it.each([420581000000, 420500001000, 42058100100])('locality functions throw RangeError on %d', (code) => {
    expect(() => localityLevel(code)).toThrow(RangeError);
    expect(() => countyOfLocality(code)).toThrow(RangeError);
    expect(() => townshipOfLocality(code)).toThrow(RangeError);
  });

  it.each<[number, number]>([
    [420581001, 420581001000],
    [429004100, 429004100000],
    [110105001, 110105001000],
  ])('townshipCodeFrom9(%i) → %i', (code9, code12) => {
    expect(townshipCodeFrom9(code9)).toBe(code12);
    expect(localityLevel(code12)).toBe('township');
  });

  it.each([420581000, 420500001, 42058100, 4205810010, 420581001.5])(
    'townshipCodeFrom9(%d) throws RangeError',
    (code9) => {
      expect(() => townshipCodeFrom9(code9)).toThrow(RangeError);
    },
  );
});
