import type { RouteHandler } from '@hono/zod-openapi';
import {
  bankFileLines,
  getDivision,
  lastLineNo,
  listPaymentBatches,
  listPaymentExclusions,
  listPaymentLines,
  listPaymentReturns,
  type PaymentBatch,
  type PaymentLine,
  type PaymentReturn,
  listReturnExceptions as queryReturnExceptions,
  type ReturnException,
  type SubsidySummaryRow,
  withTenant,
} from '@houfu/db';
import { type EntitlementReason, ratioPercent, scopeOf } from '@houfu/domain';
import type { Context as HonoContext } from 'hono';
import { z } from 'zod';
import { today } from '../../lib/dates.js';
import { contentDisposition } from '../../lib/files.js';
import { decodeCursor, paginate } from '../../lib/pagination.js';
import { groupByOf } from '../../lib/params.js';
import { ApiError } from '../../lib/problem.js';
import type { AppEnv } from '../../lib/types.js';
import { pumpBody } from '../imports/imports.service.js';
import {
  type BankFileLine,
  bankFile,
  bankFileMediaTypes,
  bankFileName,
  parseBankReturn,
  ReturnFileError,
} from './bank-files.js';
import type {
  approveDisbursement,
  cancelDisbursement,
  createDisbursement,
  exportDisbursement,
  getDisbursement,
  getDisbursementSummary,
  importBankReturn,
  listBankReturns,
  listDisbursementExclusions,
  listDisbursementLines,
  listDisbursements,
  listPersonPayments,
  listReturnExceptions,
  recomputeDisbursement,
  resolveReturnException,
  writeOffPaymentLine,
} from './disbursements.routes.js';
import * as service from './disbursements.service.js';

const serviceContext = (c: HonoContext<AppEnv>): service.Context => ({
  tx: c.var.tx,
  actor: { sub: c.var.principal.sub, kind: c.var.principal.kind, division: c.var.principal.division },
  requestId: c.var.requestId,
  now: c.var.deps.now(),
  queue: c.var.deps.jobs.queue,
});

export const toBatch = (b: PaymentBatch) => ({
  id: b.id,
  batch_no: b.batchNo,
  county_code: b.divisionCode,
  county_name: b.countyName,
  period: b.period,
  period_start: b.periodStart,
  period_end: b.periodEnd,
  kind: b.kind,
  source_batch_id: b.sourceBatchId,
  status: b.status,
  note: b.note,
  lines: b.lineCount,
  total_fen: b.totalFen,
  project_fen: b.projectFen,
  excluded: b.excludedCount,
  content_hash: b.contentHash,
  policy: b.policy as Record<
    string,
    { from: string; value: unknown; source: string; level: 'national' | 'province' }
  > | null,
  prepared_by: b.preparedBy,
  computed_at: b.computedAt,
  approved_by: b.approvedBy,
  approved_at: b.approvedAt,
  exported_at: b.exportedAt,
  closed_at: b.closedAt,
  cancelled_at: b.cancelledAt,
  created_at: b.createdAt,
  version: b.version,
  job: { id: b.jobId },
  links: {
    self: `/v1/disbursements/${b.id}`,
    job: b.jobId ? `/v1/jobs/${b.jobId}` : null,
    lines: `/v1/disbursements/${b.id}/lines`,
    exclusions: `/v1/disbursements/${b.id}/exclusions`,
  },
});

const toLine = (l: PaymentLine) => ({
  reference: l.reference,
  line_no: l.lineNo,
  batch_id: l.batchId,
  batch_no: l.batchNo,
  period: l.period,
  person_id: l.personId,
  name: l.name,
  national_id_masked: l.idMasked,
  village_code: l.villageCode,
  bank_name: l.bankName,
  bank_account_masked: l.bankAccountMasked,
  amount_fen: l.amountFen,
  project_fen: l.projectFen,
  reissue_of: l.reissueOf,
  outcome: l.outcome,
  outcome_reason: l.outcomeReason,
  outcome_at: l.outcomeAt,
  resolution: l.resolution,
  resolution_note: l.resolutionNote,
  resolved_by: l.resolvedBy,
  resolved_at: l.resolvedAt,
});

