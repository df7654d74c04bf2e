/**
 * Money 金额. Every amount is an integer number of fen 分 (1 yuan 元 = 100 fen),
 * held as a JS safe integer. Decimal strings are parsed and printed with
 * integer/BigInt arithmetic only: never floats.
 */

/** An amount in fen 分; always a safe integer. */
export type Fen = number;

/** Returns `n` unchanged when it is a safe integer; throws RangeError otherwise. */
export function assertFen(n: number): Fen {
  if (!Number.isSafeInteger(n)) {
    throw new RangeError(`amount in fen must be a safe integer, got ${String(n)}`);
  }
  return n;
}

const DECIMAL = /^([+-])?(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d+))?$/;
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

/**
 * Parses a decimal string into an integer count of `10^-decimals` units,
 * exactly. Accepts an optional sign, thousands separators `,` in groups of
 * three, and at most `decimals` fraction digits.
 */
function parseScaled(input: string, decimals: number, unit: string): number {
  if (typeof input !== 'string') throw new RangeError(`${unit} amount must be a string`);
  const m = DECIMAL.exec(input.trim());
  if (!m) throw new RangeError(`not a ${unit} amount: ${JSON.stringify(input)}`);
  const [, sign, intPart = '', frac = ''] = m;
  if (frac.length > decimals) {
    throw new RangeError(`${unit} amount has more than ${decimals} decimals: ${JSON.stringify(input)}`);
  }
  const magnitude =
    BigInt(intPart.replaceAll(',', '')) * 10n ** BigInt(decimals) + BigInt(frac.padEnd(decimals, '0') || '0');
  if (magnitude > MAX_SAFE) throw new RangeError(`${unit} amount out of range: ${JSON.stringify(input)}`);
  const n = Number(magnitude);
  return sign === '-' && n !== 0 ? -n : n;
}

/**
 * Parses a yuan 元 decimal string into fen: `"2960400"`, `"300.5"`, `"0.01"`,
 * `"-12.30"`, `"1,234.50"`. At most 2 decimals; surrounding whitespace is
 * ignored; anything else throws RangeError.
 */
export function yuanToFen(yuan: string): Fen {
  return parseScaled(yuan, 2, 'yuan');
}

/**
 * Parses a 万元 (ten thousand yuan) decimal string into fen, exactly; at most 6
 * decimals (1 万元 = 1,000,000 fen). `"3285.44"` → `3_285_440_000`.
 */
export function wanToFen(wan: string): Fen {
  return parseScaled(wan, 6, 'wan-yuan');
}

/** Formats fen as yuan with thousands separators and 2 decimals: `296040000` → `"2,960,400.00"`. */
export function formatYuan(fen: Fen): string {
  assertFen(fen);
  const negative = fen < 0;
  const abs = Math.abs(fen);
  const cents = abs % 100;
  const whole = (abs - cents) / 100;
  const grouped = String(whole).replace(/\B(?=(\d{3})+$)/g, ',');
  return `${negative ? '-' : ''}${grouped}.${String(cents).padStart(2, '0')}`;
}

/** Sum of amounts in fen; throws RangeError on a non-integer or when a partial sum leaves the safe range. */
export function sumFen(values: Iterable<Fen>): Fen {
  let total = 0;
  for (const v of values) {
    total += assertFen(v);
    if (!Number.isSafeInteger(total)) throw new RangeError('sum of amounts exceeds the safe-integer range');
  }
  return total;
}

/**
 * `part / whole` as a percentage string with `decimals` decimals, rounded half
 * away from zero (half up on magnitudes), computed exactly with BigInt:
 * `ratioPercent(7500, 13050)` → `"57.47"`. Arguments must be safe integers;
 * `whole` 0 throws RangeError.
 */
export function ratioPercent(part: number, whole: number, decimals = 2): string {
  if (!Number.isSafeInteger(part) || !Number.isSafeInteger(whole)) {
    throw new RangeError('ratioPercent expects safe integers');
  }
  if (!Number.isInteger(decimals) || decimals < 0 || decimals > 20) {
    throw new RangeError('decimals must be an integer between 0 and 20');
  }
  if (whole === 0) throw new RangeError('ratioPercent: whole must not be 0');
  const negative = part < 0 !== whole < 0 && part !== 0;
  const p = BigInt(Math.abs(part));
  const w = BigInt(Math.abs(whole));
  const scaled = (p * 100n * 10n ** BigInt(decimals) * 2n + w) / (2n * w);
  const digits = scaled.toString().padStart(decimals + 1, '0');
  const intPart = digits.slice(0, digits.length - decimals);
  const fracPart = digits.slice(digits.length - decimals);
  const body = decimals > 0 ? `${intPart}.${fracPart}` : intPart;
  return negative && scaled !== 0n ? `-${body}` : body;
}
