import { createRoute, type RouteConfig } from '@hono/zod-openapi';
import type { Permission } from '@houfu/domain';
import { requirePermission } from '../middleware/auth.js';
import { openApiErrorResponses, ProblemSchema } from './problem.js';

type Config = Omit<RouteConfig, 'security' | 'operationId' | 'summary'> & {
  operationId: string;
  summary: string;
};

/**
 * A route that needs a bearer token and, unless `null`, one permission. The permission is enforced by
 * middleware and published as `x-permission` (`authenticated` when any valid token will do), so the
 * authorisation matrix can be derived from the OpenAPI document.
 */
export function protectedRoute<P extends string, R extends Config & { path: P }>(
  permission: Permission | null,
  config: R,
) {
  return createRoute({
    ...config,
    security: [{ bearerAuth: [] }],
    middleware: [...(permission ? [requirePermission(permission)] : []), ...[config.middleware ?? []].flat()],
    'x-permission': permission ?? 'authenticated',
    responses: { ...openApiErrorResponses(), ...config.responses },
  });
}

export const json = <T>(schema: T, description: string) => ({
  description,
  content: { 'application/json': { schema } },
});

/** A problem+json response documented for one status (404, 409, 412, …). */
export const problem = (description: string) => ({
  description,
  content: { 'application/problem+json': { schema: ProblemSchema } },
});
