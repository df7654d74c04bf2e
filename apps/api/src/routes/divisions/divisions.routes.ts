import { z } from '@hono/zod-openapi';
import { divisionLevels } from '@houfu/domain';
import { pageQuery, pageSchema } from '../../lib/pagination.js';
import { divisionCodeParam, plainText } from '../../lib/params.js';
import { json, problem, protectedRoute } from '../../lib/route.js';

export const DivisionSchema = z
  .object({
    code: z.number().int().openapi({ example: 420581 }),
    name: z.string().openapi({ example: '宜都市' }),
    level: z
      .enum(divisionLevels as unknown as ['nation', 'province', 'city', 'county'])
      .openapi({ example: 'county' }),
    parent_code: z.number().int().nullable().openapi({ example: 420500 }),
  })
  .openapi('Division', { description: '行政区划: a division of the GB/T 2260 dictionary.' });

export const DivisionDetailSchema = DivisionSchema.extend({
  path: z.array(DivisionSchema).openapi({ description: 'Ancestors from the nation down to the parent.' }),
  children_count: z.number().int().openapi({ example: 13 }),
}).openapi('DivisionDetail');

export const listDivisions = protectedRoute('divisions:read', {
  method: 'get',
  path: '/v1/divisions',
  operationId: 'listDivisions',
  tags: ['divisions'],
  summary: 'List divisions of the dictionary',
  description:
    'The GB/T 2260 division dictionary (nation, provinces, cities, counties), filtered by parent, level or name, ordered by code. Reference data: every authenticated caller may read it. Walk the tree by listing the children of a code with `parent`.',
  request: {
    query: z.object({
      parent: divisionCodeParam
        .optional()
        .openapi({ description: 'Only the direct children of this division.', example: 420500 }),
      level: z.enum(['province', 'city', 'county']).optional().openapi({ example: 'county' }),
      q: plainText(50).optional().openapi({ description: 'Part of the Chinese name.', example: '宜' }),
      ...pageQuery,
    }),
  },
  responses: {
    200: json(pageSchema(DivisionSchema, 'DivisionPage'), 'A page of divisions.'),
  },
});

export const getDivision = protectedRoute('divisions:read', {
  method: 'get',
  path: '/v1/divisions/{code}',
  operationId: 'getDivision',
  tags: ['divisions'],
  summary: 'Get a division with its ancestors',
  description: 'One division, its path from the nation down and how many divisions sit directly below it.',
  request: {
    params: z.object({
      code: divisionCodeParam.openapi({ param: { name: 'code', in: 'path' }, example: 420581 }),
    }),
  },
  responses: {
    200: json(DivisionDetailSchema, 'The division.'),
    404: problem('No such division in the dictionary.'),
  },
});
