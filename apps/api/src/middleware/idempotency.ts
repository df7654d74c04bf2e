import { createHash } from 'node:crypto';
import { z } from '@hono/zod-openapi';
import { findIdempotencyRecord, saveIdempotencyRecord, tryLockIdempotencyKey } from '@houfu/db';
import { createMiddleware } from 'hono/factory';
import { ApiError } from '../lib/problem.js';
import type { AppEnv } from '../lib/types.js';

const KEY = /^[\x21-\x7e]{1,255}$/;
const REPLAYED_HEADERS = ['content-type', 'etag', 'location', 'cache-control'];

export const idempotencyHeader = (required: boolean) =>
  z.object({
    'idempotency-key': (required ? z.string() : z.string().optional()).openapi({
      description:
        'Up to 255 printable ASCII characters, unique per request you mean once (a UUID). A replay with the same body answers the first response; with another body, 422; while the first still runs, 409.',
      example: '5f0c9a7e-4f7b-4c55-9a53-0d5e3f1d2a10',
    }),
  });

/**
 * `Idempotency-Key` for POSTs. Runs inside the request transaction, so the remembered response is
 * committed together with the work it describes: a crash leaves neither or both. Keys are scoped to
 * the caller (division and subject); the fingerprint covers the method, path and body.
 */
export function idempotency(options: { required: boolean }) {
  return createMiddleware<AppEnv>(async (c, next) => {
    const key = c.req.header('idempotency-key');
    if (key === undefined) {
      if (options.required) {
        throw new ApiError('validation_failed', 'This operation needs an Idempotency-Key header.', [
          { field: 'header.idempotency-key', message: 'Required', code: 'invalid_type' },
        ]);
      }
      return next();
    }
    if (!KEY.test(key)) {
      throw new ApiError('validation_failed', 'Idempotency-Key must be 1–255 printable ASCII characters.', [
        { field: 'header.idempotency-key', message: 'Invalid key', code: 'invalid_format' },
      ]);
    }
    const { tx, principal } = c.var;
    const fingerprint = createHash('sha256')
      .update(JSON.stringify([c.req.method, new URL(c.req.url).pathname, await c.req.text()]))
      .digest('hex');
    const scope = { division: principal.division, principal: principal.sub, key };
    if (!(await tryLockIdempotencyKey(tx, scope))) {
      throw new ApiError(
        'idempotency_in_progress',
        'A request with this Idempotency-Key is still running; retry later.',
        [],
        {
          'retry-after': '1',
        },
      );
    }
    const previous = await findIdempotencyRecord(tx, scope);
    if (previous) {
      if (previous.requestHash !== fingerprint) {
        throw new ApiError(
          'idempotency_key_reused',
          'This Idempotency-Key was used with a different request.',
        );
      }
      c.res = new Response(previous.responseBody, {
        status: previous.responseStatus,
        headers: {
          ...previous.responseHeaders,
          'idempotent-replayed': 'true',
          'x-request-id': c.var.requestId,
        },
      });
      return;
    }
    await next();
    if (c.res.status < 200 || c.res.status >= 300 || c.error) return;
    const body = await c.res.clone().text();
    const headers = Object.fromEntries(
      REPLAYED_HEADERS.flatMap((h) => {
        const v = c.res.headers.get(h);
        return v === null ? [] : [[h, v]];
      }),
    );
    await saveIdempotencyRecord(tx, {
      divisionCode: principal.division,
      principal: principal.sub,
      key,
      requestHash: fingerprint,
      responseStatus: c.res.status,
      responseHeaders: headers,
      responseBody: body,
    });
  });
}
