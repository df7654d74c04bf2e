import { createHash } from 'node:crypto';
import {
  type Actor,
  appendAudit,
  applyPaymentReturn,
  type BatchOutcomes,
  batchOutcomes,
  clearBatchContent,
  computeRegularBatch,
  computeReissueBatch,
  countyPersonsWithEvents,
  exclusionReasonCounts,
  finalizeBatchTotals,
  findPaymentReturn,
  getDivision,
  getPaymentBatch,
  getPerson,
  insertPaymentBatch,
  liveRegularBatch,
  lockPaymentLine,
  lockProvincePolicy,
  lockReturnException,
  resolveReturnException as markExceptionResolved,
  markReissued,
  nextBatchSeq,
  type PaymentBatch,
  type PaymentLine,
  type PaymentReturn,
  personPaymentLines,
  type ReturnException,
  reissuingBatchNo,
  type SubsidySummaryLevel,
  type SubsidySummaryRow,
  subsidySummary,
  type Tx,
  updatePaymentBatch,
  verificationDates,
  writeOffLine,
} from '@houfu/db';
import {
  divisionLevel,
  isWithin,
  type PersonEvent,
  type PersonEventKind,
  type PersonStatus,
  parsePeriod,
  paymentFrequencyLabels,
  periodAmount,
  periodKindOf,
  type RemovalReason,
  ratioPercent,
  scopeOf,
  statusOn,
} from '@houfu/domain';
import { enqueueJob } from '../../jobs/index.js';
import { today } from '../../lib/dates.js';
import { ApiError } from '../../lib/problem.js';
import { loadSubsidyPolicy, villagePaymentModes } from '../policy/policy.service.js';
import type { ReturnRow } from './bank-files.js';

export const BATCH_JOB_KIND = 'subsidy.batch';

/** What the disbursement services need from a request. */
export interface Context {
  tx: Tx;
  actor: Actor;
  requestId: string | null;
  now: Date;
  /** The job runner's named queue, if any. */
  queue: string | undefined;
}

/** JSON with object keys sorted (jsonb does not keep the order they were written in). */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_, v: unknown) =>
    v !== null && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  );
}

/** A field that changed from `old` to `new`. */
const changed = (old: unknown, now: unknown) => ({ old, new: now });

/** Audits an action on a batch; plain values are recorded as set (`old: null`). */
const audit = (
  ctx: Pick<Context, 'tx' | 'actor' | 'requestId' | 'now'>,
  batch: Pick<PaymentBatch, 'divisionCode' | 'id'>,
  action: string,
  changes: Record<string, unknown>,
) =>
  appendAudit(ctx.tx, {
    division: batch.divisionCode,
    occurredAt: ctx.now,
    actor: ctx.actor,
    action,
    entityType: 'payment_batch',
    entityId: batch.id,
    changes: Object.fromEntries(
      Object.entries(changes).map(([k, v]) => [
        k,
        v !== null && typeof v === 'object' && 'old' in v && 'new' in v
          ? (v as { old: unknown; new: unknown })
          : changed(null, v),
      ]),
    ),
    requestId: ctx.requestId,
  });

/** A batch of the caller's scope, else 404 (the same answer as a batch that does not exist). */
export async function batchInScope(
  tx: Tx,
  id: string,
  options: { lock?: boolean } = {},
): Promise<PaymentBatch> {
  const batch = await getPaymentBatch(tx, id, options);
  if (!batch) throw new ApiError('not_found', `Payment batch ${id} was not found.`);
  return batch;
}

/** A batch the caller's county may change: its own (a city or province sees batches, never changes them). */
export async function ownBatch(ctx: Context, id: string): Promise<PaymentBatch> {
  const batch = await batchInScope(ctx.tx, id, { lock: true });
  if (batch.divisionCode !== ctx.actor.division) {
    throw new ApiError('not_found', `Payment batch ${id} was not found.`);
  }
  return batch;
}

function notInStatus(batch: PaymentBatch, wanted: string): ApiError {
  return new ApiError('conflict', `Payment batch ${batch.batchNo} is ${batch.status}; ${wanted}.`);
}

