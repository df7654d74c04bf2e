import { z } from '@hono/zod-openapi';
import { fundingSourceLabels, fundingSources, trainingKindLabels, trainingKinds } from '@houfu/domain';
import { ifMatchHeader } from '../../lib/etag.js';
import { pageQuery, pageSchema } from '../../lib/pagination.js';
import { divisionCodeParam, idParam, isoDate, plainText, uuid } from '../../lib/params.js';
import { json, problem, protectedRoute } from '../../lib/route.js';
import { idempotency, idempotencyHeader } from '../../middleware/idempotency.js';
import { CSV_TYPE, XLSX_TYPE } from '../imports/imports.reader.js';
import {
  ATTENDANCE_MAX_BYTES,
  ATTENDANCE_MAX_ROWS,
  attendanceColumns,
  attendanceOutcomes,
  attendanceReasonLabels,
  attendanceReasons,
} from './training.attendance.js';

const TAGS = ['training'];
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
const count = (example: number, description: string, min = 0) =>
  z.number().int().min(min).max(10_000_000).openapi({ example, description });

export const kindSchema = z.enum(trainingKinds).openapi({
  description: `培训类别: ${trainingKinds.map((k) => `\`${k}\` ${trainingKindLabels[k]}`).join('; ')}.`,
  example: 'practical_skills',
});
const sourceSchema = z.enum(fundingSources).openapi({
  description: `资金来源: ${fundingSources.map((s) => `\`${s}\` ${fundingSourceLabels[s]}`).join('; ')}.`,
  example: 'post_support',
});
export const planStatusSchema = z.enum(['draft', 'submitted', 'returned', 'approved']).openapi({
  description: '计划状态: `draft` 草稿, `submitted` 已上报, `returned` 已退回, `approved` 已批复.',
});
const yearSchema = z
  .number()
  .int()
  .min(2006)
  .max(2200)
  .openapi({ example: 2026, description: 'Plan year 年度.' });
const yearQuery = z
  .string()
  .max(4)
  .regex(/^\d{4}$/, 'Expected a year')
  .transform(Number)
  .refine((y) => y >= 2006 && y <= 2200, 'Expected a year 2006–2200')
  .openapi({ type: 'integer', minimum: 2006, maximum: 2200, example: 2026 });

// ── Plans ───────────────────────────────────────────────────────────────────────────────────────

const SEED_LINES = [
  {
    kind: 'practical_skills',
    sessions: 40,
    trainees: 1014,
    trainee_times: 3600,
    courses: ['柑桔栽培', '蔬菜生产', '水产养殖'],
    budget_fen: 77_420_000,
  },
  {
    kind: 'cadre',
    sessions: 1,
    trainees: 100,
    trainee_times: 100,
    courses: ['移民政策'],
    budget_fen: 8_000_000,
  },
];
const SEED_FUNDING = [{ source: 'post_support', amount_fen: 85_420_000 }];

const PlanLineInput = z
  .strictObject({
    kind: kindSchema,
    sessions: count(40, 'Planned sessions 培训期次.'),
    trainees: count(1014, 'Planned trainees 培训人数 (people); the per-trainee cap applies to them.'),
    trainee_times: count(3600, 'Planned trainee-times 培训人次, at least the trainees.'),
    courses: z
      .array(plainText(40))
      .min(1)
      .max(30)
      .openapi({ example: ['柑桔栽培', '蔬菜生产'], description: 'Courses 培训内容.' }),
    budget_fen: fenIn(77_420_000, 'Budget of the line 培训经费.', 0),
  })
  .openapi('TrainingPlanLineInput');

const FundingLineInput = z
  .strictObject({ source: sourceSchema, amount_fen: fenIn(85_420_000, 'Amount of this source.') })
  .openapi('TrainingFundingLineInput');

const planBody = {
  name: plainText(100).openapi({ example: '2026年度移民培训计划' }),
  lines: z
    .array(PlanLineInput)
    .min(1)
    .max(trainingKinds.length)
    .openapi({ description: 'One line per kind.' }),
  funding_lines: z.array(FundingLineInput).min(1).max(fundingSources.length).openapi({
    description:
      '资金来源: one line per source; they add up to the plan’s budget (the sum of the lines) exactly.',
  }),
};

const CreatePlanSchema = z.strictObject({ year: yearSchema, ...planBody }).openapi('CreateTrainingPlan', {
  example: { year: 2026, name: '2026年度移民培训计划', lines: SEED_LINES, funding_lines: SEED_FUNDING },
});

const ReplacePlanSchema = z.strictObject(planBody).openapi('ReplaceTrainingPlan', {
  example: { name: '2026年度移民培训计划（修订）', lines: SEED_LINES, funding_lines: SEED_FUNDING },
});

const RouteStepSchema = z
  .object({
    index: z.number().int(),
    level: z.enum(['city', 'province']),
    action: z.enum(['review', 'approve', 'record']),
    scope: z.enum(['feasibility_and_design', 'feasibility', 'design']).nullable(),
    label: z.string().openapi({ example: '市级审核' }),
    state: z.enum(['done', 'current', 'pending']),
  })
  .openapi('TrainingRouteStep');

export const TrainingPlanSchema = z
  .object({
    id: z.uuid(),
    county_code: z.number().int().openapi({ example: 420581 }),
    county_name: z.string().nullable().openapi({ example: '宜都市' }),
    year: z.number().int().openapi({ example: 2026 }),
    name: z.string().openapi({ example: '2026年度移民培训计划' }),
    budget_fen: fen(85_420_000, 'The plan’s budget 计划总经费: the sum of the lines.'),
    spent_fen: fen(0, 'Spent so far on sessions, all lines.'),
    lines: z.array(
      z.object({
        kind: kindSchema,
        label: z.string().openapi({ example: '移民实用技术培训' }),
        sessions: z.number().int(),
        trainees: z.number().int(),
        trainee_times: z.number().int(),
        courses: z.array(z.string()),
        budget_fen: fen(77_420_000, 'Budget of the line.'),
        spent_fen: fen(0, 'Spent on sessions of this kind.'),
        cost_per_trainee_fen: fen(76_351, 'Budget / trainees, rounded half up (display only).'),
      }),
    ),
    funding_lines: z.array(z.object({ source: sourceSchema, amount_fen: fen(85_420_000, 'Amount.') })),
    status: planStatusSchema,
    locked: z
      .boolean()
      .openapi({ description: 'Submitted or approved: edits answer 409 `training_plan_locked`.' }),
    route: z
      .array(RouteStepSchema)
      .nullable()
      .openapi({ description: 'The approval route (null before submission).' }),
    current_step: z.number().int().nullable(),
    history: z.array(
      z.object({
        seq: z.number().int(),
        level: z.enum(['county', 'city', 'province']),
        action: z.string().openapi({ example: 'submit' }),
        decision: z.string().openapi({ example: 'submitted' }),
        comment: z.string().nullable(),
        actor: z.string(),
        actor_division: z.number().int(),
        at: z.string(),
      }),
    ),
    submitted_at: z.string().nullable(),
    approved_at: z.string().nullable(),
    version: z.number().int().openapi({ example: 1 }),
    created_by: z.string(),
    created_at: z.string(),
    updated_by: z.string(),
    updated_at: z.string(),
  })
  .openapi('TrainingPlan', { description: '年度培训计划: a county’s annual training plan.' });

const etagHeader = z.object({ etag: z.string().openapi({ example: '"v1"' }) });

export const createTrainingPlan = protectedRoute('training:write', {
  method: 'post',
  path: '/v1/training-plans',
  operationId: 'createTrainingPlan',
  tags: TAGS,
  summary: 'Enter the county’s annual training plan',
  description: `A county clerk enters the annual plan 年度培训计划 (status \`draft\`): one line per kind (cadre
training 干部培训, migrants' practical skills 实用技术培训) with sessions, trainees, trainee-times, courses and
budget, and the funding lines 资金来源. Checked with the province’s \`training.budget_rules\` in force today
(cost per trainee ≤ cap × trainees, county annual cap, cadre/practical split) and the \`training\` rule of
\`projects.funding_rules\`: 422 naming the field. One plan per county and year (409). Audited.`,
  middleware: [idempotency({ required: false })],
  request: {
    headers: idempotencyHeader(false),
    body: { required: true, content: { 'application/json': { schema: CreatePlanSchema } } },
  },
  responses: {
    201: {
      ...json(TrainingPlanSchema, 'Created.'),
      headers: z.object({
        location: z.string().openapi({ example: '/v1/training-plans/{id}' }),
        etag: z.string(),
      }),
    },
    403: problem('Only a county clerk enters the county’s plan.'),
    409: problem('The county already has a plan for the year.'),
    422: problem(
      'A budget rule is broken (`cost_per_trainee_above_cap`, `above_county_cap`, `sum_mismatch`, …).',
    ),
  },
});