const toReturn = (
  r: PaymentReturn,
  batch: Pick<PaymentBatch, 'lineCount' | 'totalFen'>,
  replayed: boolean,
) => ({
  id: r.id,
  batch_id: r.batchId,
  sha256: r.sha256,
  filename: r.filename,
  rows: r.rows,
  paid: r.paid,
  failed: r.failed,
  paid_fen: r.paidFen,
  failed_fen: r.failedFen,
  exceptions: r.exceptions,
  control: {
    expected_lines: batch.lineCount,
    expected_fen: batch.totalFen,
    file_lines: r.fileCount,
    file_fen: r.fileFen,
    balanced: r.balanced,
  },
  imported_by: r.importedBy,
  imported_at: r.importedAt,
  replayed,
});

const toException = (e: ReturnException) => ({
  id: e.id,
  batch_id: e.batchId,
  return_id: e.returnId,
  row_no: e.rowNo,
  reference: e.reference,
  kind: e.kind,
  amount_fen: e.amountFen,
  result: e.result,
  reason: e.reason,
  status: e.status,
  resolution_note: e.resolutionNote,
  resolved_by: e.resolvedBy,
  resolved_at: e.resolvedAt,
});

export const create: RouteHandler<typeof createDisbursement, AppEnv> = async (c) => {
  const body = c.req.valid('json');
  const batch = await service.createBatch(serviceContext(c), {
    period: body.period,
    kind: body.kind,
    sourceBatchId: body.source_batch_id,
    note: body.note,
  });
  c.var.afterCommit(() => c.var.deps.jobs.kick());
  return c.json(toBatch(batch), 202, { location: `/v1/disbursements/${batch.id}` });
};

const batchCursor = z.tuple([z.number().int(), z.string().max(40)]);

export const list: RouteHandler<typeof listDisbursements, AppEnv> = async (c) => {
  const q = c.req.valid('query');
  const after = decodeCursor(q.cursor, batchCursor);
  const rows = await listPaymentBatches(c.var.tx, {
    range: scopeOf(c.var.principal.division),
    county: q.county,
    period: q.period,
    status: q.status,
    kind: q.kind,
    after: after ? { divisionCode: after[0], batchNo: after[1] } : undefined,
    limit: q.limit + 1,
  });
  return c.json(
    paginate(rows, q.limit, toBatch, (b) => [b.divisionCode, b.batchNo]),
    200,
  );
};

export const get: RouteHandler<typeof getDisbursement, AppEnv> = async (c) => {
  const { batch, outcomes, reasons } = await service.batchDetail(c.var.tx, c.req.valid('param').id);
  return c.json(
    {
      ...toBatch(batch),
      outcomes: {
        pending: outcomes.pending,
        paid: outcomes.paid,
        failed: outcomes.failed,
        paid_fen: outcomes.paidFen,
        failed_fen: outcomes.failedFen,
        unresolved_failed: outcomes.unresolved,
        open_exceptions: outcomes.openExceptions,
        accuracy: service.accuracyOf(outcomes, batch.lineCount),
      },
      exclusion_reasons: reasons,
    },
    200,
  );
};

export const recompute: RouteHandler<typeof recomputeDisbursement, AppEnv> = async (c) => {
  const batch = await service.recomputeBatch(serviceContext(c), c.req.valid('param').id);
  c.var.afterCommit(() => c.var.deps.jobs.kick());
  return c.json(toBatch(batch), 202);
};

export const cancel: RouteHandler<typeof cancelDisbursement, AppEnv> = async (c) => {
  const batch = await service.cancelBatch(serviceContext(c), c.req.valid('param').id);
  return c.json(toBatch(batch), 200);
};

export const approve: RouteHandler<typeof approveDisbursement, AppEnv> = async (c) => {
  const body = c.req.valid('json');
  const batch = await service.approveBatch(serviceContext(c), c.req.valid('param').id, {
    contentHash: body.content_hash,
    note: body.note,
  });
  return c.json(toBatch(batch), 200);
};

/** Line numbers per page read for the bank file (each page in a short transaction of its own). */
const EXPORT_PAGE = 2_000;
/** Pages read (and their accounts opened) ahead of the one being written. */
const EXPORT_AHEAD = 3;

