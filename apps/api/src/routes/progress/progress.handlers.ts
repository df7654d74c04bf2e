import type { RouteHandler } from '@hono/zod-openapi';
import {
  listTargetReports,
  type ProgressTarget,
  listProgressTargets as queryTargets,
  type TargetReport,
} from '@houfu/db';
import { scopeOf } from '@houfu/domain';
import type { Context as HonoContext } from 'hono';
import { z } from 'zod';
import { today } from '../../lib/dates.js';
import { decodeCursor, paginate } from '../../lib/pagination.js';
import type { AppEnv } from '../../lib/types.js';
import type * as routes from './progress.routes.js';
import * as service from './progress.service.js';

const serviceContext = (c: HonoContext<AppEnv>): service.Context => ({
  tx: c.var.tx,
  actor: { sub: c.var.principal.sub, kind: c.var.principal.kind, division: c.var.principal.division },
  requestId: c.var.requestId,
  now: c.var.deps.now(),
});

const toTarget = (t: ProgressTarget) => ({
  id: t.id,
  county_code: t.divisionCode,
  county_name: t.countyName,
  kind: t.kind as service.ProgressKind,
  done_source: t.doneSource as service.DoneSource,
  name: t.name,
  period_start: t.periodStart,
  period_end: t.periodEnd,
  target_value: t.targetValue,
  created_by: t.createdBy,
  created_by_division: t.createdByDivision,
  created_at: t.createdAt,
  links: { self: `/v1/progress-targets/${t.id}`, reports: `/v1/progress-targets/${t.id}/reports` },
});

const toReport = (r: TargetReport) => ({
  id: r.id,
  as_of: r.asOf,
  done_value: r.doneValue,
  note: r.note,
  reported_by: r.reportedBy,
  reported_at: r.reportedAt,
});

export const create: RouteHandler<typeof routes.createProgressTarget, AppEnv> = async (c) => {
  const b = c.req.valid('json');
  const target = await service.createTarget(serviceContext(c), {
    county: b.county_code,
    kind: b.kind,
    doneSource: b.done_source,
    name: b.name,
    periodStart: b.period_start,
    periodEnd: b.period_end,
    targetValue: b.target_value,
  });
  return c.json(toTarget(target), 201, { location: `/v1/progress-targets/${target.id}` });
};

const targetCursor = z.tuple([z.number().int(), z.string().max(10), z.uuid()]);

export const list: RouteHandler<typeof routes.listProgressTargets, AppEnv> = async (c) => {
  const q = c.req.valid('query');
  const after = decodeCursor(q.cursor, targetCursor);
  const rows = await queryTargets(c.var.tx, {
    range: scopeOf(c.var.principal.division),
    county: q.county,
    kind: q.kind,
    on: q.on,
    after: after ? { divisionCode: after[0], periodStart: after[1], id: after[2] } : undefined,
    limit: q.limit + 1,
  });
  return c.json(
    paginate(rows, q.limit, toTarget, (t) => [t.divisionCode, t.periodStart, t.id]),
    200,
  );
};

export const get: RouteHandler<typeof routes.getProgressTarget, AppEnv> = async (c) => {
  const target = await service.targetInScope(c.var.tx, c.req.valid('param').id);
  const reports = await listTargetReports(c.var.tx, target);
  return c.json({ ...toTarget(target), reports: reports.map(toReport) }, 200);
};

export const report: RouteHandler<typeof routes.reportProgress, AppEnv> = async (c) => {
  const b = c.req.valid('json');
  const entry = await service.reportProgress(serviceContext(c), c.req.valid('param').id, {
    asOf: b.as_of,
    doneValue: b.done_value,
    note: b.note ?? null,
  });
  return c.json(toReport(entry), 201);
};

export const progressReport: RouteHandler<typeof routes.getProgressReport, AppEnv> = async (c) => {
  const q = c.req.valid('query');
  const on = q.on ?? today(c.var.deps.now());
  const year = on.slice(0, 4);
  const r = await service.progressReport(c.var.tx, c.var.principal.division, {
    division: q.division ?? c.var.principal.division,
    kind: q.kind,
    on,
    start: q.period_start ?? `${year}-01-01`,
    end: q.period_end ?? `${year}-12-31`,
  });
  const row = (x: service.ProgressRow) => ({
    division_code: x.divisionCode,
    division_name: x.divisionName,
    targets: x.targets,
    target_value: x.targetValue,
    done_value: x.doneValue,
    time_percent: x.timePercent,
    done_percent: x.donePercent,
    on_track: x.onTrack,
    double_half: x.doubleHalf,
  });
  return c.json(
    {
      division_code: r.division,
      division_name: r.divisionName,
      kind: r.kind,
      period_start: r.periodStart,
      period_end: r.periodEnd,
      on: r.on,
      elapsed_days: r.elapsedDays,
      total_days: r.totalDays,
      time_percent: r.timePercent,
      rows: r.rows.map(row),
      total: row(r.total),
    },
    200,
  );
};