export const listTrainingPlans = protectedRoute('training:read', {
  method: 'get',
  path: '/v1/training-plans',
  operationId: 'listTrainingPlans',
  tags: TAGS,
  summary: 'List training plans',
  description: 'Annual training plans of the counties in your scope, by county then year.',
  request: {
    query: z.object({
      county: divisionCodeParam.optional().openapi({ description: 'One county.', example: 420581 }),
      year: yearQuery.optional(),
      status: planStatusSchema.optional(),
      ...pageQuery,
    }),
  },
  responses: { 200: json(pageSchema(TrainingPlanSchema, 'TrainingPlanPage'), 'A page of plans.') },
});

export const getTrainingPlan = protectedRoute('training:read', {
  method: 'get',
  path: '/v1/training-plans/{id}',
  operationId: 'getTrainingPlan',
  tags: TAGS,
  summary: 'Get a training plan',
  description: 'The plan with its lines (budget and spending), funding, route and history; `ETag` for `PUT`.',
  request: { params: idParam },
  responses: {
    200: { ...json(TrainingPlanSchema, 'The plan.'), headers: etagHeader },
    404: problem('No such plan in your scope.'),
  },
});

export const replaceTrainingPlan = protectedRoute('training:write', {
  method: 'put',
  path: '/v1/training-plans/{id}',
  operationId: 'replaceTrainingPlan',
  tags: TAGS,
  summary: 'Replace a draft or returned training plan',
  description:
    'Replaces the name, lines and funding lines (`If-Match` required), checked like a new plan. A submitted or approved plan is locked: 409 `training_plan_locked`. Audited with the old and new values.',
  request: {
    params: idParam,
    headers: ifMatchHeader,
    body: { required: true, content: { 'application/json': { schema: ReplacePlanSchema } } },
  },
  responses: {
    200: { ...json(TrainingPlanSchema, 'Replaced.'), headers: etagHeader },
    404: problem('No such plan in your county.'),
    409: problem('The plan is submitted or approved (`training_plan_locked`).'),
    412: problem('The plan changed since you read it (stale If-Match).'),
    422: problem('A budget rule is broken.'),
    428: problem('If-Match is missing.'),
  },
});

