import { z } from '@hono/zod-openapi';
import {
  parseNationalId,
  vocationalAidStatuses,
  vocationalAidStatusLabels,
  vocationalLevelLabels,
  vocationalLevels,
} from '@houfu/domain';
import { pageQuery, pageSchema } from '../../lib/pagination.js';
import { divisionCodeParam, idParam, isoDate, plainText, uuid } from '../../lib/params.js';
import { json, problem, protectedRoute } from '../../lib/route.js';
import { idempotency, idempotencyHeader } from '../../middleware/idempotency.js';

const TAGS = ['vocational-aid'];
const MAX_FEN = Number.MAX_SAFE_INTEGER;
const EXAMPLE_ID = '0b6c6f7e-2d0a-4c1e-9f3a-6a2f0e9f1c11';

export const levelSchema = z.enum(vocationalLevels).openapi({
  description: `职业教育层次: ${vocationalLevels.map((l) => `\`${l}\` ${vocationalLevelLabels[l]}`).join('; ')}.`,
  example: 'secondary',
});
export const statusSchema = z.enum(vocationalAidStatuses).openapi({
  description: `办理状态: ${vocationalAidStatuses.map((s) => `\`${s}\` ${vocationalAidStatusLabels[s]}`).join('; ')}.`,
});

const nationalIdMessages = {
  length: 'A national ID number has 18 characters',
  format: '17 digits followed by a digit or X',
  address: 'The first six digits are not a GB/T 2260 division code',
  birth_date: 'Digits 7–14 are not a birth date',
  future_birth_date: 'The birth date is in the future',
  checksum: 'The check digit does not match (ISO 7064 MOD 11-2)',
} as const;

/** The child's 18-character resident ID number, validated (address, birth date, check digit). */
const childNationalId = z
  .string()
  .trim()
  .max(18)
  .superRefine((value, ctx) => {
    const parsed = parseNationalId(value);
    if (!parsed.ok) ctx.addIssue({ code: 'custom', message: nationalIdMessages[parsed.error] });
  })
  .openapi({
    description:
      'The child’s 18-character resident ID number (GB 11643-1999): the birth date is derived from it; stored sealed and hashed, only ever answered masked.',
    pattern: '^\\d{17}[\\dXx]$',
    example: '420581201001010011',
  });

const schoolYear = z.number().int().min(2006).max(2200).openapi({
  example: 2026,
  description: 'The school year aided, by its starting calendar year (`2026` = 2026–27 学年).',
});
const fenIn = (example: number, description: string) =>
  z
    .number()
    .int()
    .min(1)
    .max(MAX_FEN)
    .openapi({ example, description: `${description} In fen 分 (1 yuan = 100 fen), positive.` });
const fen = (example: number, description: string) =>
  z
    .number()
    .int()
    .nullable()
    .openapi({ example, description: `${description} In fen 分 (1 yuan = 100 fen).` });

const CreateSchema = z
  .strictObject({
    village_code: z.number().int().min(100_000_000_000).max(999_999_999_999).openapi({
      example: 420581100201,
      description: 'The child’s home village 村 (12 digits) in your county.',
    }),
    child_name: plainText(50).openapi({ example: '李小明', description: '子女姓名.' }),
    child_national_id: childNationalId,
    parent_person_id: uuid().nullable().optional().openapi({
      example: EXAMPLE_ID,
      description:
        'The migrant parent 移民父母, a person registered in your county. Required while the province’s rule `requiresRegisteredMigrantParent` is on.',
    }),
    school: plainText(100).openapi({ example: '宜都市职业教育中心', description: '就读学校.' }),
    level: levelSchema,
    school_year: schoolYear,
    recognised_cost_fen: z.number().int().min(0).max(MAX_FEN).nullable().optional().openapi({
      example: 600_000,
      description:
        'Recognised yearly costs 认定费用 (tuition etc.), in fen; needed while the province caps the aid at a share of them.',
    }),
    requested_fen: fenIn(200_000, 'The yearly amount applied for 申请金额.'),
  })
  .openapi('CreateVocationalAidApplication', {
    example: {
      village_code: 420581100201,
      child_name: '李小明',
      child_national_id: '420581201001010011',
      parent_person_id: EXAMPLE_ID,
      school: '宜都市职业教育中心',
      level: 'secondary',
      school_year: 2026,
      recognised_cost_fen: 600_000,
      requested_fen: 200_000,
    },
  });

const PostingSchema = z
  .strictObject({
    posting_from: isoDate.openapi({
      example: '2026-09-01',
      description: '公示: first day of the village posting.',
    }),
    posting_to: isoDate.openapi({ example: '2026-09-07', description: '公示: last day (inclusive).' }),
    posting_place: plainText(200).nullable().optional().openapi({ example: '白水港村村务公开栏' }),
  })
  .openapi('VocationalAidPosting', {
    example: { posting_from: '2026-09-01', posting_to: '2026-09-07', posting_place: '白水港村村务公开栏' },
  });

const TownshipReviewSchema = z
  .strictObject({
    decision: z.enum(['approve', 'reject']).openapi({
      description:
        '`approve` 审核通过 (the posting must have ended); `reject` 不予资助 (a comment gives the reason).',
      example: 'approve',
    }),
    reviewer: plainText(50).openapi({
      example: '王审核（潘家湾镇移民站）',
      description:
        'Who reviewed at the township 乡镇审核人 (the township has no account; the county clerk records it).',
    }),
    reviewed_on: isoDate.openapi({ example: '2026-09-10', description: 'The day of the township’s review.' }),
    comment: plainText(500)
      .nullable()
      .optional()
      .openapi({ example: '公示无异议，同意', description: 'The township’s comment; a rejection’s reason.' }),
  })
  .openapi('VocationalAidTownshipReview', {
    example: {
      decision: 'approve',
      reviewer: '王审核（潘家湾镇移民站）',
      reviewed_on: '2026-09-10',
      comment: '公示无异议，同意',
    },
  });

const PaymentSchema = z
  .strictObject({
    amount_fen: fenIn(
      200_000,
      'The amount paid 发放金额: within the level’s range and cost share, not above the request.',
    ),
    paid_on: isoDate.openapi({ example: '2026-09-20', description: 'The day of payment 发放日期.' }),
    reference: plainText(100).openapi({
      example: '宜移资〔2026〕18号',
      description: 'Payment voucher or document number.',
    }),
  })
  .openapi('VocationalAidPayment', {
    example: { amount_fen: 200_000, paid_on: '2026-09-20', reference: '宜移资〔2026〕18号' },
  });

const RejectionSchema = z
  .strictObject({
    reason: plainText(500).openapi({
      example: '父亲已迁出，不再符合资助条件',
      description: 'Why the county does not pay 不予发放理由.',
    }),
  })
  .openapi('VocationalAidRejection', { example: { reason: '父亲已迁出，不再符合资助条件' } });

export const ApplicationSchema = z
  .object({
    id: z.uuid(),
    county_code: z.number().int().openapi({ example: 420581 }),
    county_name: z.string().nullable().openapi({ example: '宜都市' }),
    township_code: z.number().int().openapi({ example: 420581100000 }),
    village_code: z.number().int().openapi({ example: 420581100201 }),
    child_name: z.string().openapi({ example: '李小明' }),
    child_national_id_masked: z.string().openapi({
      example: '420581********0011',
      description: 'The child’s ID number, masked (never answered in full).',
    }),
    child_birth_date: z.string().openapi({ example: '2010-01-01', description: 'From the ID number.' }),
    child_age: z
      .number()
      .int()
      .openapi({ example: 16, description: 'Age in whole years on the application date.' }),
    parent_person_id: z.uuid().nullable(),
    parent_name: z.string().nullable().openapi({ example: '李大山' }),
    school: z.string().openapi({ example: '宜都市职业教育中心' }),
    level: levelSchema,
    level_label: z.string().openapi({ example: '中等职业教育' }),
    school_year: z.number().int().openapi({ example: 2026 }),
    recognised_cost_fen: fen(600_000, 'Recognised yearly costs 认定费用.'),
    requested_fen: fenIn(200_000, 'Amount applied for.'),
    applied_on: z
      .string()
      .openapi({ example: '2026-09-01', description: 'Application date (the server’s day of entry).' }),
    status: statusSchema,
    status_label: z.string().openapi({ example: '已申请' }),
    posting_from: z.string().nullable().openapi({ example: '2026-09-01' }),
    posting_to: z.string().nullable().openapi({ example: '2026-09-07' }),
    posting_place: z.string().nullable(),
    township_reviewer: z.string().nullable(),
    township_reviewed_on: z.string().nullable(),
    township_comment: z.string().nullable(),
    paid_fen: fen(200_000, 'Amount paid 发放金额.'),
    paid_on: z.string().nullable(),
    payment_reference: z.string().nullable(),
    rejection_reason: z.string().nullable(),
    version: z.number().int().openapi({ example: 1 }),
    created_by: z.string(),
    created_at: z.string(),
    updated_by: z.string(),
    updated_at: z.string(),
    links: z.object({
      self: z.string().openapi({ example: `/v1/vocational-aid-applications/${EXAMPLE_ID}` }),
    }),
  })
  .openapi('VocationalAidApplication', {
    description: '移民子女职业教育资助申请: an application of a county, with its steps.',
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

export const createApplication = protectedRoute('aid:write', {
  ...action(
    '/v1/vocational-aid-applications',
    'createVocationalAidApplication',
    'Enter a vocational education aid application',
    `申请: a county clerk enters a child's application (status \`applied\`). The child's ID number is
