import { z } from '@hono/zod-openapi';
import {
  acceptanceCheckLabels,
  acceptanceChecks,
  acceptanceFlagKinds,
  acceptanceFlagLabels,
  acceptanceStageLabels,
  acceptanceStages,
  paymentStageLabels,
  paymentStages,
} from '@houfu/domain';
import { idParam, isoDate, plainText, uuid } from '../../lib/params.js';
import { json, problem, protectedRoute } from '../../lib/route.js';
import { idempotency, idempotencyHeader } from '../../middleware/idempotency.js';
import { OutputsSchema, sourceSchema, statusSchema } from './projects.routes.js';

const TAGS = ['projects'];
const MAX_FEN = Number.MAX_SAFE_INTEGER;

const fen = (example: number, description: string) =>
  z
    .number()
    .int()
    .openapi({ example, description: `${description} In fen 分 (1 yuan = 100 fen).` });
const fenIn = (example: number, description: string, min = 1) =>
  z
    .number()
    .int()
    .min(min)
    .max(MAX_FEN)
    .openapi({ example, description: `${description} In fen 分 (1 yuan = 100 fen).` });
const villageCode = z
  .number()
  .int()
  .min(100_000_000_000)
  .max(999_999_999_999)
  .openapi({ example: 420581100201, description: '12-digit statistical code of a village of the county.' });

// ── Progress reports 进度报告 ─────────────────────────────────────────────────────────────────────

const ProgressInputSchema = z
  .strictObject({
    reported_on: isoDate.openapi({ example: '2026-06-30', description: 'The day the figures stand on.' }),
    investment_completed_fen: fenIn(1_970_000_000, 'Investment completed 完成投资 so far (cumulative).', 0),
    percent_complete: z.number().int().min(0).max(100).openapi({
      example: 60,
      description:
        'Work done 形象进度, 0–100 (cumulative; never below the last report). 100 completes the project.',
    }),
    achieved_outputs: OutputsSchema.optional().openapi({
      description: '完成建设内容: quantities achieved so far per kind, like the planned outputs.',
    }),
    village_codes: z
      .array(villageCode)
      .min(1)
      .max(50)
      .openapi({
        description:
          'Where the work was done 实施地点 (villages of the county); compared with the approved villages at acceptance (`plan_moved`).',
        example: [420581100201],
      }),
    comment: plainText(1000).optional().openapi({ example: '路基完成，正在铺设路面' }),
  })
  .openapi('CreateProgressReport', {
    example: {
      reported_on: '2026-06-30',
      investment_completed_fen: 1_970_000_000,
      percent_complete: 60,
      achieved_outputs: { road_km: '8.2' },
      village_codes: [420581100201],
      comment: '路基完成，正在铺设路面',
    },
  });

export const ProgressReportSchema = z
  .object({
    id: z.uuid(),
    seq: z.number().int().openapi({ example: 1 }),
    reported_on: z.string().openapi({ example: '2026-06-30' }),
    investment_completed_fen: fen(1_970_000_000, 'Investment completed 完成投资 (cumulative).'),
    percent_complete: z.number().int().openapi({ example: 60 }),
    achieved_outputs: z.record(z.string(), z.string()).openapi({ example: { road_km: '8.2' } }),
    village_codes: z.array(z.number().int()).openapi({ example: [420581100201] }),
    comment: z.string().nullable(),
    created_by: z.string(),
    created_at: z.string(),
  })
  .openapi('ProgressReport', { description: '进度报告: cumulative progress of a project on a day.' });

