import type { RouteHandler } from '@hono/zod-openapi';
import {
  type FundAllocation,
  listProjectReviews,
  type Project,
  listFundAllocations as queryAllocations,
  listProjects as queryProjects,
} from '@houfu/db';
import {
  approvalStepLabel,
  type FundingLine,
  type FundingSource,
  formatQuantity,
  type OutputKind,
  parseQuantity,
  scopeOf,
} from '@houfu/domain';
import type { Context as HonoContext } from 'hono';
import { z } from 'zod';
import { today } from '../../lib/dates.js';
import { etagOf } from '../../lib/etag.js';
import { decodeCursor, paginate } from '../../lib/pagination.js';
import type { AppEnv } from '../../lib/types.js';
import type * as routes from './projects.routes.js';
import * as service from './projects.service.js';

export const serviceContext = (c: HonoContext<AppEnv>): service.Context => ({
  tx: c.var.tx,
  actor: { sub: c.var.principal.sub, kind: c.var.principal.kind, division: c.var.principal.division },
  requestId: c.var.requestId,
  now: c.var.deps.now(),
});

const LOCKED = new Set(['submitted', 'approved', 'in_progress', 'completed', 'accepted']);

export const toProject = (p: Project) => ({
  id: p.id,
  project_no: p.projectNo,
  county_code: p.divisionCode,
  county_name: p.countyName,
  name: p.name,
  category: p.category as (typeof routes.categorySchema)['options'][number],
  batch_no: p.batchNo,
  year: p.year,
  township_code: p.townshipCode,
  village_codes: p.villageCodes,
  description: p.description,
  planned_outputs: Object.fromEntries(
    Object.entries(p.plannedOutputs).map(([k, v]) => [k, formatQuantity(v)]),
  ),
  beneficiaries_farmers: p.beneficiariesFarmers,
  beneficiaries_migrants: p.beneficiariesMigrants,
  total_fen: p.totalFen,
  funding_lines: p.fundingLines.map((l) => ({
    id: l.id,
    source: l.source as FundingSource,
    amount_fen: l.amountFen,
    committed_fen: l.committedFen,
    paid_fen: l.paidFen,
  })),
  posting_from: p.postingFrom,
  posting_to: p.postingTo,
  posting_place: p.postingPlace,
  status: p.status as (typeof routes.statusSchema)['options'][number],
  route:
    p.route?.map((s, index) => ({
      index,
      level: s.level,
      action: s.action,
      scope: s.scope ?? null,
      label: approvalStepLabel(s),
      state:
        p.currentStep === null
          ? p.status === 'returned' || p.status === 'cancelled'
            ? ('pending' as const)
            : ('done' as const)
          : index < p.currentStep
            ? ('done' as const)
            : index === p.currentStep
              ? ('current' as const)
              : ('pending' as const),
    })) ?? null,
  current_step: p.currentStep,
  locked: LOCKED.has(p.status),
  submitted_at: p.submittedAt,
  approved_at: p.approvedAt,
  cancelled_at: p.cancelledAt,
  completed_at: p.completedAt,
  accepted_at: p.acceptedAt,
  asset_name: p.assetName,
  asset_maintainer: p.assetMaintainer,
  version: p.version,
  created_by: p.createdBy,
  created_at: p.createdAt,
  updated_by: p.updatedBy,
  updated_at: p.updatedAt,
  links: {
    self: `/v1/projects/${p.id}`,
    reviews: `/v1/projects/${p.id}/reviews`,
    progress_reports: `/v1/projects/${p.id}/progress-reports`,
    contracts: `/v1/projects/${p.id}/contracts`,
    payments: `/v1/projects/${p.id}/payments`,
    acceptance: `/v1/projects/${p.id}/acceptance`,
  },
});

export const toAllocation = (a: FundAllocation) => ({
  id: a.id,
  county_code: a.divisionCode,
  county_name: a.countyName,
  province_code: a.provinceCode,
  source: a.source as 'post_support' | 'three_gorges' | 'small_reservoir',
  year: a.year,
  amount_fen: a.amountFen,
  document_no: a.documentNo,
  allocated_on: a.allocatedOn,
  note: a.note,
  created_by: a.createdBy,
  created_by_division: a.createdByDivision,
  created_at: a.createdAt,
});

export const outputs = (o: Partial<Record<OutputKind, string | undefined>> | undefined) =>
  Object.fromEntries(
    Object.entries(o ?? {})
      .filter((e): e is [string, string] => e[1] !== undefined)
      .map(([k, v]) => [k, parseQuantity(v)]),
  );

