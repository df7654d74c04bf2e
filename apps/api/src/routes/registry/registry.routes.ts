import { z } from '@hono/zod-openapi';

import { pageQuery, pageSchema } from '../../lib/pagination.js';
import {
  divisionCodeParam,
  idParam,
  isoDate,
  localityCodeParam,
  placeCode,
  plainText,
  uuid,
} from '../../lib/params.js';
import { json, problem, protectedRoute } from '../../lib/route.js';
import { idempotency, idempotencyHeader } from '../../middleware/idempotency.js';
import { removalReasonSchema } from '../persons/persons.routes.js';

const TAGS = ['registry'];

/** A verification year in a query string (2000–2100; the digits themselves, never coerced). */
const yearParam = z
  .string()
  .regex(/^\d{4}$/, 'Expected a four-digit year')
  .transform(Number)
  .refine((y) => y >= 2000 && y <= 2100, 'Expected a year from 2000 to 2100')
  .openapi({ type: 'integer', minimum: 2000, maximum: 2100, example: 2013 });

const count = (example: number, description?: string) =>
  z
    .number()
    .int()
    .openapi({ example, ...(description ? { description } : {}) });

const RemovalsSchema = z
  .object({
    civil_servant: count(0, '公务员或财政供养人员'),
    non_agricultural_hukou: count(0, '转为非农业户口'),
    imprisonment: count(0, '服刑'),
    other: count(0, '其他'),
  })
  .openapi('RegistryRemovals', { description: '核减 (removals) of the year by reason.' });

/** The computed fields of a verification (preview and stored alike). */
const verificationFields = {
  county_code: count(420581),
  county_name: z.string().nullable().openapi({ example: '宜都市' }),
  year: count(2013),
  previous_count: count(
    9868,
    'Last year’s verified count, or the registered count on 31 December of last year.',
  ),
  previous_source: z.enum(['verification', 'records']).openapi({
    description:
      '`verification`: the county’s stored verification of the previous year; `records`: persons registered on 31 December of the previous year, derived from their events.',
    example: 'records',
  }),
  deaths: count(89, '死亡 in the year.'),
  removals: RemovalsSchema,
  moved_out: count(0, '迁出 in the year.'),
  decrease: count(89, 'deaths + removals + moved_out (减人要减).'),
  moved_in: count(0, '迁入 in the year.'),
  re_registered: count(0, '重新登记 in the year.'),
  increase: count(0, 'moved_in + re_registered. Births are never added (增人不增).'),
  verified_count: count(9779, 'previous_count − decrease + increase.'),
};

export const VerificationPreviewSchema = z
  .object({
    ...verificationFields,
    submitted: z
      .boolean()
      .openapi({ description: 'The county already submitted this year.', example: false }),
  })
  .openapi('RegistryVerificationPreview', {
    description: '年度核定 computed from the records, not stored.',
  });

export const VerificationSchema = z
  .object({
    ...verificationFields,
    note: z.string().nullable().openapi({ example: '2013年度核定' }),
    submitted_by: z.string().openapi({ example: 'user:li.na' }),
    submitted_at: z.string().openapi({ example: '2014-01-10T02:00:00.000Z' }),
  })
  .openapi('RegistryVerification', {
    description: '年度核定: a county’s submitted verification of one year.',
  });

export const previewVerification = protectedRoute('registry:read', {
  method: 'get',
  path: '/v1/registry/verifications/preview',
  operationId: 'previewVerification',
  tags: TAGS,
  summary: 'Preview a county’s annual verification',
  description:
    'Computes the 年度核定 of a year without storing it: last year’s count − deaths − removals − moves out + moves in + re-registrations, counting events by effective date (events voided by a correction do not count). New births are never added (增人不增，减人要减). A county caller previews its own county; a city, province or national caller names a `county` in its scope.',
  request: {
    query: z.object({
      year: yearParam,
      county: divisionCodeParam.optional().openapi({
        description: 'Required unless you sit at a county: a county in your scope.',
        example: 420581,
      }),
    }),
  },
  responses: {
    200: json(VerificationPreviewSchema, 'The computed verification.'),
    404: problem('The county is not in your scope.'),
    422: problem('The year has not begun yet, or the records give a negative count.'),
  },
});

export const SubmitVerificationSchema = z
  .strictObject({
    year: z.number().int().min(2000).max(2100).openapi({ example: 2013 }),
    note: plainText(500).optional().openapi({ example: '2013年度核定，自然减少89人' }),
  })
  .openapi('SubmitRegistryVerification');