export const createProgressReport = protectedRoute('projects:write', {
  method: 'post',
  path: '/v1/projects/{id}/progress-reports',
  operationId: 'createProgressReport',
  tags: TAGS,
  summary: 'Report a project’s progress',
  description: `进度报告 of an approved project being built (status \`approved\` or \`in_progress\`): investment completed,
percent done, outputs achieved and where the work was done, all cumulative. The first report moves the
project to \`in_progress\`; a report at 100% to \`completed\` (ready for acceptance). Progress and dates never go
back (422). Send an \`Idempotency-Key\` to make retries safe. Audited (\`project.progress\`).`,
  middleware: [idempotency({ required: false })],
  request: {
    params: idParam,
    headers: idempotencyHeader(false),
    body: { required: true, content: { 'application/json': { schema: ProgressInputSchema } } },
  },
  responses: {
    201: json(ProgressReportSchema, 'Recorded.'),
    404: problem('No such project in your county.'),
    409: problem('The project is not approved, or already completed, accepted or cancelled.'),
    422: problem(
      'A date in the future or before the last report, progress going back, a village not of the county, or more investment than the total.',
    ),
  },
});

export const listProgressReports = protectedRoute('projects:read', {
  method: 'get',
  path: '/v1/projects/{id}/progress-reports',
  operationId: 'listProgressReports',
  tags: TAGS,
  summary: 'A project’s progress reports',
  description: 'Every progress report of the project, oldest first.',
  request: { params: idParam },
  responses: {
    200: json(
      z.object({ data: z.array(ProgressReportSchema) }).openapi('ProgressReportList'),
      'The reports.',
    ),
    404: problem('No such project in your scope.'),
  },
});

// ── Contracts 施工合同 ─────────────────────────────────────────────────────────────────────────────

const ContractInputSchema = z
  .strictObject({
    contractor: plainText(200).openapi({ example: '宜都市路桥建设有限公司', description: '承包单位.' }),
    contract_no: plainText(100).openapi({
      example: 'YD-2026-GL-01',
      description: '合同编号 (unique per project).',
    }),
    amount_fen: fenIn(3_000_000_000, 'Contract amount 合同金额.'),
    signed_on: isoDate.openapi({ example: '2026-04-01' }),
  })
  .openapi('CreateProjectContract', {
    example: {
      contractor: '宜都市路桥建设有限公司',
      contract_no: 'YD-2026-GL-01',
      amount_fen: 3_000_000_000,
      signed_on: '2026-04-01',
    },
  });

export const ProjectContractSchema = z
  .object({
    id: z.uuid(),
    project_id: z.uuid(),
    contractor: z.string().openapi({ example: '宜都市路桥建设有限公司' }),
    contract_no: z.string().openapi({ example: 'YD-2026-GL-01' }),
    amount_fen: fen(3_000_000_000, 'Contract amount.'),
    signed_on: z.string().openapi({ example: '2026-04-01' }),
    paid_fen: fen(300_000_000, 'Paid on the contract so far.'),
    created_by: z.string(),
    created_at: z.string(),
  })
  .openapi('ProjectContract', { description: '施工合同: a contract of a project with a contractor.' });

export const createProjectContract = protectedRoute('projects:write', {
  method: 'post',
  path: '/v1/projects/{id}/contracts',
  operationId: 'createProjectContract',
  tags: TAGS,
  summary: 'Record a contract with a contractor',
  description: `施工合同 of an approved project (approved, in progress or completed). The payment schedule applies per contract;
all contracts together stay within the project's total investment (422 \`exceeds_total\`); a contract number
is recorded once per project (409). Send an \`Idempotency-Key\` to make retries safe. Audited
(\`project.contract\`).`,
  middleware: [idempotency({ required: false })],
  request: {
    params: idParam,
    headers: idempotencyHeader(false),
    body: { required: true, content: { 'application/json': { schema: ContractInputSchema } } },
  },
  responses: {
    201: json(ProjectContractSchema, 'Recorded.'),
    404: problem('No such project in your county.'),
    409: problem('The project is not approved, or the contract number is taken.'),
    422: problem('Contracts would exceed the total investment, or the date is in the future.'),
  },
});

export const listProjectContracts = protectedRoute('projects:read', {
  method: 'get',
  path: '/v1/projects/{id}/contracts',
  operationId: 'listProjectContracts',
  tags: TAGS,
  summary: 'A project’s contracts',
  description: 'The contracts of the project with what each has been paid, by signing date.',
  request: { params: idParam },
  responses: {
    200: json(
      z.object({ data: z.array(ProjectContractSchema) }).openapi('ProjectContractList'),
      'The contracts.',
    ),
    404: problem('No such project in your scope.'),
  },
});

