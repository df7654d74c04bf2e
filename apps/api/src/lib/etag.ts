import { z } from '@hono/zod-openapi';
import { ApiError } from './problem.js';

/** Row version → strong ETag `"v3"`. */
export function etagOf(version: number): string {
  return `"v${version}"`;
}

/** An ETag this API issues, strong or weak: `"v3"`, `W/"v3"`. */
const ETAG = /^(?:W\/)?"v(\d{1,9})"$/;

export const ifMatchHeader = z.object({
  'if-match': z.string().max(100).optional().openapi({
    description: 'The `ETag` from your last read; a stale one answers 412.',
    pattern: ETAG.source,
    example: '"v1"',
  }),
});

/** The version a conditional update expects: 428 without If-Match, 400 when malformed. */
export function requireIfMatch(header: string | undefined): number {
  if (!header) {
    throw new ApiError(
      'precondition_required',
      'Send If-Match with the ETag from your last read of this resource.',
    );
  }
  const m = ETAG.exec(header.trim());
  if (!m) {
    throw new ApiError('validation_failed', 'If-Match must be an ETag such as "v3".', [
      { field: 'header.if-match', message: 'Expected an ETag such as "v3"', code: 'invalid_format' },
    ]);
  }
  return Number(m[1]);
}
