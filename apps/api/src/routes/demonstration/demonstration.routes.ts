import { z } from '@hono/zod-openapi';
import {
  assessmentOutcomeLabels,
  assessmentOutcomes,
  demonstrationStandardLabels,
  demonstrationStandards,
} from '@houfu/domain';
import { pageQuery, pageSchema } from '../../lib/pagination.js';
import { divisionCodeParam, idParam, isoDate, localityCodeParam, plainText } from '../../lib/params.js';
import { json, problem, protectedRoute } from '../../lib/route.js';
import { idempotency, idempotencyHeader } from '../../middleware/idempotency.js';

const TAGS = ['demonstration'];
const MAX_FEN = Number.MAX_SAFE_INTEGER;
const WAN = 1_000_000; // 1万 yuan in fen

const fen = (example: number, description: string) =>
  z
    .number()
    .int()
    .openapi({ example, description: `${description} In fen 分 (1 yuan = 100 fen).` });
const fenIn = (example: number, description: string) =>
  z
    .number()
    .int()
    .min(0)
    .max(MAX_FEN)
    .openapi({ example, description: `${description} In fen 分 (1 yuan = 100 fen).` });
const yearSchema = z
  .number()
  .int()
  .min(2006)
  .max(2200)
  .openapi({ example: 2026, description: 'Year of the application 申报年度.' });
const yearQuery = z
  .string()
  .max(4)
  .regex(/^\d{4}$/, 'Expected a year')
  .transform(Number)
  .optional()
  .openapi({ type: 'integer', minimum: 2000, maximum: 2200, example: 2026 });
const villageCode = z
  .number()
  .int()
  .min(100_000_000_000)
  .max(999_999_999_999)
  .openapi({ example: 420581100201, description: '12-digit statistical code of a village of the county.' });
const count = z.number().int().min(0).max(10_000_000);

export const demonstrationStatuses = ['applied', 'named', 'failed', 'revoked'] as const;
export const demonstrationStatusSchema = z.enum(demonstrationStatuses).openapi({
  description:
    '示范村状态: `applied` 已申报 (awaiting assessment); `named` 已命名 (see `provincial`); `failed` 未通过 (first assessment failed); `revoked` 已摘牌 (a re-assessment failed).',
});