export const exportFile: RouteHandler<typeof exportDisbursement, AppEnv> = async (c) => {
  const body = c.req.valid('json');
  const batch = await service.startExport(serviceContext(c), c.req.valid('param').id, body);
  const county = await getDivision(c.var.tx, batch.divisionCode);
  const ref = { divisionCode: batch.divisionCode, id: batch.id };
  const last = await lastLineNo(c.var.tx, ref);
  const { db, sealer } = c.var.deps;
  const scope = scopeOf(c.var.principal.division);
  // The lines of an approved batch never change: they are read in pages of line numbers while the
  // file streams, never all in memory. Up to EXPORT_AHEAD pages are read, and their accounts opened
  // (worker threads: `openMany`), while the current one is written.
  const page = (after: number) =>
    withTenant(db, scope, (tx) => bankFileLines(tx, ref, after, after + EXPORT_PAGE)).then(async (rows) => {
      const accounts = await sealer.openMany(rows.map((l) => l.sealed));
      return rows.map(
        (l, i): BankFileLine => ({
          reference: l.reference,
          name: l.name,
          account: accounts[i] as string,
          bankName: l.bankName,
          amountFen: l.amountFen,
        }),
      );
    });
  async function* pages(): AsyncGenerator<BankFileLine[]> {
    const ahead: Promise<BankFileLine[]>[] = [];
    let next = 0;
    const readAhead = () => {
      while (ahead.length < EXPORT_AHEAD && next < last) {
        const p = page(next);
        // A download stopped early leaves pages unawaited: their failure is not unhandled.
        p.catch(() => {});
        ahead.push(p);
        next += EXPORT_PAGE;
      }
    };
    readAhead();
    for (let p = ahead.shift(); p; p = ahead.shift()) {
      const current = await p;
      readAhead();
      yield current;
    }
  }
  const header = {
    batchNo: batch.batchNo,
    countyCode: batch.divisionCode,
    countyName: county?.name ?? String(batch.divisionCode),
    period: batch.period,
    lineCount: batch.lineCount,
    totalFen: batch.totalFen,
    contentHash: batch.contentHash as string,
    createdOn: today(c.var.deps.now()),
  };
  const chunks = bankFile(body.format, header, pages());
  const stream = new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const next = await chunks.next();
        if (next.done) controller.close();
        else controller.enqueue(next.value);
      } catch (error) {
        // Headers are sent: the file ends without its trailer (a bank refuses it) and the error is logged.
        c.var.deps.logger.error({ err: error, batch: batch.id }, 'bank file export failed');
        controller.error(error);
      }
    },
    async cancel() {
      await chunks.return(undefined);
    },
  });
  const name = bankFileName(body.format, header);
  c.header('content-type', bankFileMediaTypes[body.format]);
  c.header('content-disposition', contentDisposition(name, name));
  c.header('cache-control', 'no-store');
  return c.body(stream, 200);
};

const lineCursor = z.number().int().min(0);

export const lines: RouteHandler<typeof listDisbursementLines, AppEnv> = async (c) => {
  const q = c.req.valid('query');
  const batch = await service.batchInScope(c.var.tx, c.req.valid('param').id);
  const after = decodeCursor(q.cursor, lineCursor);
  const rows = await listPaymentLines(c.var.tx, {
    batch,
    outcome: q.outcome,
    unresolved: q.unresolved === 'true',
    village: q.village,
    afterLineNo: after,
    limit: q.limit + 1,
  });
  return c.json(
    paginate(rows, q.limit, toLine, (l) => l.lineNo),
    200,
  );
};

export const exclusions: RouteHandler<typeof listDisbursementExclusions, AppEnv> = async (c) => {
  const q = c.req.valid('query');
  const batch = await service.batchInScope(c.var.tx, c.req.valid('param').id);
  const after = decodeCursor(q.cursor, z.uuid());
  const rows = await listPaymentExclusions(c.var.tx, {
    batch,
    reason: q.reason,
    afterPersonId: after,
    limit: q.limit + 1,
  });
  return c.json(
    paginate(
      rows,
      q.limit,
      (x) => ({
        person_id: x.personId,
        name: x.name,
        national_id_masked: x.idMasked,
        village_code: x.villageCode,
        status: x.status,
        reasons: x.reasons as EntitlementReason[],
        amount_fen: x.amountFen,
        project_fen: x.projectFen,
      }),
      (x) => x.personId,
    ),
    200,
  );
};

