/**
 * The `registry.import` job: stage → check → apply (see docs/registry-imports.md).
 *
 * - staging: the file is streamed back out of `upload_chunks`, parsed row by row, validated by the
 *   pure domain rules, its personal numbers hashed, sealed and masked here in Node, and inserted into
 *   `import_rows` in batches of {@link STAGE_BATCH} (one `unnest` statement each). Each batch commits
 *   with the checkpoint "staged through row N"; a resumed job re-reads the file and skips those rows.
 * - checking: one transaction of set-based SQL (duplicates in the file, already registered, unknown
 *   village, household consistency).
 * - applying: one transaction creates households and persons from the accepted rows, opens
 *   cross-county conflicts, sets the counts, writes one `import.apply` audit record, deletes the
 *   uploaded file's chunks and ends the job. A crash before its commit leaves nothing applied; the
 *   resumed job redoes it.
 *
 * The uploaded file holds ID numbers and bank accounts in clear: its chunks are deleted as soon as the
 * import is over, whether it completed (in the applying transaction) or failed for good (in the
 * failing one). The `uploads` row stays (name, size, SHA-256).
 */
import { randomUUID } from 'node:crypto';
import {
  type Actor,
  appendAudit,
  applyImportRows,
  checkImportRows,
  getUpload,
  purgeUploadChunks,
  readUploadChunk,
  type Sealer,
  type StagedImportRow,
  setImportStatus,
  stageImportRows,
} from '@houfu/db';
import {
  describeHeaderProblem,
  type ImportLayout,
  type ImportRowResult,
  isBlankImportRow,
  maskBankAccount,
  maskNationalId,
  resolveImportHeader,
  validateImportRow,
} from '@houfu/domain';
import { z } from 'zod';
import { JobFailure, type JobHandler } from '../../jobs/runner.js';
import { type CsvCharset, readFileRows, UnreadableFileError } from './imports.reader.js';

export const IMPORT_JOB_KIND = 'registry.import';
/** Rows per staging transaction. */
export const STAGE_BATCH = 2_000;

export const importJobParams = z.object({
  import_id: z.uuid(),
  upload_id: z.uuid(),
  format: z.enum(['csv', 'xlsx']),
  charset: z.enum(['utf-8', 'gb18030']).optional(),
  /** The import's date: the latest date a row may carry. */
  today: z.iso.date(),
  sha256: z.string(),
  filename: z.string().nullable(),
  /** The resource the job works on, for GET /v1/jobs/{id}. */
  resource: z.string(),
  actor: z.object({
    sub: z.string(),
    kind: z.enum(['user', 'client', 'system']),
    division: z.number().int(),
  }),
  request_id: z.string().nullable(),
});
export type ImportJobParams = z.infer<typeof importJobParams>;

const checkpointSchema = z
  .object({
    phase: z.enum(['staging', 'checking', 'applying']).default('staging'),
    /** Every file row up to this row number is in import_rows. */
    staged_through: z.number().int().default(0),
    /** How many rows are staged. */
    rows: z.number().int().default(0),
  })
  .default({ phase: 'staging', staged_through: 0, rows: 0 });
type Checkpoint = z.infer<typeof checkpointSchema>;

/** Turns a validated row into its staged form: IDs hashed (lookups) and sealed, numbers masked. */
export function stagedRow(rowNo: number, result: ImportRowResult, sealer: Sealer): StagedImportRow {
  const v = result.values;
  const accepted = result.errors.length === 0;
  return {
    rowNo,
    householdNo: v.householdNo,
    relationship: v.relationship,
    name: v.name,
    idHash: v.nationalId ? sealer.lookupHash(v.nationalId) : null,
    // Only rows that can still become persons need the sealed numbers.
    idSealed: accepted && v.nationalId ? sealer.seal(v.nationalId) : null,
    idMasked: v.nationalIdInput ? maskNationalId(v.nationalId ?? v.nationalIdInput) : null,
    sex: v.sex,
    birthDate: v.birthDate,
    reservoir: v.reservoir,
    relocationDate: v.relocationDate,
    relocateeKind: v.relocateeKind,
    villageCode: v.villageCode,
    bankName: v.bankName,
    bankAccountSealed: accepted && v.bankAccount ? sealer.seal(v.bankAccount) : null,
    bankAccountMasked: v.bankAccount ? maskBankAccount(v.bankAccount) : null,
    errors: result.errors,
    personId: accepted ? randomUUID() : null,
  };
}

export interface ImportJobDeps {
  sealer: Sealer;
  now: () => Date;
  /** Reads one chunk of the uploaded file (a test may fail it as the database would). */
  readChunk?: typeof readUploadChunk;
}

