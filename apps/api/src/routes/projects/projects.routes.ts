import { z } from '@hono/zod-openapi';
import {
  fundingSourceLabels,
  fundingSources,
  outputKindLabels,
  outputKinds,
  outputKindUnits,
  projectCategories,
  projectCategoryLabels,
  projectStatuses,
  projectStatusLabels,
} from '@houfu/domain';
import { ifMatchHeader } from '../../lib/etag.js';
import { pageQuery, pageSchema } from '../../lib/pagination.js';
import { divisionCodeParam, idParam, isoDate, plainText } from '../../lib/params.js';
import { json, problem, protectedRoute } from '../../lib/route.js';
import { idempotency, idempotencyHeader } from '../../middleware/idempotency.js';

const TAGS = ['projects'];
const MAX_FEN = Number.MAX_SAFE_INTEGER;

const fen = (example: number, description: string) =>
  z
    .number()
    .int()
    .openapi({ example, description: `${description} In fen 分 (1 yuan = 100 fen).` });
const fenIn = (example: number, description: string) =>
  z
    .number()
    .int()
    .min(1)
    .max(MAX_FEN)
    .openapi({ example, description: `${description} In fen 分 (1 yuan = 100 fen), positive.` });

export const categorySchema = z.enum(projectCategories).openapi({
  description: `项目类别: ${projectCategories.map((c) => `\`${c}\` ${projectCategoryLabels[c]}`).join('; ')}.`,
  example: 'infrastructure',
});
export const sourceSchema = z.enum(fundingSources).openapi({
  description: `资金来源: ${fundingSources.map((s) => `\`${s}\` ${fundingSourceLabels[s]}`).join('; ')}.`,
  example: 'post_support',
});
export const statusSchema = z.enum(projectStatuses).openapi({
  description: `项目状态: ${projectStatuses.map((s) => `\`${s}\` ${projectStatusLabels[s]}`).join('; ')}.`,
});

const yearSchema = z
  .number()
  .int()
  .min(2006)
  .max(2200)
  .openapi({ example: 2026, description: 'Plan year 年度.' });
const villageCode = z
  .number()
  .int()
  .min(100_000_000_000)
  .max(999_999_999_999)
  .openapi({ example: 420581100201, description: '12-digit statistical code of a village of the county.' });
const townshipCode = z
  .number()
  .int()
  .min(100_000_000_000)
  .max(999_999_999_999)
  .nullable()
  .openapi({ example: 420581100000, description: 'The main township 乡镇 (12 digits), if any.' });
const count = z.number().int().min(0).max(10_000_000);
const quantity = z
  .string()
  .max(16)
  .regex(/^\d{1,12}(\.\d{1,3})?$/, 'Expected a decimal with at most 3 decimals, e.g. 13.62')
  .openapi({ example: '13.62' });

export const OutputsSchema = z
  .strictObject(
    Object.fromEntries(
      outputKinds.map((k) => [
        k,
        quantity.optional().openapi({ description: `${outputKindLabels[k]} (${outputKindUnits[k]})` }),
      ]),
    ) as Record<(typeof outputKinds)[number], z.ZodOptional<typeof quantity>>,
  )
  .openapi('ProjectOutputs', {
    description:
      '建设内容: planned quantity per kind, as decimal strings (up to 3 decimals); kinds left out are not planned.',
    example: { road_km: '13.62', canal_m: '2400' },
  });

const FundingLineInput = z
  .strictObject({ source: sourceSchema, amount_fen: fenIn(80_000_000, 'Amount of this source.') })
  .openapi('ProjectFundingLineInput');
const fundingLinesInput = z
  .array(FundingLineInput)
  .min(1)
  .max(fundingSources.length)
  .openapi({ description: 'One line per source; the lines add up to `total_fen` exactly.' });

const SEED_LINES = [
  { source: 'post_support', amount_fen: 800_000_000 },
  { source: 'integrated', amount_fen: 1_358_960_000 },
  { source: 'self_raised', amount_fen: 1_126_480_000 },
];

const postingFields = {
  posting_from: isoDate
    .nullable()
    .optional()
    .openapi({ example: '2026-03-01', description: '公示: first day of the village posting.' }),
  posting_to: isoDate
    .nullable()
    .optional()
    .openapi({ example: '2026-03-10', description: '公示: last day (inclusive).' }),
  posting_place: plainText(200).nullable().optional().openapi({ example: '白水港村村务公开栏' }),
};

const CreateProjectSchema = z
  .strictObject({
    name: plainText(100).openapi({ example: '白水港村道路硬化工程' }),
    category: categorySchema,
    batch_no: plainText(40)
      .optional()
      .openapi({ description: 'Required for (and only for) `hazard_relief_pilot` 避险解困试点 projects.' }),
    year: yearSchema,
    township_code: townshipCode.optional(),
    village_codes: z.array(villageCode).min(1).max(50),
    description: plainText(2000).optional().openapi({ example: '硬化村组道路 13.62 公里' }),
    planned_outputs: OutputsSchema.optional(),
    beneficiaries_farmers: count.optional().openapi({ example: 1260, description: '受益农民 (persons).' }),
    beneficiaries_migrants: count.optional().openapi({ example: 430, description: '受益移民 (persons).' }),
    total_fen: fenIn(3_285_440_000, 'Total investment 总投资.'),
    funding_lines: fundingLinesInput,
    ...postingFields,
  })
  .openapi('CreateProject', {
    example: {
      name: '白水港村道路硬化工程',
      category: 'infrastructure',
      year: 2026,
      village_codes: [420581100201],
      planned_outputs: { road_km: '13.62' },
      beneficiaries_farmers: 1260,
      beneficiaries_migrants: 430,
      total_fen: 3_285_440_000,
      funding_lines: SEED_LINES,
      posting_from: '2026-03-01',
      posting_to: '2026-03-10',
      posting_place: '白水港村村务公开栏',
    },
  });

const PatchProjectSchema = z
  .strictObject({
    name: plainText(100).optional().openapi({ example: '白水港村道路硬化工程（一期）' }),
    category: categorySchema.optional(),
    batch_no: plainText(40).nullable().optional(),
    year: yearSchema.optional(),
    township_code: townshipCode.optional(),
    village_codes: z.array(villageCode).min(1).max(50).optional(),
    description: plainText(2000)
      .nullable()
      .optional()
      .openapi({ example: '硬化村组道路 13.62 公里，宽 4.5 米' }),
    planned_outputs: OutputsSchema.optional(),
    beneficiaries_farmers: count.optional().openapi({ example: 1300 }),
    beneficiaries_migrants: count.optional().openapi({ example: 450 }),
    ...postingFields,
  })
  .openapi('PatchProject', { example: { description: '硬化村组道路 13.62 公里，宽 4.5 米' } });

const FundingSchema = z
  .strictObject({
    total_fen: fenIn(3_285_440_000, 'Total investment 总投资.'),
    funding_lines: fundingLinesInput,
  })
  .openapi('ProjectFunding', { example: { total_fen: 3_285_440_000, funding_lines: SEED_LINES } });

const ScopeChangeSchema = z
  .strictObject({
    category: categorySchema,
    batch_no: plainText(40).optional(),
    township_code: townshipCode.optional(),
    village_codes: z.array(villageCode).min(1).max(50),
    planned_outputs: OutputsSchema,
    total_fen: fenIn(3_385_440_000, 'New total investment.'),
    funding_lines: fundingLinesInput,
    comment: plainText(1000).min(2).openapi({ example: '增加一座便民桥' }),
  })
  .openapi('ProjectScopeChange', {
    description: '项目变更: the whole new scope of an approved project, with the reason.',
    example: {
      category: 'infrastructure',
      village_codes: [420581100201],
      planned_outputs: { road_km: '13.62', bridge: '1' },
      total_fen: 3_385_440_000,
      funding_lines: [
        { source: 'post_support', amount_fen: 800_000_000 },
        { source: 'integrated', amount_fen: 1_458_960_000 },
        { source: 'self_raised', amount_fen: 1_126_480_000 },
      ],
      comment: '增加一座便民桥',
    },
  });

const ReviewSchema = z
  .strictObject({
    action: z.enum(['approve', 'return', 'record']).openapi({
      description:
        '`approve` passes a review (审核) or approve (审批) step; `return` sends the project back to the county for correction (comment required); `record` completes a record (备案) step.',
    }),
    comment: plainText(1000).optional().openapi({ example: '同意' }),
    step: z.number().int().min(0).max(9).optional().openapi({
      description:
        'The step you are acting on (`current_step` as you read it): 409 when it was acted on meanwhile.',
      example: 0,
    }),
  })
  .openapi('ProjectReviewAction', { example: { action: 'approve', comment: '同意' } });

const CancelSchema = z
  .strictObject({ reason: plainText(500).min(2).openapi({ example: '村民代表大会决定不再实施' }) })
  .openapi('CancelProject', { example: { reason: '村民代表大会决定不再实施' } });

const SubmitSchema = z
  .strictObject({ comment: plainText(1000).optional().openapi({ example: '已按意见修改' }) })
  .openapi('SubmitProject', { example: { comment: '已按意见修改' } });

const RouteStepSchema = z
  .object({
    index: z.number().int(),
    level: z.enum(['city', 'province']),
    action: z.enum(['review', 'approve', 'record']),
    scope: z.enum(['feasibility_and_design', 'feasibility', 'design']).nullable(),
    label: z.string().openapi({ example: '市级审核' }),
    state: z.enum(['done', 'current', 'pending']),
  })
  .openapi('ProjectRouteStep');

export const ProjectSchema = z
  .object({
    id: z.uuid(),
    project_no: z
      .string()
      .openapi({ example: '420581-2026-001', description: '项目编号: county-year-sequence.' }),
    county_code: z.number().int().openapi({ example: 420581 }),
    county_name: z.string().nullable().openapi({ example: '宜都市' }),
    name: z.string().openapi({ example: '白水港村道路硬化工程' }),
    category: categorySchema,
    batch_no: z.string().nullable(),
    year: z.number().int().openapi({ example: 2026 }),
    township_code: z.number().int().nullable(),
    village_codes: z.array(z.number().int()).openapi({ example: [420581100201] }),
    description: z.string().nullable(),
    planned_outputs: z.record(z.string(), z.string()).openapi({ example: { road_km: '13.62' } }),
    beneficiaries_farmers: z.number().int(),
    beneficiaries_migrants: z.number().int(),
    total_fen: fen(3_285_440_000, 'Total investment 总投资.'),
    funding_lines: z.array(
      z.object({
        id: z.uuid().openapi({ description: 'The line’s id: payments are charged to it.' }),
        source: sourceSchema,
        amount_fen: fen(800_000_000, 'Amount.'),
        committed_fen: fen(
          800_000_000,
          'Held in the county’s fund balance since approval (allocated sources only).',
        ),
        paid_fen: fen(80_000_000, 'Paid to contractors from this line.'),
      }),
    ),
    posting_from: z.string().nullable().openapi({ example: '2026-03-01' }),
    posting_to: z.string().nullable().openapi({ example: '2026-03-10' }),
    posting_place: z.string().nullable(),
    status: statusSchema,
    route: z.array(RouteStepSchema).nullable().openapi({
      description:
        'The approval route computed at submission (null before): the steps after the county, in order.',
    }),
    current_step: z
      .number()
      .int()
      .nullable()
      .openapi({ description: 'Index of the step awaiting action, if any.' }),
    locked: z
      .boolean()
      .openapi({ description: 'The scope cannot be edited (submitted or approved): 409 `project_locked`.' }),
    submitted_at: z.string().nullable(),
    approved_at: z.string().nullable(),
    cancelled_at: z.string().nullable(),
    completed_at: z
      .string()
      .nullable()
      .openapi({ description: 'When a progress report reached 100% (已完工).' }),
    accepted_at: z
      .string()
      .nullable()
      .openapi({ description: 'When completion acceptance passed (已验收).' }),
    asset_name: z
      .string()
      .nullable()
      .openapi({ description: 'The asset handed over 资产移交 at acceptance.' }),
    asset_maintainer: z.string().nullable().openapi({ description: 'Who maintains it 管护责任人.' }),
    version: z.number().int().openapi({ example: 1 }),
    created_by: z.string(),
    created_at: z.string(),
    updated_by: z.string(),
    updated_at: z.string(),
    links: z.object({
      self: z.string().openapi({ example: '/v1/projects/0b6c6f7e-2d0a-4c1e-9f3a-6a2f0e9f1c11' }),
      reviews: z.string(),
      progress_reports: z.string(),
      contracts: z.string(),
      payments: z.string(),
      acceptance: z.string(),
    }),
  })
  .openapi('Project', { description: '后扶项目: a post-support project of a county.' });

const etagHeader = z.object({ etag: z.string().openapi({ example: '"v1"' }) });

export const createProject = protectedRoute('projects:write', {
  method: 'post',
  path: '/v1/projects',
  operationId: 'createProject',
  tags: TAGS,
  summary: 'Enter a project in the county’s library',
  description: `A county clerk records a project in the library 项目库 (status \`library\`), numbered
\`county-year-sequence\`. The funding lines must add up to the total exactly (one line per source);
the villages must be active villages of the county; a \`hazard_relief_pilot\` project names its batch.
The category's funding rules (province parameter \`projects.funding_rules\`) are checked when it is
submitted. Send an \`Idempotency-Key\` to make retries safe.`,
  middleware: [idempotency({ required: false })],
  request: {
    headers: idempotencyHeader(false),
    body: { required: true, content: { 'application/json': { schema: CreateProjectSchema } } },
  },
  responses: {
    201: {
      ...json(ProjectSchema, 'Created.'),
      headers: z.object({ location: z.string().openapi({ example: '/v1/projects/{id}' }), etag: z.string() }),
    },
    403: problem('Only a county clerk enters the county’s projects.'),
    422: problem(
      'The funding lines do not add up, a village is not of the county, or the batch number is missing.',
    ),
  },
});