validated (400 naming \`child_national_id\`), its birth date derived; it is stored sealed and hashed and
answered masked only. Every rule of the province's \`training.vocational_aid\` in force today is
checked: a registered migrant parent of the county (\`not_migrant_child\`), the age on today
(\`age_below_minimum\`, \`age_above_maximum\`), the school years already paid to the child in the
county (\`already_aided_this_year\`, \`duration_exceeded\`), the amount by level
(\`amount_below_level_minimum\`, \`amount_above_level_maximum\`) and the cost share (\`cost_unknown\`,
\`amount_above_cost_share\`): 422 naming the field and the rule. One live application per child and
school year in a county (409). Audited.`,
  ),
  request: {
    headers: idempotencyHeader(false),
    body: { required: true, content: { 'application/json': { schema: CreateSchema } } },
  },
  responses: {
    201: {
      ...json(ApplicationSchema, 'Entered.'),
      headers: z.object({
        location: z.string().openapi({ example: '/v1/vocational-aid-applications/{id}' }),
      }),
    },
    403: problem('Only a county clerk enters the county’s applications.'),
    409: problem('The child already has an application for this school year in the county.'),
    422: problem(
      'A rule of `training.vocational_aid` is not met, or the village or parent is not of the county.',
    ),
  },
});

export const listApplications = protectedRoute('aid:read', {
  method: 'get',
  path: '/v1/vocational-aid-applications',
  operationId: 'listVocationalAidApplications',
  tags: TAGS,
  summary: 'List vocational education aid applications',
  description:
    'Applications of the counties in your scope, by county then oldest first; child ID numbers masked.',
  request: {
    query: z.object({
      county: divisionCodeParam.optional().openapi({ description: 'One county.', example: 420581 }),
      status: statusSchema.optional(),
      school_year: z
        .string()
        .max(4)
        .regex(/^\d{4}$/, 'Expected a year')
        .transform(Number)
        .optional()
        .openapi({ type: 'integer', minimum: 2006, maximum: 2200, example: 2026 }),
      ...pageQuery,
    }),
  },
  responses: {
    200: json(pageSchema(ApplicationSchema, 'VocationalAidApplicationPage'), 'A page of applications.'),
  },
});

