import { describe, expect, it } from 'vitest';
import { type DoubleHalfInput, doubleHalf, timeElapsed, wanToFen } from '../src/index.js';

const YEAR_2013 = { start: '2013-01-01', end: '2013-12-31' };

describe('timeElapsed', () => {
  it.each<[string, string, string, string, number, number, string]>([
    ['before the start', '2013-01-01', '2013-12-31', '2012-12-31', 0, 365, '0.00'],
    ['the first day counts', '2013-01-01', '2013-12-31', '2013-01-01', 1, 365, '0.27'],
    ['30 June', '2013-01-01', '2013-12-31', '2013-06-30', 181, 365, '49.59'],
    ['2 July: just past half', '2013-01-01', '2013-12-31', '2013-07-02', 183, 365, '50.14'],
    ['3 July', '2013-01-01', '2013-12-31', '2013-07-03', 184, 365, '50.41'],
    ['leap year 30 June', '2024-01-01', '2024-12-31', '2024-06-30', 182, 366, '49.73'],
    ['leap year 1 July', '2024-01-01', '2024-12-31', '2024-07-01', 183, 366, '50.00'],
    ['the last day', '2013-01-01', '2013-12-31', '2013-12-31', 365, 365, '100.00'],
    ['after the end', '2013-01-01', '2013-12-31', '2014-03-01', 365, 365, '100.00'],
    ['a one-day period', '2013-05-05', '2013-05-05', '2013-05-05', 1, 1, '100.00'],
    ['across a year end', '2013-12-01', '2014-01-31', '2013-12-31', 31, 62, '50.00'],
  ])('%s', (_name, start, end, on, elapsed, total, percent) => {
    expect(timeElapsed({ start, end, on })).toEqual({ elapsedDays: elapsed, totalDays: total, percent });
  });

  it.each<[string, { start: string; end: string; on: string }]>([
    ['end before start', { start: '2013-12-31', end: '2013-01-01', on: '2013-06-01' }],
    ['bad start', { start: '2013-02-29', end: '2013-12-31', on: '2013-06-01' }],
    ['bad end', { start: '2013-01-01', end: '2013-12-32', on: '2013-06-01' }],
    ['bad on', { start: '2013-01-01', end: '2013-12-31', on: '2013-6-1' }],
  ])('%s → RangeError', (_name, period) => {
    expect(() => timeElapsed(period)).toThrow(RangeError);
  });
});

describe('doubleHalf 双过半', () => {
  const onJuly3 = { ...YEAR_2013, on: '2013-07-03' };

  it('seed 002: 7,500 of 13,050 people = 57.47%', () => {
    expect(doubleHalf({ ...onJuly3, target: 13_050, done: 7_500 })).toEqual({
      timePercent: '50.41',
      donePercent: '57.47',
      onTrack: true,
      doubleHalf: true,
    });
  });

  it('seed 002: 3,779.7万 of 6,310.84万 = 59.89%', () => {
    const r = doubleHalf({ ...onJuly3, target: wanToFen('6310.84'), done: wanToFen('3779.7') });
    expect(r).toEqual({ timePercent: '50.41', donePercent: '59.89', onTrack: true, doubleHalf: true });
  });

  it.each<[string, Partial<DoubleHalfInput>, string, string | null, boolean, boolean]>([
    [
      'exactly half done, exactly half the time',
      { ...YEAR_2024(), on: '2024-07-01', target: 100, done: 50 },
      '50.00',
      '50.00',
      true,
      true,
    ],
    ['one short of half done', { target: 13_050, done: 6_524 }, '50.41', '49.99', false, false],
    [
      'just over half done on an odd target (2·done ≥ target)',
      { target: 13_051, done: 6_526 },
      '50.41',
      '50.00',
      false,
      true,
    ],
    [
      'ahead of time but before mid-year',
      { on: '2013-06-30', target: 100, done: 60 },
      '49.59',
      '60.00',
      true,
      false,
    ],
    [
      'behind time after mid-year',
      { on: '2013-10-01', target: 100, done: 60 },
      '75.07',
      '60.00',
      false,
      true,
    ],
    [
      'on track to the day (done·total = target·elapsed)',
      { on: '2013-01-05', target: 365, done: 5 },
      '1.37',
      '1.37',
      true,
      false,
    ],
    ['one short of on track', { on: '2013-01-05', target: 365, done: 4 }, '1.37', '1.10', false, false],
    ['more than the target', { target: 100, done: 150 }, '50.41', '150.00', true, true],
    ['nothing done', { target: 100, done: 0 }, '50.41', '0.00', false, false],
    ['target 0 after mid-year: nothing to do', { target: 0, done: 0 }, '50.41', null, true, true],
    ['target 0 before mid-year', { on: '2013-03-01', target: 0, done: 3 }, '16.44', null, true, false],
  ])('%s', (_name, change, time, done, onTrack, both) => {
    expect(doubleHalf({ ...onJuly3, target: 1, done: 0, ...change })).toEqual({
      timePercent: time,
      donePercent: done,
      onTrack,
      doubleHalf: both,
    });
  });

  it.each<[string, Partial<DoubleHalfInput>]>([
    ['negative target', { target: -1 }],
    ['fractional done', { done: 0.5 }],
    ['NaN target', { target: Number.NaN }],
    ['unsafe done', { done: 2 ** 60 }],
    ['bad date', { on: '2013-02-30' }],
    ['reversed period', { start: '2014-01-01' }],
  ])('%s → RangeError', (_name, change) => {
    expect(() => doubleHalf({ ...onJuly3, target: 100, done: 50, ...change })).toThrow(RangeError);
  });
});

function YEAR_2024() {
  return { start: '2024-01-01', end: '2024-12-31' };
}
