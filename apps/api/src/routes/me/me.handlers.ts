import type { RouteHandler } from '@hono/zod-openapi';
import { getDivision } from '@houfu/db';
import { roleDefinitions, scopeOf } from '@houfu/domain';
import { ApiError } from '../../lib/problem.js';
import type { AppEnv } from '../../lib/types.js';
import { toDivision } from '../divisions/divisions.handlers.js';
import type { getMe } from './me.routes.js';

export const me: RouteHandler<typeof getMe, AppEnv> = async (c) => {
  const p = c.var.principal;
  const division = await getDivision(c.var.tx, p.division);
  if (!division)
    throw new ApiError('forbidden', `Division ${p.division} of this token is not in the dictionary.`);
  return c.json(
    {
      sub: p.sub,
      kind: p.kind,
      name: p.name ?? null,
      division: toDivision(division),
      roles: p.roles.map((role) => ({ role, label: roleDefinitions[role].label })),
      permissions: [...p.permissions].sort(),
      scope: scopeOf(p.division),
    },
    200,
  );
};
