import { z } from '@hono/zod-openapi';
import { batchStatuses } from '@houfu/db';
import { entitlementReasonLabels, entitlementReasons } from '@houfu/domain';
import { pageQuery, pageSchema } from '../../lib/pagination.js';
import { divisionCodeParam, idParam, localityCodeParam, period, plainText, uuid } from '../../lib/params.js';
import { json, problem, protectedRoute } from '../../lib/route.js';
import { idempotency, idempotencyHeader } from '../../middleware/idempotency.js';

const TAGS = ['disbursements'];
export const CSV_TYPE = 'text/csv';

const fen = (example: number, description: string) =>
  z
    .number()
    .int()
    .openapi({ example, description: `${description} In fen 分 (1 yuan = 100 fen).` });
const count = (example: number, description?: string) =>
  z
    .number()
    .int()
    .openapi({ example, ...(description ? { description } : {}) });
const timestamp = (description: string) =>
  z.string().nullable().openapi({ example: '2026-07-02T03:04:05.000Z', description });

const STATUS_DESCRIPTION =
  '`computing` (the job is evaluating the county) → `draft` (lines and exclusions ready; recompute or cancel) → `approved` (frozen; by someone other than the preparer) → `exported` (bank file downloaded) → `reconciling` (a bank return applied) → `closed` (every line paid or explained). `cancelled`: a draft given up; `failed`: the computation failed for good (see the job).';