// ── Payments 工程款支付 ────────────────────────────────────────────────────────────────────────────

const paymentKinds = [...paymentStages, 'quality_deposit'] as const;
const paymentStageSchema = z.enum(paymentKinds).openapi({
  description: `拨付阶段: ${paymentStages.map((s) => `\`${s}\` ${paymentStageLabels[s]}`).join('; ')}; \`quality_deposit\` 质量保证金 (released after acceptance).`,
  example: 'contract',
});

const PaymentInputSchema = z
  .strictObject({
    contract_id: uuid().openapi({ description: 'The contract paid (one of the project’s).' }),
    funding_line_id: uuid().openapi({
      description: 'The funding line charged (`funding_lines[].id` of the project).',
    }),
    stage: paymentStageSchema,
    amount_fen: fenIn(300_000_000, 'Paid now.'),
    paid_on: isoDate.openapi({ example: '2026-04-10' }),
    reference: plainText(100).openapi({
      example: '宜都报账〔2026〕031号',
      description: 'The county account’s voucher number 报账凭证号 (unique in the county).',
    }),
  })
  .openapi('CreateProjectPayment', {
    example: {
      contract_id: '3f0c8a52-7c1e-4b7f-9d3e-2a6b1c9e4f10',
      funding_line_id: '8d2e4c17-5b3a-4f6e-a1c9-7e0b2d4f6a83',
      stage: 'contract',
      amount_fen: 300_000_000,
      paid_on: '2026-04-10',
      reference: '宜都报账〔2026〕031号',
    },
  });

export const ProjectPaymentSchema = z
  .object({
    id: z.uuid(),
    project_id: z.uuid(),
    contract_id: z.uuid(),
    funding_line_id: z.uuid(),
    source: sourceSchema.nullable().openapi({ description: 'The source of the line charged.' }),
    stage: paymentStageSchema,
    amount_fen: fen(300_000_000, 'Paid.'),
    paid_on: z.string().openapi({ example: '2026-04-10' }),
    reference: z.string().openapi({ example: '宜都报账〔2026〕031号' }),
    created_by: z.string(),
    created_at: z.string(),
  })
  .openapi('ProjectPayment', {
    description: '工程款支付: a payment to a contractor charged to a funding line.',
  });

export const createProjectPayment = protectedRoute('projects:pay', {
  method: 'post',
  path: '/v1/projects/{id}/payments',
  operationId: 'createProjectPayment',
  tags: TAGS,
  summary: 'Pay a contractor',
  description: `工程款支付 from the county account (县级报账制) on a contract of an approved project, charged to one of the
project's funding lines. No approved plan, no money: a project not approved (or cancelled) is 409. The
contract's cumulative payments stay within the province's schedule \`projects.payment_schedule\` (default 10%
on contract, 40% at half done, 30% at completion, 10% after final accounts and acceptance, 10% quality
deposit released after acceptance) at the project's last reported progress: 422 \`stage_not_reached\` or
\`exceeds_schedule\` with what may still be paid. The line never pays more than its amount, and a line of an
allocated source never more than the county's balance committed for it: 409 \`insufficient_funds\`. Each
limit is one guarded UPDATE, so concurrent payments never overspend. The first payment moves the project
to \`in_progress\`; \`paid_fen\` of the line, the contract and the county's balance grow. \`Idempotency-Key\` is
required: money moves. Audited (\`project.payment\`).`,
  middleware: [idempotency({ required: true })],
  request: {
    params: idParam,
    headers: idempotencyHeader(true),
    body: { required: true, content: { 'application/json': { schema: PaymentInputSchema } } },
  },
  responses: {
    201: json(ProjectPaymentSchema, 'Paid.'),
    404: problem('No such project in your county.'),
    409: problem(
      'The project is not approved, the reference is taken, or the line or balance cannot cover it (`insufficient_funds`).',
    ),
    422: problem(
      'Beyond the payment schedule (`exceeds_schedule`, `stage_not_reached`), not the project’s contract or funding line, or a date in the future or before the contract.',
    ),
  },
});

