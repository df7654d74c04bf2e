import { z } from '@hono/zod-openapi';
import { pageQuery, pageSchema } from '../../lib/pagination.js';
import { divisionCodeParam, idParam, isoDate, plainText } from '../../lib/params.js';
import { json, problem, protectedRoute } from '../../lib/route.js';
import { idempotency, idempotencyHeader } from '../../middleware/idempotency.js';
import { doneSources, progressKinds } from './progress.service.js';

const TAGS = ['progress'];
const WAN = 1_000_000; // 1万 yuan in fen

export const kindSchema = z.enum(progressKinds).openapi({
  description:
    'Target kind: `people` 人数 (persons), `money` 资金 (fen 分), `projects` 项目 (count of projects).',
  example: 'money',
});
export const doneSourceSchema = z.enum(doneSources).openapi({
  description:
    'Where "done" comes from: `projects_approved` (projects kind) counts the county’s projects approved from the period start through the report day and still approved or beyond; `funds_committed` (money kind) sums what those projects committed against the county’s fund balances; `funds_paid` (money kind) sums the county’s contractor payments dated in the period through the report day; `investment_completed` (money kind, the seed’s 完成投资) sums, over the county’s projects, the investment completed in the period by their cumulative progress reports; `reported` (any kind) is the latest figure the county reported (POST /v1/progress-targets/{id}/reports) dated on or before the report day. Default: the system’s measure for projects and money, `reported` for people.',
  example: 'reported',
});
const value = z
  .number()
  .int()
  .min(0)
  .max(Number.MAX_SAFE_INTEGER)
  .openapi({ description: 'In the kind’s unit: persons, fen 分, or projects.' });

const CreateTargetSchema = z
  .strictObject({
    county_code: z.number().int().min(100_000).max(999_999).openapi({ example: 420581 }),
    kind: kindSchema,
    done_source: doneSourceSchema.optional(),
    name: plainText(100).openapi({ example: '2013年后期扶持项目投资' }),
    period_start: isoDate.openapi({ example: '2013-01-01' }),
    period_end: isoDate.openapi({ example: '2013-12-31' }),
    target_value: value.openapi({ example: 6_310.84 * WAN }),
  })
  .openapi('CreateProgressTarget', {
    example: {
      county_code: 420581,
      kind: 'money',
      done_source: 'reported',
      name: '2013年后期扶持项目投资',
      period_start: '2013-01-01',
      period_end: '2013-12-31',
      target_value: 6_310.84 * WAN,
    },
  });

const ReportSchema = z
  .strictObject({
    as_of: isoDate.openapi({
      example: '2013-06-30',
      description: 'The day the figure is as of (within the period, not in the future).',
    }),
    done_value: value.openapi({
      example: 3_779.7 * WAN,
      description: 'Done so far (cumulative), in the kind’s unit.',
    }),
    note: plainText(500).optional().openapi({ example: '上半年项目完成投资' }),
  })
  .openapi('ReportProgress', {
    example: { as_of: '2013-06-30', done_value: 3_779.7 * WAN, note: '上半年项目完成投资' },
  });

const ReportRecordSchema = z
  .object({
    id: z.uuid(),
    as_of: z.string().openapi({ example: '2013-06-30' }),
    done_value: z
      .number()
      .int()
      .openapi({ example: 3_779.7 * WAN }),
    note: z.string().nullable(),
    reported_by: z.string(),
    reported_at: z.string(),
  })
  .openapi('ProgressReportEntry', { description: '进度上报: a county’s figure as of a day.' });

export const ProgressTargetSchema = z
  .object({
    id: z.uuid(),
    county_code: z.number().int().openapi({ example: 420581 }),
    county_name: z.string().nullable().openapi({ example: '宜都市' }),
    kind: kindSchema,
    done_source: doneSourceSchema,
    name: z.string(),
    period_start: z.string().openapi({ example: '2013-01-01' }),
    period_end: z.string().openapi({ example: '2013-12-31' }),
    target_value: z
      .number()
      .int()
      .openapi({ example: 6_310.84 * WAN }),
    created_by: z.string(),
    created_by_division: z.number().int(),
    created_at: z.string(),
    links: z.object({
      self: z.string().openapi({ example: '/v1/progress-targets/0b6c6f7e-2d0a-4c1e-9f3a-6a2f0e9f1c11' }),
      reports: z.string(),
    }),
  })
  .openapi('ProgressTarget', { description: '双过半 target: a county’s target of one kind for a period.' });

const TargetDetailSchema = ProgressTargetSchema.extend({
  reports: z
    .array(ReportRecordSchema)
    .openapi({ description: 'Reported figures, by day (none for system-measured targets).' }),
}).openapi('ProgressTargetDetail');

export const createProgressTarget = protectedRoute('progress:plan', {
  method: 'post',
  path: '/v1/progress-targets',
  operationId: 'createProgressTarget',
  tags: TAGS,
  summary: 'Set a county’s progress target',
  description:
    'The province sets a 双过半 target of a county in its scope: a kind (people, money in fen, projects), a period and the target value, with where "done" comes from (`done_source`). One target per county, kind and period (409). Audited in the county’s trail. Send an `Idempotency-Key` to make retries safe.',
  middleware: [idempotency({ required: false })],
  request: {
    headers: idempotencyHeader(false),
    body: { required: true, content: { 'application/json': { schema: CreateTargetSchema } } },
  },
  responses: {
    201: {
      ...json(ProgressTargetSchema, 'Set.'),
      headers: z.object({ location: z.string().openapi({ example: '/v1/progress-targets/{id}' }) }),
    },
    403: problem('Only the province sets targets.'),
    404: problem('The county is not in your scope.'),
    409: problem('The county already has a target of the kind for the period.'),
    422: problem('The period ends before it starts, or the done source does not measure the kind.'),
  },
});