export const reasonSchema = z.enum(entitlementReasons).openapi({
  description: `Why a person is not paid (in full): ${entitlementReasons
    .map((r) => `\`${r}\` ${entitlementReasonLabels[r]}`)
    .join('; ')}.`,
});

const PolicyUsedSchema = z
  .record(
    z.string(),
    z.object({
      from: z.string().openapi({ example: '2006-07-01' }),
      value: z.unknown(),
      source: z.string().openapi({ example: '国发〔2006〕17号' }),
      level: z.enum(['national', 'province']),
    }),
  )
  .openapi('DisbursementPolicy', {
    description:
      'The policy parameters the batch was computed with (value in force on the period’s first day, its citation and whether it is the national default or the province’s own).',
    example: {
      'subsidy.annual_standard': {
        from: '2006-07-01',
        value: 60000,
        source: '国发〔2006〕17号',
        level: 'national',
      },
    },
  });

export const DisbursementSchema = z
  .object({
    id: z.uuid(),
    batch_no: z
      .string()
      .openapi({ example: '420581-2013-H1-01', description: '批次号: county-period-sequence.' }),
    county_code: count(420581),
    county_name: z.string().nullable().openapi({ example: '宜都市' }),
    period: z.string().openapi({ example: '2013-H1' }),
    period_start: z.string().openapi({ example: '2013-01-01' }),
    period_end: z.string().openapi({ example: '2013-06-30' }),
    kind: z.enum(['regular', 'reissue']).openapi({
      description:
        '`regular`: the county’s batch for the period; `reissue` 补发: failed lines of an earlier batch paid again.',
    }),
    source_batch_id: z
      .uuid()
      .nullable()
      .openapi({ description: 'For a reissue: the batch whose failed lines it pays.' }),
    status: z.enum(batchStatuses).openapi({ description: STATUS_DESCRIPTION }),
    note: z.string().nullable().openapi({ example: '2013年上半年直补' }),
    lines: count(9868, 'Payment lines 发放笔数.'),
    total_fen: fen(296040000, 'Sum of the lines (the control total).'),
    project_fen: fen(
      0,
      'Money not paid as cash that becomes project funds (removed persons, project-mode villages, the project share of mixed villages).',
    ),
    excluded: count(120, 'Persons of the county not paid by this batch (see the exclusions).'),
    content_hash: z.string().nullable().openapi({
      description: 'SHA-256 of the lines (docs/subsidy.md); set when computed, frozen at approval.',
    }),
    policy: PolicyUsedSchema.nullable(),
    prepared_by: z.string().openapi({ example: 'user:clerk-420581' }),
    computed_at: timestamp('When the lines were last computed.'),
    approved_by: z.string().nullable().openapi({ example: 'user:approver-420581' }),
    approved_at: timestamp('When the batch was approved.'),
    exported_at: timestamp('First bank-file download.'),
    closed_at: timestamp('When every line was paid or explained.'),
    cancelled_at: timestamp('When the draft was cancelled.'),
    created_at: z.string().openapi({ example: '2013-07-01T02:00:00.000Z' }),
    version: count(3),
    job: z.object({ id: z.uuid().nullable() }),
    links: z.object({
      self: z.string().openapi({ example: '/v1/disbursements/0b6c6f7e-2d0a-4c1e-9f3a-6a2f0e9f1c11' }),
      job: z.string().nullable(),
      lines: z.string(),
      exclusions: z.string(),
    }),
  })
  .openapi('Disbursement', { description: '发放批次: one county’s subsidy payments for one period.' });

const OutcomesSchema = z
  .object({
    pending: count(0, 'Lines without a bank result yet.'),
    paid: count(9868),
    failed: count(0),
    paid_fen: fen(296040000, 'Paid.'),
    failed_fen: fen(0, 'Failed.'),
    unresolved_failed: count(0, 'Failed lines neither reissued nor written off.'),
    open_exceptions: count(0, 'Return-file rows awaiting review.'),
    accuracy: z.string().nullable().openapi({
      example: '100.00',
      description: '发放准确率: paid lines / lines, in percent with 2 decimals (null without lines).',
    }),
  })
  .openapi('DisbursementOutcomes');

export const DisbursementDetailSchema = DisbursementSchema.extend({
  outcomes: OutcomesSchema,
  exclusion_reasons: z.record(z.string(), z.number().int()).openapi({
    description: 'Excluded persons per reason (a person may have several).',
    example: { deceased: 89 },
  }),
}).openapi('DisbursementDetail');

const CreateDisbursementSchema = z
  .strictObject({
    period,
    kind: z.enum(['regular', 'reissue']).default('regular').openapi({ example: 'regular' }),
    source_batch_id: uuid()
      .optional()
      .openapi({ description: 'Required for a reissue: the batch whose failed lines to pay again.' }),
    note: plainText(500).optional().openapi({ example: '2013年上半年直补' }),
  })
  .openapi('CreateDisbursement', { example: { period: '2013-H1', note: '2013年上半年直补' } });

export const createDisbursement = protectedRoute('subsidy:prepare', {
  method: 'post',
  path: '/v1/disbursements',
  operationId: 'createDisbursement',
  tags: TAGS,
  summary: 'Prepare a payment batch',
  description: `A county clerk prepares the county's batch for a period (county bureaus only). A job evaluates every
person of the county with the entitlement rules in one transaction — the batch has all its lines or none —
and the batch becomes \`draft\`: follow \`links.job\` or poll the batch. The period must be of the
province's payment frequency (a semi-annual province pays \`2013-H1\`, \`2013-H2\`) and have begun.

Rules (docs/subsidy.md): whole periods, judged on the period's first day — registered 在册 then, and that
day within the support window 扶持期限; the amount is the period's share of the annual standard; a
project-mode village's share becomes project funds; a person without a bank account is held back;
a person already paid for the period (in another batch or another county) is never paid twice.

\`kind: reissue\` 补发 pays the failed, unresolved lines of \`source_batch_id\` again, to the person's current
account. \`Idempotency-Key\` is required: money moves.`,
  middleware: [idempotency({ required: true })],
  request: {
    headers: idempotencyHeader(true),
    body: { required: true, content: { 'application/json': { schema: CreateDisbursementSchema } } },
  },
  responses: {
    202: {
      ...json(DisbursementSchema, 'Accepted: the batch is being computed.'),
      headers: z.object({ location: z.string().openapi({ example: '/v1/disbursements/{id}' }) }),
    },
    403: problem('Only a county clerk prepares the county’s batches.'),
    404: problem('The source batch is not in your county.'),
    409: problem('The county already has a live batch for the period, or the Idempotency-Key is in use.'),
    422: problem(
      'The period is not of the province’s payment frequency or has not begun, the source batch has nothing to reissue, or the Idempotency-Key was used with another body.',
    ),
  },
});