export const listProjectPayments = protectedRoute('projects:read', {
  method: 'get',
  path: '/v1/projects/{id}/payments',
  operationId: 'listProjectPayments',
  tags: TAGS,
  summary: 'A project’s contractor payments',
  description: 'Every payment of the project with the line charged, by payment date.',
  request: { params: idParam },
  responses: {
    200: json(
      z.object({ data: z.array(ProjectPaymentSchema) }).openapi('ProjectPaymentList'),
      'The payments.',
    ),
    404: problem('No such project in your scope.'),
  },
});

// ── Completion acceptance 竣工验收 ─────────────────────────────────────────────────────────────────

const stageSchema = z.enum(acceptanceStages).openapi({
  description: `验收阶段: ${acceptanceStages.map((s) => `\`${s}\` ${acceptanceStageLabels[s]}`).join('; ')}.`,
  example: 'self_check',
});
const flagKindSchema = z.enum(acceptanceFlagKinds).openapi({
  description: `${acceptanceFlagKinds.map((f) => `\`${f}\` ${acceptanceFlagLabels[f]}`).join('; ')}.`,
});

const CheckSchema = z.strictObject({
  passed: z.boolean().openapi({ example: true }),
  note: plainText(500).optional().openapi({ example: '路面平整，无裂缝' }),
});

const AcceptanceInputSchema = z
  .strictObject({
    stage: stageSchema.optional().openapi({
      description: 'The stage you act on (as you read it): 409 when another stage awaits action.',
    }),
    result: z.enum(['passed', 'failed']).openapi({
      example: 'passed',
      description: '`failed` sends the project back to `in_progress` for rectification 整改.',
    }),
    checks: z
      .strictObject(
        Object.fromEntries(
          acceptanceChecks.map((c) => [c, CheckSchema.openapi({ description: acceptanceCheckLabels[c] })]),
        ) as Record<(typeof acceptanceChecks)[number], typeof CheckSchema>,
      )
      .openapi({
        description: `验收内容, all six: ${acceptanceChecks.map((c) => `\`${c}\` ${acceptanceCheckLabels[c]}`).join('; ')}.`,
      }),
    comment: plainText(1000).optional().openapi({ example: '工程质量合格，资料齐全' }),
    participants: plainText(500).optional().openapi({
      example: '县移民局、县财政局、县发改局',
      description: 'Who took part (the county acceptance includes the finance and development departments).',
    }),
    asset_name: plainText(200).optional().openapi({
      example: '白水港村通组公路 13.62 公里',
      description: 'The last stage: the asset handed over 资产移交.',
    }),
    asset_maintainer: plainText(100).optional().openapi({
      example: '白水港村村民委员会',
      description: 'The last stage: who maintains it 管护责任人.',
    }),
  })
  .openapi('ProjectAcceptanceAction', {
    example: {
      stage: 'self_check',
      result: 'passed',
      checks: Object.fromEntries(acceptanceChecks.map((c) => [c, { passed: true }])),
      comment: '工程质量合格，资料齐全',
      participants: '县移民局、县财政局、县发改局',
      asset_name: '白水港村通组公路 13.62 公里',
      asset_maintainer: '白水港村村民委员会',
    },
  });

const FlagSchema = z
  .object({
    flag: flagKindSchema,
    message: z.string().openapi({ example: '未完成批复建设内容：道路硬化' }),
    detail: z.record(z.string(), z.unknown()).openapi({
      description:
        '`plan_moved`: `{missing, added}` villages; `work_undone`: `{kinds}`; `funds_diverted`: `{payments, amountFen}` (indexes in payment order).',
      example: { kinds: ['road_km'] },
    }),
  })
  .openapi('AcceptanceFlag', {
    description:
      'A failure of seed 000’s principle 项目计划不挪位、项目实施不缺位、项目资金不挪用: plan moved, work undone, funds diverted.',
  });

const AcceptanceRecordSchema = z
  .object({
    seq: z.number().int(),
    stage: stageSchema,
    result: z.enum(['passed', 'failed']),
    checks: z.record(z.string(), z.object({ passed: z.boolean(), note: z.string().optional() })),
    flags: z.array(FlagSchema),
    comment: z.string().nullable(),
    participants: z.string().nullable(),
    asset_name: z.string().nullable(),
    asset_maintainer: z.string().nullable(),
    actor: z.string(),
    actor_division: z.number().int(),
    at: z.string(),
  })
  .openapi('ProjectAcceptanceRecord', { description: '验收记录: one acceptance stage acted on.' });

export const ProjectAcceptanceSchema = z
  .object({
    project_id: z.uuid(),
    status: statusSchema,
    route: z.array(
      z.object({
        index: z.number().int(),
        stage: stageSchema,
        label: z.string().openapi({ example: '县级验收' }),
        level: z.enum(['county', 'city', 'province']),
        state: z.enum(['done', 'current', 'pending']),
      }),
    ),
    current_stage: stageSchema.nullable().openapi({ description: 'The stage awaiting action, if any.' }),
    flags: z
      .array(FlagSchema)
      .openapi({ description: 'The flags as of now (a stage cannot pass with any).' }),
    asset_name: z.string().nullable(),
    asset_maintainer: z.string().nullable(),
    accepted_at: z.string().nullable(),
    records: z.array(AcceptanceRecordSchema),
  })
  .openapi('ProjectAcceptance', { description: '竣工验收: where a project’s completion acceptance stands.' });

export const getProjectAcceptance = protectedRoute('projects:read', {
  method: 'get',
  path: '/v1/projects/{id}/acceptance',
  operationId: 'getProjectAcceptance',
  tags: TAGS,
  summary: 'A project’s completion acceptance',
  description: `The acceptance route (fixed at its first stage; before that, as the province's \`projects.acceptance_levels\`
give it today), the stage awaiting action, the flags as of now — \`plan_moved\` (the villages of the last
progress report differ from the approved ones), \`work_undone\` (a planned output achieved below plan),
\`funds_diverted\` (a payment not charged to a line of this project); before the first progress report only
\`funds_diverted\` is judged — and every stage acted on.`,
  request: { params: idParam },
  responses: {
    200: json(ProjectAcceptanceSchema, 'The acceptance.'),
    404: problem('No such project in your scope.'),
  },
});

