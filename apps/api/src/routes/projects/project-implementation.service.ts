import {
  countyLocalities,
  getContract,
  getFundBalance,
  insertAcceptance,
  insertContract,
  insertPayment,
  insertProgressReport,
  latestProgressReport,
  listAcceptances,
  listContracts,
  listPayments,
  type ProgressReport,
  type Project,
  type ProjectAcceptance,
  type ProjectContract,
  type ProjectPayment,
  payFromBalance,
  payOnContract,
  payOnLine,
  type Tx,
  updateProject,
} from '@houfu/db';
import {
  type AcceptanceCheck,
  type AcceptanceFlag,
  type AcceptanceStage,
  acceptanceChecks,
  acceptanceFlags,
  acceptanceLevelsParameter,
  acceptanceRoute,
  acceptanceStageLabels,
  canTransition,
  checkPayment,
  type DivisionLevel,
  divisionLevel,
  type FundingSource,
  formatYuan,
  fundingSourceLabels,
  isAllocatedSource,
  isWithin,
  maxPayableFen,
  type OutputQuantities,
  type PaymentStage,
  type ProjectStatus,
  paymentScheduleParameter,
  paymentStageLabels,
} from '@houfu/domain';
import { today } from '../../lib/dates.js';
import { loadPolicyValue } from '../../lib/policy.js';
import { ApiError, type FieldError } from '../../lib/problem.js';
import {
  audit,
  type Context,
  changed,
  ownProject,
  projectInScope,
  statusConflict,
} from './projects.service.js';

/*
 * Implementation 项目实施 and completion acceptance 竣工验收 of approved projects (issue 5, capabilities 5
 * and 6): progress reports, contracts, contractor payments by the province's payment schedule charged to
 * the project's funding lines (and, for allocated sources, to the county's balance), and the acceptance
 * stages with their checks and flags. Every write runs in the request's tenant-scoped transaction with
 * the project row locked, and is audited in the county's chain.
 */

/** Statuses in which the project is being built: progress is reported, contracts signed. */
const BUILDING: readonly string[] = ['approved', 'in_progress'];
/** Statuses in which contractors may be paid (the last stage and the deposit only once accepted). */
const PAYABLE: readonly string[] = ['approved', 'in_progress', 'completed', 'accepted'];

const futureDate = (field: string) =>
  new ApiError('unprocessable', `${field} is in the future: record what has happened.`, [
    { field, message: 'In the future', code: 'future_date' },
  ]);

/** The statuses an implementation step moves the project through, forward only: approved → in_progress → completed. */
function nextStatuses(from: string, to: ProjectStatus): ProjectStatus[] {
  const forward: ProjectStatus[] = ['approved', 'in_progress', 'completed'];
  const i = forward.indexOf(from as ProjectStatus);
  const j = forward.indexOf(to);
  if (i < 0 || i >= j) return [];
  const path = forward.slice(i + 1, j + 1);
  path.forEach((s, k) => {
    const before = k === 0 ? (from as ProjectStatus) : (path[k - 1] as ProjectStatus);
    if (!canTransition(before, s)) throw new Error(`${before} → ${s} is not a project transition`);
  });
  return path;
}

// ── Progress reports ────────────────────────────────────────────────────────────────────────────

export interface ProgressInput {
  reportedOn: string;
  investmentCompletedFen: number;
  percentComplete: number;
  achievedOutputs: Record<string, number>;
  villageCodes: number[];
  comment: string | null;
}

/**
 * 进度报告: cumulative progress of an approved project. The first report moves it to `in_progress`; a
 * report at 100% to `completed` (ready for acceptance). Progress never goes back, nor does the date.
 */
