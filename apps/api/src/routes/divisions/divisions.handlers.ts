import type { RouteHandler } from '@hono/zod-openapi';
import {
  countChildren,
  type Division,
  getDivision as findDivision,
  getDivisions,
  listDivisions as queryDivisions,
} from '@houfu/db';
import { ancestorsOf } from '@houfu/domain';
import { z } from 'zod';
import { decodeCursor, paginate } from '../../lib/pagination.js';
import { ApiError } from '../../lib/problem.js';
import type { AppEnv } from '../../lib/types.js';
import type { getDivision, listDivisions } from './divisions.routes.js';

export const toDivision = (d: Division) => ({
  code: d.code,
  name: d.name,
  level: d.level,
  parent_code: d.parentCode,
});

export const list: RouteHandler<typeof listDivisions, AppEnv> = async (c) => {
  const q = c.req.valid('query');
  const after = decodeCursor(q.cursor, z.number().int());
  const rows = await queryDivisions(c.var.tx, {
    parent: q.parent,
    level: q.level,
    q: q.q,
    after,
    limit: q.limit + 1,
  });
  return c.json(
    paginate(rows, q.limit, toDivision, (d) => d.code),
    200,
  );
};

export const get: RouteHandler<typeof getDivision, AppEnv> = async (c) => {
  const { code } = c.req.valid('param');
  const { tx } = c.var;
  const division = await findDivision(tx, code);
  if (!division) throw new ApiError('not_found', `Division ${code} is not in the dictionary.`);
  const [path, children] = [await getDivisions(tx, ancestorsOf(code)), await countChildren(tx, code)];
  return c.json({ ...toDivision(division), path: path.map(toDivision), children_count: children }, 200);
};
