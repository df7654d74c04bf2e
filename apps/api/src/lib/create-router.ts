import { OpenAPIHono } from '@hono/zod-openapi';
import type { ZodError } from 'zod';
import { ApiError, type FieldError } from './problem.js';
import type { AppEnv } from './types.js';

function fieldErrors(error: ZodError, target?: string): FieldError[] {
  return error.issues.map((i) => {
    const path = i.path.map(String).join('.');
    const unknownKeys = i.code === 'unrecognized_keys' ? i.keys : [];
    const field =
      unknownKeys.length > 0 ? unknownKeys.map((k) => (path ? `${path}.${k}` : k)).join(',') : path;
    const prefixed =
      target && target !== 'json' ? (field ? `${target}.${field}` : target) : field || '(body)';
    return { field: prefixed, message: i.message, code: i.code };
  });
}

/** A router whose validation failures become problem+json naming each field. */
export function createRouter() {
  return new OpenAPIHono<AppEnv>({
    strict: false,
    defaultHook: (result) => {
      if (!result.success) {
        throw new ApiError(
          'validation_failed',
          'The request does not match the contract.',
          fieldErrors(result.error as ZodError, result.target),
        );
      }
    },
  });
}