const ScoresSchema = z
  .strictObject(
    Object.fromEntries(
      demonstrationStandards.map((s) => [
        s,
        z
          .number()
          .int()
          .min(0)
          .max(100)
          .openapi({ description: `${demonstrationStandardLabels[s]}, 0..100.`, example: 90 }),
      ]),
    ) as Record<(typeof demonstrationStandards)[number], z.ZodNumber>,
  )
  .openapi('DemonstrationScores', {
    description: `Scores of the five standards 五项标准: ${demonstrationStandards.map((s) => `\`${s}\` ${demonstrationStandardLabels[s]}`).join('; ')}.`,
    example: { production: 92, livelihood: 88, civility: 90, cleanliness: 95, democracy: 85 },
  });

const ApplySchema = z
  .strictObject({
    village_code: villageCode,
    year: yearSchema,
    migrants: count.openapi({ example: 860, description: 'Migrants 移民 living in the village.' }),
    population: z
      .number()
      .int()
      .min(1)
      .max(10_000_000)
      .openapi({ example: 1240, description: 'Village population (at least the migrants).' }),
    development_plan: plainText(2000).optional().openapi({
      example: '2026—2028年村发展规划（村民代表大会通过）',
      description: '村发展规划: title or summary; leave out when there is none.',
    }),
    planned_total_fen: fenIn(500 * WAN, 'Planned total investment 计划总投资 in the village.'),
    planned_integrated_fen: fenIn(90 * WAN, 'Of which integrated funds of other departments 整合资金.'),
  })
  .openapi('ApplyDemonstrationVillage', {
    example: {
      village_code: 420581100201,
      year: 2026,
      migrants: 860,
      population: 1240,
      development_plan: '2026—2028年村发展规划（村民代表大会通过）',
      planned_total_fen: 500 * WAN,
      planned_integrated_fen: 90 * WAN,
    },
  });

const AssessSchema = z
  .strictObject({
    scores: ScoresSchema,
    assessed_on: isoDate.openapi({
      example: '2026-06-30',
      description: 'Day of the assessment (not in the future).',
    }),
    comment: plainText(1000).optional().openapi({ example: '村容整洁，产业初具规模' }),
  })
  .openapi('AssessDemonstrationVillage', {
    example: {
      scores: { production: 92, livelihood: 88, civility: 90, cleanliness: 95, democracy: 85 },
      assessed_on: '2026-06-30',
      comment: '村容整洁，产业初具规模',
    },
  });

const ProjectRefSchema = z
  .object({
    id: z.uuid(),
    project_no: z.string().openapi({ example: '420581-2026-003' }),
    name: z.string().openapi({ example: '白水港村美丽家园建设' }),
    year: z.number().int(),
    status: z.string().openapi({ example: 'approved' }),
    total_fen: fen(300 * WAN, 'Total investment.'),
    integrated_fen: fen(60 * WAN, 'Its integrated-funds line.'),
    link: z.string().openapi({ example: '/v1/projects/0b6c6f7e-2d0a-4c1e-9f3a-6a2f0e9f1c11' }),
  })
  .openapi('DemonstrationVillageProject');

const IncomeSchema = z
  .object({
    village_code: z.number().int().openapi({ example: 420581100201 }),
    year: z.number().int().openapi({ example: 2025 }),
    income_fen: fen(1_250_000, 'Collective income 村集体收入 of the year (may be negative).'),
    note: z.string().nullable(),
    recorded_by: z.string(),
    recorded_at: z.string(),
  })
  .openapi('CollectiveIncome', { description: '村集体收入: a village’s collective income of one year.' });

export const DemonstrationVillageSchema = z
  .object({
    id: z.uuid(),
    county_code: z.number().int().openapi({ example: 420581 }),
    county_name: z.string().nullable().openapi({ example: '宜都市' }),
    village_code: z.number().int().openapi({ example: 420581100201 }),
    village_name: z.string().nullable().openapi({ example: '白水港村' }),
    year: z.number().int().openapi({ example: 2026 }),
    migrants: z.number().int(),
    population: z.number().int(),
    migrant_share_percent: z
      .string()
      .openapi({ example: '69.35', description: 'migrants / population, 2 decimals.' }),
    development_plan: z.string().nullable(),
    collective_income_fen: fen(
      1_250_000,
      'Collective income of the year before the application, as recorded.',
    ),
    planned_total_fen: fen(500 * WAN, 'Planned total investment.'),
    planned_integrated_fen: fen(90 * WAN, 'Of which integrated funds.'),
    status: demonstrationStatusSchema,
    provincial: z.boolean().openapi({ description: '省级示范村 (named at the provincial score).' }),
    total_score: z
      .string()
      .nullable()
      .openapi({ example: '90.00', description: 'Weighted total of the last assessment, 2 decimals.' }),
    named_on: z.string().nullable().openapi({ example: '2026-06-30' }),
    reassess_due: z
      .string()
      .nullable()
      .openapi({ example: '2029-06-30', description: 'Next re-assessment 复核 due.' }),
    version: z.number().int(),
    created_by: z.string(),
    created_at: z.string(),
    updated_by: z.string(),
    updated_at: z.string(),
    links: z.object({
      self: z
        .string()
        .openapi({ example: '/v1/demonstration-villages/0b6c6f7e-2d0a-4c1e-9f3a-6a2f0e9f1c11' }),
      assessments: z.string(),
    }),
  })
  .openapi('DemonstrationVillage', {
    description: '示范村: a county’s application for a village and where it stands.',
  });

const DemonstrationVillageDetailSchema = DemonstrationVillageSchema.extend({
  projects: z.array(ProjectRefSchema).openapi({
    description: 'The county’s projects of category `demonstration_village` in this village (any year).',
  }),
  projects_total_fen: fen(300 * WAN, 'Sum of those projects’ totals, cancelled ones left out.'),
  collective_incomes: z.array(IncomeSchema).openapi({ description: 'Every recorded year, oldest first.' }),
}).openapi('DemonstrationVillageDetail');

export const applyDemonstrationVillage = protectedRoute('demonstration:write', {
  method: 'post',
  path: '/v1/demonstration-villages',
  operationId: 'applyDemonstrationVillage',
  tags: TAGS,
  summary: 'Apply for a demonstration village',
  description: `A county clerk applies 申报 for one of the county's active villages for a year. The village's
