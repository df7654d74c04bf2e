import type { components } from './schema.js';

export type Problem = components['schemas']['Problem'];
export type FieldError = components['schemas']['FieldError'];
/** The stable error codes the API publishes (`Problem.code`). */
export type ProblemCode = Problem['code'];

/** Code used when a failed response carries no problem+json body (a proxy page, an empty body). */
export const UNKNOWN_ERROR_CODE = 'http_error';

function isProblem(value: unknown): value is Problem {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return typeof v.code === 'string' && typeof v.status === 'number';
}

/**
 * A failed API call: the RFC 9457 problem the API answered with, flattened. Switch on `code`
 * (stable, e.g. `validation_failed`, `precondition_failed`), show `detail`, map `errors` to form
 * fields and quote `requestId` when reporting a problem.
 */
export class HoufuApiError extends Error {
  override readonly name = 'HoufuApiError';
  /** HTTP status. */
  readonly status: number;
  /** The problem's stable `code`, or `http_error` when the body was not a problem. */
  readonly code: ProblemCode | typeof UNKNOWN_ERROR_CODE;
  readonly detail: string;
  /** Field errors (for `validation_failed` and a few others); empty when none. */
  readonly errors: FieldError[];
  /** The API's request id (problem `requestId`, else the `X-Request-Id` header). */
  readonly requestId: string | undefined;
  /** The whole problem body, when there was one. */
  readonly problem: Problem | undefined;
  readonly response: Response | undefined;

  constructor(init: {
    status: number;
    code: ProblemCode | typeof UNKNOWN_ERROR_CODE;
    detail: string;
    errors?: FieldError[];
    requestId?: string | undefined;
    problem?: Problem | undefined;
    response?: Response | undefined;
  }) {
    super(`${init.status} ${init.code}: ${init.detail}`);
    this.status = init.status;
    this.code = init.code;
    this.detail = init.detail;
    this.errors = init.errors ?? [];
    this.requestId = init.requestId;
    this.problem = init.problem;
    this.response = init.response;
  }

  /** From openapi-fetch's `{ error, response }` (the body already parsed, or its text). */
  static from(body: unknown, response: Response): HoufuApiError {
    const headerId = response.headers.get('x-request-id') ?? undefined;
    if (isProblem(body)) {
      return new HoufuApiError({
        status: response.status,
        code: body.code,
        detail: body.detail ?? body.title ?? response.statusText,
        errors: body.errors ?? [],
        requestId: body.requestId ?? headerId,
        problem: body,
        response,
      });
    }
    const text = typeof body === 'string' ? body.trim().slice(0, 200) : '';
    return new HoufuApiError({
      status: response.status,
      code: UNKNOWN_ERROR_CODE,
      detail: text || response.statusText || `HTTP ${response.status}`,
      requestId: headerId,
      response,
    });
  }

  /** Reads a failed `Response` (consumes its body). */
  static async fromResponse(response: Response): Promise<HoufuApiError> {
    const text = await response.text().catch(() => '');
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {
      // not JSON: keep the text
    }
    return HoufuApiError.from(body, response);
  }
}

/**
 * The `data` of an openapi-fetch result, or a thrown {@link HoufuApiError}:
 * `const me = unwrap(await houfu.GET('/v1/me'))`.
 */
export function unwrap<T>(result: { data?: T; error?: unknown; response: Response }): T {
  if (result.response.ok && result.error === undefined) return result.data as T;
  throw HoufuApiError.from(result.error, result.response);
}