export const listDisbursements = protectedRoute('subsidy:read', {
  method: 'get',
  path: '/v1/disbursements',
  operationId: 'listDisbursements',
  tags: TAGS,
  summary: 'List payment batches',
  description: 'Batches of the counties in your scope, by county then batch number.',
  request: {
    query: z.object({
      county: divisionCodeParam.optional().openapi({ description: 'One county.', example: 420581 }),
      period: period.optional(),
      status: z.enum(batchStatuses).optional(),
      kind: z.enum(['regular', 'reissue']).optional(),
      ...pageQuery,
    }),
  },
  responses: { 200: json(pageSchema(DisbursementSchema, 'DisbursementPage'), 'A page of batches.') },
});

const summaryLevels = ['province', 'city', 'county', 'village'] as const;

const SummaryFields = {
  lines: count(9868, 'Payment lines of approved (and later) batches.'),
  due_fen: fen(296040000, 'Sum of those lines.'),
  paid: count(9868),
  paid_fen: fen(296040000, 'Paid.'),
  failed: count(0),
  failed_fen: fen(0, 'Failed.'),
  pending: count(0, 'No bank result yet.'),
  project_fen: fen(0, 'Becomes project funds (removed persons, project-mode villages, project shares).'),
  accuracy: z.string().nullable().openapi({ example: '100.00', description: 'paid / lines in percent.' }),
};

const SummaryRowSchema = z
  .object({
    code: count(420581),
    name: z.string().nullable().openapi({ example: '宜都市' }),
    period: z.string().openapi({ example: '2013-H1' }),
    ...SummaryFields,
  })
  .openapi('DisbursementSummaryRow');

export const DisbursementSummarySchema = z
  .object({
    division: count(420000),
    group_by: z.enum(summaryLevels),
    period: z.string().nullable(),
    rows: z.array(SummaryRowSchema),
    total: z.object(SummaryFields),
  })
  .openapi('DisbursementSummary');

export const getDisbursementSummary = protectedRoute('subsidy:read', {
  method: 'get',
  path: '/v1/disbursements/summary',
  operationId: 'getDisbursementSummary',
  tags: TAGS,
  summary: 'Oversight totals by division and period',
  description:
    'Persons paid, fen paid, failed, pending, accuracy and project funds per unit below `division` (default: yours) and period, over the lines of approved and later batches; `group_by` one level (province, city, county or village) for the drill-down. Units without payments are left out.',
  request: {
    query: z.object({
      division: divisionCodeParam.optional().openapi({ example: 420000 }),
      group_by: z
        .enum(summaryLevels)
        .optional()
        .openapi({ description: 'Default: one level below `division`.' }),
      groupBy: z.enum(summaryLevels).optional().openapi({ description: 'Same as `group_by`.' }),
      period: period.optional(),
    }),
  },
  responses: {
    200: json(DisbursementSummarySchema, 'The totals.'),
    400: problem('`group_by` is not below `division`.'),
    404: problem('The division is not in your scope.'),
  },
});

export const getDisbursement = protectedRoute('subsidy:read', {
  method: 'get',
  path: '/v1/disbursements/{id}',
  operationId: 'getDisbursement',
  tags: TAGS,
  summary: 'Get a payment batch',
  description: 'The batch with its totals, bank outcomes, accuracy and excluded persons per reason.',
  request: { params: idParam },
  responses: {
    200: json(DisbursementDetailSchema, 'The batch.'),
    404: problem('No such batch in your scope.'),
  },
});