collective income of the year before must be recorded (POST /v1/collective-incomes; 422
\`collective_income_missing\`). The province's rules in force today must hold, each broken one named in
\`errors\`: \`demonstration.eligibility\` (share of migrants \`migrant_share_below\`, development plan
\`no_development_plan\`, collective income \`collective_income_below\`) and \`demonstration.funding\`
(cap per village \`above_cap\`, minimum integrated-fund share \`integrated_share_below\`). The county's
quota of the year (\`demonstration.quota\`, counting applied and named villages) must have a place:
409 \`quota_exceeded\`, decided under a per-county-and-year lock, so concurrent applications never
exceed it. A village has one live application (409). Audited. Send an \`Idempotency-Key\` to make
retries safe.`,
  middleware: [idempotency({ required: false })],
  request: {
    headers: idempotencyHeader(false),
    body: { required: true, content: { 'application/json': { schema: ApplySchema } } },
  },
  responses: {
    201: {
      ...json(DemonstrationVillageSchema, 'Applied.'),
      headers: z.object({ location: z.string().openapi({ example: '/v1/demonstration-villages/{id}' }) }),
    },
    403: problem('Only a county clerk applies for the county’s villages.'),
    409: problem(
      'The county’s quota of the year is used up (`quota_exceeded`), or the village already has a live application.',
    ),
    422: problem(
      'Not a village of the county, no recorded collective income, or a rule of the province is broken.',
    ),
  },
});

export const listDemonstrationVillages = protectedRoute('projects:read', {
  method: 'get',
  path: '/v1/demonstration-villages',
  operationId: 'listDemonstrationVillages',
  tags: TAGS,
  summary: 'List demonstration villages',
  description:
    'Applications of the counties in your scope, by county, year and village. `due_by` lists the named villages whose re-assessment 复核 is due on or before that day.',
  request: {
    query: z.object({
      county: divisionCodeParam.optional().openapi({ description: 'One county.', example: 420581 }),
      year: yearQuery,
      status: demonstrationStatusSchema.optional(),
      due_by: isoDate
        .optional()
        .openapi({ example: '2029-06-30', description: 'Re-assessment due on or before.' }),
      ...pageQuery,
    }),
  },
  responses: {
    200: json(
      pageSchema(DemonstrationVillageSchema, 'DemonstrationVillagePage'),
      'A page of demonstration villages.',
    ),
  },
});

export const getDemonstrationVillage = protectedRoute('projects:read', {
  method: 'get',
  path: '/v1/demonstration-villages/{id}',
  operationId: 'getDemonstrationVillage',
  tags: TAGS,
  summary: 'Get a demonstration village',
  description:
    'The application and where it stands, with the village’s demonstration projects (category `demonstration_village`, linked by the village code) and its recorded collective incomes.',
  request: { params: idParam },
  responses: {
    200: json(DemonstrationVillageDetailSchema, 'The demonstration village.'),
    404: problem('No such demonstration village in your scope.'),
  },
});

export const assessDemonstrationVillage = protectedRoute('demonstration:assess', {
  method: 'post',
  path: '/v1/demonstration-villages/{id}/assessments',
  operationId: 'assessDemonstrationVillage',
  tags: TAGS,
  summary: 'Assess, name or re-assess a demonstration village',
  description: `The province assesses 考核验收 an applied village, or re-assesses 复核 a named one, scoring the
five standards 0..100. The weighted total uses the province's \`demonstration.scoring\` in force on
\`assessed_on\`: from \`provincialScore\` the village is named a provincial-level village 省级示范村, from
\`passScore\` named, else it fails; a named village is due for re-assessment \`reassessYears\` later.
Naming re-checks the eligibility and funding rules and the quota of named villages of the county and
year (409 \`quota_exceeded\`). A failed re-assessment revokes the name (摘牌, status \`revoked\`). Only
the village's province (403 for anyone else); a failed or revoked village is not assessed again (409).
Audited, and kept in the village's assessment history. Send an \`Idempotency-Key\` to make retries safe.`,
  middleware: [idempotency({ required: false })],
  request: {
    params: idParam,
    headers: idempotencyHeader(false),
    body: { required: true, content: { 'application/json': { schema: AssessSchema } } },
  },
  responses: {
    200: json(DemonstrationVillageSchema, 'Assessed.'),
    403: problem('Only the village’s province assesses.'),
    404: problem('No such demonstration village in your scope.'),
    409: problem('The village is failed or revoked, or naming it would exceed the quota (`quota_exceeded`).'),
    422: problem(
      'The day is in the future or before the last assessment, or a rule of the province is broken.',
    ),
  },
});