export const getApplication = protectedRoute('aid:read', {
  method: 'get',
  path: '/v1/vocational-aid-applications/{id}',
  operationId: 'getVocationalAidApplication',
  tags: TAGS,
  summary: 'Get a vocational education aid application',
  description: 'The application with its steps (posting, township review, payment); the child’s ID masked.',
  request: { params: idParam },
  responses: {
    200: json(ApplicationSchema, 'The application.'),
    404: problem('No such application in your scope.'),
  },
});

export const postApplication = protectedRoute('aid:write', {
  ...action(
    '/v1/vocational-aid-applications/{id}/posting',
    'recordVocationalAidPosting',
    'Record the village posting of an application',
    'applied → posted 村级公示: the first and last day of the public posting in the village, and where. Audited.',
  ),
  request: {
    params: idParam,
    headers: idempotencyHeader(false),
    body: { required: true, content: { 'application/json': { schema: PostingSchema } } },
  },
  responses: {
    200: json(ApplicationSchema, 'Posted.'),
    404: problem('No such application in your county.'),
    409: problem('The application is not just entered (`applied`).'),
    422: problem('The posting ends before it starts.'),
  },
});

export const reviewApplication = protectedRoute('aid:write', {
  ...action(
    '/v1/vocational-aid-applications/{id}/township-review',
    'recordVocationalAidTownshipReview',
    'Record the township’s review of an application',
    'posted → township_reviewed 乡镇审核 (`approve`: the posting must have ended, `posting_not_ended`; reviewed on or after its last day) or → rejected 不予资助 (`reject`, with the reason in `comment`). The township has no account of its own: the county clerk records its review, naming the reviewer. The review day is not in the future. Audited.',
  ),
  request: {
    params: idParam,
    headers: idempotencyHeader(false),
    body: { required: true, content: { 'application/json': { schema: TownshipReviewSchema } } },
  },
  responses: {
    200: json(ApplicationSchema, 'Reviewed.'),
    404: problem('No such application in your county.'),
    409: problem('The application is not posted.'),
    422: problem('The posting has not ended, the dates do not fit, or a rejection gives no reason.'),
  },
});