export const submitVerification = protectedRoute('registry:verify', {
  method: 'post',
  path: '/v1/registry/verifications',
  operationId: 'submitVerification',
  tags: TAGS,
  summary: 'Submit the county’s annual verification',
  description:
    'Computes the 年度核定 of the year as the preview does and stores it as submitted by you, now; audited as `registry.verification.submit`. Once per county and year. Under the `annual_review` removal rule, removals of the year take effect on submission and the persons’ statuses follow. Send an `Idempotency-Key` to make retries safe.',
  middleware: [idempotency({ required: false })],
  request: {
    headers: idempotencyHeader(false),
    body: { required: true, content: { 'application/json': { schema: SubmitVerificationSchema } } },
  },
  responses: {
    201: json(VerificationSchema, 'Stored.'),
    403: problem('Only a county approver of the county submits.'),
    409: problem('The year is already submitted, or the Idempotency-Key is in use by a running request.'),
    422: problem(
      'The year is in the future, a later year is already verified, the records give a negative count, or the Idempotency-Key was used with another body.',
    ),
  },
});

const groupLevels = ['province', 'city', 'county'] as const;

const VerificationGroupSchema = z
  .object({
    code: count(420500),
    name: z.string().nullable().openapi({ example: '宜昌市' }),
    counties_expected: count(
      13,
      'Counties of the unit with anyone registered by 31 December of the year (or that submitted).',
    ),
    counties_submitted: count(12),
    previous_count: count(9868),
    deaths: count(89),
    removals: RemovalsSchema,
    moved_out: count(0),
    decrease: count(89),
    moved_in: count(0),
    re_registered: count(0),
    increase: count(0),
    verified_count: count(9779),
  })
  .openapi('RegistryVerificationGroup', {
    description: 'Submitted verifications of one year summed per unit.',
  });

export const VerificationGroupsSchema = z
  .object({
    year: count(2013),
    group_by: z.enum(groupLevels),
    groups: z.array(VerificationGroupSchema),
    total: VerificationGroupSchema.omit({ code: true, name: true }),
  })
  .openapi('RegistryVerificationGroups');

export const listVerifications = protectedRoute('registry:read', {
  method: 'get',
  path: '/v1/registry/verifications',
  operationId: 'listVerifications',
  tags: TAGS,
  summary: 'List or sum submitted annual verifications',
  description:
    'Without `group_by`: the stored verifications in your scope (or under `division`), by county and year, paginated. With `group_by` (and `year`): sums per province, city or county — decreases by kind, increases, verified — and how many counties submitted of those expected (counties with anyone registered by the end of the year). A county directly administered by its province (city digits 90) is its own unit at city level.',
  request: {
    query: z.object({
      year: yearParam.optional(),
      division: divisionCodeParam
        .optional()
        .openapi({ description: 'Only this division and below (within your scope).', example: 420500 }),
      group_by: z.enum(groupLevels).optional().openapi({
        description: 'Sum per unit of this level (not above `division`); needs `year`.',
        example: 'county',
      }),
      groupBy: z
        .enum(groupLevels)
        .optional()
        .openapi({ description: 'The same as `group_by` (either spelling; not both).' }),
      ...pageQuery,
    }),
  },
  responses: {
    200: json(
      z.union([pageSchema(VerificationSchema, 'RegistryVerificationPage'), VerificationGroupsSchema]),
      'A page of verifications, or the sums when `group_by` is given.',
    ),
    404: problem('The division is not in your scope.'),
  },
});

// ── Public notice 公示 ─────────────────────────────────────────────────────────────────────────

export const getPublicNotice = protectedRoute('registry:read', {
  method: 'get',
  path: '/v1/registry/notice',
  operationId: 'getPublicNotice',
  tags: TAGS,
  summary: 'Public notice of a village’s supported persons',
  description:
    'The 公示 list of a village for a year: the persons registered on 31 December of the year (status from their events under the province’s removal rule) and within their support window then, ordered by household and relationship to the head. Columns: 户编号, 姓名, 性别, 身份证号 (first 6 and last 4 only), 与户主关系, 移民类别. `csv`: UTF-8 with BOM, as an attachment; `html`: a printable page in Chinese with blanks for the notice period and the supervision phone number. Never a full ID number.',
  request: {
    query: z.object({
      village: localityCodeParam.openapi({ description: 'A village in your scope.', example: 420581100201 }),
      year: yearParam,
      format: z.enum(['csv', 'html']).default('html').openapi({ example: 'csv' }),
    }),
  },
  responses: {
    200: {
      description: 'The notice.',
      headers: z.object({
        'content-disposition': z
          .string()
          .optional()
          .openapi({ example: 'attachment; filename="notice-420581100201-2013.csv"' }),
      }),
      content: {
        'text/csv': {
          schema: z.string().openapi({
            example:
              '\uFEFF户编号,姓名,性别,身份证号,与户主关系,移民类别\r\n0001,张三,男,420581********0013,户主,原迁移民\r\n',
          }),
        },
        'text/html': {
          schema: z.string().openapi({ example: '<!doctype html><html lang="zh-CN">…</html>' }),
        },
      },
    },
    404: problem('No such village in your scope.'),
    422: problem('The year has not begun, or no support policy was in force at its end.'),
  },
});

