import type { RouteHandler } from '@hono/zod-openapi';
import {
  type CollectiveIncome,
  type DemonstrationVillage,
  listDemonstrationAssessments,
  listCollectiveIncomes as queryIncomes,
  listDemonstrationVillages as queryVillages,
  villageDemonstrationProjects,
  villageIncomes,
} from '@houfu/db';
import { type DemonstrationStandard, ratioPercent, scopeOf } from '@houfu/domain';
import type { Context as HonoContext } from 'hono';
import { z } from 'zod';
import { decodeCursor, paginate } from '../../lib/pagination.js';
import type { AppEnv } from '../../lib/types.js';
import type * as routes from './demonstration.routes.js';
import * as service from './demonstration.service.js';

const serviceContext = (c: HonoContext<AppEnv>): service.Context => ({
  tx: c.var.tx,
  actor: { sub: c.var.principal.sub, kind: c.var.principal.kind, division: c.var.principal.division },
  requestId: c.var.requestId,
  now: c.var.deps.now(),
});

/** Hundredths as a score with 2 decimals: 8540 → "85.40". */
const score = (h: number) => `${Math.floor(h / 100)}.${String(h % 100).padStart(2, '0')}`;

export const toVillage = (v: DemonstrationVillage) => ({
  id: v.id,
  county_code: v.divisionCode,
  county_name: v.countyName,
  village_code: v.villageCode,
  village_name: v.villageName,
  year: v.year,
  migrants: v.migrants,
  population: v.population,
  migrant_share_percent: ratioPercent(v.migrants, v.population),
  development_plan: v.developmentPlan,
  collective_income_fen: v.collectiveIncomeFen,
  planned_total_fen: v.plannedTotalFen,
  planned_integrated_fen: v.plannedIntegratedFen,
  status: v.status as (typeof routes.demonstrationStatuses)[number],
  provincial: v.provincial,
  total_score: v.totalHundredths === null ? null : score(v.totalHundredths),
  named_on: v.namedOn,
  reassess_due: v.reassessDue,
  version: v.version,
  created_by: v.createdBy,
  created_at: v.createdAt,
  updated_by: v.updatedBy,
  updated_at: v.updatedAt,
  links: {
    self: `/v1/demonstration-villages/${v.id}`,
    assessments: `/v1/demonstration-villages/${v.id}/assessments`,
  },
});

const toIncome = (i: CollectiveIncome) => ({
  village_code: i.villageCode,
  year: i.year,
  income_fen: i.incomeFen,
  note: i.note,
  recorded_by: i.recordedBy,
  recorded_at: i.recordedAt,
});

export const apply: RouteHandler<typeof routes.applyDemonstrationVillage, AppEnv> = async (c) => {
  const b = c.req.valid('json');
  const village = await service.apply(serviceContext(c), {
    villageCode: b.village_code,
    year: b.year,
    migrants: b.migrants,
    population: b.population,
    developmentPlan: b.development_plan ?? null,
    plannedTotalFen: b.planned_total_fen,
    plannedIntegratedFen: b.planned_integrated_fen,
  });
  return c.json(toVillage(village), 201, { location: `/v1/demonstration-villages/${village.id}` });
};

const villageCursor = z.tuple([z.number().int(), z.number().int(), z.number().int(), z.uuid()]);

export const list: RouteHandler<typeof routes.listDemonstrationVillages, AppEnv> = async (c) => {
  const q = c.req.valid('query');
  const after = decodeCursor(q.cursor, villageCursor);
  const rows = await queryVillages(c.var.tx, {
    range: scopeOf(c.var.principal.division),
    county: q.county,
    year: q.year,
    status: q.status,
    dueBy: q.due_by,
    after: after
      ? { divisionCode: after[0], year: after[1], villageCode: after[2], id: after[3] }
      : undefined,
    limit: q.limit + 1,
  });
  return c.json(
    paginate(rows, q.limit, toVillage, (v) => [v.divisionCode, v.year, v.villageCode, v.id]),
    200,
  );
};

export const get: RouteHandler<typeof routes.getDemonstrationVillage, AppEnv> = async (c) => {
  const village = await service.villageInScope(c.var.tx, c.req.valid('param').id);
  const projects = await villageDemonstrationProjects(c.var.tx, village.divisionCode, village.villageCode);
  const incomes = await villageIncomes(c.var.tx, village.divisionCode, village.villageCode);
  return c.json(
    {
      ...toVillage(village),
      projects: projects.map((p) => ({
        id: p.id,
        project_no: p.projectNo,
        name: p.name,
        year: p.year,
        status: p.status,
        total_fen: p.totalFen,
        integrated_fen: p.integratedFen,
        link: `/v1/projects/${p.id}`,
      })),
      projects_total_fen: projects
        .filter((p) => p.status !== 'cancelled')
        .reduce((a, p) => a + p.totalFen, 0),
      collective_incomes: incomes.map(toIncome),
    },
    200,
  );
};

export const assess: RouteHandler<typeof routes.assessDemonstrationVillage, AppEnv> = async (c) => {
  const b = c.req.valid('json');
  const village = await service.assessVillage(serviceContext(c), c.req.valid('param').id, {
    scores: b.scores,
    assessedOn: b.assessed_on,
    comment: b.comment ?? null,
  });
  return c.json(toVillage(village), 200);
};

export const assessments: RouteHandler<typeof routes.listDemonstrationAssessments, AppEnv> = async (c) => {
  const village = await service.villageInScope(c.var.tx, c.req.valid('param').id);
  const rows = await listDemonstrationAssessments(c.var.tx, village);
  return c.json(
    {
      data: rows.map((a) => ({
        seq: a.seq,
        kind: a.kind as 'initial' | 'reassessment',
        assessed_on: a.assessedOn,
        scores: a.scores as Record<DemonstrationStandard, number>,
        total_score: score(a.totalHundredths),
        outcome: a.outcome as 'failed' | 'named' | 'named_provincial',
        status_after: a.statusAfter as 'named' | 'failed' | 'revoked',
        reassess_due: a.reassessDue,
        comment: a.comment,
        actor: a.actor,
        actor_division: a.actorDivision,
        at: a.at,
      })),
    },
    200,
  );
};

export const recordIncome: RouteHandler<typeof routes.recordCollectiveIncome, AppEnv> = async (c) => {
  const b = c.req.valid('json');
  const income = await service.recordIncome(serviceContext(c), {
    villageCode: b.village_code,
    year: b.year,
    incomeFen: b.income_fen,
    note: b.note ?? null,
  });
  return c.json(toIncome(income), 200);
};

const incomeCursor = z.tuple([z.number().int(), z.number().int(), z.number().int()]);

export const incomes: RouteHandler<typeof routes.listCollectiveIncomes, AppEnv> = async (c) => {
  const q = c.req.valid('query');
  const after = decodeCursor(q.cursor, incomeCursor);
  const rows = await queryIncomes(c.var.tx, {
    range: scopeOf(c.var.principal.division),
    village: q.village,
    year: q.year,
    after: after ? { divisionCode: after[0], villageCode: after[1], year: after[2] } : undefined,
    limit: q.limit + 1,
  });
  return c.json(
    paginate(rows, q.limit, toIncome, (i) => [i.divisionCode, i.villageCode, i.year]),
    200,
  );
};