const lines = (l: { source: FundingSource; amount_fen: number }[]): FundingLine[] =>
  l.map((x) => ({ source: x.source, amountFen: x.amount_fen }));

export const create: RouteHandler<typeof routes.createProject, AppEnv> = async (c) => {
  const b = c.req.valid('json');
  const project = await service.createProject(serviceContext(c), {
    name: b.name,
    category: b.category,
    batchNo: b.batch_no ?? null,
    year: b.year,
    townshipCode: b.township_code ?? null,
    villageCodes: b.village_codes,
    description: b.description ?? null,
    plannedOutputs: outputs(b.planned_outputs),
    beneficiariesFarmers: b.beneficiaries_farmers ?? 0,
    beneficiariesMigrants: b.beneficiaries_migrants ?? 0,
    totalFen: b.total_fen,
    fundingLines: lines(b.funding_lines),
    postingFrom: b.posting_from ?? null,
    postingTo: b.posting_to ?? null,
    postingPlace: b.posting_place ?? null,
  });
  return c.json(toProject(project), 201, {
    location: `/v1/projects/${project.id}`,
    etag: etagOf(project.version),
  });
};

const projectCursor = z.tuple([z.number().int(), z.string().max(40)]);

export const list: RouteHandler<typeof routes.listProjects, AppEnv> = async (c) => {
  const q = c.req.valid('query');
  const after = decodeCursor(q.cursor, projectCursor);
  const rows = await queryProjects(c.var.tx, {
    range: scopeOf(c.var.principal.division),
    county: q.county,
    status: q.status,
    category: q.category,
    year: q.year,
    after: after ? { divisionCode: after[0], projectNo: after[1] } : undefined,
    limit: q.limit + 1,
  });
  return c.json(
    paginate(rows, q.limit, toProject, (p) => [p.divisionCode, p.projectNo]),
    200,
  );
};

export const get: RouteHandler<typeof routes.getProject, AppEnv> = async (c) => {
  const project = await service.projectInScope(c.var.tx, c.req.valid('param').id);
  return c.json(toProject(project), 200, { etag: etagOf(project.version) });
};

export const patch: RouteHandler<typeof routes.patchProject, AppEnv> = async (c) => {
  const b = c.req.valid('json');
  const project = await service.patchProject(
    serviceContext(c),
    c.req.valid('param').id,
    c.req.valid('header')['if-match'],
    {
      name: b.name,
      category: b.category,
      batchNo: b.batch_no,
      year: b.year,
      townshipCode: b.township_code,
      villageCodes: b.village_codes,
      description: b.description,
      plannedOutputs: b.planned_outputs === undefined ? undefined : outputs(b.planned_outputs),
      beneficiariesFarmers: b.beneficiaries_farmers,
      beneficiariesMigrants: b.beneficiaries_migrants,
      postingFrom: b.posting_from,
      postingTo: b.posting_to,
      postingPlace: b.posting_place,
    },
  );
  return c.json(toProject(project), 200, { etag: etagOf(project.version) });
};

export const getFunding: RouteHandler<typeof routes.getProjectFunding, AppEnv> = async (c) => {
  const project = await service.projectInScope(c.var.tx, c.req.valid('param').id);
  const { total_fen, funding_lines } = toProject(project);
  return c.json({ total_fen, funding_lines }, 200, { etag: etagOf(project.version) });
};

export const funding: RouteHandler<typeof routes.putProjectFunding, AppEnv> = async (c) => {
  const b = c.req.valid('json');
  const project = await service.putFunding(
    serviceContext(c),
    c.req.valid('param').id,
    c.req.valid('header')['if-match'],
    {
      totalFen: b.total_fen,
      fundingLines: lines(b.funding_lines),
    },
  );
  return c.json(toProject(project), 200, { etag: etagOf(project.version) });
};

export const plan: RouteHandler<typeof routes.planProject, AppEnv> = async (c) => {
  const project = await service.planProject(serviceContext(c), c.req.valid('param').id);
  return c.json(toProject(project), 200);
};

export const submit: RouteHandler<typeof routes.submitProject, AppEnv> = async (c) => {
  const body = (c.req.valid('json') ?? {}) as { comment?: string };
  const project = await service.submitProject(
    serviceContext(c),
    c.req.valid('param').id,
    body.comment ?? null,
  );
  return c.json(toProject(project), 200);
};

