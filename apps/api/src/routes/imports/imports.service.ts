import { createHash, randomUUID } from 'node:crypto';
import {
  type Actor,
  appendAudit,
  finishUpload,
  getImport,
  type ImportView,
  insertImport,
  insertUpload,
  insertUploadChunk,
  type Tx,
} from '@houfu/db';
import { enqueueJob } from '../../jobs/index.js';
import { today } from '../../lib/dates.js';
import { ApiError } from '../../lib/problem.js';
import { IMPORT_JOB_KIND, type ImportJobParams } from './imports.job.js';
import type { CsvCharset, ImportFormat } from './imports.reader.js';

/** Size of the stored chunks of an uploaded file. */
export const UPLOAD_CHUNK_BYTES = 1024 * 1024;

export interface Context {
  tx: Tx;
  actor: Actor;
  requestId: string | null;
  now: Date;
  /** The job runner's named queue, if any. */
  queue: string | undefined;
}

export function tooLarge(max: number): ApiError {
  return new ApiError('payload_too_large', `Import files are limited to ${max} bytes.`);
}

/**
 * Reads a request body to its end, hashing it (SHA-256) and counting its bytes against `max` (413
 * beyond, whether or not a Content-Length was sent); with a sink, hands it over in chunks of exactly
 * {@link UPLOAD_CHUNK_BYTES} (the last one shorter), one at a time: the next bytes are read only
 * after the sink has taken the previous chunk, so memory stays at about one chunk.
 */
export async function pumpBody(
  body: ReadableStream<Uint8Array> | null,
  max: number,
  sink?: (chunk: Buffer, seq: number) => Promise<void>,
): Promise<{ sha256: string; size: number; chunks: number }> {
  const hash = createHash('sha256');
  let size = 0;
  let seq = 0;
  if (body === null) return { sha256: hash.digest('hex'), size: 0, chunks: 0 };
  const reader = body.getReader();
  let parts: Buffer[] = [];
  let buffered = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > max) throw tooLarge(max);
      hash.update(value);
      if (!sink) continue;
      parts.push(Buffer.from(value));
      buffered += value.byteLength;
      while (buffered >= UPLOAD_CHUNK_BYTES) {
        const all = Buffer.concat(parts, buffered);
        await sink(all.subarray(0, UPLOAD_CHUNK_BYTES), seq);
        seq += 1;
        const rest = all.subarray(UPLOAD_CHUNK_BYTES);
        parts = rest.length > 0 ? [rest] : [];
        buffered = rest.length;
      }
    }
    if (sink && buffered > 0) {
      await sink(Buffer.concat(parts, buffered), seq);
      seq += 1;
    }
  } catch (error) {
    await reader.cancel().catch(() => undefined);
    throw error;
  } finally {
    reader.releaseLock();
  }
  return { sha256: hash.digest('hex'), size, chunks: seq };
}

/** The idempotency fingerprint of an import request: method, path, the file's hash, its media type. */
export function importFingerprint(path: string, sha256: string, mediaKey: string): string {
  return createHash('sha256')
    .update(JSON.stringify(['POST', path, sha256, mediaKey]))
    .digest('hex');
}

export interface CreateImportInput {
  body: ReadableStream<Uint8Array> | null;
  maxBytes: number;
  format: ImportFormat;
  charset: CsvCharset | undefined;
  mediaType: string;
  filename: string | undefined;
}

/**
 * Streams the file into `upload_chunks` (in the request transaction: a failed or refused upload
 * leaves nothing), then records the import, enqueues its job and audits `import.create`.
 */
export async function createImport(
  ctx: Context,
  input: CreateImportInput,
): Promise<{ view: ImportView; sha256: string }> {
  const county = ctx.actor.division;
  const upload = await insertUpload(ctx.tx, {
    divisionCode: county,
    mediaType: input.mediaType,
    filename: input.filename ?? null,
    createdBy: ctx.actor.sub,
  });
  const file = await pumpBody(input.body, input.maxBytes, (chunk, seq) =>
    insertUploadChunk(ctx.tx, upload, seq, chunk),
  );
  if (file.size === 0) {
    throw new ApiError('validation_failed', 'The file is empty.', [
      { field: 'body', message: 'Empty file', code: 'too_small' },
    ]);
  }
  await finishUpload(ctx.tx, upload, file.sha256, file.size);
  const importId = randomUUID();
  const params: ImportJobParams = {
    import_id: importId,
    upload_id: upload.id,
    format: input.format,
    ...(input.charset ? { charset: input.charset } : {}),
    today: today(ctx.now),
    sha256: file.sha256,
    filename: input.filename ?? null,
    resource: `/v1/imports/${importId}`,
    actor: { sub: ctx.actor.sub, kind: ctx.actor.kind, division: ctx.actor.division },
    request_id: ctx.requestId,
  };
  const job = await enqueueJob(ctx.tx, {
    division: county,
    kind: IMPORT_JOB_KIND,
    params,
    actor: { sub: ctx.actor.sub, kind: ctx.actor.kind },
    queue: ctx.queue,
  });
  await insertImport(ctx.tx, {
    id: importId,
    divisionCode: county,
    jobId: job.id,
    uploadId: upload.id,
    format: input.format,
    createdBy: ctx.actor.sub,
  });
  await appendAudit(ctx.tx, {
    division: county,
    actor: ctx.actor,
    action: 'import.create',
    entityType: 'import',
    entityId: importId,
    changes: {
      format: { old: null, new: input.format },
      filename: { old: null, new: input.filename ?? null },
      size_bytes: { old: null, new: file.size },
      file_sha256: { old: null, new: file.sha256 },
      job_id: { old: null, new: job.id },
    },
    requestId: ctx.requestId,
    occurredAt: ctx.now,
  });
  const view = await getImport(ctx.tx, importId);
  if (!view) throw new Error('import not visible after insert');
  return { view, sha256: file.sha256 };
}