export function registryImportHandler(deps: ImportJobDeps): JobHandler {
  const readChunk = deps.readChunk ?? readUploadChunk;
  return {
    kind: IMPORT_JOB_KIND,

    async run(ctx) {
      const params = importJobParams.parse(ctx.job.params);
      const county = ctx.job.divisionCode;
      const imp = { divisionCode: county, id: params.import_id };
      let cp: Checkpoint = checkpointSchema.parse(ctx.job.checkpoint);

      if (cp.phase === 'staging') {
        const upload = await ctx.read((tx) => getUpload(tx, county, params.upload_id));
        if (!upload) throw new JobFailure('upload_missing', 'The uploaded file is gone.');
        const file = { divisionCode: county, id: upload.id };
        const resumeAfter = cp.staged_through;
        let bytes = 0;
        async function* chunks() {
          for (let seq = 0; ; seq += 1) {
            const data = await ctx.read((tx) => readChunk(tx, file, seq));
            if (!data) return;
            bytes += data.length;
            yield data;
          }
        }

        let layout: ImportLayout | undefined;
        let batch: StagedImportRow[] = [];
        let pending: Promise<void> = Promise.resolve();
        let first = true;
        // Writes one batch with its checkpoint; at most one write is in flight while the next batch
        // is parsed and sealed (CPU in Node overlaps I/O in the database).
        const flush = async (final: boolean) => {
          const rows = batch;
          batch = [];
          await pending;
          const next: Checkpoint = {
            phase: final ? 'checking' : 'staging',
            staged_through: rows.at(-1)?.rowNo ?? cp.staged_through,
            rows: cp.rows + rows.length,
          };
          const setStatus = first || final;
          first = false;
          const progressDone = bytes;
          pending = ctx
            .step(
              async (tx) => {
                await stageImportRows(tx, imp, rows);
                if (setStatus) {
                  await setImportStatus(
                    tx,
                    imp,
                    final ? { status: 'checking', rowsTotal: next.rows } : { status: 'staging' },
                  );
                }
              },
              final
                ? { phase: 'checking', checkpoint: next, progressDone: 0, progressTotal: next.rows }
                : { phase: 'staging', checkpoint: next, progressDone, progressTotal: upload.sizeBytes },
            )
            .then(() => {
              cp = next;
            });
          // Handled here so that a failure while the next batch is parsed is not an unhandled
          // rejection; it is thrown where `pending` is awaited (the next flush, or below).
          pending.catch(() => undefined);
          if (final) await pending;
        };

        try {
          for await (const { rowNo, cells } of readFileRows(
            chunks(),
            params.format,
            params.charset as CsvCharset,
          )) {
            if (!layout) {
              if (isBlankImportRow(cells)) continue;
              const header = resolveImportHeader(cells);
              if (!header.ok) throw new JobFailure('invalid_header', describeHeaderProblem(header));
              layout = header.layout;
              continue;
            }
            if (rowNo <= resumeAfter || isBlankImportRow(cells)) continue;
            const result = validateImportRow(cells, layout, { county, today: params.today });
            batch.push(stagedRow(rowNo, result, deps.sealer));
            if (batch.length >= STAGE_BATCH) await flush(false);
          }
          if (!layout) throw new JobFailure('empty_file', '文件中没有表头行（也没有数据）。');
          await flush(true);
        } catch (error) {
          await pending.catch(() => undefined);
          if (error instanceof UnreadableFileError) throw new JobFailure(error.code, error.message);
          throw error;
        }
      }

      if (cp.phase === 'checking') {
        const rows = cp.rows;
        const next: Checkpoint = { ...cp, phase: 'applying' };
        await ctx.step(
          async (tx) => {
            await checkImportRows(tx, imp);
            await setImportStatus(tx, imp, { status: 'applying' });
          },
          { phase: 'applying', checkpoint: next, progressDone: 0, progressTotal: rows },
        );
        cp = next;
      }

      await ctx.complete(
        async (tx) => {
          const applied = await applyImportRows(tx, imp);
          await setImportStatus(tx, imp, {
            status: 'completed',
            rowsTotal: applied.total,
            rowsAccepted: applied.accepted,
            rowsRejected: applied.rejected,
            completed: true,
          });
          await purgeUploadChunks(tx, { divisionCode: county, id: params.upload_id });
          const actor: Actor = params.actor;
          await appendAudit(tx, {
            division: county,
            actor,
            action: 'import.apply',
            entityType: 'import',
            entityId: imp.id,
            changes: {
              status: { old: 'applying', new: 'completed' },
              rows_total: { old: null, new: applied.total },
              rows_accepted: { old: null, new: applied.accepted },
              rows_rejected: { old: null, new: applied.rejected },
              households_created: { old: null, new: applied.householdsCreated },
              registered_elsewhere: { old: null, new: applied.registeredElsewhere },
              file_sha256: { old: null, new: params.sha256 },
            },
            requestId: params.request_id,
            occurredAt: deps.now(),
          });
          return {
            import_id: imp.id,
            rows_total: applied.total,
            rows_accepted: applied.accepted,
            rows_rejected: applied.rejected,
            households_created: applied.householdsCreated,
            registered_elsewhere: applied.registeredElsewhere,
          };
        },
        { phase: 'completed', checkpoint: cp, progressDone: cp.rows, progressTotal: cp.rows },
      );
    },

    async onFailure(tx, job, error) {
      const params = importJobParams.safeParse(job.params);
      if (!params.success) return;
      await setImportStatus(
        tx,
        { divisionCode: job.divisionCode, id: params.data.import_id },
        { status: 'failed', error },
      );
      await purgeUploadChunks(tx, { divisionCode: job.divisionCode, id: params.data.upload_id });
    },
  };
}
