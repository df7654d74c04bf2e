/**
 * Resident identity card number 居民身份证号码 (GB 11643-1999) and masking of
 * personal data for display and logs.
 *
 * Eighteen characters: six-digit address code, eight-digit birth date
 * `YYYYMMDD`, three-digit sequence (odd = male, even = female) and a check
 * character computed with ISO 7064 MOD 11-2.
 */

import { isDivisionCode } from './divisions.js';
import { assertIsoDate, isCalendarDate, isoDate } from './internal/calendar.js';

/** Why a national ID number was rejected. */
export type NationalIdError =
  | 'length'
  | 'format'
  | 'address'
  | 'birth_date'
  | 'future_birth_date'
  | 'checksum';

/** Result of {@link parseNationalId}. `value` is the normalised number (upper-case `X`). */
export type NationalIdResult =
  | {
      ok: true;
      value: string;
      addressCode: number;
      /** ISO `YYYY-MM-DD`. */
      birthDate: string;
      sex: 'male' | 'female';
    }
  | { ok: false; error: NationalIdError };

const WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2] as const;
/** Remainder (index) → check character 校验码. */
const CHECK_CHARS = '10X98765432';
const MIN_BIRTH_DATE = '1900-01-01';

/**
 * The check character 校验码 for the first 17 digits (ISO 7064 MOD 11-2).
 * Throws RangeError unless `first17` is exactly 17 ASCII digits.
 */
export function checkDigit(first17: string): string {
  if (!/^\d{17}$/.test(first17)) {
    throw new RangeError('checkDigit expects exactly 17 digits');
  }
  let sum = 0;
  for (let i = 0; i < 17; i++) {
    sum += Number(first17.charAt(i)) * WEIGHTS[i]!;
  }
  return CHECK_CHARS.charAt(sum % 11);
}

/**
 * Parses and validates a national ID number. Checks, in order: trim; length
 * 18 (`length`); 17 digits then a digit or `X`/`x` (`format`); address code is
 * a valid non-nation division code (`address`); birth date is a real calendar
 * date on or after 1900-01-01 (`birth_date`); when `today` (ISO date) is
 * given, birth date not after it (`future_birth_date`); check character last
 * (`checksum`). Throws RangeError only when `today` itself is not an ISO date.
 */
export function parseNationalId(input: string, today?: string): NationalIdResult {
  if (today !== undefined) assertIsoDate(today, 'today');
  const s = input.trim();
  if (s.length !== 18) return { ok: false, error: 'length' };
  if (!/^\d{17}[\dXx]$/.test(s)) return { ok: false, error: 'format' };
  const value = s.toUpperCase();

  const addressCode = Number(value.slice(0, 6));
  if (addressCode === 0 || !isDivisionCode(addressCode)) return { ok: false, error: 'address' };

  const year = Number(value.slice(6, 10));
  const month = Number(value.slice(10, 12));
  const day = Number(value.slice(12, 14));
  if (!isCalendarDate(year, month, day)) return { ok: false, error: 'birth_date' };
  const birthDate = isoDate(year, month, day);
  if (birthDate < MIN_BIRTH_DATE) return { ok: false, error: 'birth_date' };
  if (today !== undefined && birthDate > today) return { ok: false, error: 'future_birth_date' };

  if (checkDigit(value.slice(0, 17)) !== value.charAt(17)) return { ok: false, error: 'checksum' };

  const sequence = Number(value.slice(14, 17));
  return { ok: true, value, addressCode, birthDate, sex: sequence % 2 === 1 ? 'male' : 'female' };
}

/**
 * Masks a national ID for display: first 6 and last 4 characters kept, 8 `*`
 * between (`420581********1234`). Anything not 18 characters long has all but
 * its last 4 characters masked; strings of 4 characters or fewer become `****`,
 * so the input is never returned in clear.
 */
export function maskNationalId(id: string): string {
  if (id.length === 18) return `${id.slice(0, 6)}********${id.slice(14)}`;
  if (id.length <= 4) return '****';
  return '*'.repeat(id.length - 4) + id.slice(-4);
}

/**
 * Masks a bank account number 银行账号 (e.g. the 一卡通 card the subsidy is paid
 * to): `****` followed by the last 4 characters; `****` alone when the input is
 * shorter than 5 characters.
 */
export function maskBankAccount(account: string): string {
  if (account.length < 5) return '****';
  return `****${account.slice(-4)}`;
}

/**
 * One maximal run of ASCII digits not touching other digits, optionally a
 * 17-digit run followed by `X`/`x` (an ID number with check character X).
 */
const DIGIT_RUN = /(?<!\d)(?:\d{17}[Xx]|\d+)(?!\d)/g;

/**
 * Scrubs personal numbers from free text before it is logged 日志脱敏:
 *
 * - every 18-character ID-looking run (`\d{17}[\dXx]` not adjacent to other
 *   digits) → {@link maskNationalId};
 * - every other run of 13–19 digits (bank account / card numbers) →
 *   {@link maskBankAccount}.
 *
 * Runs of 12 digits or fewer stay readable on purpose, so that division codes
 * (`420581`) and twelve-digit statistical locality codes (`420581001001`)
 * remain useful in logs; the accepted trade-off is that a 12-digit account
 * number would not be masked. Runs of 20+ digits, digits separated by spaces or
 * dashes, and full-width digits are left alone as well.
 */
export function scrubSensitive(text: string): string {
  return text.replace(DIGIT_RUN, (run) => {
    if (run.length === 18) return maskNationalId(run);
    if (run.length >= 13 && run.length <= 19) return maskBankAccount(run);
    return run;
  });
}