export const listProjects = protectedRoute('projects:read', {
  method: 'get',
  path: '/v1/projects',
  operationId: 'listProjects',
  tags: TAGS,
  summary: 'List projects',
  description: 'Projects of the counties in your scope, by county then project number.',
  request: {
    query: z.object({
      county: divisionCodeParam.optional().openapi({ description: 'One county.', example: 420581 }),
      status: statusSchema.optional(),
      category: categorySchema.optional(),
      year: z
        .string()
        .max(4)
        .regex(/^\d{4}$/, 'Expected a year')
        .transform(Number)
        .optional()
        .openapi({ type: 'integer', minimum: 2006, maximum: 2200, example: 2026 }),
      ...pageQuery,
    }),
  },
  responses: { 200: json(pageSchema(ProjectSchema, 'ProjectPage'), 'A page of projects.') },
});

export const getProject = protectedRoute('projects:read', {
  method: 'get',
  path: '/v1/projects/{id}',
  operationId: 'getProject',
  tags: TAGS,
  summary: 'Get a project',
  description: 'The project with its funding lines, route and status; `ETag` for conditional updates.',
  request: { params: idParam },
  responses: {
    200: { ...json(ProjectSchema, 'The project.'), headers: etagHeader },
    404: problem('No such project in your scope.'),
  },
});

