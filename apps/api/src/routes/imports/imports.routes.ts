import { z } from '@hono/zod-openapi';
import { importColumns, importIssueLabels, relationshipLabels, relocateeKindLabels } from '@houfu/domain';
import { pageQuery, pageSchema } from '../../lib/pagination.js';
import { idParam, plainText } from '../../lib/params.js';
import { json, problem, protectedRoute } from '../../lib/route.js';
import { idempotencyHeader } from '../../middleware/idempotency.js';

import { CSV_TYPE, XLSX_TYPE } from './imports.reader.js';

export { CSV_TYPE, XLSX_TYPE };

const columnTable = importColumns
  .map((c) => `| ${c.header} | ${c.key} | ${c.required ? '是' : '否'} | ${c.description} |`)
  .join('\n');

export const IMPORT_FORMAT_DESCRIPTION = `The file's first non-empty row holds the headers (exact Chinese names, any order; unknown, missing
required or repeated headers fail the import as a whole). Columns:

| 列名 | key | 必填 | 说明 |
|---|---|---|---|
${columnTable}

与户主关系: ${Object.values(relationshipLabels).join('、')}. 移民类别: ${Object.values(relocateeKindLabels).join('、')}.
CSV: UTF-8 (with or without BOM) or GB18030/GBK — declare \`charset=gb18030\`, or leave it out and a
first megabyte that is not valid UTF-8 is read as GB18030. XLSX: the first worksheet.`;

const countsSchema = z
  .object({
    total: z
      .number()
      .int()
      .nullable()
      .openapi({ description: 'Data rows in the file (blank rows skipped).' }),
    accepted: z.number().int().nullable().openapi({ description: 'Rows imported as persons.' }),
    rejected: z.number().int().nullable().openapi({ description: 'Rows not imported; the report says why.' }),
  })
  .openapi('ImportCounts', { description: 'Known once the import is completed (null before).' });

const jobErrorSchema = z
  .object({
    code: z.string().openapi({ example: 'invalid_header' }),
    message: z.string().openapi({ example: '表头不符合导入模板（缺少必填列: 身份证号）。' }),
  })
  .openapi('JobError');

export const ImportSchema = z
  .object({
    id: z.uuid(),
    county_code: z.number().int().openapi({ example: 420581 }),
    status: z.enum(['queued', 'staging', 'checking', 'applying', 'completed', 'failed']).openapi({
      description:
        '`queued` → `staging` (reading and validating rows) → `checking` → `applying` → `completed`, or `failed` (nothing applied).',
    }),
    format: z.enum(['csv', 'xlsx']),
    filename: z.string().nullable().openapi({ example: '2026年移民名单.xlsx' }),
    media_type: z.string().openapi({ example: XLSX_TYPE }),
    size_bytes: z.number().int().openapi({ example: 1048576 }),
    sha256: z.string().nullable().openapi({ description: 'SHA-256 of the file as received (hex).' }),
    counts: countsSchema,
    error: jobErrorSchema.nullable().openapi({ description: 'Why the import failed.' }),
    job: z.object({
      id: z.uuid(),
      status: z.enum(['queued', 'running', 'succeeded', 'failed']),
    }),
    created_by: z.string().openapi({ example: 'user:county_operator:420581' }),
    created_at: z.string().openapi({ example: '2026-11-22T02:10:00.000Z' }),
    completed_at: z.string().nullable(),
    links: z.object({
      self: z.string().openapi({ example: '/v1/imports/0b6c6f7e-2d0a-4c1e-9f3a-6a2f0e9f1c11' }),
      job: z.string().openapi({ example: '/v1/jobs/5f0c9a7e-4f7b-4c55-9a53-0d5e3f1d2a10' }),
      report: z
        .string()
        .nullable()
        .openapi({ description: 'The per-row report, once the import is completed.' }),
    }),
  })
  .openapi('Import', { description: '批量导入: one registry import file of a county and its outcome.' });

