import { z } from '@hono/zod-openapi';
import { permissions, roles } from '@houfu/domain';
import { json, protectedRoute } from '../../lib/route.js';
import { DivisionSchema } from '../divisions/divisions.routes.js';

export const MeSchema = z
  .object({
    sub: z.string().openapi({ example: 'user:zhang.wei' }),
    kind: z.enum(['user', 'client']).openapi({ example: 'user' }),
    name: z.string().nullable().openapi({ example: '张伟' }),
    division: DivisionSchema,
    roles: z.array(z.object({ role: z.enum(roles), label: z.string().openapi({ example: '县级经办员' }) })),
    permissions: z
      .array(z.enum(permissions))
      .openapi({ example: ['divisions:read', 'localities:read', 'localities:write'] }),
    scope: z.object({ lo: z.number().int(), hi: z.number().int() }).openapi({
      description: 'The division codes this caller can see (inclusive range).',
      example: { lo: 420581, hi: 420581 },
    }),
  })
  .openapi('Me');

export const getMe = protectedRoute(null, {
  method: 'get',
  path: '/v1/me',
  operationId: 'getMe',
  tags: ['me'],
  summary: 'Who am I',
  description: 'The verified identity of the token: subject, division, roles, permissions and visible scope.',
  responses: { 200: json(MeSchema, 'The caller.') },
});