const action = <P extends string>(path: P, operationId: string, summary: string, description: string) => ({
  method: 'post' as const,
  path,
  operationId,
  tags: TAGS,
  summary,
  description: `${description} Send an \`Idempotency-Key\` to make retries safe.`,
  middleware: [idempotency({ required: false })],
});

const SubmitSchema = z
  .strictObject({ comment: plainText(1000).optional().openapi({ example: '已按意见修改' }) })
  .openapi('SubmitTrainingPlan', { example: { comment: '已按意见修改' } });

export const submitTrainingPlan = protectedRoute('training:write', {
  ...action(
    '/v1/training-plans/{id}/submit',
    'submitTrainingPlan',
    'Submit (or resubmit) a training plan for approval',
    'draft or returned → submitted: the budget rules are checked again and the route is computed from the budget with the province’s `training.approval_thresholds` in force today (default: ≥ 100万 city review → province approves; 50万–100万 city review → province approves → city approves the implementation scheme; < 50万 city approves → province records 备案). Audited.',
  ),
  request: {
    params: idParam,
    headers: idempotencyHeader(false),
    body: { required: false, content: { 'application/json': { schema: SubmitSchema } } },
  },
  responses: {
    200: json(TrainingPlanSchema, 'Submitted.'),
    404: problem('No such plan in your county.'),
    409: problem('The plan is neither a draft nor returned.'),
    422: problem('A budget rule is broken (the rules in force may have changed).'),
  },
});

const ReviewSchema = z
  .strictObject({
    action: z.enum(['approve', 'return', 'record']).openapi({
      description:
        '`approve` passes a review or approve step; `return` sends the plan back to the county (comment required); `record` completes a record (备案) step.',
    }),
    comment: plainText(1000).optional().openapi({ example: '同意' }),
    step: z.number().int().min(0).max(9).optional().openapi({
      description: 'The step you act on (`current_step` as you read it): 409 when it was acted on meanwhile.',
      example: 0,
    }),
  })
  .openapi('TrainingPlanReviewAction', { example: { action: 'approve', comment: '同意' } });

export const reviewTrainingPlan = protectedRoute('training:approve', {
  ...action(
    '/v1/training-plans/{id}/review',
    'reviewTrainingPlan',
    'Act on the step awaiting action',
    'A reviewer at the level of the current step — the county’s city for a city step, its province for a province step — approves it, returns the plan with a comment, or records it (备案). Anyone else: 403. After the route’s last approve step the plan is approved and locked; sessions and calls for bids need an approved plan. Audited and kept in the plan’s history.',
  ),
  request: {
    params: idParam,
    headers: idempotencyHeader(false),
    body: { required: true, content: { 'application/json': { schema: ReviewSchema } } },
  },
  responses: {
    200: json(TrainingPlanSchema, 'Done.'),
    403: problem('The current step is for another level.'),
    404: problem('No such plan in your scope.'),
    409: problem('No step awaits action, or the step was acted on already.'),
    422: problem('The action does not fit the step.'),
  },
});

// ── Providers ───────────────────────────────────────────────────────────────────────────────────

