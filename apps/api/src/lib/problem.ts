import { z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';

/**
 * The stable error codes of the API and their HTTP statuses: the one place they are mapped.
 * Integrators switch on `code`; it never changes meaning once published.
 */
export const errorCodes = {
  bad_request: 400,
  validation_failed: 400,
  unauthorized: 401,
  invalid_client: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  idempotency_in_progress: 409,
  policy_frozen: 409,
  project_locked: 409,
  insufficient_funds: 409,
  quota_exceeded: 409,
  training_plan_locked: 409,
  training_budget_exceeded: 409,
  precondition_failed: 412,
  payload_too_large: 413,
  unsupported_media_type: 415,
  idempotency_key_reused: 422,
  unprocessable: 422,
  precondition_required: 428,
  rate_limited: 429,
  internal_error: 500,
  service_unavailable: 503,
  timeout: 504,
} as const satisfies Record<string, ContentfulStatusCode>;

export type ErrorCode = keyof typeof errorCodes;

const titles: Record<ErrorCode, string> = {
  bad_request: 'Bad request',
  validation_failed: 'Validation failed',
  unauthorized: 'Unauthorized',
  invalid_client: 'Invalid client credentials',
  forbidden: 'Forbidden',
  not_found: 'Not found',
  conflict: 'Conflict',
  idempotency_in_progress: 'A request with this Idempotency-Key is in progress',
  policy_frozen: 'Policy frozen by an approved payment batch',
  project_locked: 'Project locked by its approval',
  insufficient_funds: 'Insufficient allocated funds',
  quota_exceeded: 'Quota used up',
  training_plan_locked: 'Training plan locked by its submission or approval',
  training_budget_exceeded: 'Above the approved training budget',
  precondition_failed: 'Precondition failed',
  payload_too_large: 'Payload too large',
  unsupported_media_type: 'Unsupported media type',
  idempotency_key_reused: 'Idempotency-Key reused with a different request',
  unprocessable: 'Unprocessable request',
  precondition_required: 'Precondition required',
  rate_limited: 'Too many requests',
  internal_error: 'Internal error',
  service_unavailable: 'Service unavailable',
  timeout: 'Timeout',
};

export interface FieldError {
  /** Dotted path of the offending field, e.g. `name` or `query.limit`. */
  field: string;
  message: string;
  code: string;
}

/** Thrown anywhere in a request; the error handler renders it as problem+json. */
export class ApiError extends Error {
  constructor(
    readonly code: ErrorCode,
    readonly detail: string,
    readonly errors: FieldError[] = [],
    readonly headers: Record<string, string> = {},
  ) {
    super(detail);
  }
}

const FieldErrorSchema = z
  .object({
    field: z.string().openapi({ example: 'limit' }),
    message: z.string().openapi({ example: 'Too big: expected number to be <=200' }),
    code: z.string().openapi({ example: 'too_big' }),
  })
  .openapi('FieldError');

export const ProblemSchema = z
  .object({
    type: z.string().openapi({ example: 'urn:houfu:problem:validation_failed' }),
    title: z.string().openapi({ example: 'Validation failed' }),
    status: z.number().int().openapi({ example: 400 }),
    code: z
      .enum(Object.keys(errorCodes) as [ErrorCode, ...ErrorCode[]])
      .openapi({ example: 'validation_failed' }),
    detail: z.string().openapi({ example: 'The request does not match the contract.' }),
    instance: z.string().optional().openapi({ example: '/v1/localities' }),
    requestId: z.string().openapi({ example: '01JD3Y8Q5W0RZ5T7C3J6Z2N4KX' }),
    errors: z.array(FieldErrorSchema).optional(),
  })
  .openapi('Problem', {
    description: 'RFC 9457 problem details with a stable `code` and, for validation errors, the fields.',
  });

export type Problem = z.infer<typeof ProblemSchema>;

function problemBody(
  code: ErrorCode,
  detail: string,
  requestId: string,
  instance?: string,
  errors?: FieldError[],
): Problem {
  return {
    type: `urn:houfu:problem:${code}`,
    title: titles[code],
    status: errorCodes[code],
    code,
    detail,
    ...(instance ? { instance } : {}),
    requestId,
    ...(errors && errors.length > 0 ? { errors } : {}),
  };
}

export function problemResponse(
  c: Context,
  code: ErrorCode,
  detail: string,
  errors?: FieldError[],
  headers?: Record<string, string>,
): Response {
  const requestId = (c.get('requestId') as string | undefined) ?? 'unknown';
  const body = problemBody(code, detail, requestId, new URL(c.req.url).pathname, errors);
  return new Response(JSON.stringify(body), {
    status: errorCodes[code],
    headers: {
      'content-type': 'application/problem+json; charset=utf-8',
      'cache-control': 'no-store',
      'x-request-id': requestId,
      ...headers,
    },
  });
}

const problemContent = { 'application/problem+json': { schema: ProblemSchema } };

/** The error responses every protected operation may answer with (OpenAPI). */
export function openApiErrorResponses(
  extra: Partial<Record<400 | 404 | 409 | 412 | 413 | 422 | 428, string>> = {},
) {
  const base = {
    400: 'The request does not match the contract; `errors` names the fields.',
    401: 'Missing, expired or invalid bearer token.',
    403: 'The caller’s roles or scopes do not allow this operation.',
    413: 'The body is larger than 1 MiB.',
    429: 'Rate limited; retry after the `Retry-After` seconds.',
    500: 'Unexpected error; report the `requestId`.',
    503: 'The database is unavailable; retry with backoff.',
    504: 'The request took too long; it may not have been committed — retry with the same Idempotency-Key.',
    ...extra,
  } as Record<number, string>;
  return Object.fromEntries(
    Object.entries(base).map(([status, description]) => [status, { description, content: problemContent }]),
  ) as Record<string, { description: string; content: typeof problemContent }>;
}
