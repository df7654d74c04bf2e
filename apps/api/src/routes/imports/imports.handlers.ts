import type { RouteHandler } from '@hono/zod-openapi';
import {
  getImport as findImport,
  type ImportView,
  importReportPage,
  listImports as queryImports,
  withTenant,
} from '@houfu/db';
import {
  divisionLevel,
  type ImportErrorCode,
  type ImportWarningCode,
  importColumns,
  importIssueLabels,
  relationshipLabels,
  relocateeKindLabels,
  scopeOf,
  scrubSensitive,
} from '@houfu/domain';
import ExcelJS from 'exceljs';
import type { Context as HonoContext } from 'hono';
import { z } from 'zod';
import { isoTimestamp } from '../../lib/dates.js';
import { contentDisposition, csvField } from '../../lib/files.js';
import { decodeCursor, paginate } from '../../lib/pagination.js';
import { ApiError } from '../../lib/problem.js';
import type { AppEnv } from '../../lib/types.js';
import {
  idempotencyKeyOf,
  lockIdempotencyKey,
  rememberIdempotent,
  replayIdempotent,
} from '../../middleware/idempotency.js';
import { mediaOf } from './imports.reader.js';
import {
  type createImport,
  type getImport,
  type getImportReport,
  type getImportTemplate,
  type listImports,
  XLSX_TYPE,
} from './imports.routes.js';
import * as service from './imports.service.js';

export const toImport = (v: ImportView) => ({
  id: v.id,
  county_code: v.divisionCode,
  status: v.status,
  format: v.format,
  filename: v.filename,
  media_type: v.mediaType,
  size_bytes: Number(v.sizeBytes),
  sha256: v.sha256,
  counts: { total: v.rowsTotal, accepted: v.rowsAccepted, rejected: v.rowsRejected },
  error: v.error ?? null,
  job: { id: v.jobId, status: v.jobStatus as 'queued' | 'running' | 'succeeded' | 'failed' },
  created_by: v.createdBy,
  created_at: isoTimestamp(v.createdAt),
  completed_at: isoTimestamp(v.completedAt),
  links: {
    self: `/v1/imports/${v.id}`,
    job: `/v1/jobs/${v.jobId}`,
    report: v.status === 'completed' ? `/v1/imports/${v.id}/report` : null,
  },
});

const serviceContext = (c: HonoContext<AppEnv>): service.Context => ({
  tx: c.var.tx,
  actor: { sub: c.var.principal.sub, kind: c.var.principal.kind, division: c.var.principal.division },
  requestId: c.var.requestId,
  now: c.var.deps.now(),
  queue: c.var.deps.jobs.queue,
});

export const create: RouteHandler<typeof createImport, AppEnv> = async (c) => {
  const { principal, tx } = c.var;
  if (divisionLevel(principal.division) !== 'county') {
    throw new ApiError('forbidden', 'Registry imports are made by the county bureau the persons belong to.');
  }
  const media = mediaOf(c.req.header('content-type'));
  const key = idempotencyKeyOf(c, true) as string;
  const max = c.var.deps.config.HOUFU_IMPORT_MAX_BYTES;
  const declared = c.req.header('content-length');
  if (declared !== undefined && /^\d+$/.test(declared) && Number(declared) > max) throw service.tooLarge(max);
  const { filename } = c.req.valid('query');
  const path = new URL(c.req.url).pathname;
  const scope = { division: principal.division, principal: principal.sub, key };

  const previous = await lockIdempotencyKey(tx, scope);
  if (previous) {
    // Hash only: a replay keeps no second copy of the file.
    const file = await service.pumpBody(c.req.raw.body, max);
    return replayIdempotent(c, previous, service.importFingerprint(path, file.sha256, media.key));
  }
  const { view, sha256 } = await service.createImport(serviceContext(c), {
    body: c.req.raw.body,
    maxBytes: max,
    format: media.format,
    charset: media.charset,
    mediaType: media.mediaType,
    filename,
  });
  const res = c.json(toImport(view), 202, { location: `/v1/imports/${view.id}` });
  await rememberIdempotent(c, scope, service.importFingerprint(path, sha256, media.key), res);
  c.var.afterCommit(() => c.var.deps.jobs.kick());
  return res;
};

export const get: RouteHandler<typeof getImport, AppEnv> = async (c) => {
  const { id } = c.req.valid('param');
  const view = await findImport(c.var.tx, id);
  if (!view) throw new ApiError('not_found', `Import ${id} was not found.`);
  return c.json(toImport(view), 200);
};

const cursorSchema = z.tuple([z.string().max(40), z.uuid()]);

export const list: RouteHandler<typeof listImports, AppEnv> = async (c) => {
  const q = c.req.valid('query');
  const before = decodeCursor(q.cursor, cursorSchema);
  const rows = await queryImports(c.var.tx, {
    before: before ? { createdAt: before[0], id: before[1] } : undefined,
    limit: q.limit + 1,
  });
  return c.json(
    paginate(rows, q.limit, toImport, (r) => [r.cursorAt, r.id]),
    200,
  );
};

// ── Report ─────────────────────────────────────────────────────────────────────────────────────

const REPORT_PAGE = 2_000;
const REPORT_HEADER = ['行号', '结果', '错误', '警告', '姓名', '身份证号', '人员ID'];