export const patchProject = protectedRoute('projects:write', {
  method: 'patch',
  path: '/v1/projects/{id}',
  operationId: 'updateProject',
  tags: TAGS,
  summary: 'Edit a project',
  description: `Changes the fields sent (\`If-Match\` required). While the project is submitted or approved its
scope — category, villages, planned outputs, year (and the funding, see /funding) — is locked: changing it
answers 409 \`project_locked\` (an approved project changes scope through /changes); the name,
description, beneficiaries and posting may still be corrected. Audited.`,
  request: {
    params: idParam,
    headers: ifMatchHeader,
    body: { required: true, content: { 'application/json': { schema: PatchProjectSchema } } },
  },
  responses: {
    200: { ...json(ProjectSchema, 'Updated.'), headers: etagHeader },
    404: problem('No such project in your county.'),
    409: problem('The project is locked (`project_locked`) or cancelled.'),
    412: problem('The project changed since you read it (stale If-Match).'),
    422: problem('A village is not of the county, or the batch number does not fit the category.'),
    428: problem('If-Match is missing.'),
  },
});

export const ProjectFundingSchema = z
  .object({
    total_fen: fen(3_285_440_000, 'Total investment 总投资.'),
    funding_lines: z.array(
      z.object({
        id: z.uuid(),
        source: sourceSchema,
        amount_fen: fen(800_000_000, 'Amount.'),
        committed_fen: fen(0, 'Held in the county’s fund balance since approval (allocated sources only).'),
        paid_fen: fen(0, 'Paid to contractors from this line.'),
      }),
    ),
  })
  .openapi('ProjectFundingLines', { description: '资金构成: the total and one line per source.' });