async function enqueueCompute(ctx: Context, batch: PaymentBatch): Promise<string> {
  const job = await enqueueJob(ctx.tx, {
    division: batch.divisionCode,
    kind: BATCH_JOB_KIND,
    params: {
      batch_id: batch.id,
      resource: `/v1/disbursements/${batch.id}`,
      actor: { sub: ctx.actor.sub, kind: ctx.actor.kind, division: ctx.actor.division },
      request_id: ctx.requestId,
    },
    actor: ctx.actor,
    queue: ctx.queue,
  });
  await updatePaymentBatch(ctx.tx, batch, { jobId: job.id });
  return job.id;
}

// ── Preparing ───────────────────────────────────────────────────────────────────────────────────

export interface CreateBatchInput {
  period: string;
  kind: 'regular' | 'reissue';
  sourceBatchId?: string | undefined;
  note?: string | undefined;
}

/**
 * Records a batch in `computing` and enqueues its computation. A regular batch: the period must be of
 * the province's payment frequency and have begun, and the county must have no live regular batch of
 * the period. A reissue: the source batch must be the county's and have failed, unresolved lines.
 */
export async function createBatch(ctx: Context, input: CreateBatchInput): Promise<PaymentBatch> {
  const county = ctx.actor.division;
  if (divisionLevel(county) !== 'county') {
    throw new ApiError('forbidden', 'Payment batches are prepared by the county bureau that pays.');
  }
  const period = parsePeriod(input.period);
  let sourceBatchId: string | null = null;
  if (input.kind === 'reissue') {
    if (input.sourceBatchId === undefined) {
      throw new ApiError('validation_failed', 'A reissue names the batch whose failed lines it pays.', [
        { field: 'source_batch_id', message: 'Required for a reissue', code: 'required' },
      ]);
    }
    const source = await batchInScope(ctx.tx, input.sourceBatchId, { lock: true });
    if (source.divisionCode !== county) {
      throw new ApiError('not_found', `Payment batch ${input.sourceBatchId} was not found.`);
    }
    if (source.period !== input.period) {
      throw new ApiError(
        'unprocessable',
        `Batch ${source.batchNo} pays ${source.period}, not ${input.period}.`,
        [
          {
            field: 'period',
            message: `The source batch's period is ${source.period}`,
            code: 'period_mismatch',
          },
        ],
      );
    }
    const outcomes = await batchOutcomes(ctx.tx, source);
    if (outcomes.unresolved === 0) {
      throw new ApiError('unprocessable', `Batch ${source.batchNo} has no failed line left to reissue.`, [
        { field: 'source_batch_id', message: 'No failed, unresolved line', code: 'nothing_to_reissue' },
      ]);
    }
    sourceBatchId = source.id;
  } else {
    if (input.sourceBatchId !== undefined) {
      throw new ApiError('validation_failed', 'Only a reissue names a source batch.', [
        { field: 'source_batch_id', message: 'Only for kind reissue', code: 'unexpected' },
      ]);
    }
    if (period.start > today(ctx.now)) {
      throw new ApiError(
        'unprocessable',
        `Period ${period.name} has not begun (it starts on ${period.start}).`,
        [{ field: 'period', message: 'The period has not begun', code: 'period_not_begun' }],
      );
    }
    const policy = await loadSubsidyPolicy(ctx.tx, county, period.start);
    if (periodKindOf(policy.frequency) !== period.kind) {
      throw new ApiError(
        'unprocessable',
        `The province pays ${paymentFrequencyLabels[policy.frequency]} (${policy.frequency}); ${period.name} is not such a period.`,
        [
          {
            field: 'period',
            message: `Expected a ${policy.frequency} period`,
            code: 'period_frequency_mismatch',
          },
        ],
      );
    }
  }
  const seq = await nextBatchSeq(ctx.tx, county, period.name);
  if (input.kind === 'regular') {
    const live = await liveRegularBatch(ctx.tx, county, period.name);
    if (live) {
      throw new ApiError(
        'conflict',
        `The county already has batch ${live.batchNo} (${live.status}) for ${period.name}; recompute or cancel it.`,
      );
    }
  }
  const batch = await insertPaymentBatch(ctx.tx, {
    divisionCode: county,
    batchNo: `${county}-${period.name}-${String(seq).padStart(2, '0')}`,
    period: period.name,
    periodStart: period.start,
    periodEnd: period.end,
    kind: input.kind,
    sourceBatchId,
    note: input.note ?? null,
    preparedBy: ctx.actor.sub,
  });
  await enqueueCompute(ctx, batch);
  await audit(ctx, batch, 'disbursement.create', {
    batch_no: batch.batchNo,
    period: batch.period,
    kind: batch.kind,
    source_batch_id: sourceBatchId,
  });
  return batchInScope(ctx.tx, batch.id);
}

