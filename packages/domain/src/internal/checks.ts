/**
 * Internal argument checks shared by the rules. Not re-exported from the package index.
 */

/** True when `v` is one of the strings of `list`. */
export function isOneOf<T extends string>(list: readonly T[], v: unknown): v is T {
  return typeof v === 'string' && (list as readonly string[]).includes(v);
}

/** Throws RangeError unless `n` is a non-negative safe integer (a count of people, days, …); returns it. */
export function assertCount(n: unknown, what: string): number {
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0) {
    throw new RangeError(`${what} must be a non-negative integer, got ${String(n)}`);
  }
  return n;
}
