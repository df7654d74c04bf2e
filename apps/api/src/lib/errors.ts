import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { ApiError, type ErrorCode, problemResponse } from './problem.js';
import type { AppEnv } from './types.js';

interface DbErrorLike {
  code?: unknown;
  cause?: unknown;
}

/** The first error in the cause chain that carries a PostgreSQL SQLSTATE or a driver code. */
export function databaseCode(error: unknown): string | undefined {
  let e: unknown = error;
  for (let depth = 0; e && depth < 5; depth += 1) {
    const code = (e as DbErrorLike).code;
    if (typeof code === 'string') return code;
    e = (e as DbErrorLike).cause;
  }
  return undefined;
}

const unavailable = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'CONNECTION_CLOSED',
  'CONNECTION_ENDED',
  'CONNECTION_DESTROYED',
  'CONNECT_TIMEOUT',
  '57P01',
  '57P02',
  '57P03',
  '55P03',
  '40001',
  '40P01',
]);

/** Maps a database failure to an API error code, or undefined when it is not one. */
function classifyDatabaseError(error: unknown): ErrorCode | undefined {
  const code = databaseCode(error);
  if (!code) return undefined;
  if (unavailable.has(code) || code.startsWith('08') || code.startsWith('53')) return 'service_unavailable';
  if (code === '57014' || code === '25P03') return 'timeout';
  if (code === '23505') return 'conflict';
  // A reference to something that does not exist (services check first; this is the backstop).
  if (code === '23503') return 'unprocessable';
  // A CHECK constraint (services check first; this is the backstop): the request asks for a state the
  // data may not take.
  if (code === '23514') return 'unprocessable';
  // Data exceptions (a value out of range, a NUL byte, a date PostgreSQL cannot hold): the input's fault.
  if (code.startsWith('22')) return 'validation_failed';
  if (code === '42501') return 'forbidden';
  return undefined;
}

const details: Partial<Record<ErrorCode, string>> = {
  service_unavailable: 'The database is unavailable or busy; retry shortly.',
  timeout:
    'The operation took too long and was stopped; it may not have been committed — retry with the same Idempotency-Key.',
  conflict: 'The request conflicts with existing data.',
  forbidden: 'The operation is outside your division.',
  validation_failed: 'A value is out of range or not representable (for example a NUL character or year 0).',
};

/** Statuses Hono's own middleware raise (body limit, validators, timeout) → our codes. */
const httpExceptionCodes: Partial<Record<number, ErrorCode>> = {
  401: 'unauthorized',
  413: 'payload_too_large',
  415: 'unsupported_media_type',
  504: 'timeout',
};

export function onError(error: Error, c: Context<AppEnv>): Response {
  if (error instanceof ApiError)
    return problemResponse(c, error.code, error.detail, error.errors, error.headers);
  if (error instanceof HTTPException) {
    const status = error.status;
    const code: ErrorCode = httpExceptionCodes[status] ?? 'bad_request';
    const detail = status === 400 ? 'The request body is not valid JSON.' : error.message || code;
    return problemResponse(c, code, detail);
  }
  const dbCode = classifyDatabaseError(error);
  const logger = c.get('deps')?.logger;
  if (dbCode) {
    logger?.warn(
      { requestId: c.get('requestId'), err: { message: error.message, code: databaseCode(error) } },
      'database error',
    );
    return problemResponse(
      c,
      dbCode,
      details[dbCode] ?? dbCode,
      undefined,
      dbCode === 'service_unavailable' ? { 'retry-after': '1' } : {},
    );
  }
  logger?.error(
    { requestId: c.get('requestId'), err: { message: error.message, stack: error.stack } },
    'unhandled error',
  );
  return problemResponse(c, 'internal_error', 'An unexpected error occurred; report the requestId.');
}