export const review: RouteHandler<typeof routes.reviewProject, AppEnv> = async (c) => {
  const b = c.req.valid('json');
  const project = await service.reviewProject(serviceContext(c), c.req.valid('param').id, {
    action: b.action,
    comment: b.comment ?? null,
    step: b.step,
  });
  return c.json(toProject(project), 200);
};

export const changes: RouteHandler<typeof routes.changeProjectScope, AppEnv> = async (c) => {
  const b = c.req.valid('json');
  const project = await service.changeScope(serviceContext(c), c.req.valid('param').id, {
    category: b.category,
    batchNo: b.batch_no ?? null,
    townshipCode: b.township_code ?? null,
    villageCodes: b.village_codes,
    plannedOutputs: outputs(b.planned_outputs),
    totalFen: b.total_fen,
    fundingLines: lines(b.funding_lines),
    comment: b.comment,
  });
  return c.json(toProject(project), 200);
};

export const cancel: RouteHandler<typeof routes.cancelProject, AppEnv> = async (c) => {
  const project = await service.cancelProject(
    serviceContext(c),
    c.req.valid('param').id,
    c.req.valid('json').reason,
  );
  return c.json(toProject(project), 200);
};

export const reviews: RouteHandler<typeof routes.listProjectReviews, AppEnv> = async (c) => {
  const project = await service.projectInScope(c.var.tx, c.req.valid('param').id);
  const rows = await listProjectReviews(c.var.tx, project);
  return c.json(
    {
      data: rows.map((r) => ({
        seq: r.seq,
        step_index: r.stepIndex,
        level: r.level as 'county' | 'city' | 'province' | null,
        action: r.action as
          | 'plan'
          | 'submit'
          | 'resubmit'
          | 'review'
          | 'approve'
          | 'record'
          | 'return'
          | 'change'
          | 'cancel',
        decision: r.decision,
        comment: r.comment,
        actor: r.actor,
        actor_division: r.actorDivision,
        at: r.at,
        changes: r.changes,
      })),
    },
    200,
  );
};

export const createAllocation: RouteHandler<typeof routes.createFundAllocation, AppEnv> = async (c) => {
  const b = c.req.valid('json');
  const allocation = await service.createAllocation(serviceContext(c), {
    county: b.county_code,
    source: b.source,
    year: b.year,
    amountFen: b.amount_fen,
    documentNo: b.document_no,
    allocatedOn: b.allocated_on,
    note: b.note ?? null,
  });
  return c.json(toAllocation(allocation), 201);
};

const allocationCursor = z.tuple([z.number().int(), z.string().max(10), z.uuid()]);

export const allocations: RouteHandler<typeof routes.listFundAllocations, AppEnv> = async (c) => {
  const q = c.req.valid('query');
  const after = decodeCursor(q.cursor, allocationCursor);
  const rows = await queryAllocations(c.var.tx, {
    range: scopeOf(c.var.principal.division),
    county: q.county,
    source: q.source,
    year: q.year,
    after: after ? { divisionCode: after[0], allocatedOn: after[1], id: after[2] } : undefined,
    limit: q.limit + 1,
  });
  return c.json(
    paginate(rows, q.limit, toAllocation, (a) => [a.divisionCode, a.allocatedOn, a.id]),
    200,
  );
};

const balanceCursor = z.tuple([z.number().int(), z.number().int()]);

export const balances: RouteHandler<typeof routes.listFundBalances, AppEnv> = async (c) => {
  const q = c.req.valid('query');
  const after = decodeCursor(q.cursor, balanceCursor);
  const rows = await service.countyBalances(
    c.var.tx,
    {
      range: scopeOf(c.var.principal.division),
      county: q.county,
      year: q.year,
      after: after ? { divisionCode: after[0], year: after[1] } : undefined,
      limit: q.limit + 1,
    },
    q.on ?? today(c.var.deps.now()),
  );
  const figures = (f: service.BalanceFigures) => ({
    allocated_fen: f.allocatedFen,
    committed_fen: f.committedFen,
    paid_fen: f.paidFen,
    available_fen: f.availableFen,
    idle_fen: f.idleFen,
  });
  return c.json(
    paginate(
      rows,
      q.limit,
      (r) => ({
        county_code: r.county,
        county_name: r.countyName,
        year: r.year,
        idle_months: r.idleMonths,
        ...figures(r),
        sources: r.sources.map((s) => ({
          source: s.source as 'post_support' | 'three_gorges' | 'small_reservoir',
          ...figures(s),
        })),
      }),
      (r) => [r.county, r.year],
    ),
    200,
  );
};