export const recomputeDisbursement = protectedRoute('subsidy:prepare', {
  method: 'post',
  path: '/v1/disbursements/{id}/recompute',
  operationId: 'recomputeDisbursement',
  tags: TAGS,
  summary: 'Recompute a draft batch',
  description:
    'Evaluates the county again (after registry corrections or new bank accounts) and replaces the draft’s lines and exclusions in one job; you become its preparer. An approved batch is frozen. Send an `Idempotency-Key` to make retries safe.',
  middleware: [idempotency({ required: false })],
  request: { params: idParam, headers: idempotencyHeader(false) },
  responses: {
    202: json(DisbursementSchema, 'Accepted: the batch is being computed.'),
    404: problem('No such batch in your county.'),
    409: problem('The batch is not a draft.'),
  },
});

export const cancelDisbursement = protectedRoute('subsidy:prepare', {
  method: 'post',
  path: '/v1/disbursements/{id}/cancel',
  operationId: 'cancelDisbursement',
  tags: TAGS,
  summary: 'Cancel a draft batch',
  description:
    'Gives up a draft (or failed) batch: its lines are removed and the period can be prepared again. Audited. Send an `Idempotency-Key` to make retries safe.',
  middleware: [idempotency({ required: false })],
  request: { params: idParam, headers: idempotencyHeader(false) },
  responses: {
    200: json(DisbursementSchema, 'Cancelled.'),
    404: problem('No such batch in your county.'),
    409: problem('The batch is computing or past draft.'),
  },
});

const ApproveSchema = z
  .strictObject({
    content_hash: z
      .string()
      .max(64)
      .regex(/^[0-9a-f]{64}$/, 'Expected 64 lowercase hex characters')
      .openapi({
        description: 'The content hash you reviewed: approval fails if the batch changed since.',
        example: 'a3f1c2d4e5b6a7980c1d2e3f405162738495a6b7c8d9e0f1a2b3c4d5e6f70819',
      }),
    note: plainText(500).optional(),
  })
  .openapi('ApproveDisbursement', {
    example: { content_hash: 'a3f1c2d4e5b6a7980c1d2e3f405162738495a6b7c8d9e0f1a2b3c4d5e6f70819' },
  });

export const approveDisbursement = protectedRoute('subsidy:approve', {
  method: 'post',
  path: '/v1/disbursements/{id}/approve',
  operationId: 'approveDisbursement',
  tags: TAGS,
  summary: 'Approve a draft batch (maker-checker)',
  description:
    'A county approver other than the batch’s preparer approves it: its lines, totals and hash are frozen from now on. Send back the `content_hash` you reviewed. Audited. Send an `Idempotency-Key` to make retries safe.',
  middleware: [idempotency({ required: false })],
  request: {
    params: idParam,
    headers: idempotencyHeader(false),
    body: { required: true, content: { 'application/json': { schema: ApproveSchema } } },
  },
  responses: {
    200: json(DisbursementSchema, 'Approved.'),
    403: problem('You prepared this batch (maker-checker), or you are not its county’s approver.'),
    404: problem('No such batch in your county.'),
    409: problem('The batch is not a draft, or it changed since you reviewed it (content hash).'),
    422: problem('The batch has no lines.'),
  },
});

const ExportSchema = z
  .strictObject({
    format: z.enum(['csv', 'fixed']).default('csv').openapi({
      description: '`csv` (UTF-8 with BOM) or `fixed` (fixed-width GB18030 records); docs/bank-files.md.',
    }),
    reason: plainText(200).min(2).openapi({ example: '报送农业银行宜都支行代发' }),
  })
  .openapi('ExportDisbursement', { example: { format: 'csv', reason: '报送农业银行宜都支行代发' } });

export const exportDisbursement = protectedRoute('subsidy:export', {
  method: 'post',
  path: '/v1/disbursements/{id}/bank-file',
  operationId: 'exportDisbursement',
  tags: TAGS,
  summary: 'Download the bank file of an approved batch',
  description:
    'The file for the bank 代发文件: one record per line with our reference, the holder’s name, the FULL account (the only place it appears unmasked) and the amount, with control totals (count, sum) and the batch hash in its header and trailer. Audited with your reason, every time; the first download moves the batch to `exported`. Streamed.',
  request: {
    params: idParam,
    body: { required: true, content: { 'application/json': { schema: ExportSchema } } },
  },
  responses: {
    200: {
      description: 'The bank file (Content-Disposition: attachment).',
      content: {
        'text/csv': { schema: z.string() },
        'text/plain': { schema: z.string().openapi({ format: 'binary' }) },
      },
    },
    404: problem('No such batch in your county.'),
    409: problem('The batch is not approved yet (or cancelled).'),
  },
});