export const ProviderSchema = z
  .object({
    id: z.uuid(),
    county_code: z.number().int().openapi({ example: 420581 }),
    name: z.string().openapi({ example: '宜都市农业技术推广中心' }),
    credit_code: z.string().nullable().openapi({ example: '12420581MB1234567X' }),
    contact: z.string().nullable().openapi({ example: '0717-4812345' }),
    created_by: z.string(),
    created_at: z.string(),
  })
  .openapi('TrainingProvider', { description: '承训单位: a training provider known to the county.' });

const CreateProviderSchema = z
  .strictObject({
    name: plainText(100).openapi({ example: '宜都市农业技术推广中心' }),
    credit_code: z
      .string()
      .max(18)
      .regex(/^[0-9A-HJ-NPQRTUWXY]{18}$/, 'Expected an 18-character unified social credit code')
      .optional()
      .openapi({ example: '12420581MB1234567X', description: '统一社会信用代码.' }),
    contact: plainText(100).optional().openapi({ example: '0717-4812345' }),
  })
  .openapi('CreateTrainingProvider', {
    example: { name: '宜都市农业技术推广中心', contact: '0717-4812345' },
  });

export const createTrainingProvider = protectedRoute('training:write', {
  method: 'post',
  path: '/v1/training-providers',
  operationId: 'createTrainingProvider',
  tags: TAGS,
  summary: 'Record a training provider',
  description:
    'A county records a provider 承训单位 (school, agricultural service centre, …) that may bid; names are unique in the county (409). Audited.',
  middleware: [idempotency({ required: false })],
  request: {
    headers: idempotencyHeader(false),
    body: { required: true, content: { 'application/json': { schema: CreateProviderSchema } } },
  },
  responses: {
    201: json(ProviderSchema, 'Recorded.'),
    403: problem('Only a county clerk records providers.'),
    409: problem('A provider of that name exists in the county.'),
  },
});

export const listTrainingProviders = protectedRoute('training:read', {
  method: 'get',
  path: '/v1/training-providers',
  operationId: 'listTrainingProviders',
  tags: TAGS,
  summary: 'List training providers',
  description: 'Providers of the counties in your scope.',
  request: {
    query: z.object({
      county: divisionCodeParam.optional().openapi({ description: 'One county.', example: 420581 }),
      ...pageQuery,
    }),
  },
  responses: { 200: json(pageSchema(ProviderSchema, 'TrainingProviderPage'), 'A page of providers.') },
});

// ── Calls for bids ──────────────────────────────────────────────────────────────────────────────

const BidSchema = z
  .object({
    id: z.uuid(),
    provider_id: z.uuid(),
    provider_name: z.string().openapi({ example: '宜都市农业技术推广中心' }),
    price_per_trainee_fen: fen(70_000, 'Price per trainee 人均报价.'),
    scores: z.object({
      scheme: z.number().int().openapi({ example: 90, description: '培训方案 0..100.' }),
      capacity: z.number().int().openapi({ example: 85, description: '师资与场地 0..100.' }),
      record: z.number().int().openapi({ example: 80, description: '以往培训业绩 0..100.' }),
    }),
    created_at: z.string(),
  })
  .openapi('TrainingBid');

const RankedSchema = z.object({
  rank: z.number().int(),
  provider_id: z.string(),
  provider_name: z.string().nullable(),
  price_per_trainee_fen: z.number().int(),
  points_hundredths: z.record(z.string(), z.number().int()),
  total_score: z.string().openapi({ example: '92.00' }),
  selected: z.boolean(),
  reason: z.string().openapi({
    example: '第1名，综合得分 92.00（报价 28.00，培训方案 38.00，师资与场地 18.00，以往培训业绩 8.00），入选',
  }),
});

export const CallSchema = z
  .object({
    id: z.uuid(),
    county_code: z.number().int().openapi({ example: 420581 }),
    plan_id: z.uuid(),
    kind: kindSchema,
    title: z.string().openapi({ example: '2026年移民实用技术培训承训单位竞争性选择' }),
    trainees: z.number().int().openapi({ example: 1014 }),
    budget_fen: fen(77_420_000, 'The call’s budget.'),
    providers: z.number().int().openapi({ example: 2, description: 'Providers to select.' }),
    status: z.enum(['open', 'selected']),
    bids: z.array(BidSchema),
    selection: z
      .object({
        selected: z.array(z.string()),
        ranking: z.array(RankedSchema),
        disqualified: z.array(
          z.object({
            provider_id: z.string(),
            provider_name: z.string().nullable(),
            reason: z.string().openapi({ example: 'above_per_trainee_cap' }),
            message: z.string(),
          }),
        ),
        min_bids: z.number().int().openapi({ example: 3 }),
        weights: z.record(z.string(), z.number().int()).openapi({
          example: { price: 30, scheme: 40, capacity: 20, record: 10 },
        }),
        rules_source: z.string(),
        per_trainee_cap_fen: z.number().int(),
        on: z.string().openapi({ example: '2026-03-15' }),
      })
      .nullable()
      .openapi({ description: 'The recorded selection with its reasons (null while open).' }),
    selected_at: z.string().nullable(),
    created_by: z.string(),
    created_at: z.string(),
  })
  .openapi('TrainingCall', { description: '竞争性选择: a call for bids, its bids and the selection.' });

