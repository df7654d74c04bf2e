/**
 * Payment and reporting periods 期间 (发放期/统计期), named by calendar:
 * `2013` (year 年度), `2013-H1` / `2013-H2` (half-year 半年), `2013-Q1`..`2013-Q4`
 * (quarter 季度), `2013-01`..`2013-12` (month 月度).
 */

import { z } from 'zod';
import { assertIsoDate, daysInMonth, isoDate } from './internal/calendar.js';

/** Granularity of a period. */
export type PeriodKind = 'year' | 'half' | 'quarter' | 'month';

/** A named period with its inclusive ISO date bounds. */
export interface Period {
  name: string;
  kind: PeriodKind;
  /** First day, ISO `YYYY-MM-DD`, inclusive. */
  start: string;
  /** Last day, ISO `YYYY-MM-DD`, inclusive. */
  end: string;
}

const MIN_YEAR = 1949;
const MAX_YEAR = 2200;
const PERIOD_NAME = /^(\d{4})(?:-(H[12]|Q[1-4]|0[1-9]|1[0-2]))?$/;

function span(name: string, kind: PeriodKind, year: number, firstMonth: number, lastMonth: number): Period {
  return {
    name,
    kind,
    start: isoDate(year, firstMonth, 1),
    end: isoDate(year, lastMonth, daysInMonth(year, lastMonth)),
  };
}

/**
 * Parses a period name (`2013`, `2013-H1`, `2013-Q2`, `2016-02`) into its kind
 * and inclusive date range. Years 1949..2200. Throws RangeError on anything else.
 */
export function parsePeriod(name: string): Period {
  const m = typeof name === 'string' ? PERIOD_NAME.exec(name) : null;
  if (!m) throw new RangeError(`invalid period name: ${JSON.stringify(name)}`);
  const year = Number(m[1]);
  if (year < MIN_YEAR || year > MAX_YEAR) {
    throw new RangeError(`period year must be between ${MIN_YEAR} and ${MAX_YEAR}: ${JSON.stringify(name)}`);
  }
  const sub = m[2];
  if (sub === undefined) return span(name, 'year', year, 1, 12);
  if (sub.startsWith('H')) {
    const half = Number(sub.slice(1));
    return span(name, 'half', year, half * 6 - 5, half * 6);
  }
  if (sub.startsWith('Q')) {
    const quarter = Number(sub.slice(1));
    return span(name, 'quarter', year, quarter * 3 - 2, quarter * 3);
  }
  const month = Number(sub);
  return span(name, 'month', year, month, month);
}

/**
 * True when the ISO date `date` (`YYYY-MM-DD`) falls within `period`, bounds
 * included. Throws RangeError when `date` is not a real ISO date.
 */
export function periodContains(period: Period, date: string): boolean {
  assertIsoDate(date);
  return date >= period.start && date <= period.end;
}

/** Zod schema for a period name; the parsed value stays the name string. */
export const periodSchema = z
  .string()
  .regex(PERIOD_NAME, 'period must look like 2013, 2013-H1, 2013-Q1 or 2013-01')
  .refine(
    (name) => {
      try {
        parsePeriod(name);
        return true;
      } catch {
        return false;
      }
    },
    { message: `period year must be between ${MIN_YEAR} and ${MAX_YEAR}` },
  )
  .describe(
    'Period 期间: a year (2013), half-year (2013-H1, 2013-H2), quarter (2013-Q1..2013-Q4) or month (2013-01..2013-12); years 1949..2200',
  );