export async function reportProgress(
  ctx: Context,
  id: string,
  input: ProgressInput,
): Promise<{ report: ProgressReport; project: Project }> {
  const project = await ownProject(ctx, id);
  if (!BUILDING.includes(project.status)) {
    throw statusConflict(project, 'progress is reported on an approved project being built');
  }
  if (input.reportedOn > today(ctx.now)) throw futureDate('reported_on');
  const errors: FieldError[] = [];
  if (new Set(input.villageCodes).size !== input.villageCodes.length) {
    errors.push({ field: 'village_codes', message: 'A village is listed twice', code: 'duplicate' });
  }
  const known = new Map(
    (await countyLocalities(ctx.tx, project.divisionCode, input.villageCodes)).map((l) => [l.code, l]),
  );
  input.villageCodes.forEach((code, i) => {
    if (known.get(code)?.level !== 'village') {
      errors.push({
        field: `village_codes.${i}`,
        message: `${code} is not a village of county ${project.divisionCode}`,
        code: 'unknown_village',
      });
    }
  });
  if (input.investmentCompletedFen > project.totalFen) {
    errors.push({
      field: 'investment_completed_fen',
      message: `More than the total investment (${project.totalFen} fen)`,
      code: 'exceeds_total',
    });
  }
  const previous = await latestProgressReport(ctx.tx, project);
  if (previous && input.percentComplete < previous.percentComplete) {
    errors.push({
      field: 'percent_complete',
      message: `Progress does not go back (last report: ${previous.percentComplete}%)`,
      code: 'progress_backwards',
    });
  }
  if (previous && input.investmentCompletedFen < previous.investmentCompletedFen) {
    errors.push({
      field: 'investment_completed_fen',
      message: `The investment completed is cumulative and does not go back (last report: ${previous.investmentCompletedFen} fen)`,
      code: 'investment_backwards',
    });
  }
  if (previous && input.reportedOn < previous.reportedOn) {
    errors.push({
      field: 'reported_on',
      message: `Before the last report (${previous.reportedOn})`,
      code: 'before_last_report',
    });
  }
  if (errors.length > 0) throw new ApiError('unprocessable', errors.map((e) => e.message).join('; '), errors);

  const report = await insertProgressReport(ctx.tx, project, { ...input, createdBy: ctx.actor.sub });
  const path = nextStatuses(project.status, input.percentComplete === 100 ? 'completed' : 'in_progress');
  const status = path.at(-1);
  if (status) {
    await updateProject(
      ctx.tx,
      project,
      { status, ...(status === 'completed' ? { completed: true } : {}) },
      ctx.actor.sub,
    );
  }
  await audit(ctx, project.divisionCode, 'project', project.id, 'project.progress', {
    ...(status ? { status: changed(project.status, status) } : {}),
    seq: report.seq,
    reported_on: input.reportedOn,
    investment_completed_fen: input.investmentCompletedFen,
    percent_complete: input.percentComplete,
    achieved_outputs: input.achievedOutputs,
    village_codes: input.villageCodes,
  });
  return { report, project: await projectInScope(ctx.tx, id) };
}

// ── Contracts ───────────────────────────────────────────────────────────────────────────────────

export interface ContractInput {
  contractor: string;
  contractNo: string;
  amountFen: number;
  signedOn: string;
}

/** 施工合同: a contract of an approved project; all contracts together stay within the total investment. */
export async function createContract(
  ctx: Context,
  id: string,
  input: ContractInput,
): Promise<ProjectContract> {
  const project = await ownProject(ctx, id);
  if (!BUILDING.includes(project.status) && project.status !== 'completed') {
    throw statusConflict(project, 'contracts are signed for an approved project');
  }
  if (input.signedOn > today(ctx.now)) throw futureDate('signed_on');
  const contracted = (await listContracts(ctx.tx, project)).reduce((a, c) => a + c.amountFen, 0);
  if (contracted + input.amountFen > project.totalFen) {
    const left = project.totalFen - contracted;
    throw new ApiError(
      'unprocessable',
      `Contracts of project ${project.projectNo} would exceed its total investment: ${left} fen (${formatYuan(left)} yuan) left to contract.`,
      [{ field: 'amount_fen', message: `At most ${left} fen`, code: 'exceeds_total' }],
    );
  }
  const contract = await insertContract(ctx.tx, project, { ...input, createdBy: ctx.actor.sub });
  if (!contract) {
    throw new ApiError('conflict', `Project ${project.projectNo} already has contract ${input.contractNo}.`, [
      { field: 'contract_no', message: 'Already recorded', code: 'duplicate' },
    ]);
  }
  await audit(ctx, project.divisionCode, 'project_contract', contract.id, 'project.contract', {
    project_id: project.id,
    contractor: input.contractor,
    contract_no: input.contractNo,
    amount_fen: input.amountFen,
    signed_on: input.signedOn,
  });
  return contract;
}

// ── Payments ────────────────────────────────────────────────────────────────────────────────────

/** Payment stages: the schedule's stages and the release of the quality deposit 质量保证金. */
export type PaymentKind = PaymentStage | 'quality_deposit';

export interface PaymentInput {
  contractId: string;
  fundingLineId: string;
  stage: PaymentKind;
  amountFen: number;
  paidOn: string;
  reference: string;
}

