import { z } from '@hono/zod-openapi';
import { ApiError } from './problem.js';

const MAX_PAGE_SIZE = 200;

export const pageQuery = {
  limit: z.coerce
    .number()
    .int()
    .min(1)
    .max(MAX_PAGE_SIZE)
    .default(50)
    .openapi({ description: `Page size, at most ${MAX_PAGE_SIZE}.`, example: 50 }),
  cursor: z
    .string()
    .max(500)
    .regex(/^[\w-]*$/, 'Invalid cursor')
    .optional()
    .openapi({ description: 'Opaque cursor from a previous page’s `next_cursor`.' }),
};

export function pageSchema<T extends z.ZodTypeAny>(item: T, name: string) {
  return z
    .object({
      data: z.array(item),
      next_cursor: z
        .string()
        .nullable()
        .openapi({ description: 'Pass as `cursor` for the next page; null at the end.' }),
    })
    .openapi(name);
}

function encodeCursor(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

/** Decodes and validates a cursor; a tampered or foreign cursor is a 400 naming `cursor`. */
export function decodeCursor<T>(cursor: string | undefined, schema: z.ZodType<T>): T | undefined {
  if (cursor === undefined) return undefined;
  try {
    return schema.parse(JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')));
  } catch {
    throw new ApiError('validation_failed', 'The cursor is not valid for this list.', [
      { field: 'query.cursor', message: 'Invalid cursor', code: 'invalid_cursor' },
    ]);
  }
}

/** Splits the `limit + 1` rows a query fetched into a page and its next cursor. */
export function paginate<R, O>(rows: R[], limit: number, toItem: (r: R) => O, keyOf: (r: R) => unknown) {
  const more = rows.length > limit;
  const page = more ? rows.slice(0, limit) : rows;
  const last = page.at(-1);
  return {
    data: page.map(toItem),
    next_cursor: more && last !== undefined ? encodeCursor(keyOf(last)) : null,
  };
}
