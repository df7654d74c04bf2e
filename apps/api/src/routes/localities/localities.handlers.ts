import type { RouteHandler } from '@hono/zod-openapi';
import { getLocality as findLocality, type Locality, listLocalities as queryLocalities } from '@houfu/db';
import { countyOfLocality } from '@houfu/domain';
import { z } from 'zod';
import { etagOf, requireIfMatch } from '../../lib/etag.js';
import { decodeCursor, paginate } from '../../lib/pagination.js';
import { ApiError } from '../../lib/problem.js';
import { serviceContext } from '../../lib/service-context.js';
import type { AppEnv } from '../../lib/types.js';
import type { createLocality, getLocality, listLocalities, updateLocality } from './localities.routes.js';
import * as service from './localities.service.js';

const toLocality = (l: Locality) => ({
  code: l.code,
  county_code: l.divisionCode,
  level: l.level,
  township_code: l.townshipCode,
  name: l.name,
  source: l.source,
  active: l.active,
  version: l.version,
  updated_at: l.updatedAt.toISOString(),
});

export const list: RouteHandler<typeof listLocalities, AppEnv> = async (c) => {
  const q = c.req.valid('query');
  const after = decodeCursor(q.cursor, z.tuple([z.number().int(), z.number().int()]));
  const rows = await queryLocalities(c.var.tx, {
    county: q.county ?? (q.township ? countyOfLocality(q.township) : undefined),
    township: q.township,
    level: q.level,
    active: q.active,
    after: after ? { divisionCode: after[0], code: after[1] } : undefined,
    limit: q.limit + 1,
  });
  return c.json(
    paginate(rows, q.limit, toLocality, (l) => [l.divisionCode, l.code]),
    200,
  );
};

export const get: RouteHandler<typeof getLocality, AppEnv> = async (c) => {
  const { code } = c.req.valid('param');
  const row = await findLocality(c.var.tx, countyOfLocality(code), code);
  if (!row) throw new ApiError('not_found', `Locality ${code} was not found.`);
  c.header('etag', etagOf(row.version));
  return c.json(toLocality(row), 200);
};

export const create: RouteHandler<typeof createLocality, AppEnv> = async (c) => {
  const created = await service.createLocality(serviceContext(c), c.req.valid('json'));
  c.header('etag', etagOf(created.version));
  c.header('location', `/v1/localities/${created.code}`);
  return c.json(toLocality(created), 201);
};

export const update: RouteHandler<typeof updateLocality, AppEnv> = async (c) => {
  const { code } = c.req.valid('param');
  const version = requireIfMatch(c.req.valid('header')['if-match']);
  const updated = await service.updateLocality(serviceContext(c), code, version, c.req.valid('json'));
  c.header('etag', etagOf(updated.version));
  return c.json(toLocality(updated), 200);
};
