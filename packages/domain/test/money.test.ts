import { describe, expect, it } from 'vitest';
import { assertFen, formatYuan, ratioPercent, sumFen, wanToFen, yuanToFen } from '../src/index.js';

describe('assertFen', () => {
  it.each([0, 1, -1, 296_040_000, Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER])('accepts %d', (n) => {
    expect(assertFen(n)).toBe(n);
  });

  it.each([0.5, Number.NaN, Number.POSITIVE_INFINITY, Number.MAX_SAFE_INTEGER + 1, 2 ** 60])(
    'rejects %d',
    (n) => {
      expect(() => assertFen(n)).toThrow(RangeError);
    },
  );
});

describe('yuanToFen', () => {
  it.each<[string, number]>([
    ['2960400', 296_040_000],
    ['300', 30_000],
    ['300.5', 30_050],
    ['300.50', 30_050],
    ['0.01', 1],
    ['0.1', 10],
    ['0', 0],
    ['-0', 0],
    ['-0.00', 0],
    ['-12.30', -1_230],
    ['+12.30', 1_230],
    ['1,234.50', 123_450],
    ['2,960,400', 296_040_000],
    [' 42.00 ', 4_200],
    ['0.07', 7], // 0.07 * 100 is 7.000000000000001 in floating point
    ['1.15', 115], // 1.15 * 100 is 114.99999999999999 in floating point
    ['90071992547409.91', Number.MAX_SAFE_INTEGER],
  ])('yuanToFen(%j) → %d', (input, expected) => {
    expect(yuanToFen(input)).toBe(expected);
  });

  it('returns +0 for negative zero', () => {
    expect(Object.is(yuanToFen('-0.00'), 0)).toBe(true);
  });

  it.each([
    '',
    ' ',
    'abc',
    '1.234', // more than 2 decimals
    '0.001',
    '1.',
    '.5',
    '1e3',
    '0x10',
    '1,23',
    '12,34.5',
    '1,,234',
    ',123',
    '--1',
    '1 000',
    '¥100',
    '100元',
    'NaN',
    'Infinity',
    '90071992547409.92', // beyond MAX_SAFE_INTEGER fen
    '99999999999999999999',
  ])('yuanToFen(%j) throws RangeError', (input) => {
    expect(() => yuanToFen(input)).toThrow(RangeError);
  });

  it('seed figure: 9,868 persons × 300 yuan = 2,960,400 yuan', () => {
    const total = yuanToFen('300') * 9868;
    expect(total).toBe(yuanToFen('2960400'));
    expect(formatYuan(total)).toBe('2,960,400.00');
  });
});

describe('wanToFen', () => {
  it.each<[string, number]>([
    ['1', 1_000_000],
    ['0.000001', 1],
    ['3285.44', 3_285_440_000],
    ['800', 800_000_000],
    ['1358.96', 1_358_960_000],
    ['1126.48', 1_126_480_000],
    ['1,358.96', 1_358_960_000],
    ['-0.5', -500_000],
  ])('wanToFen(%j) → %d', (input, expected) => {
    expect(wanToFen(input)).toBe(expected);
  });

  it.each(['0.0000001', 'x', '', '1.2.3'])('wanToFen(%j) throws RangeError', (input) => {
    expect(() => wanToFen(input)).toThrow(RangeError);
  });

  it('seed figure: 3285.44万 = 800万 + 1358.96万 + 1126.48万', () => {
    const parts = ['800', '1358.96', '1126.48'].map(wanToFen);
    expect(sumFen(parts)).toBe(wanToFen('3285.44'));
    expect(formatYuan(wanToFen('3285.44'))).toBe('32,854,400.00');
  });
});