const CreateCallSchema = z
  .strictObject({
    plan_id: uuid(),
    kind: kindSchema,
    title: plainText(100).openapi({ example: '2026年移民实用技术培训承训单位竞争性选择' }),
    trainees: count(1014, 'Trainees to train under the call.', 1),
    budget_fen: fenIn(77_420_000, 'The call’s budget (at most the line’s approved budget).'),
    providers: z.number().int().min(1).max(20).openapi({ example: 2, description: 'Providers to select.' }),
  })
  .openapi('CreateTrainingCall', {
    example: {
      plan_id: '0b6c6f7e-2d0a-4c1e-9f3a-6a2f0e9f1c11',
      kind: 'practical_skills',
      title: '2026年移民实用技术培训承训单位竞争性选择',
      trainees: 1014,
      budget_fen: 77_420_000,
      providers: 2,
    },
  });

export const createTrainingCall = protectedRoute('training:write', {
  method: 'post',
  path: '/v1/training-calls',
  operationId: 'createTrainingCall',
  tags: TAGS,
  summary: 'Open a call for bids',
  description:
    'A county opens a call for bids 竞争性选择 for one kind of its approved plan (409 `conflict` with `plan_not_approved` otherwise), within the line’s approved budget. Audited.',
  middleware: [idempotency({ required: false })],
  request: {
    headers: idempotencyHeader(false),
    body: { required: true, content: { 'application/json': { schema: CreateCallSchema } } },
  },
  responses: {
    201: json(CallSchema, 'Opened.'),
    403: problem('Only a county clerk opens calls.'),
    409: problem('The plan is not approved.'),
    422: problem('Not a plan of your county, no line of the kind, or above the line’s budget.'),
  },
});

export const getTrainingCall = protectedRoute('training:read', {
  method: 'get',
  path: '/v1/training-calls/{id}',
  operationId: 'getTrainingCall',
  tags: TAGS,
  summary: 'Get a call for bids',
  description: 'The call with its bids and, once decided, the recorded selection with points and reasons.',
  request: { params: idParam },
  responses: {
    200: json(CallSchema, 'The call.'),
    404: problem('No such call in your scope.'),
  },
});

const CreateBidSchema = z
  .strictObject({
    provider_id: uuid(),
    price_per_trainee_fen: fenIn(70_000, 'Price per trainee 人均报价.'),
    scores: z.strictObject({
      scheme: z.number().int().min(0).max(100).openapi({ example: 90, description: '培训方案.' }),
      capacity: z.number().int().min(0).max(100).openapi({ example: 85, description: '师资与场地.' }),
      record: z.number().int().min(0).max(100).openapi({ example: 80, description: '以往培训业绩.' }),
    }),
  })
  .openapi('CreateTrainingBid', {
    example: {
      provider_id: '0b6c6f7e-2d0a-4c1e-9f3a-6a2f0e9f1c11',
      price_per_trainee_fen: 70_000,
      scores: { scheme: 90, capacity: 85, record: 80 },
    },
  });

export const createTrainingBid = protectedRoute('training:write', {
  ...action(
    '/v1/training-calls/{id}/bids',
    'createTrainingBid',
    'Record a bid',
    'Records a provider’s bid (price per trainee) with the panel’s scores on an open call; one bid per provider (409). Audited.',
  ),
  request: {
    params: idParam,
    headers: idempotencyHeader(false),
    body: { required: true, content: { 'application/json': { schema: CreateBidSchema } } },
  },
  responses: {
    201: json(CallSchema, 'Recorded; the call with its bids.'),
    404: problem('No such call in your county.'),
    409: problem('The call is decided, or the provider has bid already.'),
    422: problem('Not a provider of the county.'),
  },
});

export const selectTrainingProviders = protectedRoute('training:write', {
  ...action(
    '/v1/training-calls/{id}/selection',
    'selectTrainingProviders',
    'Select the providers of a call',
    'Ranks the bids with the province’s `training.provider_selection` (minimum qualifying bids, weights) and per-trainee cap in force today: bids above the cap or the call’s budget are disqualified; fewer qualifying bids than the minimum answer 422 `too_few_bids` and record nothing. The ranking, points, reasons and disqualifications are recorded and audited.',
  ),
  request: { params: idParam, headers: idempotencyHeader(false) },
  responses: {
    200: json(CallSchema, 'Selected.'),
    404: problem('No such call in your county.'),
    409: problem('The call was decided already.'),
    422: problem('Too few qualifying bids (`too_few_bids`, `fewer_bids_than_providers`).'),
  },
});

