/**
 * Internal proleptic-Gregorian calendar helpers shared by the date-aware rules.
 * Pure string/integer arithmetic: no `Date`, no clock, no time zones.
 * Not re-exported from the package index.
 */

/** Leap year in the Gregorian calendar. */
export function isLeapYear(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}

/** Number of days in `month` (1..12) of `year`. */
export function daysInMonth(year: number, month: number): number {
  switch (month) {
    case 2:
      return isLeapYear(year) ? 29 : 28;
    case 4:
    case 6:
    case 9:
    case 11:
      return 30;
    default:
      return 31;
  }
}

/** True when year/month/day form a real calendar date (year 0001..9999). */
export function isCalendarDate(year: number, month: number, day: number): boolean {
  return (
    Number.isInteger(year) &&
    Number.isInteger(month) &&
    Number.isInteger(day) &&
    year >= 1 &&
    year <= 9999 &&
    month >= 1 &&
    month <= 12 &&
    day >= 1 &&
    day <= daysInMonth(year, month)
  );
}

const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

/** True when `s` is a real calendar date written `YYYY-MM-DD`. */
export function isIsoDate(s: unknown): s is string {
  if (typeof s !== 'string') return false;
  const m = ISO_DATE.exec(s);
  if (!m) return false;
  return isCalendarDate(Number(m[1]), Number(m[2]), Number(m[3]));
}

/** Throws RangeError unless `s` is a real `YYYY-MM-DD` date; returns it. */
export function assertIsoDate(s: string, what = 'date'): string {
  if (!isIsoDate(s)) throw new RangeError(`${what} must be an ISO date YYYY-MM-DD, got ${JSON.stringify(s)}`);
  return s;
}

/** Formats year/month/day as `YYYY-MM-DD`. */
export function isoDate(year: number, month: number, day: number): string {
  return `${String(year).padStart(4, '0')}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`;
}

/** Days since 1970-01-01 of a proleptic-Gregorian date (H. Hinnant's algorithm). */
export function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (month + (month > 2 ? -3 : 9)) + 2) / 5) + day - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146_097 + doe - 719_468;
}

/** Days since 1970-01-01 of a valid `YYYY-MM-DD` date (differences count days). */
export function dayNumber(date: string): number {
  return daysFromCivil(Number(date.slice(0, 4)), Number(date.slice(5, 7)), Number(date.slice(8, 10)));
}

/**
 * A valid `YYYY-MM-DD` date moved by `months` months (negative: back), the day clamped to the
 * month's end: 2026-03-31 − 1 month → 2026-02-28; 2024-02-29 + 12 months → 2025-02-28.
 * Throws RangeError outside years 1..9999.
 */
export function addMonths(date: string, months: number): string {
  const d = Number(date.slice(8, 10));
  const index = Number(date.slice(0, 4)) * 12 + (Number(date.slice(5, 7)) - 1) + months;
  const year = Math.floor(index / 12);
  const month = (index % 12) + 1;
  if (year < 1 || year > 9999)
    throw new RangeError(`${date} moved by ${months} months is outside years 1..9999`);
  return isoDate(year, month, Math.min(d, daysInMonth(year, month)));
}