/**
 * 工程款支付 from the county account (县级报账制): a payment on a contract of an approved project, charged
 * to one of the project's funding lines. The contract's cumulative payments stay within the province's
 * schedule (`projects.payment_schedule`: 10% on contract, 40% at half done, 30% at completion, 10% after
 * acceptance, 10% quality deposit released after acceptance) at the project's reported progress; the line
 * never pays more than its amount, and an allocated source's payments never exceed what the county's
 * balance committed. Each limit is one guarded UPDATE, so concurrent payments never overspend. The first
 * payment moves an approved project to `in_progress`.
 */
export async function recordPayment(ctx: Context, id: string, input: PaymentInput): Promise<ProjectPayment> {
  const project = await ownProject(ctx, id);
  if (!PAYABLE.includes(project.status)) {
    throw statusConflict(project, 'no approved plan, no money: only an approved project pays contractors');
  }
  if (input.paidOn > today(ctx.now)) throw futureDate('paid_on');
  const contract = await getContract(ctx.tx, project, input.contractId);
  if (!contract) {
    throw new ApiError('unprocessable', `Contract ${input.contractId} is not a contract of this project.`, [
      { field: 'contract_id', message: 'Not a contract of this project', code: 'unknown_contract' },
    ]);
  }
  const line = project.fundingLines.find((l) => l.id === input.fundingLineId);
  if (!line) {
    throw new ApiError(
      'unprocessable',
      `Funding line ${input.fundingLineId} is not a line of project ${project.projectNo}: a payment is charged to the project's own funding.`,
      [{ field: 'funding_line_id', message: 'Not a funding line of this project', code: 'not_project_line' }],
    );
  }
  if (input.paidOn < contract.signedOn) {
    throw new ApiError('unprocessable', `Paid before the contract was signed (${contract.signedOn}).`, [
      { field: 'paid_on', message: 'Before the contract', code: 'before_contract' },
    ]);
  }

  const schedule = await loadPolicyValue(
    ctx.tx,
    paymentScheduleParameter,
    project.divisionCode,
    today(ctx.now),
  );
  const progress = (await latestProgressReport(ctx.tx, project))?.percentComplete ?? 0;
  const accepted = project.status === 'accepted';
  const rule = schedule.value.stages.find((s) => s.stage === input.stage);
  const reached =
    input.stage === 'quality_deposit'
      ? accepted
      : rule !== undefined &&
        (rule.minProgressPercent === undefined || progress >= rule.minProgressPercent) &&
        (rule.requiresAcceptance !== true || accepted);
  if (!reached) {
    const label = input.stage === 'quality_deposit' ? '质量保证金' : paymentStageLabels[input.stage];
    throw new ApiError(
      'unprocessable',
      `The stage ${input.stage} (${label}) is not reached: progress ${progress}%, ${accepted ? 'accepted' : 'not accepted'} (${schedule.source}).`,
      [{ field: 'stage', message: 'Stage not reached', code: 'stage_not_reached' }],
    );
  }
  const state = { progressPercent: progress, accepted, depositReleased: input.stage === 'quality_deposit' };
  const violation = checkPayment(
    { ...state, contractFen: contract.amountFen, paidFen: contract.paidFen, amountFen: input.amountFen },
    schedule.value,
  );
  if (violation) {
    throw new ApiError('unprocessable', `${violation.message} (${schedule.source}).`, [
      {
        field: 'amount_fen',
        message: `At most ${violation.remainingFen} fen now (cap ${violation.maxPayableFen} fen)`,
        code: violation.code,
      },
    ]);
  }

  const payment = await insertPayment(ctx.tx, project, {
    ...input,
    createdBy: ctx.actor.sub,
  });
  if (!payment) {
    throw new ApiError('conflict', `A payment with reference ${input.reference} is already recorded.`, [
      { field: 'reference', message: 'Already recorded', code: 'duplicate' },
    ]);
  }
  // The three guards; any that fails rolls the request's transaction back, the payment row included.
  const cap = maxPayableFen(contract.amountFen, schedule.value, state);
  if ((await payOnContract(ctx.tx, project, contract.id, input.amountFen, cap)) === undefined) {
    throw new ApiError('unprocessable', `The contract's payments would exceed the schedule's ${cap} fen.`, [
      { field: 'amount_fen', message: `Cap ${cap} fen`, code: 'exceeds_schedule' },
    ]);
  }
  const label = fundingSourceLabels[line.source as FundingSource];
  if ((await payOnLine(ctx.tx, project, line.id, input.amountFen)) === undefined) {
    const fresh = (await projectInScope(ctx.tx, id)).fundingLines.find((l) => l.id === line.id);
    const left = (fresh?.amountFen ?? 0) - (fresh?.paidFen ?? 0);
    throw new ApiError(
      'insufficient_funds',
      `${label} (${line.source}) of project ${project.projectNo}: ${left} fen (${formatYuan(left)} yuan) left on the line, ${input.amountFen} fen needed.`,
      [
        {
          field: 'funding_line_id',
          message: `left ${left} fen, needed ${input.amountFen} fen`,
          code: 'insufficient_funds',
        },
      ],
    );
  }
  if (isAllocatedSource(line.source as FundingSource)) {
    const year = project.committedYear ?? project.year;
    if (!(await payFromBalance(ctx.tx, project.divisionCode, line.source, year, input.amountFen))) {
      const balance = await getFundBalance(ctx.tx, project.divisionCode, line.source, year);
      const left = balance ? balance.committedFen - balance.paidFen : 0;
      throw new ApiError(
        'insufficient_funds',
        `${label} (${line.source}) of ${year} for county ${project.divisionCode}: ${left} fen committed and unpaid, ${input.amountFen} fen needed.`,
        [
          {
            field: 'funding_line_id',
            message: `left ${left} fen, needed ${input.amountFen} fen`,
            code: 'insufficient_funds',
          },
        ],
      );
    }
  }
  const status = nextStatuses(project.status, 'in_progress').at(-1);
  if (status) await updateProject(ctx.tx, project, { status }, ctx.actor.sub);
  await audit(ctx, project.divisionCode, 'project_payment', payment.id, 'project.payment', {
    ...(status ? { status: changed(project.status, status) } : {}),
    project_id: project.id,
    contract_id: contract.id,
    contractor: contract.contractor,
    funding_line: line.source,
    stage: input.stage,
    amount_fen: input.amountFen,
    paid_on: input.paidOn,
    reference: input.reference,
  });
  return payment;
}

