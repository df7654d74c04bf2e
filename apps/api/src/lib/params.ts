import { z } from '@hono/zod-openapi';
import { isDivisionCode, isIsoDate, isLocalityCode, periodSchema } from '@houfu/domain';
import { ApiError } from './problem.js';

/*
 * Codes in paths and query strings. Parsed from the digits themselves rather than with z.coerce, which
 * would turn an empty value (or null) into 0 — the nation — and publish the parameter as nullable.
 */

/** A GB/T 2260 division code (0 = the nation). */
export const divisionCodeParam = z
  .string()
  .regex(/^\d{1,6}$/, 'Not a GB/T 2260 division code')
  .transform(Number)
  .refine(isDivisionCode, 'Not a GB/T 2260 division code')
  .openapi({
    type: 'integer',
    minimum: 0,
    maximum: 999_999,
    description: 'GB/T 2260 six-digit division code (0 = the nation).',
    example: 420500,
  });

/** A 12-digit statistical code of a township (乡镇) or village (村). */
export const localityCodeParam = z
  .string()
  .regex(/^\d{12}$/, 'Not a 12-digit statistical code of a township or village')
  .transform(Number)
  .refine(isLocalityCode, 'Not a 12-digit statistical code of a township or village')
  .openapi({
    type: 'integer',
    minimum: 0,
    maximum: 999_999_999_999,
    description: '12-digit statistical code: county (6) + township (3) + village (3).',
    example: 420581100201,
  });

/**
 * No control characters (Unicode Cc: U+0000–U+001F, U+007F–U+009F), nor UTF-16 halves without their
 * partner (which no database stores faithfully). Written without the `u` flag so that the published
 * `pattern` means the same to every JSON Schema validator, with or without it.
 */
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point.
const PRINTABLE = /^(?:[^\x00-\x1f\x7f-\x9f\ud800-\udfff]|[\ud800-\udbff][\udc00-\udfff])*$/;

/** A trimmed, printable single-line text such as a Chinese place name (published as its `pattern`). */
export const plainText = (max: number) =>
  z.string().trim().min(1).max(max).regex(PRINTABLE, 'Control characters and broken Unicode are not allowed');

/** A calendar date `YYYY-MM-DD` (checked to exist: no 2023-02-30, no year 0), as the domain reads dates. */
export const isoDate = z
  .string()
  .max(10)
  .regex(/^\d{4}-\d{2}-\d{2}$/, 'Expected a date YYYY-MM-DD')
  .refine(isIsoDate, 'Not a calendar date')
  .openapi({ format: 'date', example: '2003-05-01' });

/** A division code in a body that names a place other than the nation (a move's origin or destination). */
export const placeCode = z
  .number()
  .int()
  .refine((n) => isDivisionCode(n) && n !== 0, 'Not a division code')
  .openapi({ example: 500101 });

/** A resource id sent by a caller: a UUID, 36 characters (stated as `maxLength` for clients). */
export const uuid = () => z.uuid().max(36);

/** `{id}` path parameter: a resource id (UUID). */
export const idParam = z.object({
  id: uuid().openapi({ param: { name: 'id', in: 'path' }, example: '0b6c6f7e-2d0a-4c1e-9f3a-6a2f0e9f1c11' }),
});

/** A payment or reporting period 期间 (`2013`, `2013-H1`, `2013-Q2`, `2013-02`), as the domain parses it. */
export const period = z
  .string()
  .max(7)
  .refine(
    (s) => periodSchema.safeParse(s).success,
    'Expected a period like 2013, 2013-H1, 2013-Q1 or 2013-01 (years 1949–2200)',
  )
  .openapi({
    example: '2013-H1',
    pattern: '^\\d{4}(-(H[12]|Q[1-4]|0[1-9]|1[0-2]))?$',
    description: 'Period: a year (2013), half-year (2013-H1), quarter (2013-Q1) or month (2013-01).',
  });

/** `group_by`, or its spelling `groupBy`, of a summary query; both at once must agree (else 400). */
export function groupByOf<T extends string>(q: {
  group_by?: T | undefined;
  groupBy?: T | undefined;
}): T | undefined {
  if (q.group_by !== undefined && q.groupBy !== undefined && q.group_by !== q.groupBy) {
    throw new ApiError('validation_failed', 'Send group_by or groupBy, not two different values.', [
      { field: 'query.groupBy', message: 'Differs from group_by', code: 'conflicting_parameters' },
    ]);
  }
  return q.group_by ?? q.groupBy;
}