export const createImport = protectedRoute('registry:write', {
  method: 'post',
  path: '/v1/imports',
  operationId: 'createImport',
  tags: ['imports'],
  summary: 'Import a registry file (CSV or XLSX)',
  description: `Uploads a file of persons to register in your county (county bureaus only). The request body
is the file itself, streamed to the database (up to HOUFU_IMPORT_MAX_BYTES, 256 MiB by default; 413
beyond). An import job then validates every row, checks the whole file against the registry and
imports the accepted rows in one transaction — a row is in or out, never half-written. Follow
\`links.job\` or poll the import; when completed, \`links.report\` gives the per-row report.

\`Idempotency-Key\` is required: the same key with the same file answers the first 202 again (the new
upload is not kept), with another file 422, while the first is still uploading 409. Sending the same
file with a new key creates a new import whose rows are all rejected as already registered.

${IMPORT_FORMAT_DESCRIPTION}`,
  request: {
    headers: idempotencyHeader(true),
    query: z.object({
      filename: plainText(200).optional().openapi({
        description: 'The file name to remember (shown in lists).',
        example: '2026年移民名单.csv',
      }),
    }),
    body: {
      required: true,
      content: {
        [CSV_TYPE]: { schema: z.string().openapi({ format: 'binary' }) },
        [XLSX_TYPE]: { schema: z.string().openapi({ format: 'binary' }) },
      },
    },
  },
  responses: {
    202: {
      ...json(ImportSchema, 'Accepted: the import job is queued.'),
      headers: z.object({ location: z.string().openapi({ example: '/v1/imports/{id}' }) }),
    },
    409: problem('A request with this Idempotency-Key is still running.'),
    413: problem('The file is larger than HOUFU_IMPORT_MAX_BYTES.'),
    415: problem('The body is neither text/csv (UTF-8 or GB18030) nor XLSX.'),
    422: problem('The Idempotency-Key was used with another file.'),
  },
});

export const listImports = protectedRoute('registry:read', {
  method: 'get',
  path: '/v1/imports',
  operationId: 'listImports',
  tags: ['imports'],
  summary: 'List imports',
  description: 'Imports of the counties in your scope, newest first.',
  request: { query: z.object(pageQuery) },
  responses: { 200: json(pageSchema(ImportSchema, 'ImportPage'), 'A page of imports.') },
});

export const getImportTemplate = protectedRoute('registry:read', {
  method: 'get',
  path: '/v1/imports/template',
  operationId: 'getImportTemplate',
  tags: ['imports'],
  summary: 'Download the import template',
  description: `The template with the Chinese headers: a header-only CSV (UTF-8 with BOM, so that Excel reads it),
or an XLSX whose first sheet holds the headers (ID, account, household and village columns formatted
as text) and whose second sheet 说明 lists every column, whether it is required, the allowed values
and an example row.

${IMPORT_FORMAT_DESCRIPTION}`,
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

export const getImport = protectedRoute('registry:read', {
  method: 'get',
  path: '/v1/imports/{id}',
  operationId: 'getImport',
  tags: ['imports'],
  summary: 'Get an import',
  description: 'Status, counts, job and links of one import.',
  request: { params: idParam },
  responses: {
    200: json(ImportSchema, 'The import.'),
    404: problem('No such import in your scope.'),
  },
});

const issueList = Object.entries(importIssueLabels)
  .map(([code, label]) => `\`${code}\` ${label}`)
  .join('; ');

export const getImportReport = protectedRoute('registry:read', {
  method: 'get',
  path: '/v1/imports/{id}/report',
  operationId: 'getImportReport',
  tags: ['imports'],
  summary: 'Download the per-row report of an import',
  description: `CSV (UTF-8 with BOM), one line per data row in file order: 行号 (the spreadsheet row number,
the header being row 1), 结果 (导入 or 拒绝), 错误, 警告 (each as "说明[code]", separated by "；"),
姓名, 身份证号 (masked: first 6 and last 4 characters), 人员ID (the created person). Streamed; available
once the import is completed. Codes: ${issueList}.`,
  request: { params: idParam },
  responses: {
    200: {
      description: 'The report (Content-Disposition: attachment).',
      content: { [CSV_TYPE]: { schema: z.string() } },
    },
    404: problem('No such import in your scope.'),
    409: problem('The import is not completed yet (or failed: see its error).'),
  },
});