describe('formatYuan', () => {
  it.each<[number, string]>([
    [296_040_000, '2,960,400.00'],
    [0, '0.00'],
    [1, '0.01'],
    [10, '0.10'],
    [-5, '-0.05'],
    [-123_450, '-1,234.50'],
    [99_999, '999.99'],
    [100_000, '1,000.00'],
    [123_456_789, '1,234,567.89'],
    [Number.MAX_SAFE_INTEGER, '90,071,992,547,409.91'],
    [Number.MIN_SAFE_INTEGER, '-90,071,992,547,409.91'],
  ])('formatYuan(%d) → %j', (fen, expected) => {
    expect(formatYuan(fen)).toBe(expected);
  });

  it.each<[string]>([['0.01'], ['1,234.50'], ['-12.30'], ['2,960,400.00']])('round-trips %j', (s) => {
    expect(formatYuan(yuanToFen(s))).toBe(s);
  });

  it.each([0.5, Number.NaN, 2 ** 60])('formatYuan(%d) throws RangeError', (n) => {
    expect(() => formatYuan(n)).toThrow(RangeError);
  });
});

describe('sumFen', () => {
  it.each<[string, number[], number]>([
    ['empty', [], 0],
    ['one', [5], 5],
    ['mixed signs', [100, -30, 7], 77],
    ['to the edge', [Number.MAX_SAFE_INTEGER - 1, 1], Number.MAX_SAFE_INTEGER],
    ['back into range after a negative', [Number.MAX_SAFE_INTEGER, -1, 1], Number.MAX_SAFE_INTEGER],
  ])('%s', (_label, values, expected) => {
    expect(sumFen(values)).toBe(expected);
  });

  it('accepts any iterable', () => {
    function* gen(): Generator<number> {
      yield 1;
      yield 2;
    }
    expect(sumFen(gen())).toBe(3);
    expect(sumFen(new Set([10, 20]))).toBe(30);
  });

  it.each<[string, number[]]>([
    ['overflow', [Number.MAX_SAFE_INTEGER, 1]],
    ['underflow', [Number.MIN_SAFE_INTEGER, -1]],
    ['partial sum overflows even if the total would fit', [Number.MAX_SAFE_INTEGER, 1, -1]],
    ['non-integer', [1, 0.5]],
    ['NaN', [Number.NaN]],
  ])('throws RangeError on %s', (_label, values) => {
    expect(() => sumFen(values)).toThrow(RangeError);
  });
});

describe('ratioPercent', () => {
  it.each<[number, number, number | undefined, string]>([
    [7500, 13050, undefined, '57.47'],
    [3_779_700, 6_310_840, undefined, '59.89'],
    [1, 3, undefined, '33.33'],
    [2, 3, undefined, '66.67'],
    [1, 8, undefined, '12.50'],
    [1, 8, 1, '12.5'],
    [1, 8, 0, '13'], // 12.5 rounds half up
    [1, 200, 0, '1'], // 0.5 rounds half up
    [1, 400, 0, '0'],
    [1, 2_000, 2, '0.05'],
    [1, 1, undefined, '100.00'],
    [3, 2, undefined, '150.00'],
    [0, 5, undefined, '0.00'],
    [-1, 8, 1, '-12.5'],
    [-1, 8, 0, '-13'], // half away from zero
    [1, -8, 1, '-12.5'],
    [-1, -8, 1, '12.5'],
    [-1, 400, 0, '0'], // never "-0"
    [Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER, 4, '100.0000'],
  ])('ratioPercent(%d, %d, %s) → %j', (part, whole, decimals, expected) => {
    expect(ratioPercent(part, whole, decimals)).toBe(expected);
  });

  it.each<[string, number, number, number | undefined]>([
    ['whole 0', 1, 0, undefined],
    ['0 / 0', 0, 0, undefined],
    ['non-integer part', 0.5, 2, undefined],
    ['non-integer whole', 1, 2.5, undefined],
    ['negative decimals', 1, 2, -1],
    ['fractional decimals', 1, 2, 1.5],
  ])('throws RangeError on %s', (_label, part, whole, decimals) => {
    expect(() => ratioPercent(part, whole, decimals)).toThrow(RangeError);
  });
});
