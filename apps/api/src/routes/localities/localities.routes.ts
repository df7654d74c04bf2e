import { z } from '@hono/zod-openapi';
import { isLocalityCode } from '@houfu/domain';
import { ifMatchHeader } from '../../lib/etag.js';
import { pageQuery, pageSchema } from '../../lib/pagination.js';
import { divisionCodeParam, localityCodeParam, plainText } from '../../lib/params.js';
import { json, problem, protectedRoute } from '../../lib/route.js';
import { idempotency, idempotencyHeader } from '../../middleware/idempotency.js';

export const LocalitySchema = z
  .object({
    code: z.number().int().openapi({ example: 420581100201 }),
    county_code: z.number().int().openapi({ example: 420581 }),
    level: z.enum(['township', 'village']).openapi({ example: 'village' }),
    township_code: z.number().int().openapi({ example: 420581100000 }),
    name: z.string().openapi({ example: '白水村村委会' }),
    source: z.enum(['dictionary', 'local']).openapi({
      description: '`dictionary`: from the national statistical codes; `local`: added by the county.',
    }),
    active: z.boolean(),
    version: z.number().int().openapi({ example: 1 }),
    updated_at: z.string().openapi({ example: '2026-11-22T02:10:00.000Z' }),
  })
  .openapi('Locality', { description: '乡镇/街道 or 村/社区 inside a county.' });

export const listLocalities = protectedRoute('localities:read', {
  method: 'get',
  path: '/v1/localities',
  operationId: 'listLocalities',
  tags: ['localities'],
  summary: 'List townships and villages',
  description: 'Townships and villages of the counties in your scope, ordered by county and code.',
  request: {
    query: z.object({
      county: divisionCodeParam.optional().openapi({ description: 'Only this county.', example: 420581 }),
      township: localityCodeParam
        .optional()
        .openapi({ description: 'Only this township and its villages.', example: 420581100000 }),
      level: z.enum(['township', 'village']).optional(),
      active: z
        .enum(['true', 'false'])
        .transform((v) => v === 'true')
        .optional()
        .openapi({ example: 'true' }),
      ...pageQuery,
    }),
  },
  responses: { 200: json(pageSchema(LocalitySchema, 'LocalityPage'), 'A page of localities.') },
});

const codeParam = z.object({ code: localityCodeParam.openapi({ param: { name: 'code', in: 'path' } }) });

export const getLocality = protectedRoute('localities:read', {
  method: 'get',
  path: '/v1/localities/{code}',
  operationId: 'getLocality',
  tags: ['localities'],
  summary: 'Get a township or village',
  description: 'One locality; the `ETag` header carries its version for a later update.',
  request: { params: codeParam },
  responses: {
    200: {
      ...json(LocalitySchema, 'The locality.'),
      headers: z.object({ etag: z.string().openapi({ example: '"v1"' }) }),
    },
    404: problem('No such locality in your scope.'),
  },
});

export const CreateLocalitySchema = z
  .strictObject({
    code: z
      .number()
      .int()
      .refine(isLocalityCode, 'Not a 12-digit statistical code of a township or village')
      .openapi({ example: 420581100250 }),
    name: plainText(100).openapi({ example: '移民新村' }),
  })
  .openapi('CreateLocality', {
    description:
      'A township or village the dictionary lacks (e.g. a new resettlement village). The level follows from the code; a village’s township must exist.',
  });

export const createLocality = protectedRoute('localities:write', {
  method: 'post',
  path: '/v1/localities',
  operationId: 'createLocality',
  tags: ['localities'],
  summary: 'Add a township or village',
  description: 'Adds a locality to your county. Send an `Idempotency-Key` to make retries safe.',
  middleware: [idempotency({ required: false })],
  request: {
    headers: idempotencyHeader(false),
    body: { required: true, content: { 'application/json': { schema: CreateLocalitySchema } } },
  },
  responses: {
    201: {
      ...json(LocalitySchema, 'Created.'),
      headers: z.object({ etag: z.string(), location: z.string() }),
    },
    409: problem('The code is already taken, or the Idempotency-Key is in use by a running request.'),
    422: problem(
      'The village’s township does not exist or is inactive, or the Idempotency-Key was used with another body.',
    ),
  },
});

export const UpdateLocalitySchema = z
  .strictObject({
    name: plainText(100).optional().openapi({ example: '白水港村' }),
    active: z
      .boolean()
      .optional()
      .openapi({ description: 'false when merged or dissolved; kept for history.' }),
  })
  .refine((v) => v.name !== undefined || v.active !== undefined, { message: 'Send name or active' })
  .openapi('UpdateLocality');

export const updateLocality = protectedRoute('localities:write', {
  method: 'patch',
  path: '/v1/localities/{code}',
  operationId: 'updateLocality',
  tags: ['localities'],
  summary: 'Rename or deactivate a township or village',
  description: 'Conditional update: send `If-Match` with the `ETag` of your last read.',
  request: {
    params: codeParam,
    headers: ifMatchHeader,
    body: { required: true, content: { 'application/json': { schema: UpdateLocalitySchema } } },
  },
  responses: {
    200: { ...json(LocalitySchema, 'Updated.'), headers: z.object({ etag: z.string() }) },
    404: problem('No such locality in your county.'),
    412: problem('The locality changed since your read; read it again.'),
    428: problem('If-Match is missing.'),
  },
});