const issues = (codes: readonly string[]) =>
  codes
    .map((code) => `${importIssueLabels[code as ImportErrorCode | ImportWarningCode] ?? code}[${code}]`)
    .join('；');

export const report: RouteHandler<typeof getImportReport, AppEnv> = async (c) => {
  const { id } = c.req.valid('param');
  const view = await findImport(c.var.tx, id);
  if (!view) throw new ApiError('not_found', `Import ${id} was not found.`);
  if (view.status !== 'completed') {
    throw new ApiError(
      'conflict',
      view.status === 'failed'
        ? `Import ${id} failed; it has no report (see its error).`
        : `Import ${id} is ${view.status}; the report is ready once it is completed.`,
    );
  }
  // The rows of a completed import never change: the report is read page by page, each page in a
  // short transaction of its own, while the response streams (memory stays at one page).
  const { db } = c.var.deps;
  const scope = scopeOf(c.var.principal.division);
  const imp = { divisionCode: view.divisionCode, id: view.id };
  const encoder = new TextEncoder();
  let after = 0;
  let started = false;
  const stream = new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (!started) {
        started = true;
        controller.enqueue(encoder.encode(`\uFEFF${REPORT_HEADER.join(',')}\r\n`));
        return;
      }
      const rows = await withTenant(db, scope, (tx) => importReportPage(tx, imp, after, REPORT_PAGE));
      if (rows.length === 0) {
        controller.close();
        return;
      }
      after = rows.at(-1)?.rowNo ?? after;
      const lines = rows.map((r) =>
        [
          r.rowNo,
          r.errors.length === 0 ? '导入' : '拒绝',
          issues(r.errors),
          issues(r.warnings),
          // Free text as written in the file: an ID or account typed into it is masked here too.
          r.name === null ? null : scrubSensitive(r.name),
          r.idMasked,
          r.personId,
        ]
          .map(csvField)
          .join(','),
      );
      controller.enqueue(encoder.encode(`${lines.join('\r\n')}\r\n`));
    },
  });
  return c.body(stream, 200, {
    'content-type': 'text/csv; charset=utf-8',
    'content-disposition': contentDisposition(`导入报告-${id}.csv`, `import-${id}-report.csv`),
  }) as never;
};

// ── Template ───────────────────────────────────────────────────────────────────────────────────

const TEXT_COLUMNS = new Set(['household_no', 'national_id', 'village_code', 'bank_account']);

async function templateXlsx(): Promise<Buffer> {
  const wb = new ExcelJS.Workbook();
  wb.creator = 'houfu';
  const sheet = wb.addWorksheet('移民名单');
  sheet.columns = importColumns.map((col) => ({
    header: col.header,
    key: col.key,
    width: col.key === 'national_id' || col.key === 'bank_account' ? 24 : 14,
    style: TEXT_COLUMNS.has(col.key) ? { numFmt: '@' } : {},
  }));
  sheet.getRow(1).font = { bold: true };
  sheet.views = [{ state: 'frozen', ySplit: 1 }];

  const help = wb.addWorksheet('说明');
  help.columns = [
    { header: '列名', key: 'header', width: 14 },
    { header: '必填', key: 'required', width: 8 },
    { header: '说明', key: 'description', width: 90 },
    { header: '示例', key: 'example', width: 24 },
  ];
  const example: Record<string, string> = {
    household_no: '0001',
    relationship: '户主',
    name: '张三',
    national_id: '420581197001010013',
    sex: '男',
    birth_date: '1970-01-01',
    reservoir: '三峡水库',
    relocation_date: '2003-05-01',
    relocatee_kind: '原迁移民',
    village_code: '420581100201',
    bank_name: '农村信用社',
    bank_account: '6228480012345678901',
  };
  for (const col of importColumns) {
    help.addRow({
      header: col.header,
      required: col.required ? '是' : '否',
      description: col.description,
      example: example[col.key] ?? '',
    });
  }
  help.addRow({});
  help.addRow({ header: '与户主关系', description: Object.values(relationshipLabels).join('、') });
  help.addRow({ header: '移民类别', description: Object.values(relocateeKindLabels).join('、') });
  help.addRow({
    header: '文件',
    description:
      '第一个工作表的第一行为表头，列的顺序不限；空行跳过。CSV 请存为 UTF-8（GB18030 亦可）。导入后可下载逐行报告。',
  });
  help.getRow(1).font = { bold: true };
  return Buffer.from(await wb.xlsx.writeBuffer());
}

export const template: RouteHandler<typeof getImportTemplate, AppEnv> = async (c) => {
  const { format } = c.req.valid('query');
  if (format === 'csv') {
    return c.body(`\uFEFF${importColumns.map((col) => col.header).join(',')}\r\n`, 200, {
      'content-type': 'text/csv; charset=utf-8',
      'content-disposition': contentDisposition('移民名单导入模板.csv', 'registry-import-template.csv'),
    }) as never;
  }
  const file = await templateXlsx();
  return c.body(new Uint8Array(file), 200, {
    'content-type': XLSX_TYPE,
    'content-disposition': contentDisposition('移民名单导入模板.xlsx', 'registry-import-template.xlsx'),
  }) as never;
};