export const acceptProject = protectedRoute('projects:accept', {
  method: 'post',
  path: '/v1/projects/{id}/acceptance',
  operationId: 'actOnProjectAcceptance',
  tags: TAGS,
  summary: 'Act on the acceptance stage awaiting action',
  description: `竣工验收 of a completed project: the owner's self-check 自检 and the county's acceptance 县级验收 (with the
finance and development departments) by the county, then the city 市级验收 from \`cityFen\` and the province
省级验收 from \`provinceFen\` (\`projects.acceptance_levels\`, default 50万 and 100万 yuan). Only the level of the
stage awaiting action acts on it; anyone else 403. A stage passes with all six checks passed and no flag
(422 naming each failed check and flag); the last stage names the asset handed over and its maintainer, and
the project is \`accepted\`. \`failed\` sends it back to \`in_progress\` for rectification 整改 (the route
starts again when it completes). Send an \`Idempotency-Key\` to make retries safe. Audited
(\`project.acceptance_stage\`, \`project.accept\`, \`project.acceptance_fail\`).`,
  middleware: [idempotency({ required: false })],
  request: {
    params: idParam,
    headers: idempotencyHeader(false),
    body: { required: true, content: { 'application/json': { schema: AcceptanceInputSchema } } },
  },
  responses: {
    200: json(ProjectAcceptanceSchema, 'Done.'),
    403: problem('The stage awaiting action is for another level.'),
    404: problem('No such project in your scope.'),
    409: problem('The project is not completed, or another stage awaits action.'),
    422: problem('A check not passed, a flag open, or the handover missing on the last stage.'),
  },
});