// ── Sessions ────────────────────────────────────────────────────────────────────────────────────

export const SessionSchema = z
  .object({
    id: z.uuid(),
    county_code: z.number().int().openapi({ example: 420581 }),
    plan_id: z.uuid(),
    kind: kindSchema,
    held_on: z.string().openapi({ example: '2026-04-12' }),
    place: z.string().openapi({ example: '红花套镇农技站' }),
    provider_id: z.uuid().nullable(),
    course: z.string().openapi({ example: '柑桔栽培' }),
    trainees: z.number().int().openapi({ example: 90, description: 'Headcount 参训人数 (trainee-times).' }),
    person_ids: z.array(z.string()).openapi({ description: 'Registered persons known to have attended.' }),
    materials: z
      .number()
      .int()
      .openapi({ example: 100, description: 'Materials handed out 发放资料 (copies).' }),
    cost_fen: fen(6_300_000, 'Cost 培训费用.'),
    created_by: z.string(),
    created_at: z.string(),
  })
  .openapi('TrainingSession', { description: '培训期次: one session of an approved plan.' });

const CreateSessionSchema = z
  .strictObject({
    plan_id: uuid(),
    kind: kindSchema,
    held_on: isoDate.openapi({ example: '2026-04-12' }),
    place: plainText(200).openapi({ example: '红花套镇农技站' }),
    provider_id: uuid()
      .optional()
      .openapi({ description: 'A provider of the county (selected, if a call decided).' }),
    course: plainText(100).openapi({ example: '柑桔栽培' }),
    trainees: count(90, 'Headcount 参训人数.', 1),
    person_ids: z
      .array(uuid())
      .max(1000)
      .optional()
      .openapi({ description: 'Registered persons (of the county’s registry) known to have attended.' }),
    materials: count(100, 'Materials handed out 发放资料 (copies).').optional(),
    cost_fen: fenIn(6_300_000, 'Cost 培训费用, counted against the plan line.'),
  })
  .openapi('CreateTrainingSession', {
    example: {
      plan_id: '0b6c6f7e-2d0a-4c1e-9f3a-6a2f0e9f1c11',
      kind: 'practical_skills',
      held_on: '2026-04-12',
      place: '红花套镇农技站',
      course: '柑桔栽培',
      trainees: 90,
      materials: 100,
      cost_fen: 6_300_000,
    },
  });

export const createTrainingSession = protectedRoute('training:write', {
  method: 'post',
  path: '/v1/training-sessions',
  operationId: 'createTrainingSession',
  tags: TAGS,
  summary: 'Record a training session',
  description: `Records a session of an approved plan's kind and counts its cost against the line: the plan must be
approved (409 \`conflict\`, \`plan_not_approved\`); the cost per trainee must stay within the province's cap
(422 \`cost_per_trainee_above_cap\`); the spending may never exceed the approved budget of the line (409
\`training_budget_exceeded\` with what is left) — one guarded UPDATE, safe under concurrent sessions. The
provider must be of the county and, once a call of the kind is decided, one selected by it. Audited.
An \`Idempotency-Key\` is required: a session spends money and has no natural key, so a retried request
must not record it twice.`,
  middleware: [idempotency({ required: true })],
  request: {
    headers: idempotencyHeader(true),
    body: { required: true, content: { 'application/json': { schema: CreateSessionSchema } } },
  },
  responses: {
    201: json(SessionSchema, 'Recorded.'),
    403: problem('Only a county clerk records sessions.'),
    409: problem('The plan is not approved, or the budget would be exceeded (`training_budget_exceeded`).'),
    422: problem(
      'Above the per-trainee cap, outside the plan year, an unknown person or provider, or no line of the kind.',
    ),
  },
});

export const listTrainingSessions = protectedRoute('training:read', {
  method: 'get',
  path: '/v1/training-sessions',
  operationId: 'listTrainingSessions',
  tags: TAGS,
  summary: 'List training sessions',
  description: 'Sessions in your scope, by date; optionally of one plan.',
  request: {
    query: z.object({
      plan_id: uuid().optional().openapi({ description: 'One plan.' }),
      ...pageQuery,
    }),
  },
  responses: { 200: json(pageSchema(SessionSchema, 'TrainingSessionPage'), 'A page of sessions.') },
});

