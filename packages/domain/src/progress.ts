/**
 * Progress reporting 进度报告 and the "double half" 双过半 check: by mid-period,
 * more than half the time gone and more than half of each target done.
 *
 * Pure rules: dates are passed in as ISO `YYYY-MM-DD` (no clock); targets and
 * amounts are integers (fen, people, thousandths); every comparison is exact.
 */

import { assertIsoDate, dayNumber } from './internal/calendar.js';
import { assertCount } from './internal/checks.js';
import { ratioPercent } from './money.js';

/** A reporting period (both ends inclusive) and the day of the report. */
export interface ProgressPeriod {
  /** First day, ISO `YYYY-MM-DD`. */
  start: string;
  /** Last day, ISO `YYYY-MM-DD`, not before `start`. */
  end: string;
  /** Day of the report; days up to and including it count as elapsed. */
  on: string;
}

/** Elapsed part of a period, in whole days. */
export interface TimeElapsed {
  /** Days from `start` through `on`, both included, clamped to 0..totalDays. */
  elapsedDays: number;
  /** Days from `start` through `end`, both included. */
  totalDays: number;
  /** elapsedDays / totalDays as a percentage string with 2 decimals (half up). */
  percent: string;
}

/**
 * How much of a period has elapsed on `on`, in days with both ends included:
 * 2013-01-01..2013-12-31 on 2013-07-03 → 184 of 365 days, `"50.41"`. Before
 * `start` nothing has elapsed; after `end` all of it. Throws RangeError on a
 * bad date or when `end` is before `start`.
 */
export function timeElapsed(period: ProgressPeriod): TimeElapsed {
  if (period === null || typeof period !== 'object') throw new RangeError('period must be an object');
  assertIsoDate(period.start, 'start');
  assertIsoDate(period.end, 'end');
  assertIsoDate(period.on, 'on');
  if (period.end < period.start) throw new RangeError(`end ${period.end} is before start ${period.start}`);
  const first = dayNumber(period.start);
  const totalDays = dayNumber(period.end) - first + 1;
  const elapsedDays = Math.min(totalDays, Math.max(0, dayNumber(period.on) - first + 1));
  return { elapsedDays, totalDays, percent: ratioPercent(elapsedDays, totalDays) };
}

/** What {@link doubleHalf} compares: a target (fen, people, …) and what is done, over a period. */
export interface DoubleHalfInput extends ProgressPeriod {
  /** The period's target, a non-negative safe integer (fen for money, a count otherwise). */
  target: number;
  /** Done so far, a non-negative safe integer in the target's unit (may exceed it). */
  done: number;
}

/** The "double half" 双过半 result of one target. */
export interface DoubleHalfResult {
  /** Share of the period elapsed, `"50.41"`. */
  timePercent: string;
  /** Share of the target done, `"57.47"`; `null` when the target is 0. */
  donePercent: string | null;
  /** done / target ≥ elapsed / total, compared exactly (always true when the target is 0). */
  onTrack: boolean;
  /** At least half the time elapsed and at least half the target done (exact; a target of 0 counts as done). */
  doubleHalf: boolean;
}

/**
 * The "double half" 双过半 check of one target on `on`: percentages with 2
 * decimals (half up, {@link ratioPercent}); `onTrack` when the share done is
 * at least the share of time elapsed (done·total ≥ target·elapsed, exact);
 * `doubleHalf` when 2·elapsed ≥ total and 2·done ≥ target ("more than half"
 * read as at least 50%). A target of 0 has nothing to do: `donePercent` is
 * `null`, `onTrack` is true, and `doubleHalf` depends on time alone. Seed 002:
 * 7,500 of 13,050 people → `"57.47"`; 3,779.7万 of 6,310.84万 → `"59.89"`.
 * Throws RangeError on invalid dates or a negative or non-integer target/done.
 */
export function doubleHalf(input: DoubleHalfInput): DoubleHalfResult {
  if (input === null || typeof input !== 'object') throw new RangeError('input must be an object');
  const target = assertCount(input.target, 'target');
  const done = assertCount(input.done, 'done');
  const time = timeElapsed(input);
  const timeHalf = 2 * time.elapsedDays >= time.totalDays;
  if (target === 0) {
    return { timePercent: time.percent, donePercent: null, onTrack: true, doubleHalf: timeHalf };
  }
  const onTrack = BigInt(done) * BigInt(time.totalDays) >= BigInt(target) * BigInt(time.elapsedDays);
  const doneHalf = 2n * BigInt(done) >= BigInt(target);
  return {
    timePercent: time.percent,
    donePercent: ratioPercent(done, target),
    onTrack,
    doubleHalf: timeHalf && doneHalf,
  };
}
