import { createHash } from 'node:crypto';
import { z } from '@hono/zod-openapi';
import {
  findIdempotencyRecord,
  type IdempotencyRecord,
  type IdempotencyScope,
  saveIdempotencyRecord,
  type Tx,
  tryLockIdempotencyKey,
} from '@houfu/db';
import type { Context } from 'hono';
import { createMiddleware } from 'hono/factory';
import { ApiError } from '../lib/problem.js';
import type { AppEnv } from '../lib/types.js';

const KEY = /^[\x21-\x7e]{1,255}$/;
const REPLAYED_HEADERS = ['content-type', 'etag', 'location', 'cache-control'];

export const idempotencyHeader = (required: boolean) =>
  z.object({
    // `idempotencyKeyOf` enforces KEY (its length included) before anything else reads the key.
    'idempotency-key': (required ? z.string() : z.string().optional()).openapi({
      maxLength: 255,
      pattern: KEY.source,
      description:
        'Up to 255 printable ASCII characters, unique per request you mean once (a UUID). A replay with the same body answers the first response; with another body, 422; while the first still runs, 409.',
      example: '5f0c9a7e-4f7b-4c55-9a53-0d5e3f1d2a10',
    }),
  });

/**
 * The request's `Idempotency-Key`, validated (400 when malformed, or missing while required);
 * undefined when absent and optional.
 */
export function idempotencyKeyOf(c: Context<AppEnv>, required: boolean): string | undefined {
  const key = c.req.header('idempotency-key');
  if (key === undefined) {
    if (required) {
      throw new ApiError('validation_failed', 'This operation needs an Idempotency-Key header.', [
        { field: 'header.idempotency-key', message: 'Required', code: 'invalid_type' },
      ]);
    }
    return undefined;
  }
  if (!KEY.test(key)) {
    throw new ApiError('validation_failed', 'Idempotency-Key must be 1–255 printable ASCII characters.', [
      { field: 'header.idempotency-key', message: 'Invalid key', code: 'invalid_format' },
    ]);
  }
  return key;
}

/**
 * Locks the key for this transaction (409 while another request holds it) and returns its remembered
 * record, if any.
 */
export async function lockIdempotencyKey(
  tx: Tx,
  scope: IdempotencyScope,
): Promise<IdempotencyRecord | undefined> {
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
  return findIdempotencyRecord(tx, scope);
}

/** The remembered response when the fingerprint matches; 422 when the key was used for another request. */
export function replayIdempotent(
  c: Context<AppEnv>,
  previous: IdempotencyRecord,
  fingerprint: string,
): Response {
  if (previous.requestHash !== fingerprint) {
    throw new ApiError('idempotency_key_reused', 'This Idempotency-Key was used with a different request.');
  }
  return new Response(previous.responseBody, {
    status: previous.responseStatus,
    headers: {
      ...previous.responseHeaders,
      'idempotent-replayed': 'true',
      'x-request-id': c.var.requestId,
    },
  });
}

/** Remembers a 2xx response for the key, in the request transaction. */
export async function rememberIdempotent(
  c: Context<AppEnv>,
  scope: IdempotencyScope,
  fingerprint: string,
  res: Response,
): Promise<void> {
  if (res.status < 200 || res.status >= 300) return;
  const body = await res.clone().text();
  const headers = Object.fromEntries(
    REPLAYED_HEADERS.flatMap((h) => {
      const v = res.headers.get(h);
      return v === null ? [] : [[h, v]];
    }),
  );
  await saveIdempotencyRecord(c.var.tx, {
    divisionCode: scope.division,
    principal: scope.principal,
    key: scope.key,
    requestHash: fingerprint,
    responseStatus: res.status,
    responseHeaders: headers,
    responseBody: body,
  });
}

/**
 * `Idempotency-Key` for POSTs. Runs inside the request transaction, so the remembered response is
 * committed together with the work it describes: a crash leaves neither or both. Keys are scoped to
 * the caller (division and subject); the fingerprint covers the method, path and body.
 */
export function idempotency(options: { required: boolean }) {
  return createMiddleware<AppEnv>(async (c, next) => {
    const key = idempotencyKeyOf(c, options.required);
    if (key === undefined) return next();
    const { tx, principal } = c.var;
    const fingerprint = createHash('sha256')
      .update(JSON.stringify([c.req.method, new URL(c.req.url).pathname, await c.req.text()]))
      .digest('hex');
    const scope = { division: principal.division, principal: principal.sub, key };
    const previous = await lockIdempotencyKey(tx, scope);
    if (previous) {
      c.res = replayIdempotent(c, previous, fingerprint);
      return;
    }
    await next();
    if (c.error) return;
    await rememberIdempotent(c, scope, fingerprint, c.res);
  });
}