export async function recomputeBatch(ctx: Context, id: string): Promise<PaymentBatch> {
  const batch = await ownBatch(ctx, id);
  if (batch.status !== 'draft') throw notInStatus(batch, 'only a draft is recomputed');
  await clearBatchContent(ctx.tx, batch);
  await updatePaymentBatch(ctx.tx, batch, { status: 'computing', preparedBy: ctx.actor.sub });
  await enqueueCompute(ctx, batch);
  await audit(ctx, batch, 'disbursement.recompute', { previous_hash: batch.contentHash });
  return batchInScope(ctx.tx, id);
}

export async function cancelBatch(ctx: Context, id: string): Promise<PaymentBatch> {
  const batch = await ownBatch(ctx, id);
  if (batch.status !== 'draft' && batch.status !== 'failed') {
    throw notInStatus(batch, 'only a draft (or a failed computation) is cancelled');
  }
  await clearBatchContent(ctx.tx, batch);
  await updatePaymentBatch(ctx.tx, batch, { status: 'cancelled', cancelled: true });
  await audit(ctx, batch, 'disbursement.cancel', { status: changed(batch.status, 'cancelled') });
  return batchInScope(ctx.tx, id);
}

/** Maker-checker: a county approver other than the preparer, confirming the hash they reviewed. */
export async function approveBatch(
  ctx: Context,
  id: string,
  input: { contentHash: string; note?: string | undefined },
): Promise<PaymentBatch> {
  const batch = await ownBatch(ctx, id);
  if (batch.status !== 'draft') throw notInStatus(batch, 'only a draft is approved');
  if (batch.preparedBy === ctx.actor.sub) {
    throw new ApiError('forbidden', 'You prepared this batch: someone else approves it (maker-checker).');
  }
  if (batch.contentHash !== input.contentHash) {
    throw new ApiError(
      'conflict',
      'The batch changed since you reviewed it (its content hash differs): review it again.',
    );
  }
  if (batch.lineCount === 0) {
    throw new ApiError('unprocessable', `Batch ${batch.batchNo} has no lines to pay.`);
  }
  // The policy the lines were computed with must still be the policy in force: a province changing
  // its values meanwhile waits for this approval (the same lock), or this approval sees the change.
  await lockProvincePolicy(ctx.tx, batch.divisionCode - (batch.divisionCode % 10_000));
  if (batch.kind === 'regular') {
    const current = await loadSubsidyPolicy(ctx.tx, batch.divisionCode, batch.periodStart);
    if (canonical(current.snapshot) !== canonical(batch.policy)) {
      throw new ApiError(
        'conflict',
        `The policy in force for ${batch.period} changed since batch ${batch.batchNo} was computed: recompute it.`,
      );
    }
  }
  await updatePaymentBatch(ctx.tx, batch, { status: 'approved', approvedBy: ctx.actor.sub, approved: true });
  const reissued = batch.kind === 'reissue' ? await markReissued(ctx.tx, batch) : 0;
  if (batch.kind === 'reissue' && reissued !== batch.lineCount) {
    // A line it pays again was written off (or resolved) after this batch was computed.
    throw new ApiError(
      'conflict',
      `${batch.lineCount - reissued} line(s) of reissue batch ${batch.batchNo} were resolved meanwhile: recompute it.`,
    );
  }
  await audit(ctx, batch, 'disbursement.approve', {
    status: changed('draft', 'approved'),
    lines: batch.lineCount,
    total_fen: batch.totalFen,
    content_hash: batch.contentHash,
    note: input.note ?? null,
    ...(batch.kind === 'reissue' ? { reissued } : {}),
  });
  if (batch.sourceBatchId) await closeIfSettled(ctx, batch.sourceBatchId);
  return batchInScope(ctx.tx, id);
}