// ── Cross-county conflicts 重复登记 ──────────────────────────────────────────────────────────────

const conflictStatus = z.enum(['open', 'resolved']);
const reviewerLevel = z.enum(['city', 'province', 'nation']);

export const CountyConflictSchema = z
  .object({
    view: z.literal('county'),
    id: z.uuid(),
    status: conflictStatus,
    outcome: z.enum(['kept', 'ended']).nullable().openapi({
      description: 'After resolution: whether your registration was kept or ended.',
    }),
    reviewer_level: reviewerLevel.openapi({
      description: 'Who resolves it: your city, province or the nation.',
    }),
    detected_at: z.string().openapi({ example: '2026-11-22T02:10:00.000Z' }),
    person: z.object({
      id: z.uuid(),
      name: z.string().openapi({ example: '张三' }),
      national_id_masked: z.string().openapi({ example: '420581********0013' }),
      status: z.string().openapi({ example: 'registered' }),
    }),
  })
  .openapi('RegistryConflictSideOfCounty', {
    description: 'What a county sees of a conflict: its own person only, never the other county.',
  });

const ConflictSideSchema = z
  .object({
    side: z.enum(['a', 'b']),
    county_code: count(420581),
    county_name: z.string().nullable().openapi({ example: '宜都市' }),
    person_id: z.uuid(),
    name: z.string().nullable().openapi({ example: '张三' }),
    national_id_masked: z.string().nullable().openapi({ example: '420581********0013' }),
    status: z.string().nullable().openapi({ example: 'registered' }),
    relocation_date: z.string().nullable().openapi({ format: 'date', example: '2003-05-01' }),
    outcome: z.enum(['kept', 'ended']).nullable(),
  })
  .openapi('RegistryConflictSide');

export const ReviewerConflictSchema = z
  .object({
    view: z.literal('reviewer'),
    id: z.uuid(),
    reviewer_division: z.object({ code: count(420500), level: reviewerLevel }),
    status: conflictStatus,
    national_id_masked: z.string().openapi({ example: '420581********0013' }),
    detected_at: z.string().openapi({ example: '2026-11-22T02:10:00.000Z' }),
    resolved_at: z.string().nullable(),
    resolved_by: z.string().nullable().openapi({ example: 'user:wang.fang' }),
    sides: z.array(ConflictSideSchema).openapi({ description: 'Side a (the lower county code), then b.' }),
    resolution: z
      .object({
        kept_person_id: z.uuid(),
        ended_person_id: z.uuid(),
        ended_event_id: z.uuid(),
        ended_kind: z.enum(['moved_out', 'removed']),
        effective_date: z.string().openapi({ format: 'date', example: '2026-10-01' }),
      })
      .nullable(),
  })
  .openapi('RegistryConflict', {
    description: '重复登记: one national ID registered in two counties, as the reviewing division sees it.',
  });

export const listRegistryConflicts = protectedRoute('registry:read', {
  method: 'get',
  path: '/v1/registry/conflicts',
  operationId: 'listRegistryConflicts',
  tags: TAGS,
  summary: 'List cross-county registration conflicts',
  description:
    'A county sees its own side of each conflict (its person, the status, the outcome and whether the city, province or nation reviews it) — never the other county or person. A city, province or national caller sees the conflicts it reviews or oversees (the lowest division that sees both counties, and those above it): both sides with county names, persons, masked IDs, statuses and relocation dates. Oldest first.',
  request: {
    query: z.object({
      status: conflictStatus.optional().openapi({ example: 'open' }),
      ...pageQuery,
    }),
  },
  responses: {
    200: json(
      pageSchema(
        z.discriminatedUnion('view', [CountyConflictSchema, ReviewerConflictSchema]),
        'RegistryConflictPage',
      ),
      'A page of conflicts (`view: county` items for county callers, `view: reviewer` otherwise).',
    ),
  },
});