// ── Completion acceptance ───────────────────────────────────────────────────────────────────────

/** The level that acts on an acceptance stage. */
export const stageLevel = (stage: AcceptanceStage): DivisionLevel =>
  stage === 'self_check' || stage === 'county' ? 'county' : stage;

/**
 * The flags of the project now: approved villages vs where work was reported, outputs, payments vs lines.
 * Before the first progress report only the payments are judged (nothing has been reported built yet).
 */
export async function flagsOf(tx: Tx, project: Project): Promise<AcceptanceFlag[]> {
  const latest = await latestProgressReport(tx, project);
  const payments = await listPayments(tx, project);
  const flags = acceptanceFlags({
    approvedVillageCodes: project.villageCodes,
    actualVillageCodes: latest?.villageCodes ?? [],
    plannedOutputs: project.plannedOutputs as OutputQuantities,
    achievedOutputs: (latest?.achievedOutputs ?? {}) as OutputQuantities,
    payments: payments.map((p) => ({ amountFen: p.amountFen, fundingLineId: p.fundingLineId })),
    fundingLineIds: project.fundingLines.map((l) => l.id),
  });
  return latest ? flags : flags.filter((f) => f.flag === 'funds_diverted');
}

export interface AcceptanceState {
  project: Project;
  route: AcceptanceStage[];
  /** Index of the stage awaiting action (null: not completed, or accepted). */
  current: number | null;
  flags: AcceptanceFlag[];
  records: ProjectAcceptance[];
}

async function routeOf(tx: Tx, project: Project, on: string): Promise<AcceptanceStage[]> {
  if (project.acceptanceRoute) return project.acceptanceRoute as AcceptanceStage[];
  const levels = await loadPolicyValue(tx, acceptanceLevelsParameter, project.divisionCode, on);
  return acceptanceRoute(project.totalFen, levels.value);
}

/** Where acceptance stands: the route (stored at its first stage, else as it would be today), flags, records. */
export async function acceptanceState(tx: Tx, id: string, on: string): Promise<AcceptanceState> {
  const project = await projectInScope(tx, id);
  return {
    project,
    route: await routeOf(tx, project, on),
    current: project.status === 'completed' ? (project.acceptanceStep ?? 0) : null,
    flags: await flagsOf(tx, project),
    records: await listAcceptances(tx, project),
  };
}

export interface AcceptanceInput {
  stage: AcceptanceStage | undefined;
  result: 'passed' | 'failed';
  checks: Record<AcceptanceCheck, { passed: boolean; note?: string | undefined }>;
  comment: string | null;
  participants: string | null;
  assetName: string | null;
  assetMaintainer: string | null;
}