// ── Computing (the job) ─────────────────────────────────────────────────────────────────────────

const toDomainEvent = (e: {
  id: string;
  kind: string;
  effectiveDate: string;
  reason: string | null;
  correctsId: string | null;
  recordedAt: string;
}): PersonEvent => ({
  id: e.id,
  kind: e.kind as PersonEventKind,
  effectiveDate: e.effectiveDate,
  reason: e.reason as RemovalReason | null,
  correctsId: e.correctsId,
  recordedAt: e.recordedAt,
});

/**
 * Fills a `computing` batch in the caller's (the job's) transaction: a regular batch evaluates the
 * county set-based — the domain derives the status on the period's first day of every person with
 * events, SQL applies the entitlement rules to everyone — a reissue copies the source's failed lines.
 * Then the totals and hash, the policy used, `draft`, and an audit record. Returns the totals; a
 * batch no longer `computing` (cancelled meanwhile) is left alone.
 */
export async function computeBatch(
  ctx: Pick<Context, 'tx' | 'actor' | 'requestId' | 'now'>,
  batchId: string,
): Promise<Record<string, unknown>> {
  const batch = await batchInScope(ctx.tx, batchId, { lock: true });
  if (batch.status !== 'computing') return { batch_id: batch.id, skipped: batch.status };
  await clearBatchContent(ctx.tx, batch);
  const county = batch.divisionCode;
  const period = parsePeriod(batch.period);
  const policy = await loadSubsidyPolicy(ctx.tx, county, period.start);
  if (batch.kind === 'regular') {
    const reviews = await verificationDates(ctx.tx, county);
    const derivedStatus = new Map<string, PersonStatus>();
    for (const p of await countyPersonsWithEvents(ctx.tx, county)) {
      derivedStatus.set(
        p.personId,
        statusOn(p.events.map(toDomainEvent), period.start, {
          registeredOn: p.registeredOn,
          removalRule: policy.removalRule,
          annualReviews: reviews,
        }),
      );
    }
    // Every village of the county → the percent paid as cash (village → county → province).
    const modes = await villagePaymentModes(ctx.tx, county, period.start, policy.paymentMode);
    const villageCashPercent = new Map([...modes].map(([code, mode]) => [code, mode.cashPercent]));
    await computeRegularBatch(ctx.tx, {
      county,
      batchId: batch.id,
      batchNo: batch.batchNo,
      period: period.name,
      start: period.start,
      shareFen: periodAmount(policy.annualStandardFen, period, policy.frequency),
      window: policy.supportWindow,
      villageCashPercent,
      derivedStatus,
    });
  } else {
    await computeReissueBatch(ctx.tx, {
      county,
      batchId: batch.id,
      batchNo: batch.batchNo,
      sourceBatchId: batch.sourceBatchId as string,
    });
  }
  const totals = await finalizeBatchTotals(ctx.tx, batch);
  await updatePaymentBatch(ctx.tx, batch, { status: 'draft', policy: policy.snapshot, computed: true });
  const result = {
    batch_id: batch.id,
    lines: totals.lineCount,
    total_fen: totals.totalFen,
    project_fen: totals.projectFen,
    excluded: totals.excludedCount,
    content_hash: totals.contentHash,
  };
  await audit(ctx, batch, 'disbursement.compute', result);
  return result;
}

/** Marks a batch failed when its computation failed for good. */
export async function failBatch(tx: Tx, batchId: string): Promise<void> {
  const batch = await getPaymentBatch(tx, batchId, { lock: true });
  if (batch?.status === 'computing') await updatePaymentBatch(tx, batch, { status: 'failed' });
}