const AssessmentRecordSchema = z
  .object({
    seq: z.number().int(),
    kind: z
      .enum(['initial', 'reassessment'])
      .openapi({ description: '`initial` 考核验收, `reassessment` 复核.' }),
    assessed_on: z.string().openapi({ example: '2026-06-30' }),
    scores: ScoresSchema,
    total_score: z.string().openapi({ example: '90.00' }),
    outcome: z.enum(assessmentOutcomes).openapi({
      description: assessmentOutcomes.map((o) => `\`${o}\` ${assessmentOutcomeLabels[o]}`).join('; '),
    }),
    status_after: z.enum(['named', 'failed', 'revoked']),
    reassess_due: z.string().nullable(),
    comment: z.string().nullable(),
    actor: z.string(),
    actor_division: z.number().int(),
    at: z.string(),
  })
  .openapi('DemonstrationAssessment', {
    description: '考核记录: one assessment of a demonstration village.',
  });

export const listDemonstrationAssessments = protectedRoute('projects:read', {
  method: 'get',
  path: '/v1/demonstration-villages/{id}/assessments',
  operationId: 'listDemonstrationAssessments',
  tags: TAGS,
  summary: 'A demonstration village’s assessments',
  description: 'Every assessment and re-assessment of the village, oldest first.',
  request: { params: idParam },
  responses: {
    200: json(
      z.object({ data: z.array(AssessmentRecordSchema) }).openapi('DemonstrationAssessmentList'),
      'The assessments.',
    ),
    404: problem('No such demonstration village in your scope.'),
  },
});

const RecordIncomeSchema = z
  .strictObject({
    village_code: villageCode,
    year: z.number().int().min(2000).max(2200).openapi({ example: 2025, description: 'The income’s year.' }),
    income_fen: z.number().int().min(-9_000_000_000_000).max(9_000_000_000_000).openapi({
      example: 1_250_000,
      description: 'Collective income of the year in fen 分 (negative for a loss).',
    }),
    note: plainText(500).optional().openapi({ example: '村集体经济年报' }),
  })
  .openapi('RecordCollectiveIncome', {
    example: { village_code: 420581100201, year: 2025, income_fen: 1_250_000, note: '村集体经济年报' },
  });

export const recordCollectiveIncome = protectedRoute('demonstration:write', {
  method: 'post',
  path: '/v1/collective-incomes',
  operationId: 'recordCollectiveIncome',
  tags: TAGS,
  summary: 'Record a village’s collective income of a year',
  description:
    'A county clerk records 村集体收入 of a village of the county for a year that has begun; sending the year again corrects it. Audited with the old and new figure (`collective_income.record` / `collective_income.correct`). A demonstration-village application copies the figure of the year before. Send an `Idempotency-Key` to make retries safe.',
  middleware: [idempotency({ required: false })],
  request: {
    headers: idempotencyHeader(false),
    body: { required: true, content: { 'application/json': { schema: RecordIncomeSchema } } },
  },
  responses: {
    200: json(IncomeSchema, 'Recorded.'),
    403: problem('Only a county clerk records the county’s villages’ incomes.'),
    422: problem('Not a village of the county, or a year still to come.'),
  },
});

export const listCollectiveIncomes = protectedRoute('projects:read', {
  method: 'get',
  path: '/v1/collective-incomes',
  operationId: 'listCollectiveIncomes',
  tags: TAGS,
  summary: 'List villages’ collective incomes',
  description: 'Recorded collective incomes of the villages in your scope, by county, village and year.',
  request: {
    query: z.object({
      village: localityCodeParam.optional().openapi({ description: 'One village.' }),
      year: yearQuery,
      ...pageQuery,
    }),
  },
  responses: { 200: json(pageSchema(IncomeSchema, 'CollectiveIncomePage'), 'A page of incomes.') },
});