export const payApplication = protectedRoute('aid:pay', {
  ...action(
    '/v1/vocational-aid-applications/{id}/payment',
    'payVocationalAidApplication',
    'Record the county’s payment of an application',
    'township_reviewed → paid 县级发放, by the county approver (not the clerk who entered it). Every rule of `training.vocational_aid` (in force on the application date, age on that date) is checked again with the amount paid, and the years already paid to the child in the county are counted under the child’s lock, so two payments racing for one child cannot pass the year limits together: 422 naming `amount_fen` or `school_year` and the rule. Not above the amount applied for (`above_requested`); paid on a day between the township’s review and today. Audited.',
  ),
  request: {
    params: idParam,
    headers: idempotencyHeader(false),
    body: { required: true, content: { 'application/json': { schema: PaymentSchema } } },
  },
  responses: {
    200: json(ApplicationSchema, 'Paid.'),
    404: problem('No such application in your county.'),
    409: problem('The application is not approved by the township (or already paid).'),
    422: problem('A rule of `training.vocational_aid` is not met, or the amount or day does not fit.'),
  },
});

export const rejectApplication = protectedRoute('aid:pay', {
  ...action(
    '/v1/vocational-aid-applications/{id}/rejection',
    'rejectVocationalAidApplication',
    'Reject an application the township approved',
    'township_reviewed → rejected 县级不予发放, by the county approver, with the reason: for an application the county will not pay, e.g. because a rule is no longer met on payment (the parent moved out, the years used up meanwhile). The child’s school year is then free to be applied for again. Audited.',
  ),
  request: {
    params: idParam,
    headers: idempotencyHeader(false),
    body: { required: true, content: { 'application/json': { schema: RejectionSchema } } },
  },
  responses: {
    200: json(ApplicationSchema, 'Rejected.'),
    404: problem('No such application in your county.'),
    409: problem('The application is not approved by the township, or already paid or rejected.'),
  },
});