export const PaymentLineSchema = z
  .object({
    reference: z
      .string()
      .openapi({ example: '420581-2013-H1-01-0000001', description: '参考号: our line reference.' }),
    line_no: count(1),
    batch_id: z.uuid(),
    batch_no: z.string().openapi({ example: '420581-2013-H1-01' }),
    period: z.string().openapi({ example: '2013-H1' }),
    person_id: z.uuid(),
    name: z.string().openapi({ example: '张三' }),
    national_id_masked: z.string().openapi({ example: '420581********0012' }),
    village_code: z.number().int().openapi({ example: 420581100201 }),
    bank_name: z.string().nullable().openapi({ example: '中国农业银行宜都支行' }),
    bank_account_masked: z.string().openapi({ example: '6228********8901' }),
    amount_fen: fen(30000, 'Paid to the person.'),
    project_fen: fen(0, 'The project share (mixed villages).'),
    reissue_of: z.string().nullable().openapi({ description: 'The failed line this one pays again.' }),
    outcome: z.enum(['pending', 'paid', 'failed']),
    outcome_reason: z.string().nullable().openapi({ example: '账户已销户' }),
    outcome_at: timestamp('When the bank result was applied.'),
    resolution: z.enum(['reissued', 'written_off']).nullable().openapi({
      description: 'For a failed line: paid again in a reissue batch, or written off with an explanation.',
    }),
    resolution_note: z.string().nullable(),
    resolved_by: z.string().nullable(),
    resolved_at: timestamp('When the failed line was resolved.'),
  })
  .openapi('PaymentLine', {
    description: '发放明细: one payment (content immutable; the bank outcome is recorded on it).',
  });

export const listDisbursementLines = protectedRoute('subsidy:read', {
  method: 'get',
  path: '/v1/disbursements/{id}/lines',
  operationId: 'listDisbursementLines',
  tags: TAGS,
  summary: 'List a batch’s payment lines',
  description: 'Lines in line order, accounts and IDs masked.',
  request: {
    params: idParam,
    query: z.object({
      outcome: z.enum(['pending', 'paid', 'failed']).optional(),
      unresolved: z
        .enum(['true', 'false'])
        .optional()
        .openapi({ description: '`true`: failed lines not yet reissued or written off.' }),
      village: localityCodeParam.optional(),
      ...pageQuery,
    }),
  },
  responses: {
    200: json(pageSchema(PaymentLineSchema, 'PaymentLinePage'), 'A page of lines.'),
    404: problem('No such batch in your scope.'),
  },
});

const ExclusionSchema = z
  .object({
    person_id: z.uuid(),
    name: z.string().openapi({ example: '李四' }),
    national_id_masked: z.string().openapi({ example: '420581********0023' }),
    village_code: z.number().int().openapi({ example: 420581100201 }),
    status: z
      .string()
      .openapi({ example: 'deceased', description: 'Registry status on the period’s first day.' }),
    reasons: z.array(reasonSchema),
    amount_fen: fen(0, 'The period’s entitlement before the payment mode (0 when there is none).'),
    project_fen: fen(0, 'Becomes project funds.'),
  })
  .openapi('PaymentExclusion', {
    description: '未发放: a person of the county the batch does not pay, and why.',
  });

export const listDisbursementExclusions = protectedRoute('subsidy:read', {
  method: 'get',
  path: '/v1/disbursements/{id}/exclusions',
  operationId: 'listDisbursementExclusions',
  tags: TAGS,
  summary: 'List the persons a batch does not pay, with reasons',
  description:
    'Every person of the county not paid (in full) by a regular batch, with machine-readable reasons.',
  request: {
    params: idParam,
    query: z.object({ reason: reasonSchema.optional(), ...pageQuery }),
  },
  responses: {
    200: json(pageSchema(ExclusionSchema, 'PaymentExclusionPage'), 'A page of exclusions.'),
    404: problem('No such batch in your scope.'),
  },
});

