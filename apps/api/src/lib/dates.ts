/** Dates as the API writes them. */

/** A timestamp as ISO 8601 in UTC (`2026-06-01T08:30:00.000Z`); null stays null. */
export function isoTimestamp(d: Date): string;
export function isoTimestamp(d: Date | null): string | null;
export function isoTimestamp(d: Date | null): string | null {
  return d ? d.toISOString() : null;
}

/** The calendar day of `now` as ISO `YYYY-MM-DD` (UTC, as every date the API derives from its clock). */
export function today(now: Date): string {
  return now.toISOString().slice(0, 10);
}