export const getProjectFunding = protectedRoute('projects:read', {
  method: 'get',
  path: '/v1/projects/{id}/funding',
  operationId: 'getProjectFunding',
  tags: TAGS,
  summary: 'Get a project’s total and funding lines',
  description: 'The total and the funding lines, with the project’s `ETag` for `PUT`.',
  request: { params: idParam },
  responses: {
    200: { ...json(ProjectFundingSchema, 'The funding.'), headers: etagHeader },
    404: problem('No such project in your scope.'),
  },
});

export const putProjectFunding = protectedRoute('projects:write', {
  method: 'put',
  path: '/v1/projects/{id}/funding',
  operationId: 'replaceProjectFunding',
  tags: TAGS,
  summary: 'Replace a project’s total and funding lines',
  description:
    'Replaces the total investment and every funding line (`If-Match` required). The lines must add up to the total, one per source. Locked once submitted (409 `project_locked`). Audited.',
  request: {
    params: idParam,
    headers: ifMatchHeader,
    body: { required: true, content: { 'application/json': { schema: FundingSchema } } },
  },
  responses: {
    200: { ...json(ProjectSchema, 'Replaced.'), headers: etagHeader },
    404: problem('No such project in your county.'),
    409: problem('The project is locked (`project_locked`) or cancelled.'),
    412: problem('The project changed since you read it (stale If-Match).'),
    422: problem('The lines do not add up to the total (`sum_mismatch`), or a source repeats.'),
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

export const planProject = protectedRoute('projects:write', {
  ...action(
    '/v1/projects/{id}/plan',
    'planProject',
    'Put a project into the annual plan',
    'library → planned 年度计划: the village posting 公示 must have ended and lasted at least the province’s `projects.posting_days` (both ends counted). Audited.',
  ),
  request: { params: idParam, headers: idempotencyHeader(false) },
  responses: {
    200: json(ProjectSchema, 'Planned.'),
    404: problem('No such project in your county.'),
    409: problem('The project is not in the library.'),
    422: problem(
      'No posting (`no_posting`), not ended (`posting_not_ended`) or too short (`posting_too_short`).',
    ),
  },
});

export const submitProject = protectedRoute('projects:write', {
  ...action(
    '/v1/projects/{id}/submit',
    'submitProject',
    'Submit (or resubmit) a project for approval',
    'planned or returned → submitted 已申报: the funding must meet every rule of the category (province parameter `projects.funding_rules`), and the approval route is computed from the total with the province’s `projects.approval_thresholds` in force today: ≥ 100万 city review → province approves; 50万–100万 city review → province approves feasibility → city approves design; < 50万 city approves → province records. A returned project starts the route again. Audited.',
  ),
  request: {
    params: idParam,
    headers: idempotencyHeader(false),
    body: { required: false, content: { 'application/json': { schema: SubmitSchema } } },
  },
  responses: {
    200: json(ProjectSchema, 'Submitted.'),
    404: problem('No such project in your county.'),
    409: problem('The project is neither planned nor returned.'),
    422: problem('The funding breaks a rule of the category (the source’s line is named).'),
  },
});

export const reviewProject = protectedRoute('projects:review', {
  ...action(
    '/v1/projects/{id}/review',
    'reviewProject',
    'Act on the step awaiting action',
    'A reviewer at the level of the current step — the county’s city for a city step, its province for a province step — approves it, returns the project for correction (a comment is required) or records it (备案). Anyone else: 403. After the route’s last approve step the project is approved, locked, and its lines of allocated sources are committed against the county’s balances of the project year, all or nothing (409 `insufficient_funds` naming the source, what is available and what is needed). A trailing record step does not gate the approval. Audited, and kept in the project’s history.',
  ),
  request: {
    params: idParam,
    headers: idempotencyHeader(false),
    body: { required: true, content: { 'application/json': { schema: ReviewSchema } } },
  },
  responses: {
    200: json(ProjectSchema, 'Done.'),
    403: problem('The current step is for another level.'),
    404: problem('No such project in your scope.'),
    409: problem(
      'No step awaits action, the step was acted on already, or the funds are insufficient (`insufficient_funds`).',
    ),
    422: problem('The action does not fit the step (e.g. `record` on an approve step).'),
  },
});

export const changeProjectScope = protectedRoute('projects:write', {
  ...action(
    '/v1/projects/{id}/changes',
    'changeProjectScope',
    'Change the scope of an approved project',
    '项目变更: the whole new scope (category, villages, outputs, total and funding) with the reason. The commitments are released, the difference is kept in the history, and the project is submitted again with a route computed afresh. Audited.',
  ),
  request: {
    params: idParam,
    headers: idempotencyHeader(false),
    body: { required: true, content: { 'application/json': { schema: ScopeChangeSchema } } },
  },
  responses: {
    200: json(ProjectSchema, 'Submitted again.'),
    404: problem('No such project in your county.'),
    409: problem('The project is not approved.'),
    422: problem('The scope is unchanged, or the funding does not add up or breaks a rule.'),
  },
});

export const cancelProject = protectedRoute('projects:write', {
  ...action(
    '/v1/projects/{id}/cancel',
    'cancelProject',
    'Cancel a project',
    'Cancels a project not yet in progress, releasing its commitments. Audited with the reason.',
  ),
  request: {
    params: idParam,
    headers: idempotencyHeader(false),
    body: { required: true, content: { 'application/json': { schema: CancelSchema } } },
  },
  responses: {
    200: json(ProjectSchema, 'Cancelled.'),
    404: problem('No such project in your county.'),
    409: problem('The project cannot be cancelled any more (in progress, accepted or cancelled).'),
  },
});

const ReviewRecordSchema = z
  .object({
    seq: z.number().int(),
    step_index: z.number().int().nullable(),
    level: z.enum(['county', 'city', 'province']).nullable(),
    action: z.enum([
      'plan',
      'submit',
      'resubmit',
      'review',
      'approve',
      'record',
      'return',
      'change',
      'cancel',
    ]),
    decision: z.string().openapi({ example: 'approved' }),
    comment: z.string().nullable(),
    actor: z.string(),
    actor_division: z.number().int(),
    at: z.string(),
    changes: z.record(z.string(), z.unknown()).nullable().openapi({
      description:
        'For a scope change: `{field: {old, new}}` and the released commitments; for an approval: the committed fen.',
    }),
  })
  .openapi('ProjectReview', { description: '审批记录: one entry of a project’s history.' });

export const listProjectReviews = protectedRoute('projects:read', {
  method: 'get',
  path: '/v1/projects/{id}/reviews',
  operationId: 'listProjectReviews',
  tags: TAGS,
  summary: 'A project’s approval history',
  description:
    'Every planning, submission, review, approval, return, record, scope change and cancellation, oldest first.',
  request: { params: idParam },
  responses: {
    200: json(z.object({ data: z.array(ReviewRecordSchema) }).openapi('ProjectReviewList'), 'The history.'),
    404: problem('No such project in your scope.'),
  },
});

// ── Fund allocations and balances ──────────────────────────────────────────────────────────────

const allocatedSourceSchema = z.enum(['post_support', 'three_gorges', 'small_reservoir']).openapi({
  description:
    'An allocated source: `post_support` 后期扶持资金, `three_gorges` 三峡后扶资金, `small_reservoir` 小型水库移民扶助基金.',
  example: 'post_support',
});

const CreateAllocationSchema = z
  .strictObject({
    county_code: z
      .number()
      .int()
      .min(100_000)
      .max(999_999)
      .openapi({ example: 420581, description: 'The receiving county.' }),
    source: allocatedSourceSchema,
    year: yearSchema,
    amount_fen: fenIn(1_000_000_000, 'Allocated.'),
    document_no: plainText(100).openapi({
      example: '鄂移〔2026〕12号',
      description: '文号 of the allocation document.',
    }),
    allocated_on: isoDate.openapi({ example: '2026-03-01' }),
    note: plainText(500).optional(),
  })
  .openapi('CreateFundAllocation', {
    example: {
      county_code: 420581,
      source: 'post_support',
      year: 2026,
      amount_fen: 1_000_000_000,
      document_no: '鄂移〔2026〕12号',
      allocated_on: '2026-03-01',
    },
  });

export const FundAllocationSchema = z
  .object({
    id: z.uuid(),
    county_code: z.number().int().openapi({ example: 420581 }),
    county_name: z.string().nullable().openapi({ example: '宜都市' }),
    province_code: z.number().int().openapi({ example: 420000 }),
    source: allocatedSourceSchema,
    year: z.number().int(),
    amount_fen: fen(1_000_000_000, 'Allocated.'),
    document_no: z.string(),
    allocated_on: z.string(),
    note: z.string().nullable(),
    created_by: z.string(),
    created_by_division: z
      .number()
      .int()
      .openapi({ description: 'The allocating province (or 0, the nation).' }),
    created_at: z.string(),
  })
  .openapi('FundAllocation', { description: '资金下达: an allocation to a county.' });

export const createFundAllocation = protectedRoute('funds:allocate', {
  method: 'post',
  path: '/v1/fund-allocations',
  operationId: 'createFundAllocation',
  tags: TAGS,
  summary: 'Allocate funds to a county',
  description:
    'The province (or the nation) allocates 下达 an allocated source of a year to a county in its scope; the county’s balance grows in the same transaction. Allocations are never edited (a correction is not built yet). `Idempotency-Key` is required: money moves. Audited in the county’s trail.',
  middleware: [idempotency({ required: true })],
  request: {
    headers: idempotencyHeader(true),
    body: { required: true, content: { 'application/json': { schema: CreateAllocationSchema } } },
  },
  responses: {
    201: json(FundAllocationSchema, 'Allocated.'),
    403: problem('Only the province (or the nation) allocates.'),
    404: problem('The county is not in your scope.'),
    422: problem('The allocation date is in the future.'),
  },
});

export const listFundAllocations = protectedRoute('projects:read', {
  method: 'get',
  path: '/v1/fund-allocations',
  operationId: 'listFundAllocations',
  tags: TAGS,
  summary: 'List fund allocations',
  description: 'Allocations to the counties in your scope, by county then date.',
  request: {
    query: z.object({
      county: divisionCodeParam.optional().openapi({ example: 420581 }),
      source: allocatedSourceSchema.optional(),
      year: z
        .string()
        .max(4)
        .regex(/^\d{4}$/, 'Expected a year')
        .transform(Number)
        .optional()
        .openapi({ type: 'integer', minimum: 2006, maximum: 2200, example: 2026 }),
      ...pageQuery,
    }),
  },
  responses: { 200: json(pageSchema(FundAllocationSchema, 'FundAllocationPage'), 'A page of allocations.') },
});

const figures = {
  allocated_fen: fen(1_000_000_000, 'Allocated 已下达.'),
  committed_fen: fen(800_000_000, 'Committed 已承诺 by approved projects.'),
  paid_fen: fen(0, 'Paid 已支付 to contractors from committed funds.'),
  available_fen: fen(200_000_000, 'Allocated − committed.'),
  idle_fen: fen(0, '长期结存: allocated at least `idle_months` months ago and not yet paid.'),
};

export const FundBalanceSchema = z
  .object({
    county_code: z.number().int().openapi({ example: 420581 }),
    county_name: z.string().nullable().openapi({ example: '宜都市' }),
    year: z.number().int().openapi({ example: 2026 }),
    idle_months: z
      .number()
      .int()
      .openapi({ example: 12, description: 'The province’s `projects.idle_months`.' }),
    ...figures,
    sources: z.array(z.object({ source: allocatedSourceSchema, ...figures })),
  })
  .openapi('FundBalance', {
    description: '资金结存: a county’s balances of one year, summed and per source.',
  });

export const listFundBalances = protectedRoute('projects:read', {
  method: 'get',
  path: '/v1/fund-balances',
  operationId: 'listFundBalances',
  tags: TAGS,
  summary: 'County fund balances',
  description:
    'Per county in your scope and year: allocated, committed, paid, available and idle funds, summed and per source; idle as of `on` (default today) with the province’s `projects.idle_months`.',
  request: {
    query: z.object({
      county: divisionCodeParam.optional().openapi({ example: 420581 }),
      year: z
        .string()
        .max(4)
        .regex(/^\d{4}$/, 'Expected a year')
        .transform(Number)
        .optional()
        .openapi({ type: 'integer', minimum: 2006, maximum: 2200, example: 2026 }),
      on: isoDate.optional().openapi({ description: 'The day idle funds are judged on (default today).' }),
      ...pageQuery,
    }),
  },
  responses: { 200: json(pageSchema(FundBalanceSchema, 'FundBalancePage'), 'A page of balances.') },
});