export const BankReturnSchema = z
  .object({
    id: z.uuid(),
    batch_id: z.uuid(),
    sha256: z.string().openapi({ description: 'SHA-256 of the file: the same file again changes nothing.' }),
    filename: z.string().nullable().openapi({ example: '回盘-420581-2013-H1-01.csv' }),
    rows: count(9868, 'Data rows in the file.'),
    paid: count(9860, 'Lines this file marked paid.'),
    failed: count(8, 'Lines this file marked failed.'),
    paid_fen: fen(295800000, 'Marked paid.'),
    failed_fen: fen(240000, 'Marked failed.'),
    exceptions: count(
      0,
      'Rows queued for review (unknown or repeated reference, other amount, contradicting result).',
    ),
    control: z.object({
      expected_lines: count(9868, 'The batch’s control count.'),
      expected_fen: fen(296040000, 'The batch’s control sum.'),
      file_lines: count(9868, 'Distinct references of the batch in the file.'),
      file_fen: fen(296040000, 'Their amounts.'),
      balanced: z.boolean().openapi({ description: 'The file covers the batch exactly (count and sum).' }),
    }),
    imported_by: z.string(),
    imported_at: z.string(),
    replayed: z
      .boolean()
      .openapi({ description: 'This exact file was applied before: nothing changed now.' }),
  })
  .openapi('BankReturn', { description: '银行回盘: one bank result file applied to a batch.' });

export const importBankReturn = protectedRoute('subsidy:prepare', {
  method: 'post',
  path: '/v1/disbursements/{id}/returns',
  operationId: 'importBankReturn',
  tags: TAGS,
  summary: 'Apply the bank’s return file',
  description: `The bank's result file 回盘文件 (CSV, UTF-8 or GB18030; docs/bank-files.md): one row per line with our
reference, the amount, 成功/失败 and the failure reason. Rows are matched by reference only; a pending
line takes the row's result. Rows with a reference not of this batch, a reference seen twice, another
amount or a result contradicting the recorded one are queued as exceptions for review. The control
check compares the file's lines with the batch's count and sum. The file is keyed by its SHA-256: the
same file again answers 200 with \`replayed: true\` and changes nothing. A malformed file is refused whole
(422, rows named). When every line is paid or explained the batch closes.`,
  request: {
    params: idParam,
    query: z.object({
      filename: plainText(200).optional().openapi({ example: '回盘-420581-2013-H1-01.csv' }),
    }),
    body: { required: true, content: { [CSV_TYPE]: { schema: z.string().openapi({ format: 'binary' }) } } },
  },
  responses: {
    200: json(BankReturnSchema, 'This file was applied before; nothing changed.'),
    201: json(BankReturnSchema, 'Applied.'),
    404: problem('No such batch in your county.'),
    409: problem('The batch has not been exported (or is closed or cancelled).'),
    413: problem('The file is larger than HOUFU_IMPORT_MAX_BYTES.'),
    415: problem('The body is not text/csv.'),
    422: problem('The file is malformed (encoding, header, rows): nothing applied.'),
  },
});

export const listBankReturns = protectedRoute('subsidy:read', {
  method: 'get',
  path: '/v1/disbursements/{id}/returns',
  operationId: 'listBankReturns',
  tags: TAGS,
  summary: 'List the bank return files applied to a batch',
  description: 'Oldest first, with their counts and control check.',
  request: { params: idParam },
  responses: {
    200: json(z.object({ data: z.array(BankReturnSchema) }).openapi('BankReturnList'), 'The files.'),
    404: problem('No such batch in your scope.'),
  },
});