export const importReturn: RouteHandler<typeof importBankReturn, AppEnv> = async (c) => {
  const essence = (c.req.header('content-type') ?? '').split(';')[0]?.trim().toLowerCase();
  if (essence !== 'text/csv')
    throw new ApiError('unsupported_media_type', 'Send the return file as text/csv.');
  // The batch first: a file for a batch that is not the caller's is never read.
  const ctx = serviceContext(c);
  const { id } = c.req.valid('param');
  const own = await service.ownBatch(ctx, id);
  const max = c.var.deps.config.HOUFU_IMPORT_MAX_BYTES;
  const parts: Buffer[] = [];
  const file = await pumpBody(c.req.raw.body, max, async (chunk) => {
    parts.push(Buffer.from(chunk));
  });
  let rows: ReturnType<typeof parseBankReturn>;
  try {
    rows = parseBankReturn(Buffer.concat(parts, file.size));
  } catch (error) {
    if (!(error instanceof ReturnFileError)) throw error;
    throw new ApiError(
      'unprocessable',
      `The return file cannot be applied: ${error.message}`,
      error.problems.map((p) => ({
        field: `row ${p.rowNo}: ${p.field}`,
        message: p.message,
        code: error.code,
      })),
    );
  }
  const { ret, replayed, batch } = await service.importReturn(ctx, own, {
    sha256: file.sha256,
    filename: c.req.valid('query').filename ?? null,
    rows,
  });
  return replayed ? c.json(toReturn(ret, batch, true), 200) : c.json(toReturn(ret, batch, false), 201);
};

export const returns: RouteHandler<typeof listBankReturns, AppEnv> = async (c) => {
  const batch = await service.batchInScope(c.var.tx, c.req.valid('param').id);
  const rows = await listPaymentReturns(c.var.tx, batch);
  return c.json({ data: rows.map((r) => toReturn(r, batch, false)) }, 200);
};

export const exceptions: RouteHandler<typeof listReturnExceptions, AppEnv> = async (c) => {
  const batch = await service.batchInScope(c.var.tx, c.req.valid('param').id);
  const rows = await queryReturnExceptions(c.var.tx, { batch, status: c.req.valid('query').status });
  return c.json({ data: rows.map(toException) }, 200);
};

export const resolveException: RouteHandler<typeof resolveReturnException, AppEnv> = async (c) => {
  const e = await service.resolveException(
    serviceContext(c),
    c.req.valid('param').id,
    c.req.valid('json').note,
  );
  return c.json(toException(e), 200);
};

export const writeOff: RouteHandler<typeof writeOffPaymentLine, AppEnv> = async (c) => {
  const line = await service.writeOff(
    serviceContext(c),
    c.req.valid('param').reference,
    c.req.valid('json').note,
  );
  return c.json(toLine(line), 200);
};

export const personPayments: RouteHandler<typeof listPersonPayments, AppEnv> = async (c) => {
  const rows = await service.personPayments(c.var.tx, c.req.valid('param').id);
  return c.json({ data: rows.map(toLine) }, 200);
};

const summaryFields = (r: Omit<SubsidySummaryRow, 'code' | 'name' | 'period'>) => ({
  lines: r.lines,
  due_fen: r.dueFen,
  paid: r.paid,
  paid_fen: r.paidFen,
  failed: r.failed,
  failed_fen: r.failedFen,
  pending: r.pending,
  project_fen: r.projectFen,
  accuracy: r.lines === 0 ? null : ratioPercent(r.paid, r.lines),
});

export const summary: RouteHandler<typeof getDisbursementSummary, AppEnv> = async (c) => {
  const q = c.req.valid('query');
  const result = await service.summary(
    { tx: c.var.tx, division: c.var.principal.division },
    { division: q.division, groupBy: groupByOf(q), period: q.period },
  );
  const total = result.rows.reduce(
    (t, r) => ({
      lines: t.lines + r.lines,
      dueFen: t.dueFen + r.dueFen,
      paid: t.paid + r.paid,
      paidFen: t.paidFen + r.paidFen,
      failed: t.failed + r.failed,
      failedFen: t.failedFen + r.failedFen,
      pending: t.pending + r.pending,
      projectFen: t.projectFen + r.projectFen,
    }),
    {
      lines: 0,
      dueFen: 0,
      paid: 0,
      paidFen: 0,
      failed: 0,
      failedFen: 0,
      pending: 0,
      projectFen: 0,
    },
  );
  return c.json(
    {
      division: result.division,
      group_by: result.groupBy,
      period: q.period ?? null,
      rows: result.rows.map((r) => ({ code: r.code, name: r.name, period: r.period, ...summaryFields(r) })),
      total: summaryFields(total),
    },
    200,
  );
};
