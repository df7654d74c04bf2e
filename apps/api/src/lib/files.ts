/** File downloads: CSV fields and the Content-Disposition of an attachment. */

/**
 * One CSV field (RFC 4180): quoted when it holds a quote, comma or line break, quotes doubled; a
 * value a spreadsheet would run as a formula (leading = + - @, tab or carriage return) gets a leading
 * apostrophe. Null is the empty field.
 */
export function csvField(value: string | number | null): string {
  if (value === null) return '';
  let s = String(value);
  if (/^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}

/** Percent-encodes for an RFC 8187 `ext-value` (encodeURIComponent leaves ' ( ) * as they are). */
const extValue = (s: string) =>
  encodeURIComponent(s).replace(/['()*]/g, (ch) => `%${ch.charCodeAt(0).toString(16).toUpperCase()}`);

/**
 * `attachment` with the file's name: `filename*` in UTF-8 (RFC 6266/8187) and a plain `filename` for
 * old clients — `asciiFallback` when given, else the name with every character outside printable
 * ASCII (and `"`, `\`) replaced by `_`.
 */
export function contentDisposition(filename: string, asciiFallback?: string): string {
  const ascii = (asciiFallback ?? filename).replace(/[^\x20-\x7e]|["\\]/g, '_');
  return `attachment; filename="${ascii}"; filename*=UTF-8''${extValue(filename)}`;
}