/**
 * Acts on the acceptance stage awaiting action of a completed project: self-check 自检 and county 县级验收
 * by the county, then city 市级 and province 省级 by size (`projects.acceptance_levels`, route fixed at
 * the first stage). Anyone else: 403. A stage passes only with all six checks passed and no flag; the
 * last stage hands the asset over to a named maintainer and accepts the project. A failed stage sends
 * the project back to `in_progress` for rectification 整改 (the route starts again when it completes).
 */
export async function accept(ctx: Context, id: string, input: AcceptanceInput): Promise<AcceptanceState> {
  const project = await projectInScope(ctx.tx, id, { lock: true });
  const level = divisionLevel(ctx.actor.division);
  if (!isWithin(project.divisionCode, ctx.actor.division)) {
    throw new ApiError('not_found', `Project ${id} was not found.`);
  }
  if (project.status !== 'completed') {
    throw statusConflict(project, 'only a completed project is accepted (report 100% progress first)');
  }
  const route = await routeOf(ctx.tx, project, today(ctx.now));
  const index = project.acceptanceStep ?? 0;
  const stage = route[index] as AcceptanceStage;
  if (input.stage !== undefined && input.stage !== stage) {
    throw new ApiError(
      'conflict',
      `Stage ${input.stage} of project ${project.projectNo} is not awaiting action (${stage} is).`,
    );
  }
  const wanted = stageLevel(stage);
  if (level !== wanted) {
    throw new ApiError(
      'forbidden',
      `The stage awaiting action on project ${project.projectNo} is ${acceptanceStageLabels[stage]} (${stage}), for the ${wanted}.`,
    );
  }
  const last = index === route.length - 1;
  const flags = await flagsOf(ctx.tx, project);
  if (input.result === 'passed') {
    const errors: FieldError[] = acceptanceChecks
      .filter((c) => !input.checks[c].passed)
      .map((c) => ({ field: `checks.${c}`, message: 'Not passed', code: 'check_failed' }));
    for (const f of flags) errors.push({ field: 'flags', message: f.message, code: f.flag });
    if (last && input.assetName === null) {
      errors.push({ field: 'asset_name', message: 'The asset handed over', code: 'required' });
    }
    if (last && input.assetMaintainer === null) {
      errors.push({ field: 'asset_maintainer', message: 'Who maintains the asset', code: 'required' });
    }
    if (errors.length > 0) {
      throw new ApiError(
        'unprocessable',
        `${acceptanceStageLabels[stage]} cannot pass: ${errors.map((e) => `${e.field} ${e.message}`).join('; ')}.`,
        errors,
      );
    }
  }
  await insertAcceptance(ctx.tx, project, {
    stage,
    result: input.result,
    checks: input.checks,
    flags,
    comment: input.comment,
    participants: input.participants,
    assetName: last && input.result === 'passed' ? input.assetName : null,
    assetMaintainer: last && input.result === 'passed' ? input.assetMaintainer : null,
    actor: ctx.actor.sub,
    actorDivision: ctx.actor.division,
  });
  const common = {
    stage,
    stage_label: acceptanceStageLabels[stage],
    result: input.result,
    checks: Object.fromEntries(acceptanceChecks.map((c) => [c, input.checks[c].passed])),
    flags: flags.map((f) => f.flag),
    comment: input.comment,
  };
  if (input.result === 'failed') {
    await updateProject(
      ctx.tx,
      project,
      { status: 'in_progress', acceptanceRoute: null, acceptanceStep: null },
      ctx.actor.sub,
    );
    await audit(ctx, project.divisionCode, 'project', project.id, 'project.acceptance_fail', {
      ...common,
      status: changed(project.status, 'in_progress'),
    });
  } else if (last) {
    await updateProject(
      ctx.tx,
      project,
      {
        status: 'accepted',
        accepted: true,
        acceptanceRoute: route,
        acceptanceStep: null,
        assetName: input.assetName,
        assetMaintainer: input.assetMaintainer,
      },
      ctx.actor.sub,
    );
    await audit(ctx, project.divisionCode, 'project', project.id, 'project.accept', {
      ...common,
      status: changed(project.status, 'accepted'),
      asset_name: input.assetName,
      asset_maintainer: input.assetMaintainer,
    });
  } else {
    await updateProject(
      ctx.tx,
      project,
      { acceptanceRoute: route, acceptanceStep: index + 1 },
      ctx.actor.sub,
    );
    await audit(ctx, project.divisionCode, 'project', project.id, 'project.acceptance_stage', {
      ...common,
      acceptance_step: changed(index, index + 1),
    });
  }
  return acceptanceState(ctx.tx, id, today(ctx.now));
}