export const ResolveConflictSchema = z
  .strictObject({
    keep: z.union([z.enum(['a', 'b']), uuid()]).openapi({
      description: 'The registration that stays: side `a` or `b`, or the kept person’s id.',
      example: 'a',
    }),
    ended: z
      .strictObject({
        kind: z.enum(['moved_out', 'removed']).openapi({ example: 'moved_out' }),
        effective_date: isoDate.openapi({ example: '2026-10-01' }),
        reason: removalReasonSchema.optional().openapi({ description: 'Required for `removed`.' }),
        destination_code: placeCode.optional().openapi({
          description: 'For `moved_out`; default: the kept registration’s county.',
          example: 420581,
        }),
        destination_note: plainText(200).optional(),
        evidence_ref: plainText(200).openapi({ example: '市移民局复核意见 2026-07' }),
        note: plainText(500).optional(),
      })
      .superRefine((v, ctx) => {
        if (v.kind === 'removed' && v.reason === undefined)
          ctx.addIssue({ code: 'custom', path: ['reason'], message: 'Required for kind removed' });
        if (v.kind !== 'removed' && v.reason !== undefined)
          ctx.addIssue({ code: 'custom', path: ['reason'], message: 'Only for kind removed' });
        for (const field of ['destination_code', 'destination_note'] as const) {
          if (v.kind !== 'moved_out' && v[field] !== undefined)
            ctx.addIssue({ code: 'custom', path: [field], message: 'Only for kind moved_out' });
        }
      })
      .openapi({ description: 'The event recorded on the other registration.' }),
  })
  .openapi('ResolveRegistryConflict', {
    example: {
      keep: 'a',
      ended: { kind: 'moved_out', effective_date: '2026-10-01', evidence_ref: '市移民局复核意见 2026-07' },
    },
  });

export const resolveRegistryConflict = protectedRoute('registry:resolve', {
  method: 'post',
  path: '/v1/registry/conflicts/{id}/resolve',
  operationId: 'resolveRegistryConflict',
  tags: TAGS,
  summary: 'Resolve a cross-county registration conflict',
  description:
    'The reviewing division (or one above it) keeps one registration and ends the other with a `moved_out` or `removed` event, recorded in that person’s county with its evidence and checked against the person’s history. The conflict and both sides become resolved. Audited as `registry.conflict.resolve` in the conflict’s division and as the person event in the county. Send an `Idempotency-Key` to make retries safe.',
  middleware: [idempotency({ required: false })],
  request: {
    params: idParam,
    headers: idempotencyHeader(false),
    body: { required: true, content: { 'application/json': { schema: ResolveConflictSchema } } },
  },
  responses: {
    200: json(ReviewerConflictSchema, 'Resolved.'),
    404: problem('No such conflict among those you review.'),
    409: problem('The conflict is already resolved, or the Idempotency-Key is in use by a running request.'),
    422: problem(
      'The kept person is not part of the conflict, or the event does not fit the ended person’s history (not registered, date in the future or before registration).',
    ),
  },
});

// ── Summary ────────────────────────────────────────────────────────────────────────────────────

const summaryLevels = ['province', 'city', 'county', 'village'] as const;

const summaryCounts = {
  registered: count(9779, '在册: current status registered.'),
  supported: count(9779, 'Registered by `on`, and `on` within the support window (扶持期限).'),
  deceased: count(89),
  moved_out: count(0),
  removed: count(0),
  households: count(2455, 'Households with at least one registered member (在册户).'),
};

const SummaryRowSchema = z
  .object({
    code: count(420581),
    name: z.string().nullable().openapi({ example: '宜都市' }),
    ...summaryCounts,
  })
  .openapi('RegistrySummaryRow');

export const SummarySchema = z
  .object({
    division: z.object({
      code: count(420500),
      name: z.string().nullable().openapi({ example: '宜昌市' }),
      level: z.enum(['nation', 'province', 'city', 'county']),
    }),
    group_by: z.enum(summaryLevels),
    on: z.string().openapi({ format: 'date', example: '2026-11-22' }),
    rows: z.array(SummaryRowSchema),
    total: z.object(summaryCounts),
  })
  .openapi('RegistrySummary');

export const getRegistrySummary = protectedRoute('registry:read', {
  method: 'get',
  path: '/v1/registry/summary',
  operationId: 'getRegistrySummary',
  tags: TAGS,
  summary: 'Registry counts by division',
  description:
    'For oversight: persons by status, those supported on `on`, and registered households, per unit below `division` (default: your division), every unit of the dictionary listed (zeros too) plus a total. `group_by` defaults to the level below; `village` needs a county or city. A county directly administered by its province (city digits 90) is its own row at city level.',
  request: {
    query: z.object({
      division: divisionCodeParam
        .optional()
        .openapi({ description: 'A division within your scope.', example: 420500 }),
      group_by: z.enum(summaryLevels).optional().openapi({ example: 'county' }),
      groupBy: z
        .enum(summaryLevels)
        .optional()
        .openapi({ description: 'The same as `group_by` (either spelling; not both).' }),
      on: isoDate
        .optional()
        .openapi({ description: 'Date of the support check; default today.', example: '2026-11-22' }),
    }),
  },
  responses: {
    200: json(SummarySchema, 'The counts.'),
    404: problem('The division is not in your scope.'),
  },
});