export const listProgressTargets = protectedRoute('projects:read', {
  method: 'get',
  path: '/v1/progress-targets',
  operationId: 'listProgressTargets',
  tags: TAGS,
  summary: 'List progress targets',
  description:
    'Targets of the counties in your scope, by county and period; `on` keeps those whose period contains the day.',
  request: {
    query: z.object({
      county: divisionCodeParam.optional().openapi({ example: 420581 }),
      kind: kindSchema.optional(),
      on: isoDate.optional().openapi({ example: '2013-06-30' }),
      ...pageQuery,
    }),
  },
  responses: { 200: json(pageSchema(ProgressTargetSchema, 'ProgressTargetPage'), 'A page of targets.') },
});

export const getProgressTarget = protectedRoute('projects:read', {
  method: 'get',
  path: '/v1/progress-targets/{id}',
  operationId: 'getProgressTarget',
  tags: TAGS,
  summary: 'Get a progress target',
  description: 'The target with every figure reported on it.',
  request: { params: idParam },
  responses: {
    200: json(TargetDetailSchema, 'The target.'),
    404: problem('No such target in your scope.'),
  },
});

export const reportProgress = protectedRoute('progress:report', {
  method: 'post',
  path: '/v1/progress-targets/{id}/reports',
  operationId: 'reportProgress',
  tags: TAGS,
  summary: 'Report what is done on a target',
  description:
    '进度上报: a county clerk reports the cumulative figure done on one of the county’s `reported` targets as of a day within the period (not in the future). Reports are kept, never edited: a later report supersedes an earlier one from its day on. A target the system measures takes no report (409). Audited. Send an `Idempotency-Key` to make retries safe.',
  middleware: [idempotency({ required: false })],
  request: {
    params: idParam,
    headers: idempotencyHeader(false),
    body: { required: true, content: { 'application/json': { schema: ReportSchema } } },
  },
  responses: {
    201: json(ReportRecordSchema, 'Reported.'),
    404: problem('No such target of your county.'),
    409: problem('The target is measured by the system.'),
    422: problem('The day is outside the period or in the future.'),
  },
});

const RowSchema = z
  .object({
    division_code: z.number().int().openapi({ example: 420581 }),
    division_name: z.string().nullable().openapi({ example: '宜都市' }),
    targets: z.number().int().openapi({ description: 'Targets summed in this row.' }),
    target_value: z.number().int().openapi({ example: 13_050 }),
    done_value: z.number().int().openapi({ example: 7_500 }),
    time_percent: z
      .string()
      .openapi({ example: '50.41', description: 'Share of the period elapsed, 2 decimals.' }),
    done_percent: z.string().nullable().openapi({
      example: '57.47',
      description: 'Share of the target done, 2 decimals; null for a target of 0.',
    }),
    on_track: z.boolean().openapi({ description: 'Done share ≥ time share (exact).' }),
    double_half: z
      .boolean()
      .openapi({ description: '双过半: at least half the time and at least half the target (exact).' }),
  })
  .openapi('ProgressRow');

const ProgressReportSchema = z
  .object({
    division_code: z.number().int().openapi({ example: 420500 }),
    division_name: z.string().nullable().openapi({ example: '宜昌市' }),
    kind: kindSchema,
    period_start: z.string().openapi({ example: '2013-01-01' }),
    period_end: z.string().openapi({ example: '2013-12-31' }),
    on: z.string().openapi({ example: '2013-07-03' }),
    elapsed_days: z.number().int().openapi({ example: 184 }),
    total_days: z.number().int().openapi({ example: 365 }),
    time_percent: z.string().openapi({ example: '50.41' }),
    rows: z
      .array(RowSchema)
      .openapi({ description: 'One row per child division that has targets, by code.' }),
    total: RowSchema,
  })
  .openapi('DoubleHalfReport', { description: '双过半 report of a division for a kind, period and day.' });

export const getProgressReport = protectedRoute('projects:read', {
  method: 'get',
  path: '/v1/progress-report',
  operationId: 'getProgressReport',
  tags: TAGS,
  summary: 'The 双过半 report',
  description:
    'For a target kind and a day (default today): the targets of the counties under `division` (default your own; in your scope, else 404) with exactly the period `period_start`..`period_end` (default the calendar year of the day), summed per child division — provinces of the nation, cities of a province, counties of a city; a county reports itself — with the share of time elapsed (days, both ends counted), the share done, whether done keeps pace with time and whether both are over half (双过半, at least 50% each). Money in fen. Seed: 7,500 of 13,050 people = 57.47%; 3,779.7万 of 6,310.84万 yuan = 59.89%.',
  request: {
    query: z.object({
      kind: kindSchema,
      on: isoDate
        .optional()
        .openapi({ example: '2013-07-03', description: 'The day of the report (default today).' }),
      division: divisionCodeParam
        .optional()
        .openapi({ example: 420500, description: 'Default: your own division.' }),
      period_start: isoDate.optional().openapi({ example: '2013-01-01' }),
      period_end: isoDate.optional().openapi({ example: '2013-12-31' }),
    }),
  },
  responses: {
    200: json(ProgressReportSchema, 'The report.'),
    404: problem('The division is not in your scope.'),
    422: problem('The period ends before it starts.'),
  },
});
