import type { RouteHandler } from '@hono/zod-openapi';
import {
  listContracts,
  listPayments,
  listProgressReports,
  type ProgressReport,
  type ProjectAcceptance,
  type ProjectContract,
  type ProjectPayment,
} from '@houfu/db';
import {
  type AcceptanceFlag,
  type AcceptanceStage,
  acceptanceStageLabels,
  type FundingSource,
  formatQuantity,
} from '@houfu/domain';
import { today } from '../../lib/dates.js';
import type { AppEnv } from '../../lib/types.js';
import type * as routes from './project-implementation.routes.js';
import * as service from './project-implementation.service.js';
import { outputs, serviceContext } from './projects.handlers.js';
import { projectInScope } from './projects.service.js';

const toReport = (r: ProgressReport) => ({
  id: r.id,
  seq: r.seq,
  reported_on: r.reportedOn,
  investment_completed_fen: r.investmentCompletedFen,
  percent_complete: r.percentComplete,
  achieved_outputs: Object.fromEntries(
    Object.entries(r.achievedOutputs).map(([k, v]) => [k, formatQuantity(v)]),
  ),
  village_codes: r.villageCodes,
  comment: r.comment,
  created_by: r.createdBy,
  created_at: r.createdAt,
});

const toContract = (c: ProjectContract) => ({
  id: c.id,
  project_id: c.projectId,
  contractor: c.contractor,
  contract_no: c.contractNo,
  amount_fen: c.amountFen,
  signed_on: c.signedOn,
  paid_fen: c.paidFen,
  created_by: c.createdBy,
  created_at: c.createdAt,
});

type PaymentKind = service.PaymentKind;

const toPayment = (p: ProjectPayment) => ({
  id: p.id,
  project_id: p.projectId,
  contract_id: p.contractId,
  funding_line_id: p.fundingLineId,
  source: p.source as FundingSource | null,
  stage: p.stage as PaymentKind,
  amount_fen: p.amountFen,
  paid_on: p.paidOn,
  reference: p.reference,
  created_by: p.createdBy,
  created_at: p.createdAt,
});

const toFlag = (f: AcceptanceFlag) => ({
  flag: f.flag,
  message: f.message,
  detail: f.detail as Record<string, unknown>,
});

const toRecord = (a: ProjectAcceptance) => ({
  seq: a.seq,
  stage: a.stage as AcceptanceStage,
  result: a.result as 'passed' | 'failed',
  checks: a.checks,
  flags: (a.flags as AcceptanceFlag[]).map(toFlag),
  comment: a.comment,
  participants: a.participants,
  asset_name: a.assetName,
  asset_maintainer: a.assetMaintainer,
  actor: a.actor,
  actor_division: a.actorDivision,
  at: a.at,
});

const toAcceptance = (s: service.AcceptanceState) => ({
  project_id: s.project.id,
  status: s.project.status as (typeof routes.ProjectAcceptanceSchema)['shape']['status']['options'][number],
  route: s.route.map((stage, index) => ({
    index,
    stage,
    label: acceptanceStageLabels[stage],
    level: service.stageLevel(stage) as 'county' | 'city' | 'province',
    state:
      s.project.status === 'accepted' || (s.current !== null && index < s.current)
        ? ('done' as const)
        : index === s.current
          ? ('current' as const)
          : ('pending' as const),
  })),
  current_stage: s.current === null ? null : (s.route[s.current] ?? null),
  flags: s.flags.map(toFlag),
  asset_name: s.project.assetName,
  asset_maintainer: s.project.assetMaintainer,
  accepted_at: s.project.acceptedAt,
  records: s.records.map(toRecord),
});

export const createProgress: RouteHandler<typeof routes.createProgressReport, AppEnv> = async (c) => {
  const b = c.req.valid('json');
  const { report } = await service.reportProgress(serviceContext(c), c.req.valid('param').id, {
    reportedOn: b.reported_on,
    investmentCompletedFen: b.investment_completed_fen,
    percentComplete: b.percent_complete,
    achievedOutputs: outputs(b.achieved_outputs),
    villageCodes: b.village_codes,
    comment: b.comment ?? null,
  });
  return c.json(toReport(report), 201);
};

export const progress: RouteHandler<typeof routes.listProgressReports, AppEnv> = async (c) => {
  const project = await projectInScope(c.var.tx, c.req.valid('param').id);
  return c.json({ data: (await listProgressReports(c.var.tx, project)).map(toReport) }, 200);
};

export const createContract: RouteHandler<typeof routes.createProjectContract, AppEnv> = async (c) => {
  const b = c.req.valid('json');
  const contract = await service.createContract(serviceContext(c), c.req.valid('param').id, {
    contractor: b.contractor,
    contractNo: b.contract_no,
    amountFen: b.amount_fen,
    signedOn: b.signed_on,
  });
  return c.json(toContract(contract), 201);
};

export const contracts: RouteHandler<typeof routes.listProjectContracts, AppEnv> = async (c) => {
  const project = await projectInScope(c.var.tx, c.req.valid('param').id);
  return c.json({ data: (await listContracts(c.var.tx, project)).map(toContract) }, 200);
};

export const createPayment: RouteHandler<typeof routes.createProjectPayment, AppEnv> = async (c) => {
  const b = c.req.valid('json');
  const payment = await service.recordPayment(serviceContext(c), c.req.valid('param').id, {
    contractId: b.contract_id,
    fundingLineId: b.funding_line_id,
    stage: b.stage,
    amountFen: b.amount_fen,
    paidOn: b.paid_on,
    reference: b.reference,
  });
  return c.json(toPayment(payment), 201);
};

export const payments: RouteHandler<typeof routes.listProjectPayments, AppEnv> = async (c) => {
  const project = await projectInScope(c.var.tx, c.req.valid('param').id);
  return c.json({ data: (await listPayments(c.var.tx, project)).map(toPayment) }, 200);
};

export const acceptance: RouteHandler<typeof routes.getProjectAcceptance, AppEnv> = async (c) => {
  const state = await service.acceptanceState(c.var.tx, c.req.valid('param').id, today(c.var.deps.now()));
  return c.json(toAcceptance(state), 200);
};

export const accept: RouteHandler<typeof routes.acceptProject, AppEnv> = async (c) => {
  const b = c.req.valid('json');
  const state = await service.accept(serviceContext(c), c.req.valid('param').id, {
    stage: b.stage,
    result: b.result,
    checks: b.checks,
    comment: b.comment ?? null,
    participants: b.participants ?? null,
    assetName: b.asset_name ?? null,
    assetMaintainer: b.asset_maintainer ?? null,
  });
  return c.json(toAcceptance(state), 200);
};