export const getTrainingSession = protectedRoute('training:read', {
  method: 'get',
  path: '/v1/training-sessions/{id}',
  operationId: 'getTrainingSession',
  tags: TAGS,
  summary: 'Get a training session',
  description: 'One session with the registered persons linked to it.',
  request: { params: idParam },
  responses: {
    200: json(SessionSchema, 'The session.'),
    404: problem('No such session in your scope.'),
  },
});

// ── Attendance imports ──────────────────────────────────────────────────────────────────────────

const attendanceColumnTable = attendanceColumns
  .map((c) => `| ${c.header} | ${c.required ? '是' : '否'} | ${c.description} |`)
  .join('\n');
const attendanceReasonList = attendanceReasons.map((r) => `\`${r}\` ${attendanceReasonLabels[r]}`).join('; ');

const ATTENDANCE_FORMAT_DESCRIPTION = `The first non-empty row holds the headers (exact Chinese names, any order; other columns are
ignored; a missing required or a repeated header refuses the file, 422 \`invalid_header\`):

| 列名 | 必填 | 说明 |
|---|---|---|
${attendanceColumnTable}

CSV: UTF-8 (with or without BOM) or GB18030/GBK (declare \`charset=gb18030\`, or leave it out and a file that
is not valid UTF-8 is read as GB18030). XLSX: the first worksheet. Up to ${ATTENDANCE_MAX_BYTES} bytes (413 beyond)
and ${ATTENDANCE_MAX_ROWS} data rows (422 \`too_many_rows\`); blank rows are skipped.`;

const attendanceCount = (description: string) => z.number().int().openapi({ description });

export const AttendanceImportSchema = z
  .object({
    session_id: z.uuid(),
    format: z.enum(['csv', 'xlsx']),
    counts: z
      .object({
        rows: attendanceCount('Data rows of the list (blank rows skipped).'),
        linked: attendanceCount('Rows whose person was linked to the session now.'),
        already_linked: attendanceCount('Rows whose person was linked before (not duplicated).'),
        not_registered: attendanceCount('Valid ID numbers of no person of the county’s registry.'),
        invalid: attendanceCount(
          'Rows with a missing name or ID, an invalid ID, a name that differs from the registry’s or an ID repeated in the list.',
        ),
      })
      .openapi({ example: { rows: 3, linked: 1, already_linked: 1, not_registered: 0, invalid: 1 } }),
    trainees: z.number().int().openapi({ example: 90, description: 'The session’s headcount 参训人数.' }),
    persons_linked: z
      .number()
      .int()
      .openapi({ example: 2, description: 'Registered persons linked to the session now (≤ trainees).' }),
    rows: z.array(
      z.object({
        row: z
          .number()
          .int()
          .openapi({ example: 2, description: 'Spreadsheet row number (the header is row 1).' }),
        name: z
          .string()
          .nullable()
          .openapi({ example: '张三', description: 'The name as written in the list.' }),
        national_id_masked: z.string().nullable().openapi({
          example: '420581********0013',
          description: 'The ID number as written, masked (first 6 and last 4 characters).',
        }),
        outcome: z.enum(attendanceOutcomes).openapi({ example: 'linked' }),
        reason: z
          .enum(attendanceReasons as [string, ...string[]])
          .nullable()
          .openapi({ example: null, description: `Why the row was not linked: ${attendanceReasonList}.` }),
        national_id_error: z
          .enum(['length', 'format', 'address', 'birth_date', 'future_birth_date', 'checksum'])
          .nullable()
          .openapi({ example: null, description: 'For `national_id_invalid`: the check that failed.' }),
        message: z.string().nullable().openapi({ example: null, description: 'The reason in Chinese.' }),
        person_id: z
          .uuid()
          .nullable()
          .openapi({ description: 'The registered person (linked or already linked).' }),
      }),
    ),
  })
  .openapi('TrainingAttendanceImport', {
    description: '参训人员名单导入: the outcome of one attendance list, row by row.',
  });

