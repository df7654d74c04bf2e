import { describe, expect, it } from 'vitest';
import { type Period, type PeriodKind, parsePeriod, periodContains, periodSchema } from '../src/index.js';

describe('parsePeriod', () => {
  it.each<[string, PeriodKind, string, string]>([
    ['2013', 'year', '2013-01-01', '2013-12-31'],
    ['2013-H1', 'half', '2013-01-01', '2013-06-30'],
    ['2013-H2', 'half', '2013-07-01', '2013-12-31'],
    ['2013-Q1', 'quarter', '2013-01-01', '2013-03-31'],
    ['2013-Q2', 'quarter', '2013-04-01', '2013-06-30'],
    ['2013-Q3', 'quarter', '2013-07-01', '2013-09-30'],
    ['2013-Q4', 'quarter', '2013-10-01', '2013-12-31'],
    ['2013-01', 'month', '2013-01-01', '2013-01-31'],
    ['2013-02', 'month', '2013-02-01', '2013-02-28'],
    ['2016-02', 'month', '2016-02-01', '2016-02-29'],
    ['2000-02', 'month', '2000-02-01', '2000-02-29'],
    ['2100-02', 'month', '2100-02-01', '2100-02-28'],
    ['2013-04', 'month', '2013-04-01', '2013-04-30'],
    ['2013-12', 'month', '2013-12-01', '2013-12-31'],
    ['1949', 'year', '1949-01-01', '1949-12-31'],
    ['2200-Q4', 'quarter', '2200-10-01', '2200-12-31'],
  ])('%s → %s %s..%s', (name, kind, start, end) => {
    expect(parsePeriod(name)).toEqual({ name, kind, start, end });
  });

  it.each([
    '',
    '13',
    '20130',
    '1948',
    '2201',
    '2013-H0',
    '2013-H3',
    '2013-h1',
    '2013-Q0',
    '2013-Q5',
    '2013-q1',
    '2013-00',
    '2013-13',
    '2013-1',
    '2013-001',
    '2013/01',
    '2013-01-01',
    ' 2013',
    '2013 ',
    '2013-',
    'H1-2013',
    '２０１３',
  ])('parsePeriod(%j) throws RangeError', (name) => {
    expect(() => parsePeriod(name)).toThrow(RangeError);
  });
});

describe('periodContains', () => {
  const h1 = parsePeriod('2013-H1');
  const feb = parsePeriod('2016-02');

  it.each<[Period, string, boolean]>([
    [h1, '2013-01-01', true],
    [h1, '2013-03-15', true],
    [h1, '2013-06-30', true],
    [h1, '2013-07-01', false],
    [h1, '2012-12-31', false],
    [feb, '2016-02-29', true],
    [feb, '2016-03-01', false],
    [feb, '2016-01-31', false],
  ])('%j contains %s → %s', (period, date, expected) => {
    expect(periodContains(period, date)).toBe(expected);
  });

  it.each(['2013-02-30', '20130101', '2013-1-1', '2013-03-15T00:00:00Z', ''])(
    'throws RangeError on date %j',
    (date) => {
      expect(() => periodContains(h1, date)).toThrow(RangeError);
    },
  );
});

describe('periodSchema', () => {
  it.each<[unknown, boolean]>([
    ['2013', true],
    ['2013-H1', true],
    ['2013-Q4', true],
    ['2016-02', true],
    ['1948', false],
    ['2201-01', false],
    ['2013-13', false],
    ['2013-H3', false],
    ['nonsense', false],
    [2013, false],
    [null, false],
  ])('periodSchema.safeParse(%j).success → %s', (input, expected) => {
    const result = periodSchema.safeParse(input);
    expect(result.success).toBe(expected);
    if (result.success) expect(result.data).toBe(input);
  });

  it('is described', () => {
    expect(periodSchema.description).toMatch(/期间/);
  });
});