// ── Export ──────────────────────────────────────────────────────────────────────────────────────

/**
 * Authorises one bank-file download: the batch must be approved or later (not closed out of reach:
 * a closed batch can still be downloaded for the record). Audited with the reason; the first download
 * moves `approved` to `exported`.
 */
export async function startExport(
  ctx: Context,
  id: string,
  input: { format: 'csv' | 'fixed'; reason: string },
): Promise<PaymentBatch> {
  const batch = await ownBatch(ctx, id);
  if (!['approved', 'exported', 'reconciling', 'closed'].includes(batch.status)) {
    throw notInStatus(batch, 'only an approved batch has a bank file');
  }
  if (batch.status === 'approved') {
    await updatePaymentBatch(ctx.tx, batch, { status: 'exported', exported: true });
  }
  await audit(ctx, batch, 'disbursement.export', {
    format: input.format,
    reason: input.reason,
    lines: batch.lineCount,
    total_fen: batch.totalFen,
    content_hash: batch.contentHash,
  });
  return batchInScope(ctx.tx, id);
}

// ── Reconciliation ──────────────────────────────────────────────────────────────────────────────

/**
 * Closes a batch whose lines are all paid or explained (failed lines reissued or written off) and
 * whose return exceptions are all resolved. Returns whether it closed.
 */
async function closeIfSettled(ctx: Pick<Context, 'tx' | 'actor' | 'requestId' | 'now'>, id: string) {
  const batch = await batchInScope(ctx.tx, id, { lock: true });
  if (batch.status !== 'reconciling') return false;
  const o = await batchOutcomes(ctx.tx, batch);
  if (o.pending > 0 || o.unresolved > 0 || o.openExceptions > 0) return false;
  await updatePaymentBatch(ctx.tx, batch, { status: 'closed', closed: true });
  await audit(ctx, batch, 'disbursement.close', {
    paid: o.paid,
    paid_fen: o.paidFen,
    failed: o.failed,
    accuracy: accuracyOf(o, batch.lineCount),
  });
  return true;
}

export function accuracyOf(o: Pick<BatchOutcomes, 'paid'>, lines: number): string | null {
  return lines === 0 ? null : ratioPercent(o.paid, lines);
}

/** Applies a parsed return file (keyed by its SHA-256: the same file again changes nothing). */
export async function importReturn(
  ctx: Context,
  /** The caller's own batch, locked ({@link ownBatch}: checked before the file is read). */
  batch: PaymentBatch,
  input: { sha256: string; filename: string | null; rows: readonly ReturnRow[] },
): Promise<{ ret: PaymentReturn; replayed: boolean; batch: PaymentBatch }> {
  const previous = await findPaymentReturn(ctx.tx, batch, input.sha256);
  if (previous) return { ret: previous, replayed: true, batch };
  if (batch.status !== 'exported' && batch.status !== 'reconciling') {
    throw notInStatus(batch, 'a return file applies to an exported batch being reconciled');
  }
  const ret = await applyPaymentReturn(ctx.tx, {
    batch,
    sha256: input.sha256,
    filename: input.filename,
    importedBy: ctx.actor.sub,
    rows: input.rows,
  });
  if (batch.status === 'exported') await updatePaymentBatch(ctx.tx, batch, { status: 'reconciling' });
  await audit(ctx, batch, 'disbursement.return', {
    return_id: ret.id,
    sha256: ret.sha256,
    rows: ret.rows,
    paid: ret.paid,
    failed: ret.failed,
    exceptions: ret.exceptions,
    balanced: ret.balanced,
  });
  await closeIfSettled(ctx, batch.id);
  return { ret, replayed: false, batch: await batchInScope(ctx.tx, batch.id) };
}

