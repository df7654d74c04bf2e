import { createRoute, z } from '@hono/zod-openapi';
import { json, problem } from '../../lib/route.js';

export const HealthSchema = z
  .object({
    status: z.enum(['ok', 'degraded']),
    database: z.enum(['ok', 'unavailable']),
    driver: z.enum(['pglite', 'postgres']),
  })
  .openapi('Health');

export const health = createRoute({
  method: 'get',
  path: '/healthz',
  operationId: 'getHealth',
  tags: ['system'],
  summary: 'Liveness and database reachability',
  description: 'No authentication. 200 when the database answers, 503 otherwise.',
  responses: {
    200: json(HealthSchema, 'Healthy.'),
    503: json(HealthSchema, 'The database does not answer.'),
    500: problem('Unexpected error.'),
  },
});

export const jwks = createRoute({
  method: 'get',
  path: '/.well-known/jwks.json',
  operationId: 'getJwks',
  tags: ['system'],
  summary: 'Public signing keys',
  description:
    'The public keys (JWKS) that verify Houfu access tokens, for integrators who verify tokens themselves.',
  responses: {
    200: json(z.object({ keys: z.array(z.record(z.string(), z.unknown())) }).openapi('Jwks'), 'The key set.'),
    500: problem('Unexpected error.'),
  },
});