export const importTrainingAttendance = protectedRoute('training:write', {
  method: 'post',
  path: '/v1/training-sessions/{id}/attendance',
  operationId: 'importTrainingAttendance',
  tags: TAGS,
  summary: 'Import a session’s attendance list (CSV or XLSX)',
  description: `Links the registered persons of a list of trainees to a session of your county (county clerks;
another county's session answers 404). The request body is the file itself. Each row's 身份证号 is checked
(checksum included) and looked up in the county's registry by its keyed hash; the 姓名 must match the
registered name (spaces and middle-dot variants aside). A person found is linked, or reported
\`already_linked\` when linked before (never twice); every other row is reported with its reason and left
out. The ID numbers are answered masked only.

All or nothing, in one transaction: the persons linked to a session may not outnumber its headcount
(\`trainees\`): 422 \`headcount_exceeded\` links nothing. One audit record per import, with the counts.
Imports of the same session are serialised. \`Idempotency-Key\` is optional: the same key with the same
file answers the first 200 again, with another file 422.

Reasons: ${attendanceReasonList}.

${ATTENDANCE_FORMAT_DESCRIPTION}`,
  request: {
    params: idParam,
    headers: idempotencyHeader(false),
    body: {
      required: true,
      content: {
        [CSV_TYPE]: {
          schema: z.string().openapi({ format: 'binary', maxLength: ATTENDANCE_MAX_BYTES }),
          example: '姓名,身份证号,村,备注\r\n张三,420581197001010013,白水港村,\r\n',
        },
        [XLSX_TYPE]: { schema: z.string().openapi({ format: 'binary', maxLength: ATTENDANCE_MAX_BYTES }) },
      },
    },
  },
  responses: {
    200: json(AttendanceImportSchema, 'The list was read; the persons found are linked.'),
    400: problem('The file cannot be read (`file_encoding`, `file_unreadable`), or it is empty.'),
    403: problem('Only a county clerk imports attendance lists.'),
    404: problem('No such session in your county.'),
    409: problem('A request with this Idempotency-Key is still running.'),
    413: problem(`The file is larger than ${ATTENDANCE_MAX_BYTES} bytes.`),
    415: problem('The body is neither text/csv (UTF-8 or GB18030) nor XLSX.'),
    422: problem(
      'Headers (`invalid_header`), no header (`empty_file`) or no rows (`no_rows`), too many rows (`too_many_rows`), more persons than the headcount (`headcount_exceeded`), or the Idempotency-Key used with another file.',
    ),
  },
});

export const getTrainingAttendanceTemplate = protectedRoute('training:read', {
  method: 'get',
  path: '/v1/training-sessions/attendance-template',
  operationId: 'getTrainingAttendanceTemplate',
  tags: TAGS,
  summary: 'Download the attendance list template',
  description: `The template with the Chinese headers: a header-only CSV (UTF-8 with BOM, so that Excel reads it), or
an XLSX whose first sheet holds the headers (身份证号 formatted as text) and whose second sheet 说明
explains the columns.

${ATTENDANCE_FORMAT_DESCRIPTION}`,
  request: {
    query: z.object({ format: z.enum(['csv', 'xlsx']).default('xlsx').openapi({ example: 'xlsx' }) }),
  },
  responses: {
    200: {
      description: 'The template file (Content-Disposition: attachment).',
      content: {
        [CSV_TYPE]: { schema: z.string() },
        [XLSX_TYPE]: { schema: z.string().openapi({ format: 'binary' }) },
      },
    },
  },
});

// ── Oversight ───────────────────────────────────────────────────────────────────────────────────

const measure = z.object({
  planned: z.number().int(),
  done: z.number().int(),
  time_percent: z.string().openapi({ example: '50.41' }),
  done_percent: z.string().nullable().openapi({ example: '57.47' }),
  on_track: z.boolean(),
  double_half: z.boolean(),
});

const ProgressSchema = z
  .object({
    county_code: z.number().int().openapi({ example: 420581 }),
    county_name: z.string().nullable().openapi({ example: '宜都市' }),
    plan_id: z.uuid(),
    status: planStatusSchema,
    sessions: measure,
    trainee_times: measure,
    spend_fen: measure,
    double_half: z
      .boolean()
      .openapi({ description: '双过半: every measure at least half done, half the year gone.' }),
    behind: z.array(z.enum(['sessions', 'trainee_times', 'spend_fen'])),
  })
  .openapi('TrainingProgress');

export const trainingReport = protectedRoute('training:read', {
  method: 'get',
  path: '/v1/training-report',
  operationId: 'getTrainingReport',
  tags: TAGS,
  summary: 'Training plan vs done, with 双过半',
  description:
    'Per county of your scope with a plan of the year (a county sees itself; a city or province its counties): planned sessions, trainee-times and budget against the sessions held up to `on` (default today; clamped to the year), with the time and done percentages, `on_track` and 双过半 per measure, and the measures behind. Totals over the counties are given as `total`.',
  request: {
    query: z.object({
      year: yearQuery.optional().openapi({ description: 'Plan year (default: the current year).' }),
      on: isoDate
        .optional()
        .openapi({ example: '2026-07-01', description: 'Day of the report (default today).' }),
      county: divisionCodeParam
        .optional()
        .openapi({ description: 'One county or city of your scope.', example: 420581 }),
    }),
  },
  responses: {
    200: json(
      z
        .object({
          year: z.number().int(),
          on: z.string(),
          data: z.array(ProgressSchema),
          total: z.object({
            sessions: measure,
            trainee_times: measure,
            spend_fen: measure,
            double_half: z.boolean(),
          }),
        })
        .openapi('TrainingReport'),
      'The report.',
    ),
    404: problem('The county is not in your scope.'),
  },
});