export async function resolveException(ctx: Context, id: string, note: string): Promise<ReturnException> {
  const e = await lockReturnException(ctx.tx, id);
  if (!e || e.divisionCode !== ctx.actor.division) {
    throw new ApiError('not_found', `Return exception ${id} was not found.`);
  }
  if (e.status !== 'open') throw new ApiError('conflict', `Return exception ${id} is already resolved.`);
  await markExceptionResolved(ctx.tx, e, note, ctx.actor.sub);
  await audit(ctx, { divisionCode: e.divisionCode, id: e.batchId }, 'disbursement.exception.resolve', {
    exception_id: e.id,
    kind: e.kind,
    reference: e.reference,
    note,
  });
  await closeIfSettled(ctx, e.batchId);
  return (await lockReturnException(ctx.tx, id)) as ReturnException;
}

export async function writeOff(ctx: Context, reference: string, note: string): Promise<PaymentLine> {
  const line = await lockPaymentLine(ctx.tx, reference);
  if (!line || line.divisionCode !== ctx.actor.division) {
    throw new ApiError('not_found', `Payment line ${reference} was not found.`);
  }
  if (line.outcome !== 'failed' || line.resolution !== null) {
    throw new ApiError(
      'conflict',
      line.outcome !== 'failed'
        ? `Payment line ${reference} has not failed (${line.outcome}).`
        : `Payment line ${reference} is already ${line.resolution}.`,
    );
  }
  // A reissue being prepared or approved already pays it again: writing it off too would both return
  // the money and pay it (the reissue's approval marks only unresolved lines reissued).
  const reissue = await reissuingBatchNo(ctx.tx, line);
  if (reissue !== undefined) {
    throw new ApiError(
      'conflict',
      `Payment line ${reference} is paid again by reissue batch ${reissue}; cancel that batch first.`,
    );
  }
  await writeOffLine(ctx.tx, line, note, ctx.actor.sub);
  await audit(ctx, { divisionCode: line.divisionCode, id: line.batchId }, 'disbursement.line.write_off', {
    reference,
    amount_fen: line.amountFen,
    note,
  });
  await closeIfSettled(ctx, line.batchId);
  return (await lockPaymentLine(ctx.tx, reference)) as PaymentLine;
}

// ── Reading ─────────────────────────────────────────────────────────────────────────────────────

export async function batchDetail(tx: Tx, id: string) {
  const batch = await batchInScope(tx, id);
  return { batch, outcomes: await batchOutcomes(tx, batch), reasons: await exclusionReasonCounts(tx, batch) };
}

export async function personPayments(tx: Tx, personId: string): Promise<PaymentLine[]> {
  const person = await getPerson(tx, personId);
  if (!person) throw new ApiError('not_found', `Person ${personId} was not found.`);
  return personPaymentLines(tx, person.divisionCode, person.id);
}

const LEVELS = ['nation', 'province', 'city', 'county', 'village'] as const;

/** Totals per unit (one level below `division` by default) and period. */
export async function summary(
  ctx: { tx: Tx; division: number },
  q: {
    division?: number | undefined;
    groupBy?: SubsidySummaryLevel | undefined;
    period?: string | undefined;
  },
): Promise<{ division: number; groupBy: SubsidySummaryLevel; rows: SubsidySummaryRow[] }> {
  const division = q.division ?? ctx.division;
  if (!isWithin(division, ctx.division) || !(division === 0 || (await getDivision(ctx.tx, division)))) {
    throw new ApiError('not_found', `Division ${division} is not in your scope.`);
  }
  const level = divisionLevel(division);
  const groupBy = q.groupBy ?? (LEVELS[LEVELS.indexOf(level) + 1] as SubsidySummaryLevel);
  if (LEVELS.indexOf(groupBy) <= LEVELS.indexOf(level)) {
    throw new ApiError('validation_failed', `Group by a level below ${level}.`, [
      { field: 'query.group_by', message: `Must be below ${level}`, code: 'invalid_level' },
    ]);
  }
  const rows = await subsidySummary(ctx.tx, { range: scopeOf(division), groupBy, period: q.period });
  return { division, groupBy, rows };
}

/** SHA-256 of a file, hex. */
export const sha256Of = (file: Buffer) => createHash('sha256').update(file).digest('hex');