export const ReturnExceptionSchema = z
  .object({
    id: z.uuid(),
    batch_id: z.uuid(),
    return_id: z.uuid(),
    row_no: count(12, 'Row of the return file (the header is row 1).'),
    reference: z.string().openapi({ example: '420581-2013-H1-01-0009999' }),
    kind: z.enum(['unknown_reference', 'duplicate_reference', 'amount_mismatch', 'conflicting_result']),
    amount_fen: fen(30000, 'The amount in the file.'),
    result: z.enum(['paid', 'failed']),
    reason: z.string().nullable(),
    status: z.enum(['open', 'resolved']),
    resolution_note: z.string().nullable(),
    resolved_by: z.string().nullable(),
    resolved_at: z.string().nullable(),
  })
  .openapi('ReturnException', { description: '待核查: a return-file row that could not be applied.' });

export const listReturnExceptions = protectedRoute('subsidy:read', {
  method: 'get',
  path: '/v1/disbursements/{id}/exceptions',
  operationId: 'listReturnExceptions',
  tags: TAGS,
  summary: 'List a batch’s return-file exceptions',
  description: 'Rows of the bank’s return files queued for review.',
  request: {
    params: idParam,
    query: z.object({ status: z.enum(['open', 'resolved']).optional() }),
  },
  responses: {
    200: json(
      z.object({ data: z.array(ReturnExceptionSchema) }).openapi('ReturnExceptionList'),
      'The exceptions.',
    ),
    404: problem('No such batch in your scope.'),
  },
});

const NoteSchema = z
  .strictObject({ note: plainText(500).min(2).openapi({ example: '银行重复回盘，已核对无误' }) })
  .openapi('ResolutionNote');

export const resolveReturnException = protectedRoute('subsidy:prepare', {
  method: 'post',
  path: '/v1/disbursement-exceptions/{id}/resolve',
  operationId: 'resolveReturnException',
  tags: TAGS,
  summary: 'Resolve a return-file exception',
  description:
    'Records what the review found (e.g. the bank’s duplicate row, a reference of another batch). The lines themselves change only through return files. Audited; the batch closes when nothing is left open. Send an `Idempotency-Key` to make retries safe.',
  middleware: [idempotency({ required: false })],
  request: {
    params: idParam,
    headers: idempotencyHeader(false),
    body: { required: true, content: { 'application/json': { schema: NoteSchema } } },
  },
  responses: {
    200: json(ReturnExceptionSchema, 'Resolved.'),
    404: problem('No such exception in your county.'),
    409: problem('Already resolved.'),
  },
});

export const writeOffPaymentLine = protectedRoute('subsidy:prepare', {
  method: 'post',
  path: '/v1/payment-lines/{reference}/write-off',
  operationId: 'writeOffPaymentLine',
  tags: TAGS,
  summary: 'Explain a failed line that will not be paid again',
  description:
    'Marks a failed, unresolved line written off with an explanation (e.g. the person died before payment; the money returns to the county). Audited; the batch closes when every line is paid or explained. Send an `Idempotency-Key` to make retries safe.',
  middleware: [idempotency({ required: false })],
  request: {
    params: z.object({
      reference: z
        .string()
        .max(27)
        .regex(/^\d{6}-[0-9A-Z-]{4,12}-\d{7}$/, 'Expected a line reference like 420581-2013-H1-01-0000001')
        .openapi({ param: { name: 'reference', in: 'path' }, example: '420581-2013-H1-01-0000001' }),
    }),
    headers: idempotencyHeader(false),
    body: { required: true, content: { 'application/json': { schema: NoteSchema } } },
  },
  responses: {
    200: json(PaymentLineSchema, 'Written off.'),
    404: problem('No such line in your county.'),
    409: problem('The line has not failed, or is already resolved.'),
  },
});

export const listPersonPayments = protectedRoute('subsidy:read', {
  method: 'get',
  path: '/v1/persons/{id}/payments',
  operationId: 'listPersonPayments',
  tags: TAGS,
  summary: 'A person’s payment history',
  description: 'Every payment line of the person, newest period first, with its bank outcome.',
  request: { params: idParam },
  responses: {
    200: json(z.object({ data: z.array(PaymentLineSchema) }).openapi('PersonPayments'), 'The lines.'),
    404: problem('No such person in your scope.'),
  },
});
